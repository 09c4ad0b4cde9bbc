package chstore_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/dataset/synth"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/model"
	"github.com/telcoretain/churn/model/liblinear"
)

// TestMain lets the test binary serve as the liblinear child that training
// starts (the helper-process pattern).
func TestMain(m *testing.M) { os.Exit(liblinear.RunChildOr(m.Run)) }

// TestSeedTrainScoreServeRead runs the whole product on a small synthetic
// operator: seed, train (champion/challenger), score, serve, and read the
// scores of real customers back through the API.
func TestSeedTrainScoreServeRead(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	cfg := synth.DefaultConfig()
	cfg.Customers, cfg.Months, cfg.Seed = 2500, 12, 9
	if _, err := synth.Load(ctx, cfg, c, synth.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	cands := model.SnapshotCandidates(2)
	tr, err := (&jobs.Train{Store: c, Snapshots: 3, Candidates: cands[:1]}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	run, err := (&jobs.Score{Store: c}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	base := startServer(t, c)
	waitFor(t, "readiness", 20*time.Second, func() bool {
		var r runOf
		return get(t, base+"/readyz", &r) == 200 && r.Status == "ready" && r.Run.ID == run.RunID
	})

	var list struct {
		Items []struct {
			CustomerID   string  `json:"customer_id"`
			Probability  float64 `json:"probability"`
			ExpectedLoss float64 `json:"expected_loss"`
			ModelVersion int     `json:"model_version"`
			Reasons      []struct {
				Text string `json:"text"`
			} `json:"reasons"`
		} `json:"items"`
	}
	if code := get(t, base+"/v1/scores?band=high&limit=10", &list); code != 200 || len(list.Items) != 10 {
		t.Fatalf("risk list: %d, %d items", code, len(list.Items))
	}
	top := list.Items[0]
	if top.ModelVersion != tr.Best.Version || top.Probability <= 0 || len(top.Reasons) == 0 || top.Reasons[0].Text == "" {
		t.Fatalf("top of the risk list: %+v", top)
	}
	for i := 1; i < len(list.Items); i++ {
		if list.Items[i].ExpectedLoss > list.Items[i-1].ExpectedLoss {
			t.Fatalf("risk list not sorted by expected loss at %d", i)
		}
	}
	var one struct {
		CustomerID  string  `json:"customer_id"`
		Probability float64 `json:"probability"`
		RunID       string  `json:"run_id"`
	}
	if code := get(t, base+"/v1/customers/"+top.CustomerID+"/score", &one); code != 200 || one.RunID != run.RunID || one.Probability != top.Probability {
		t.Fatalf("customer score: %d %+v", code, one)
	}
	var summary struct {
		Customers int `json:"customers"`
	}
	if code := get(t, base+"/v1/summary", &summary); code != 200 || summary.Customers != run.Rows {
		t.Fatalf("summary: %d, %d customers, want %d", code, summary.Customers, run.Rows)
	}
}
