package serve

import (
	"context"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/telcoretain/churn"
)

// longRoutes stream from memory for as long as the client reads (the CSV of
// the risk list); the store deadline would cut them off, and they never
// touch ClickHouse.
var longRoutes = map[string]bool{"/v1/scores": true}

// ctxStoreDeadline is the gin context key of the request's store deadline.
const ctxStoreDeadline = "churn.store_deadline"

// storeDeadline gives each request StoreTimeout for its ClickHouse work.
// Reads served from memory finish long before it and never notice it; a
// request that waits on a hung ClickHouse gets a 503 saying so.
func (s *Server) storeDeadline(c *gin.Context) {
	if longRoutes[c.FullPath()] {
		return
	}
	// The driver sets the deadline on its socket, whose timeout may fire an
	// instant before the context's timer: fail compares the clock with the
	// deadline rather than asking the context.
	deadline := time.Now().Add(s.cfg.StoreTimeout)
	ctx, cancel := context.WithDeadline(c.Request.Context(), deadline)
	defer cancel()
	c.Set(ctxStoreDeadline, deadline)
	c.Request = c.Request.WithContext(ctx)
	c.Next()
}

// deadlineError names the store deadline when err is an unavailability and
// the request's deadline has passed: the driver's own error ("i/o timeout")
// says nothing an operator can act on.
func (s *Server) deadlineError(c *gin.Context, err error) error {
	deadline, ok := c.Value(ctxStoreDeadline).(time.Time)
	if !ok || churn.ErrorKind(err) != churn.KindUnavailable || time.Now().Before(deadline) {
		return err
	}
	return &churn.Error{Op: "serve " + c.FullPath(), Kind: churn.KindUnavailable,
		Msg: fmt.Sprintf("ClickHouse did not answer within %s; retry later", s.cfg.StoreTimeout)}
}
