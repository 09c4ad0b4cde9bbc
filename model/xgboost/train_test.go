package xgboost

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/telcoretain/churn"
)

func TestTrainLearnsKnownSignal(t *testing.T) {
	tr := synth(1, 3000, 8, 2, 0.1)
	va := synth(2, 2000, 8, 2, 0.1)
	b := train(t, tr.matrix(t), smallParams(), TrainOptions{Rounds: 60})
	got := auc(predict(t, b, va.matrix(t)), va.Y)
	bayes := auc(va.Logit, va.Y) // the best any model can do on these labels
	t.Logf("validation AUC %.3f, true-model AUC %.3f", got, bayes)
	if got < 0.75 || got < bayes-0.05 {
		t.Errorf("AUC %.3f: want >= 0.75 and within 0.05 of the true model's %.3f", got, bayes)
	}
	if b.Rounds() != 60 || b.BestIteration() != -1 {
		t.Errorf("Rounds() = %d, BestIteration() = %d; want 60 and -1 without early stopping", b.Rounds(), b.BestIteration())
	}
}

func TestEarlyStoppingOnNoiseStopsAndPredictsWithBestRound(t *testing.T) {
	// A weak signal under much label noise: the validation loss improves for
	// a few rounds, then gets worse as deep trees fit the noise.
	tr := synth(3, 600, 6, 0.7, 0).matrix(t)
	va := synth(4, 600, 6, 0.7, 0).matrix(t)
	p := smallParams()
	p.MaxDepth = 6
	p.Eta = 0.1
	const limit, patience = 300, 5
	b := train(t, tr, p, TrainOptions{Rounds: limit, Valid: va, EarlyStoppingRounds: patience})

	best := b.BestIteration()
	t.Logf("stopped after %d of %d rounds, best round %d", b.Rounds(), limit, best)
	if b.Rounds() >= limit || best < 0 {
		t.Fatalf("Rounds() = %d, BestIteration() = %d: want an early stop before %d", b.Rounds(), best, limit)
	}
	if b.Rounds()-1-best != patience {
		t.Errorf("stopped after round %d with best round %d: want exactly %d rounds without improvement", b.Rounds()-1, best, patience)
	}
	hist := b.EvalHistory()
	if len(hist) != b.Rounds() || b.Metric() != "logloss" {
		t.Fatalf("EvalHistory has %d values for %d rounds, metric %q; want one per round, logloss", len(hist), b.Rounds(), b.Metric())
	}
	for i, v := range hist {
		if v < hist[best] {
			t.Errorf("round %d logloss %v beats the best round %d (%v)", i, v, best, hist[best])
		}
	}
	if b.BestScore() != hist[best] {
		t.Errorf("BestScore() = %v, want %v", b.BestScore(), hist[best])
	}

	// Training is deterministic (nthread 1, no sampling), so a model trained
	// for exactly best+1 rounds gives what predictions from the best round must.
	ref := train(t, tr, p, TrainOptions{Rounds: best + 1})
	full := train(t, tr, p, TrainOptions{Rounds: b.Rounds()})
	got := predict(t, b, va)
	if i := firstDiff(got, predict(t, ref, va)); i >= 0 {
		t.Errorf("row %d: early-stopped prediction differs from a %d-round model", i, best+1)
	}
	if firstDiff(got, predict(t, full, va)) < 0 {
		t.Errorf("early-stopped predictions equal those of all %d rounds: the best round is not used", b.Rounds())
	}
}

