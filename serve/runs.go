package serve

import (
	"context"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/telcoretain/churn"
)

// RunLister lists finished scoring runs with their customers per risk band,
// for the trend of high-risk counts across runs. A ScoreStore that also
// implements it serves GET /v1/runs; without it the route answers 404.
type RunLister interface {
	// FinishedRuns returns up to limit finished runs, newest first.
	FinishedRuns(ctx context.Context, limit int) ([]churn.ScoreRun, error)
	// RunBandCounts counts the scores of each run by band name.
	RunBandCounts(ctx context.Context, runs []churn.ScoreRun) (map[string]map[string]int64, error)
}

const (
	defaultRuns = 36
	maxRuns     = 500
)

// bandCache keeps the band counts of finished runs, which never change, so
// that a dashboard polling the trend reads ClickHouse only for new runs.
type bandCache struct {
	mu     sync.Mutex
	counts map[string][numBands]int64
}

func (b *bandCache) get(ctx context.Context, rl RunLister, runs []churn.ScoreRun) (map[string][numBands]int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.counts == nil || len(b.counts) > 4*maxRuns {
		b.counts = map[string][numBands]int64{}
	}
	var missing []churn.ScoreRun
	for _, r := range runs {
		if _, ok := b.counts[r.ID]; !ok {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		got, err := rl.RunBandCounts(ctx, missing)
		if err != nil {
			return nil, err
		}
		for _, r := range missing {
			var c [numBands]int64
			for i, name := range churn.RiskBands {
				c[i] = got[r.ID][string(name)]
			}
			b.counts[r.ID] = c
		}
	}
	out := make(map[string][numBands]int64, len(runs))
	for _, r := range runs {
		out[r.ID] = b.counts[r.ID]
	}
	return out, nil
}

type runBandsJSON struct {
	Run       runJSON          `json:"run"`
	Customers int64            `json:"customers"`
	Bands     map[string]int64 `json:"bands"`
}

type runsJSON struct {
	Runs []runBandsJSON `json:"runs"`
}

func (s *Server) listRuns(c *gin.Context) {
	rl, ok := s.deps.Scores.(RunLister)
	if !ok {
		s.fail(c, churn.Errorf(churn.KindNotFound, "", "this server's store does not list runs"))
		return
	}
	limit, err := runsLimit(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if snap := s.loader.Snapshot(); snap != nil && s.notModified(c, snap.etag) {
		return
	}
	runs, err := rl.FinishedRuns(c.Request.Context(), limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	counts, err := s.bands.get(c.Request.Context(), rl, runs)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := runsJSON{Runs: make([]runBandsJSON, len(runs))}
	for i, r := range runs {
		rb := runBandsJSON{Run: newRunJSON(r), Bands: map[string]int64{}}
		for b, n := range counts[r.ID] {
			rb.Bands[string(churn.RiskBands[b])] = n
			rb.Customers += n
		}
		out.Runs[i] = rb
	}
	c.JSON(http.StatusOK, out)
}

func runsLimit(c *gin.Context) (int, error) {
	return intParam(c.Request.URL.Query(), "limit", 1, maxRuns, defaultRuns)
}
