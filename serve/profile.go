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

// CustomerProfile is a customer's recent figures.
type CustomerProfile struct {
	Customer    churn.Customer
	Plan        *PlanInForce     // nil when no plan is known before the as-of date
	Usage       []UsageWindow    // consecutive windows, oldest first
	Invoices    []InvoiceFigures // newest first
	Tickets     []TicketFigures  // newest first
	Outstanding float64          // invoiced minus paid
}

// PlanInForce is the plan on the as-of date.
type PlanInForce struct {
	Plan       string
	Contract   string
	MonthlyFee float64
	Since      time.Time
}

// UsageWindow is usage summed over [From, To).
type UsageWindow struct {
	From, To       time.Time
	ActiveDays     int
	VoiceMinutes   float64
	DataMB         float64
	SMS            int64
	Calls          int64
	IntlMinutes    float64
	RoamingMinutes float64
	DroppedCalls   int64
}

// InvoiceFigures is an invoice and what was paid against it.
type InvoiceFigures struct {
	ID       string
	IssuedAt time.Time
	DueDate  time.Time
	Amount   float64
	Paid     float64
	PaidAt   time.Time // zero when unpaid
}

// TicketFigures is a support ticket.
type TicketFigures struct {
	ID           string
	Category     string
	OpenedAt     time.Time
	ResolvedAt   time.Time // zero while open
	Satisfaction int       // 1..5, 0 when not rated
}

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
