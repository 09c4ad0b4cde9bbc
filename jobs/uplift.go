package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/features"
	"github.com/telcoretain/churn/model"
	"github.com/telcoretain/churn/model/uplift"
	"github.com/telcoretain/churn/retention"
)

// DefaultQiniPoints is how many points (besides the origin) a stored Qini
// curve has: one every 5% of the holdout cycle's customers.
const DefaultQiniPoints = 20

// UpliftTrain trains an uplift model on the labelled retention cycles: the
// planned customers' point-in-time features at each cycle's as-of date,
// whether they were treated or held out as control, and whether they
// churned within the horizon. It trains on every cycle but the latest,
// evaluates out of time on the latest (Qini of the ranking by uplift
// against the ranking by the churn probability the plan used, on the same
// customers), stores the model in the registry as an uplift model, and
// promotes it when it beats risk targeting there.
type UpliftTrain struct {
	Data     features.Store // the snapshot queries
	Outcomes OutcomeReader  // the labelled cycles
	// Models gives the churn champion, whose feature set (and category
	// encodings) the uplift model uses; without one, the registry's.
	Models   ModelSource
	Registry ModelWriter
	Operator features.Operator
	// Inactivity is the prepaid churn's days without activity, which
	// decide who is active at a cycle; default features.DefaultInactivity.
	Inactivity int
	Options    uplift.Options
	Points     int // of the Qini curve; DefaultQiniPoints when 0
	Actor      string
	Log        *slog.Logger
	Now        func() time.Time
	// Progress, when set, hears "cycle" with the customers of each cycle
	// read, then "train" and "evaluate" with the rows of each step.
	Progress func(step string, n int64)
}

// UpliftResult says what a run trained and how it compares.
type UpliftResult struct {
	Version          churn.ModelVersion
	TrainCycles      []string
	Holdout          uplift.Holdout
	Treated, Control int // training outcomes
	Missing          int // labelled customers no snapshot had (not active at the cycle's date)
	Promoted         bool
	// Why says why the model was not promoted; empty when it was.
	Why string
}

// Run trains, evaluates, stores and (when it beats risk) promotes.
func (u *UpliftTrain) Run(ctx context.Context) (*UpliftResult, error) {
	const op = "train uplift model"
	log := u.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	progress := u.Progress
	if progress == nil {
		progress = func(string, int64) {}
	}
	now := u.Now
	if now == nil {
		now = time.Now
	}
	points := u.Points
	if points == 0 {
		points = DefaultQiniPoints
	}
	outs, err := u.Outcomes.ActionOutcomes(ctx)
	if err != nil {
		return nil, err
	}
	cycles, by := labelledCycles(outs)
	if len(cycles) < 2 {
		return nil, churn.Errorf(churn.KindInvalid, op, "%d labelled retention cycles (%s): need at least 2, earlier ones to train on and the latest to evaluate on; plan, work and label more cycles (`churn actions outcomes`)",
			len(cycles), strings.Join(cycles, ", "))
	}
	hold, train := cycles[len(cycles)-1], cycles[:len(cycles)-1]
	// Count before reading any features: too few outcomes is the usual
	// refusal and needs no snapshot to tell.
	nt, nc := 0, 0
	for _, c := range train {
		for _, o := range by[c] {
			if o.Group == churn.GroupTreated {
				nt++
			} else {
				nc++
			}
		}
	}
	if nt < uplift.MinTreated || nc < uplift.MinControl {
		return nil, churn.Errorf(churn.KindInvalid, op, "the training cycles %s have %d treated and %d control outcomes: an uplift model needs at least %d and %d (the latest cycle %s is kept for evaluation); label more cycles or raise the policy's control_share",
			strings.Join(train, ", "), nt, nc, uplift.MinTreated, uplift.MinControl, hold)
	}
	defs, err := u.featureDefs(ctx, hold)
	if err != nil {
		return nil, err
	}
	snap := func(ctx context.Context, asOf time.Time) (*features.Snapshot, error) {
		return features.Compute(ctx, u.Data, features.Spec{AsOf: asOf, Inactivity: u.Inactivity, Operator: u.Operator, Features: defs})
	}
	data := &cycleData{}
	for _, c := range train {
		d, err := cycleMatrix(ctx, snap, c, by[c])
		if err != nil {
			return nil, fmt.Errorf("%s: cycle %s: %w", op, c, err)
		}
		if err := data.append(d); err != nil {
			return nil, fmt.Errorf("%s: cycle %s: %w", op, c, err)
		}
		progress("cycle", int64(d.m.Rows()))
	}
	hd, err := cycleMatrix(ctx, snap, hold, by[hold])
	if err != nil {
		return nil, fmt.Errorf("%s: holdout cycle %s: %w", op, hold, err)
	}
	progress("cycle", int64(hd.m.Rows()))
	if hd.nt == 0 || hd.nc == 0 {
		return nil, churn.Errorf(churn.KindInvalid, op, "the holdout cycle %s has %d treated and %d control outcomes: a Qini curve needs both", hold, hd.nt, hd.nc)
	}
	tm, err := uplift.Train(ctx, data.m, data.treated, data.baseline, u.Options)
	if err != nil {
		return nil, fmt.Errorf("%s on cycles %s: %w", op, strings.Join(train, ", "), err)
	}
	defer tm.Close()
	progress("train", int64(data.m.Rows()))
	up, err := tm.Uplift(ctx, hd.m, hd.baseline)
	if err != nil {
		return nil, err
	}
	res := &UpliftResult{TrainCycles: train, Treated: data.nt, Control: data.nc, Missing: data.missing + hd.missing}
	res.Holdout = evaluateUplift(hold, hd, up, points)
	progress("evaluate", int64(hd.m.Rows()))
	tm.Defs, tm.Holdout = defs, &res.Holdout
	art, err := tm.Marshal()
	if err != nil {
		return nil, err
	}
	first, _ := retention.CycleDate(train[0])
	last, _ := retention.CycleDate(train[len(train)-1])
	holdDay, _ := retention.CycleDate(hold)
	mv := churn.Model{Kind: churn.ModelUplift, Algorithm: uplift.Algorithm, CreatedAt: now().UTC(), Params: upliftParams(u.Options),
		Features: tm.Features, TrainFrom: first, TrainTo: last, HoldoutAsOf: holdDay,
		Metrics: map[string]float64{
			churn.MetricQini: res.Holdout.Qini, churn.MetricQiniRisk: res.Holdout.QiniRisk,
			"train_treated": float64(data.nt), "train_control": float64(data.nc),
			"holdout_treated": float64(hd.nt), churn.MetricHoldoutControl: float64(hd.nc),
		},
		LibraryVersions: model.Libraries(),
		Description: fmt.Sprintf("two-model uplift on %d labelled cycles (%s .. %s), evaluated on cycle %s",
			len(train), train[0], train[len(train)-1], hold),
		Artifact: art}
	if res.Version, err = u.Registry.SaveModel(ctx, mv); err != nil {
		return nil, err
	}
	mv.Version = res.Version
	res.Why = mv.PromoteBlocker()
	if res.Why == "" {
		reason := fmt.Sprintf("holdout cycle %s: Qini %.5f beats risk targeting's %.5f", hold, res.Holdout.Qini, res.Holdout.QiniRisk)
		if err := u.Registry.Promote(ctx, res.Version, u.Actor, reason); err != nil {
			return nil, err
		}
		res.Promoted = true
	}
	log.Info("uplift model trained", "version", res.Version, "train_cycles", train, "holdout", hold,
		"treated", data.nt, "control", data.nc, "qini", res.Holdout.Qini, "qini_risk", res.Holdout.QiniRisk,
		"promoted", res.Promoted, "why_not", res.Why)
	return res, nil
}

