package serve

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/telcoretain/churn"
)

// snapshot returns the snapshot to answer from, or fails with 503 while none
// has been loaded.
func (s *Server) snapshot(c *gin.Context) *Snapshot {
	snap := s.loader.Snapshot()
	if snap == nil {
		s.fail(c, churn.Errorf(churn.KindUnavailable, "read scores",
			"no finished scoring run is loaded yet; run `churn score` or wait for the next poll"))
	}
	return snap
}

func customerParam(c *gin.Context) (string, error) {
	id := c.Param("id")
	if err := validCustomerID(id); err != nil {
		return "", invalid("id", "customer id %v", err)
	}
	return id, nil
}

func (s *Server) customerScore(c *gin.Context) {
	id, err := customerParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	snap, i, ok := s.scored(c, id)
	if !ok {
		return
	}
	if s.notModified(c, snap.etag) {
		return
	}
	s.metrics.scoresServed(routeLabel(c), 1)
	c.JSON(http.StatusOK, newScoreJSON(snap.Score(i)))
}

// customerHistory reads ClickHouse: history spans runs that the snapshot
// does not hold. Its validator is still the latest run, since history only
// changes when a run finishes.
func (s *Server) customerHistory(c *gin.Context) {
	id, err := customerParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	snap := s.loader.Snapshot()
	if snap != nil && s.notModified(c, snap.etag) {
		return
	}
	hist, err := s.deps.Scores.CustomerHistory(c.Request.Context(), id, s.cfg.HistoryLimit)
	if err != nil {
		s.fail(c, err)
		return
	}
	if len(hist) == 0 {
		s.fail(c, churn.Errorf(churn.KindNotFound, "", "customer %q has no scores in any finished run", id))
		return
	}
	out := historyJSON{CustomerID: id, Scores: make([]scoreJSON, len(hist))}
	for i, h := range hist {
		out.Scores[i] = newScoreJSON(h)
	}
	s.metrics.scoresServed(routeLabel(c), len(hist))
	c.JSON(http.StatusOK, out)
}

func (s *Server) listScores(c *gin.Context) {
	q, err := parseListQuery(c.Request.URL.Query())
	if err != nil {
		s.fail(c, err)
		return
	}
	snap := s.snapshot(c)
	if snap == nil {
		return
	}
	if q.sort == SortUplift && snap.upliftModel == 0 {
		s.fail(c, invalid("sort", "uplift: run %s stored no uplift (it needs an uplift champion trained on the churn champion's features when the run scored)", snap.run.ID))
		return
	}
	from, err := q.resume(snap)
	if err != nil {
		s.fail(c, err)
		return
	}
	if s.notModified(c, snap.etag) {
		return
	}
	if q.csv {
		s.writeCSV(c, snap, q, from)
		return
	}
	idx, next := snap.page(q.sort, q.filter, from, q.limit)
	out := pageJSON{Run: newRunJSON(snap.run), Sort: q.sort.String(), Items: make([]scoreJSON, len(idx)), NextCursor: next}
	for j, i := range idx {
		out.Items[j] = newScoreJSON(snap.Score(i))
	}
	s.metrics.scoresServed(routeLabel(c), len(idx))
	c.JSON(http.StatusOK, out)
}

func (s *Server) batchScores(c *gin.Context) {
	var req batchRequest
	if err := decodeJSON(c, &req, false); err != nil {
		s.fail(c, err)
		return
	}
	if err := validateBatch(req.CustomerIDs); err != nil {
		s.fail(c, err)
		return
	}
	snap := s.snapshot(c)
	if snap == nil {
		return
	}
	out := batchJSON{Run: newRunJSON(snap.run), Scores: []scoreJSON{}, NotFound: []string{}}
	seen := make(map[string]bool, len(req.CustomerIDs))
	for _, id := range req.CustomerIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		if i, ok := snap.Lookup(id); ok {
			out.Scores = append(out.Scores, newScoreJSON(snap.Score(i)))
		} else {
			out.NotFound = append(out.NotFound, id)
		}
	}
	s.metrics.scoresServed(routeLabel(c), len(out.Scores))
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

func validateBatch(ids []string) error {
	switch {
	case ids == nil:
		return invalid("customer_ids", "missing; send {\"customer_ids\": [\"...\"]}")
	case len(ids) == 0:
		return invalid("customer_ids", "is empty; send 1 to %d ids", maxBatch)
	case len(ids) > maxBatch:
		return invalid("customer_ids", "has %d ids, over the maximum of %d", len(ids), maxBatch)
	}
	for i, id := range ids {
		if err := validCustomerID(id); err != nil {
			return invalid("customer_ids", "id %d %v", i, err)
		}
	}
	return nil
}

func (s *Server) summary(c *gin.Context) {
	snap := s.snapshot(c)
	if snap == nil || s.notModified(c, snap.etag) {
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", snap.summary.body)
}

// scored finds a customer in the served snapshot, answering 503 without a
// snapshot and 404 for a customer the run did not score; it reports whether
// the handler may go on.
func (s *Server) scored(c *gin.Context, id string) (*Snapshot, int32, bool) {
	snap := s.snapshot(c)
	if snap == nil {
		return nil, 0, false
	}
	i, ok := snap.Lookup(id)
	if !ok {
		s.fail(c, churn.Errorf(churn.KindNotFound, "", "customer %q has no score in run %s", id, snap.run.ID))
		return nil, 0, false
	}
	return snap, i, true
}
