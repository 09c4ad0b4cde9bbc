package jobs

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/features"
	"github.com/telcoretain/churn/model/uplift"
)

// ChampionsByKind reads the champion of each kind of model, 0 when none.
type ChampionsByKind interface {
	ChampionOf(ctx context.Context, kind churn.ModelKind) (churn.ModelVersion, error)
}

// UpliftModels finds the uplift champion and loads it.
type UpliftModels interface {
	ChampionsByKind
	ModelReader
}

// UpliftScorer estimates, for a policy that targets by uplift, the churn
// an action prevents for each scored customer of a cycle: the uplift
// champion applied to the customers' point-in-time features at the cycle's
// as-of date, from the churn probabilities of their scores. A scoring run
// stores these estimates with its scores when it can (Scoring.Uplift); the
// scorer reads them then instead of computing a snapshot of its own.
type UpliftScorer struct {
	Models     UpliftModels
	Data       features.Store
	Operator   features.Operator
	Inactivity int // prepaid churn's days without activity; default features.DefaultInactivity
}

// Score returns the uplift by customer id and the model's version. With
// no uplift champion it returns a nil map and says why, so the plan can
// rank by risk instead.
func (s *UpliftScorer) Score(ctx context.Context, asOf time.Time, scores []churn.Score) (map[string]float64, churn.ModelVersion, string, error) {
	if s == nil {
		return nil, 0, "this planner has no access to uplift models", nil
	}
	v, err := s.Models.ChampionOf(ctx, churn.ModelUplift)
	if err != nil {
		return nil, 0, "", err
	}
	if v == 0 {
		return nil, 0, "no uplift champion in the model registry (train one with `churn uplift train`; it is promoted only when it beats risk targeting)", nil
	}
	if up := storedUplift(scores, v); up != nil {
		return up, v, fmt.Sprintf("uplift model %d, stored by the scoring run", v), nil
	}
	tm, err := loadUplift(ctx, s.Models, v)
	if err != nil {
		return nil, 0, "", err
	}
	defer tm.Close()
	snap, err := features.Compute(ctx, s.Data, features.Spec{AsOf: asOf, Inactivity: s.Inactivity, Operator: s.Operator, Features: tm.Defs})
	if err != nil {
		return nil, 0, "", fmt.Errorf("features of uplift model %d: %w", v, err)
	}
	rows := make([]int, 0, len(scores))
	base := make([]float64, 0, len(scores))
	ids := make([]string, 0, len(scores))
	for _, sc := range scores {
		if r := snap.Row(sc.CustomerID); r >= 0 {
			rows, base, ids = append(rows, r), append(base, sc.Probability), append(ids, sc.CustomerID)
		}
	}
	up, err := tm.Uplift(ctx, subsetRows(snap.Matrix, rows), base)
	if err != nil {
		return nil, 0, "", fmt.Errorf("uplift model %d: %w", v, err)
	}
	out := make(map[string]float64, len(ids))
	for i, id := range ids {
		out[id] = up[i]
	}
	why := fmt.Sprintf("uplift model %d", v)
	for _, sc := range scores {
		if sc.UpliftModel != 0 && sc.UpliftModel != v {
			// say why a plan that could have read the run took longer
			why += fmt.Sprintf(", computed: the scoring run stored model %d's", sc.UpliftModel)
			break
		}
	}
	return out, v, why, nil
}

// storedUplift is the uplift the scoring run stored with the scores when
// uplift model v estimated it for every one of them (with no scores, an
// empty map: nobody to estimate for), else nil.
func storedUplift(scores []churn.Score, v churn.ModelVersion) map[string]float64 {
	for _, sc := range scores {
		if sc.UpliftModel != v {
			return nil
		}
	}
	out := make(map[string]float64, len(scores))
	for _, sc := range scores {
		out[sc.CustomerID] = sc.Uplift
	}
	return out
}

// loadUplift reads an uplift model from the registry and decodes it; the
// caller closes it.
func loadUplift(ctx context.Context, r ModelReader, v churn.ModelVersion) (*uplift.TwoModel, error) {
	mv, err := r.Model(ctx, v)
	if err != nil {
		return nil, err
	}
	tm, err := uplift.Unmarshal(mv.Artifact)
	if err != nil {
		return nil, fmt.Errorf("load uplift champion %d: %w", v, err)
	}
	return tm, nil
}

// sameColumns tells whether two feature sets give the same matrix columns:
// the same names in the same order, categorical ones with the same
// categories.
func sameColumns(a, b []churn.Feature) bool {
	return slices.EqualFunc(a, b, func(x, y churn.Feature) bool {
		return x.Name == y.Name && slices.Equal(x.Categories, y.Categories)
	})
}
