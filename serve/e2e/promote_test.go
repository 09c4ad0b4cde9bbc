package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/serve"
)

func TestPromotingAModelOfAFailedTrainingRunIs409NamingTheVersionAndStatus(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	if err := c.RecordTrainRun(ctx, "train-x", churn.ScoreRunFailed, "connection reset"); err != nil {
		t.Fatal(err)
	}
	v, err := c.SaveModel(ctx, churn.Model{Algorithm: "xgboost", Features: []string{"tenure_days"}, Artifact: []byte("x"), TrainRun: "train-x",
		Params: map[string]string{}, Metrics: map[string]float64{}, LibraryVersions: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := serve.ParseKeys("admin:"+integrationKey, "test")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := serve.New(serve.Config{Keys: keys}, serve.Deps{Scores: c, Models: c, Pinger: c})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	req, _ := http.NewRequest("POST", fmt.Sprintf("/v1/models/%d/promote", v), strings.NewReader(""))
	req.Header.Set("Authorization", "Bearer "+integrationKey)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	want := fmt.Sprintf("version %d comes from training run train-x, which is failed, not finished", v)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), want) {
		t.Fatalf("promote: %d %s; want 409 with %q", rec.Code, rec.Body, want)
	}
	req, _ = http.NewRequest("GET", fmt.Sprintf("/v1/models/%d", v), nil)
	req.Header.Set("Authorization", "Bearer "+integrationKey)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"train_run":"train-x","train_status":"failed"`) {
		t.Fatalf("the model as listed: %d %s, want its run failed", rec.Code, rec.Body)
	}
}
