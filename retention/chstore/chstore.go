// Package chstore adapts the ClickHouse client to the storage interfaces of
// package retention and of the retention jobs, converting between the
// clickhouse row types and retention's; retention itself stays free of
// ClickHouse.
package chstore

import (
	"context"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/retention"
)

// Store implements retention.Log, jobs.ScoreRuns and jobs.OutcomeStore on a
// ClickHouse client.
type Store struct {
	*clickhouse.Client
}

// New wraps c.
func New(c *clickhouse.Client) Store { return Store{Client: c} }

// Append writes events to action_events as one block.
func (s Store) Append(ctx context.Context, evs []retention.Event) error {
	rows := make([]clickhouse.ActionEvent, len(evs))
	for i, e := range evs {
		a := e.Action
		rows[i] = clickhouse.ActionEvent{EventID: e.ID, Event: string(e.Type), At: e.At, Actor: e.Actor, Action: a.Action,
			RunID: a.RunID, Rule: a.Rule, Tier: string(a.Tier), Band: string(a.Band), Reason: a.Reason,
			Probability: a.Probability, LifetimeValue: a.LifetimeValue}
	}
	return s.AppendActionEvents(ctx, rows)
}

// Events reads action_events at or after since, in order.
func (s Store) Events(ctx context.Context, since time.Time) ([]retention.Event, error) {
	rows, err := s.ActionEvents(ctx, since)
	if err != nil {
		return nil, err
	}
	out := make([]retention.Event, len(rows))
	for i, r := range rows {
		out[i] = retention.Event{ID: r.EventID, Type: retention.EventType(r.Event), At: r.At, Actor: r.Actor,
			Action: retention.Action{Action: r.Action, RunID: r.RunID, Rule: r.Rule, Tier: churn.ValueTier(r.Tier),
				Band: churn.RiskBand(r.Band), Reason: r.Reason, Probability: r.Probability, LifetimeValue: r.LifetimeValue}}
	}
	return out, nil
}

// LatestScoreRun returns the newest finished scoring run.
func (s Store) LatestScoreRun(ctx context.Context) (string, time.Time, bool, error) {
	r, err := s.LatestFinishedRun(ctx)
	if err != nil || r == nil {
		return "", time.Time{}, false, err
	}
	return r.ID, r.AsOf, true, nil
}

// WriteOutcomes stores the labels of cycles in action_outcomes.
func (s Store) WriteOutcomes(ctx context.Context, os []retention.Outcome, horizonDays int, at time.Time) error {
	rows := make([]clickhouse.ActionOutcome, len(os))
	for i, o := range os {
		rows[i] = clickhouse.ActionOutcome{Cycle: o.Cycle, CustomerID: o.CustomerID, ActionID: o.ActionID, Group: o.Group,
			Kind: o.Kind, Tier: string(o.Tier), LifetimeValue: o.LifetimeValue, Status: string(o.Status), Outcome: o.Outcome,
			Cost: o.Cost, Churned: o.Churned, ChurnedAt: o.ChurnedAt, HorizonDays: horizonDays, LabeledAt: at}
	}
	return s.WriteActionOutcomes(ctx, rows)
}

// Outcomes reads the labels of cycles (all when none are given).
func (s Store) Outcomes(ctx context.Context, cycles ...string) ([]retention.Outcome, error) {
	rows, err := s.ActionOutcomes(ctx, cycles...)
	if err != nil {
		return nil, err
	}
	out := make([]retention.Outcome, len(rows))
	for i, r := range rows {
		out[i] = retention.Outcome{Cycle: r.Cycle, CustomerID: r.CustomerID, ActionID: r.ActionID, Group: r.Group,
			Kind: r.Kind, Tier: churn.ValueTier(r.Tier), LifetimeValue: r.LifetimeValue, Status: churn.ActionStatus(r.Status),
			Outcome: r.Outcome, Cost: r.Cost, Churned: r.Churned, ChurnedAt: r.ChurnedAt}
	}
	return out, nil
}

var _ retention.Log = Store{}
