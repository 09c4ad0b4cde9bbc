package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/telcoretain/churn"
)

// The model registry: every trained model is a row of `models`; changes of
// champion are appended to `model_events`. Both are append-only, so a failed
// write leaves the registry as it was.

var modelColumns = []string{"version", "algorithm", "created_at", "params", "features", "encodings",
	"train_from", "train_to", "holdout_as_of", "metrics", "library_versions", "description", "artifact", "train_run", "kind"}

// SaveModel stores m under the next free version number and returns it.
// Versions are assigned by the single training job; concurrent trainers
// against one database are not supported.
func (c *Client) SaveModel(ctx context.Context, m churn.Model) (churn.ModelVersion, error) {
	const op = "save model"
	var maxV uint32
	if err := c.conn.QueryRow(ctx, "SELECT max(version) FROM models").Scan(&maxV); err != nil {
		return 0, wrap(op, c.cfg, err)
	}
	v := churn.ModelVersion(maxV) + 1
	params, _ := json.Marshal(m.Params)
	metrics, _ := json.Marshal(m.Metrics)
	libs, _ := json.Marshal(m.LibraryVersions)
	kind, err := churn.ParseModelKind(string(m.Kind))
	if err != nil {
		return 0, err
	}
	created := m.CreatedAt
	if created.IsZero() {
		created = c.now()
	}
	err = c.insertRow(ctx, "models", modelColumns,
		uint32(v), m.Algorithm, created.UTC(), string(params), m.Features, "{}",
		m.TrainFrom, m.TrainTo, m.HoldoutAsOf, string(metrics), string(libs), m.Description, string(m.Artifact), m.TrainRun, string(kind))
	if err != nil {
		return 0, err
	}
	return v, nil
}

// Models lists the registry, newest first, without artifacts.
func (c *Client) Models(ctx context.Context) ([]churn.Model, error) {
	return c.queryModels(ctx, "SELECT "+modelSelect(false)+" FROM models ORDER BY version DESC")
}

// Model returns one version with its artifact; KindNotFound when absent.
func (c *Client) Model(ctx context.Context, version churn.ModelVersion) (churn.Model, error) {
	ms, err := c.queryModels(ctx, "SELECT "+modelSelect(true)+" FROM models WHERE version = ? LIMIT 1", uint32(version))
	if err != nil {
		return churn.Model{}, err
	}
	if len(ms) == 0 {
		return churn.Model{}, churn.Errorf(churn.KindNotFound, "load model", "model version %d is not in the registry (see `churn models list`)", version)
	}
	return ms[0], nil
}

func modelSelect(withArtifact bool) string {
	art := "''"
	if withArtifact {
		art = "artifact"
	}
	return "version, algorithm, created_at, params, features, train_from, train_to, holdout_as_of, metrics, library_versions, description, train_run, kind, " + art
}

func (c *Client) queryModels(ctx context.Context, q string, args ...any) ([]churn.Model, error) {
	const op = "read models"
	champions := map[churn.ModelKind]churn.ModelVersion{}
	for _, k := range churn.ModelKinds {
		v, err := c.ChampionOf(ctx, k)
		if err != nil {
			return nil, err
		}
		champions[k] = v
	}
	runs, err := c.trainRunStatuses(ctx)
	if err != nil {
		return nil, err
	}
	var out []churn.Model
	err = c.each(ctx, op, q, func(s scanner) error {
		var (
			v                     uint32
			m                     churn.Model
			params, metrics, libs string
			artifact, kind        string
		)
		if err := s.Scan(&v, &m.Algorithm, &m.CreatedAt, &params, &m.Features, &m.TrainFrom, &m.TrainTo,
			&m.HoldoutAsOf, &metrics, &libs, &m.Description, &m.TrainRun, &kind, &artifact); err != nil {
			return err
		}
		m.Kind = churn.ModelKind(kind)
		if m.Kind == "" {
			m.Kind = churn.ModelChurn
		}
		m.TrainStatus = churn.ScoreRunFinished
		if m.TrainRun != "" {
			m.TrainStatus = runs[m.TrainRun] // started when the run has no row yet
			if m.TrainStatus == "" {
				m.TrainStatus = churn.ScoreRunStarted
			}
		}
		m.Version = churn.ModelVersion(v)
		m.Champion = m.Version == champions[m.Kind] && v != 0
		for _, js := range []struct {
			src string
			dst any
		}{{params, &m.Params}, {metrics, &m.Metrics}, {libs, &m.LibraryVersions}} {
			if err := json.Unmarshal([]byte(js.src), js.dst); err != nil {
				return fmt.Errorf("version %d: %w", v, err)
			}
		}
		if artifact != "" {
			m.Artifact = []byte(artifact)
		}
		out = append(out, m)
		return nil
	}, args...)
	return out, err
}

