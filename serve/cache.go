package serve

import (
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// Responses read from a snapshot change only when a new run is swapped in,
// so the run id is a sufficient validator: dashboards that poll get 304s
// until the next run.

func runETag(runID string) string {
	h := fnv.New64a()
	h.Write([]byte(runID))
	return `"r` + strconv.FormatUint(h.Sum64(), 36) + `"`
}

// notModified sets the caching headers for a response derived from snap and
// answers 304 when the client already has it.
func (s *Server) notModified(c *gin.Context, etag string) bool {
	c.Header("ETag", etag)
	c.Header("Cache-Control", s.cfg.CacheControl)
	if etagMatches(c.GetHeader("If-None-Match"), etag) {
		c.AbortWithStatus(304)
		return true
	}
	return false
}

// etagMatches applies the weak comparison of If-None-Match (RFC 9110 13.1.2).
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