// featureDefs is the churn champion's feature set, else the registry's
// with the regions known at the holdout cycle: one set for every cycle, so
// that their matrices line up.
func (u *UpliftTrain) featureDefs(ctx context.Context, hold string) ([]churn.Feature, error) {
	champ, err := u.Models.ChampionVersion(ctx)
	if err != nil {
		return nil, err
	}
	if champ != 0 {
		m, err := loadModel(ctx, u.Models, champ)
		if err != nil {
			return nil, err
		}
		defer m.Close()
		return m.FeatureDefs(), nil
	}
	day, err := retention.CycleDate(hold)
	if err != nil {
		return nil, err
	}
	regions, err := u.Data.Regions(ctx, day)
	if err != nil {
		return nil, err
	}
	return features.WithRegions(features.Catalog(u.Operator.Families), regions), nil
}

// evaluateUplift computes the Qini curves of the ranking by uplift and by
// the plan's churn probability on the holdout cycle.
func evaluateUplift(cycle string, d *cycleData, up []float64, points int) uplift.Holdout {
	outs := make([]uplift.Outcome, len(up))
	risk := make([]uplift.Outcome, len(up))
	for i := range up {
		o := uplift.Outcome{Score: up[i], Treated: d.treated[i], Churned: d.m.Labels[i] == 1}
		outs[i] = o
		o.Score = d.baseline[i]
		risk[i] = o
	}
	h := uplift.Holdout{Cycle: cycle, Treated: d.nt, Control: d.nc}
	h.Curve, h.Qini = uplift.Qini(outs, points)
	h.RiskCurve, h.QiniRisk = uplift.Qini(risk, points)
	return h
}

func upliftParams(o uplift.Options) map[string]string {
	p := o.Params
	if p.Objective == "" {
		p = uplift.ShallowParams()
	}
	rounds := o.Rounds
	if rounds == 0 {
		rounds = uplift.DefaultRounds
	}
	return map[string]string{
		"rounds": strconv.Itoa(rounds), "eta": strconv.FormatFloat(p.Eta, 'g', -1, 64),
		"max_depth": strconv.Itoa(p.MaxDepth), "min_child_weight": strconv.FormatFloat(p.MinChildWeight, 'g', -1, 64),
		"subsample": strconv.FormatFloat(p.Subsample, 'g', -1, 64), "lambda": strconv.FormatFloat(p.Lambda, 'g', -1, 64),
		"baseline": "churn probability of the plan (base margins)",
	}
}
