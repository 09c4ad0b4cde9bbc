package serve

import (
	"context"
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

//go:embed openapi.yaml
var openapiYAML []byte

// OpenAPI returns the API's OpenAPI 3 document.
func OpenAPI() []byte { return openapiYAML }

func serveOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/yaml", openapiYAML)
}

// healthz says the process is up; it checks nothing else on purpose, so that
// a ClickHouse outage never gets the process restarted.
func (s *Server) healthz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, statusJSON{Status: "ok"})
}

// readyz is 503 until a snapshot is loaded, then ready, or degraded (still
// serving the snapshot) while ClickHouse does not answer. A server that does
// not own the action queue is ready too: it serves reads, and its queue part
// names the owner.
func (s *Server) readyz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	snap := s.loader.Snapshot()
	if snap == nil {
		reason := "no scoring run loaded yet"
		if err := s.loader.Err(); err != nil {
			reason += ": " + err.Error()
		}
		c.JSON(http.StatusServiceUnavailable, statusJSON{Status: "unavailable", Reason: reason, Queue: s.queueStatus()})
		return
	}
	run := newRunJSON(snap.run)
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.ReadyTimeout)
	defer cancel()
	err := s.deps.Pinger.Ping(ctx)
	s.metrics.setStoreUp(err == nil)
	if err != nil {
		c.JSON(http.StatusOK, statusJSON{Status: "degraded", Run: &run, Queue: s.queueStatus(),
			Reason: "serving the last snapshot; ClickHouse does not answer: " + err.Error()})
		return
	}
	c.JSON(http.StatusOK, statusJSON{Status: "ready", Run: &run, Queue: s.queueStatus()})
}