// AppendModelEvent records a promotion or rollback.
func (c *Client) AppendModelEvent(ctx context.Context, e churn.ModelEvent) error {
	now := c.now()
	at := e.At
	if at.IsZero() {
		at = now
	}
	// seq orders events within the same second (at has second resolution).
	return c.insertRow(ctx, "model_events", []string{"seq", "at", "version", "event", "previous", "actor", "reason"},
		uint64(now.UnixNano()), at.UTC(), uint32(e.Version), string(e.Event), uint32(e.Previous), e.Actor, e.Reason)
}

// ModelEvents returns the champion history, newest first.
func (c *Client) ModelEvents(ctx context.Context) ([]churn.ModelEvent, error) {
	var out []churn.ModelEvent
	err := c.each(ctx, "read model_events", "SELECT at, version, event, previous, actor, reason FROM model_events ORDER BY seq DESC", func(s scanner) error {
		var (
			e       churn.ModelEvent
			v, prev uint32
			typ     string
		)
		if err := s.Scan(&e.At, &v, &typ, &prev, &e.Actor, &e.Reason); err != nil {
			return err
		}
		e.Event = churn.ModelEventType(typ)
		e.Version, e.Previous = churn.ModelVersion(v), churn.ModelVersion(prev)
		out = append(out, e)
		return nil
	})
	return out, err
}

// Promote makes version the champion of its kind. It fails with
// KindNotFound for an unknown version, and KindConflict when it already is
// the champion, its training run is not finished (it failed, or is still
// going) or its kind's rule forbids it (churn.Model.PromoteBlocker: an
// uplift model that does not beat risk targeting).
func (c *Client) Promote(ctx context.Context, version churn.ModelVersion, actor, reason string) error {
	m, err := c.Model(ctx, version)
	if err != nil {
		return err
	}
	if m.TrainStatus != churn.ScoreRunFinished {
		return churn.Errorf(churn.KindConflict, "promote model", "version %d comes from training run %s, which is %s, not finished: promote a version of a finished run (see `churn models list`)",
			version, m.TrainRun, m.TrainStatus)
	}
	if why := m.PromoteBlocker(); why != "" {
		return churn.Errorf(churn.KindConflict, "promote model", "%s model %d cannot be champion: %s", m.Kind, version, why)
	}
	cur, err := c.ChampionOf(ctx, m.Kind)
	if err != nil {
		return err
	}
	if cur == version {
		return churn.Errorf(churn.KindConflict, "promote model", "version %d is already the champion", version)
	}
	return c.AppendModelEvent(ctx, churn.ModelEvent{Version: version, Event: churn.ModelPromote, Previous: cur, Actor: actor, Reason: reason})
}

// Rollback makes the champion of kind before the current one the champion
// again and returns its version. Promotions of a kind form a stack: each
// rollback pops one, so two rollbacks after promoting v1, v2, v3 bring back
// v1; the other kind's champion is left as it is.
func (c *Client) Rollback(ctx context.Context, kind churn.ModelKind, actor, reason string) (churn.ModelVersion, error) {
	events, err := c.ModelEvents(ctx)
	if err != nil {
		return 0, err
	}
	kinds, err := c.modelKinds(ctx)
	if err != nil {
		return 0, err
	}
	var stack []churn.ModelVersion
	for i := len(events) - 1; i >= 0; i-- { // oldest first
		if kinds[events[i].Version] != kind {
			continue
		}
		switch events[i].Event {
		case churn.ModelPromote:
			stack = append(stack, events[i].Version)
		case churn.ModelRollback:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	if len(stack) < 2 {
		return 0, churn.Errorf(churn.KindConflict, "roll back model", "there is no earlier %s champion to roll back to", kind)
	}
	prev, cur := stack[len(stack)-2], stack[len(stack)-1]
	err = c.AppendModelEvent(ctx, churn.ModelEvent{Version: prev, Event: churn.ModelRollback, Previous: cur, Actor: actor, Reason: reason})
	return prev, err
}

// modelKinds maps every registered version to its kind.
func (c *Client) modelKinds(ctx context.Context) (map[churn.ModelVersion]churn.ModelKind, error) {
	out := map[churn.ModelVersion]churn.ModelKind{}
	err := c.each(ctx, "read models", "SELECT version, kind FROM models", func(s scanner) error {
		var (
			v    uint32
			kind string
		)
		if err := s.Scan(&v, &kind); err != nil {
			return err
		}
		out[churn.ModelVersion(v)] = churn.ModelKind(kind)
		return nil
	})
	return out, err
}
