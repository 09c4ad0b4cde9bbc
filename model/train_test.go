package model

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/telcoretain/churn"
)

// smallCandidates keeps tests quick: one of each algorithm.
func smallCandidates() []Candidate {
	c := Candidates(2)
	return []Candidate{c[1], c[3]}
}

func TestTrainCVChoosesCalibratesAndRoundTrips(t *testing.T) {
	m := synthMatrix(3000, 11)
	cats := map[string][]string{"plan": {"basic", "standard", "unlimited"}}
	res, err := TrainCV(context.Background(), m, cats, Options{Folds: 3, Seed: 1, Candidates: smallCandidates()})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Candidates) != 2 {
		t.Fatalf("%d candidate scores", len(res.Candidates))
	}
	best := res.Best
	// The signal is linear: the out-of-fold AUC should be high.
	if best.Report.AUC < 0.8 {
		t.Fatalf("cv AUC %.3f, want >= 0.8 on a strong linear signal", best.Report.AUC)
	}
	p, err := best.Predict(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	// Calibrated: mean prediction close to the base rate.
	var sp, sl float64
	for i := range p {
		sp += p[i]
		sl += float64(m.Labels[i])
	}
	if d := math.Abs(sp-sl) / float64(len(p)); d > 0.03 {
		t.Fatalf("mean probability %.3f vs churn rate %.3f", sp/float64(len(p)), sl/float64(len(p)))
	}
	file, err := best.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Unmarshal(file)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	q, err := back.Predict(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p {
		if p[i] != q[i] {
			t.Fatalf("row %d: %v before save, %v after load", i, p[i], q[i])
		}
	}
}

func TestBothAlgorithmsExplainTheirScores(t *testing.T) {
	m := synthMatrix(2000, 12)
	cats := map[string][]string{"plan": {"basic", "standard", "unlimited"}}
	for _, c := range smallCandidates() {
		t.Run(c.Algorithm, func(t *testing.T) {
			res, err := TrainCV(context.Background(), m, cats, Options{Folds: 3, Seed: 2, Candidates: []Candidate{c}})
			if err != nil {
				t.Fatal(err)
			}
			mdl := res.Best
			contrib, err := mdl.Contributions(context.Background(), m, c.Algorithm == AlgoXGBoost)
			if err != nil {
				t.Fatal(err)
			}
			// Find a row with a clear story: b very negative raises churn.
			b := m.Col("b")
			row := -1
			for i := range b {
				if b[i] < -2 {
					row = i
					break
				}
			}
			rs := mdl.Reasons(m, row, contrib[row*3:row*3+3])
			if len(rs) == 0 || rs[0].Feature != "b" || rs[0].Contribution <= 0 {
				t.Fatalf("reasons for a row with b=%.2f: %+v", b[row], rs)
			}
			if !strings.HasPrefix(rs[0].Text, "b: ") {
				t.Fatalf("reason text %q", rs[0].Text)
			}
		})
	}
}

func TestTrainedModelRejectsOtherFeatures(t *testing.T) {
	m := synthMatrix(600, 13)
	res, err := TrainCV(context.Background(), m, nil, Options{Folds: 3, Candidates: smallCandidates()[:1]})
	if err != nil {
		t.Fatal(err)
	}
	other := Subset(m, []int{0, 1})
	other.Features = []string{"a", "x", "plan"}
	if _, err := res.Best.Predict(context.Background(), other); churn.ErrorKind(err) != churn.KindInvalid {
		t.Fatalf("predict with renamed feature: %v", err)
	}
}

func TestReasonTextUsesUnitsAndTheUsualValue(t *testing.T) {
	for _, tc := range []struct {
		f    FeatureInfo
		v    float64
		want string
	}{
		{FeatureInfo{Name: "dropped_call_rate_30d", Description: "Dropped-call rate in the last 30 days", Unit: "ratio", Median: 0.015}, 0.061, "Dropped-call rate in the last 30 days: 6.1% (4.1x the usual 1.5%)"},
		{FeatureInfo{Name: "tenure_days", Unit: "days", Median: 700}, 40, "tenure days: 40 days (usual 700 days)"},
		{FeatureInfo{Name: "contract", Categories: []string{"month_to_month", "one_year"}}, 0, "contract: month_to_month"},
		{FeatureInfo{Name: "complaints_90d", Unit: "count"}, 2, "complaints 90d: 2 (usually none)"},
		{FeatureInfo{Name: "x", Unit: "currency", Median: 10}, math.NaN(), "x: unknown"},
	} {
		if got := ReasonText(tc.f, tc.v); got != tc.want {
			t.Errorf("ReasonText(%s, %v) = %q, want %q", tc.f.Name, tc.v, got, tc.want)
		}
	}
}

func TestUnmarshalRejectsDamagedFiles(t *testing.T) {
	for _, in := range [][]byte{[]byte("not json"), []byte(`{"format": 99}`), []byte(`{"format": 1, "algorithm": "forest"}`)} {
		if _, err := Unmarshal(in); churn.ErrorKind(err) != churn.KindInvalid {
			t.Errorf("Unmarshal(%q) = %v, want invalid", in, err)
		}
	}
}

func TestACategoricalWithNoCategoriesSurvivesTheModelFile(t *testing.T) {
	m := synthMatrix(800, 14)
	m.Features = append(m.Features, "region")
	region := make([]float32, m.Rows())
	for i := range region {
		region[i] = churn.NaN32
	}
	m.Cols = append(m.Cols, region)
	cats := map[string][]string{"plan": {"x", "y", "z"}, "region": {}}
	res, err := TrainCV(context.Background(), m, cats, Options{Folds: 3, Candidates: smallCandidates()[:1]})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := res.Best.Marshal()
	back, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if c := back.Categories()["region"]; c == nil {
		t.Fatal("region lost its categorical kind in the model file")
	}
	p1, _ := res.Best.Predict(context.Background(), m)
	p2, err := back.Predict(context.Background(), m)
	if err != nil || p1[5] != p2[5] {
		t.Fatalf("predictions differ after reload: %v vs %v (%v)", p1[5], p2[5], err)
	}
}