func TestEarlyStoppingMaximizesAUC(t *testing.T) {
	tr := synth(5, 800, 6, 1, 0).matrix(t)
	va := synth(6, 800, 6, 1, 0).matrix(t)
	p := smallParams()
	p.EvalMetric = "auc"
	var log bytes.Buffer
	b := train(t, tr, p, TrainOptions{Rounds: 200, Valid: va, EarlyStoppingRounds: 10,
		Log: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	hist := b.EvalHistory()
	if b.Metric() != "auc" || len(hist) == 0 {
		t.Fatalf("metric %q with %d rounds of history, want auc", b.Metric(), len(hist))
	}
	if n := strings.Count(log.String(), "metric=auc"); n != len(hist) {
		t.Errorf("%d log lines for %d rounds:\n%s", n, len(hist), log.String())
	}
	for i, v := range hist {
		if v > hist[b.BestIteration()] {
			t.Errorf("round %d AUC %v is higher than at the best round %d (%v)", i, v, b.BestIteration(), hist[b.BestIteration()])
		}
	}
}

func TestTrainRejectsBadOptionsNamingTheField(t *testing.T) {
	d := synth(7, 50, 4, 1, 0)
	m := d.matrix(t)
	narrow := synth(8, 50, 3, 1, 0).matrix(t)
	bad := smallParams()
	bad.Subsample = 0
	tests := []struct {
		name  string
		p     Params
		o     TrainOptions
		field string
	}{
		{"no rounds", smallParams(), TrainOptions{}, "rounds"},
		{"early stopping without validation", smallParams(), TrainOptions{Rounds: 5, EarlyStoppingRounds: 2}, "early_stopping_rounds"},
		{"validation with other columns", smallParams(), TrainOptions{Rounds: 5, Valid: narrow}, "valid"},
		{"feature names of the wrong length", smallParams(), TrainOptions{Rounds: 5, FeatureNames: []string{"a"}}, "feature_names"},
		{"duplicate feature names", smallParams(), TrainOptions{Rounds: 5, FeatureNames: []string{"a", "b", "a", "c"}}, "feature_names"},
		{"parameter out of range", bad, TrainOptions{Rounds: 5}, "subsample"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Train(context.Background(), m, tt.p, tt.o)
			if err == nil {
				b.Close()
				t.Fatal("Train succeeded")
			}
			wantInvalid(t, err, tt.field)
		})
	}
}

func TestParamsValidateNamesTheField(t *testing.T) {
	tests := []struct {
		field string
		edit  func(*Params)
	}{
		{"objective", func(p *Params) { p.Objective = "" }},
		{"eta", func(p *Params) { p.Eta = 0 }},
		{"eta", func(p *Params) { p.Eta = math.NaN() }},
		{"max_depth", func(p *Params) { p.MaxDepth = -1 }},
		{"subsample", func(p *Params) { p.Subsample = 1.5 }},
		{"colsample_bytree", func(p *Params) { p.ColsampleBytree = 0 }},
		{"min_child_weight", func(p *Params) { p.MinChildWeight = -1 }},
		{"lambda", func(p *Params) { p.Lambda = math.Inf(1) }},
		{"alpha", func(p *Params) { p.Alpha = -0.1 }},
		{"gamma", func(p *Params) { p.Gamma = math.NaN() }},
		{"scale_pos_weight", func(p *Params) { p.ScalePosWeight = 0 }},
		{"max_bin", func(p *Params) { p.MaxBin = 1 }},
		{"tree_method", func(p *Params) { p.TreeMethod = "" }},
		{"nthread", func(p *Params) { p.NThread = -2 }},
		{"extra", func(p *Params) { p.Extra = map[string]string{"": "1"} }},
	}
	if err := DefaultParams().Validate(); err != nil {
		t.Fatalf("DefaultParams: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			p := DefaultParams()
			tt.edit(&p)
			err := p.Validate()
			if churn.ErrorField(err) != tt.field {
				t.Errorf("Validate() = %v, want an error naming %q", err, tt.field)
			}
		})
	}
}

func TestParamsExtraOverridesTypedFieldsInOrder(t *testing.T) {
	p := DefaultParams()
	p.NThread = 3
	p.Extra = map[string]string{"max_depth": "2", "grow_policy": "lossguide"}
	kv := p.pairs()
	last := map[string]string{}
	for _, e := range kv {
		last[e[0]] = e[1]
	}
	if last["max_depth"] != "2" || last["grow_policy"] != "lossguide" || last["nthread"] != "3" || last["eta"] != "0.3" {
		t.Errorf("effective parameters %v", last)
	}
}

func TestParseEvalReadsTheLastMetric(t *testing.T) {
	tests := []struct {
		in     string
		metric string
		value  float64
		ok     bool
	}{
		{"[0]\tvalid-logloss:0.69315", "logloss", 0.69315, true},
		{"[12]\tvalid-auc:0.71\tvalid-logloss:0.5", "logloss", 0.5, true},
		{"[3]\tvalid-error@0.6:0.25\n", "error@0.6", 0.25, true},
		{"[3]\tvalid-auc:nan", "auc", math.NaN(), true},
		{"[3]\ttrain-auc:0.5", "", 0, false},
		{"garbage", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			m, v, err := parseEval(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("parseEval(%q) error %v, want ok=%v", tt.in, err, tt.ok)
			}
			sameNaN := math.IsNaN(v) && math.IsNaN(tt.value)
			if tt.ok && (m != tt.metric || (v != tt.value && !sameNaN)) {
				t.Errorf("parseEval(%q) = %q %v, want %q %v", tt.in, m, v, tt.metric, tt.value)
			}
		})
	}
}

func TestMaximizeMetricFollowsPython(t *testing.T) {
	for m, want := range map[string]bool{
		"auc": true, "aucpr": true, "map@5": true, "ndcg": true, "pre@10": true,
		"logloss": false, "error": false, "rmse": false, "mape": false, "error@0.6": false,
	} {
		if got := maximizeMetric(m); got != want {
			t.Errorf("maximizeMetric(%q) = %v, want %v", m, got, want)
		}
	}
}

func TestTrainStopsWhenContextIsCancelled(t *testing.T) {
	m := synth(9, 200, 4, 1, 0).matrix(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b, err := Train(ctx, m, smallParams(), TrainOptions{Rounds: 10})
	if !errors.Is(err, context.Canceled) {
		if b != nil {
			b.Close()
		}
		t.Fatalf("Train with a cancelled context: %v, want context.Canceled", err)
	}
	if !strings.Contains(err.Error(), "round 0") {
		t.Errorf("error %q does not say which round", err)
	}
}
