package serve

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/telcoretain/churn"
)

// ProfileReader reads what an agent wants to see about a customer before a
// call. A ScoreStore that also implements it serves
// GET /v1/customers/{id}/profile; without it the route answers 404.
type ProfileReader interface {
	// CustomerProfile reads the customer's figures from rows dated before
	// asOf; KindNotFound when the customer is unknown.
	CustomerProfile(ctx context.Context, customerID string, asOf time.Time) (CustomerProfile, error)
}

// The profile types are the domain's (package churn).
type (
	CustomerProfile = churn.CustomerProfile
	PlanInForce     = churn.PlanInForce
	UsageWindow     = churn.UsageWindow
	InvoiceFigures  = churn.InvoiceFigures
	TicketFigures   = churn.TicketFigures
)

func (s *Server) customerProfile(c *gin.Context) {
	pr, ok := s.deps.Scores.(ProfileReader)
	if !ok {
		s.fail(c, churn.Errorf(churn.KindNotFound, "", "this server's store has no customer profiles"))
		return
	}
	id, err := customerParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	// The figures that explain a score are those before its as-of date.
	asOf := s.now().UTC()
	if snap := s.loader.Snapshot(); snap != nil {
		asOf = snap.run.AsOf
		if s.notModified(c, snap.etag) {
			return
		}
	}
	p, err := pr.CustomerProfile(c.Request.Context(), id, asOf)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newProfileJSON(p, asOf))
}
