package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/dataset/synth"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/model"
	"github.com/telcoretain/churn/serve"
)

// jobsAPI adapts the scheduler to serve.JobScheduler, as cmd/churn does.
type jobsAPI struct{ *jobs.Scheduler }

func (s jobsAPI) Jobs() []serve.JobInfo {
	var out []serve.JobInfo
	for _, j := range s.Scheduler.Jobs() {
		out = append(out, serve.JobInfo(j))
	}
	return out
}

// TestAScoringRunOfTheServingProcessIsServedAsSoonAsItFinishes starts a
// scoring run through POST /v1/jobs/score/run on a server that polls only
// once an hour: the run must be served within seconds of finishing, because
// the job tells the server's loader.
func TestAScoringRunOfTheServingProcessIsServedAsSoonAsItFinishes(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	cfg := synth.DefaultConfig()
	cfg.Customers, cfg.Months, cfg.Seed = 1200, 12, 4
	if _, err := synth.Load(ctx, cfg, c, synth.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := (&jobs.Train{Data: c, Models: c, Registry: c, Runs: c, Snapshots: 3, Candidates: model.SnapshotCandidates(2)[:1]}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	first, err := (&jobs.Scoring{Data: c, Models: c, Runs: c, Scores: c}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	scoring := &jobs.Scoring{Data: c, Models: c, Runs: c, Scores: c, Now: func() time.Time { return time.Now().Add(time.Second) }} // a later run id
	sched, err := jobs.New(jobs.Options{History: c}, jobs.Spec{Name: "score", Job: jobs.ScoreJob{Scoring: scoring}})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := serve.ParseKeys("admin:"+integrationKey, "test")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := serve.New(serve.Config{Keys: keys, PollInterval: time.Hour},
		serve.Deps{Scores: c, Models: c, Pinger: c, Jobs: jobsAPI{sched}})
	if err != nil {
		t.Fatal(err)
	}
	var finishedRun string
	scoring.Finished = func(id string) {
		finishedRun = id
		srv.Loader().Notify()
	}
	base := listen(t, srv)
	waitFor(t, "the first run", 10*time.Second, func() bool {
		var r runOf
		return getJSON(t, base+"/readyz", &r) == 200 && r.Run.ID == first.RunID
	})

	req, _ := http.NewRequest("POST", base+"/v1/jobs/score/run", strings.NewReader(""))
	req.Header.Set("Authorization", "Bearer "+integrationKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /v1/jobs/score/run: %d", resp.StatusCode)
	}
	sched.Wait()
	if finishedRun == "" || finishedRun == first.RunID {
		t.Fatalf("the scoring job reported run %q, want a new finished run", finishedRun)
	}
	// Far less than the hour of the poll interval.
	waitFor(t, "the new run to be served", 10*time.Second, func() bool {
		var r runOf
		return getJSON(t, base+"/readyz", &r) == 200 && r.Run.ID == finishedRun
	})
}
