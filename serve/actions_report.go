package serve

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/telcoretain/churn/retention"
)

// addCustomerAction queues an action for one customer by hand. The customer
// must be in the latest scoring run, whose tier and risk the action records.
// Asking again the same day for the same kind returns the existing action.
func (s *Server) addCustomerAction(c *gin.Context) {
	id, err := customerParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var req manualRequest
	if err := decodeJSON(c, &req, false); err != nil {
		s.fail(c, err)
		return
	}
	q := s.actions(c)
	if q == nil || s.deps.Policy == nil {
		if q != nil {
			s.fail(c, errNoActions)
		}
		return
	}
	snap, i, ok := s.scored(c, id)
	if !ok {
		return
	}
	a, err := manualAction(s.deps.Policy.Policy(), snap.Score(i), req, s.now())
	if err != nil {
		s.fail(c, err)
		return
	}
	a, created, err := q.Add(c.Request.Context(), c.GetString(ctxActor), a)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		s.log.Info("manual action queued", "action", a.ID, "customer", id, "kind", a.Kind, "actor", c.GetString(ctxActor))
	}
	s.answerAction(c, status, a, err)
}

// lift measures the labelled cycles: all of them, or those of ?cycle=a,b.
func (s *Server) lift(c *gin.Context) {
	q := c.Request.URL.Query()
	var cycles []string
	if v := q.Get("cycle"); v != "" {
		for _, cy := range strings.Split(v, ",") {
			if _, err := retention.CycleDate(cy); err != nil {
				s.fail(c, err)
				return
			}
			cycles = append(cycles, cy)
		}
	}
	if s.deps.Outcomes == nil {
		s.fail(c, errNoActions)
		return
	}
	outs, err := s.deps.Outcomes.ActionOutcomes(c.Request.Context(), cycles...)
	if err != nil {
		s.fail(c, err)
		return
	}
	var rates []retention.LearnedRate
	if s.deps.Policy != nil {
		pol := s.deps.Policy.Policy()
		rates = retention.Learn(outs, pol.PriorStrength).Rates(pol)
	}
	c.Header("Cache-Control", "no-cache")
	c.JSON(http.StatusOK, newLiftJSON(retention.Measure(outs), rates))
}

func (s *Server) policy(c *gin.Context) {
	if s.deps.Policy == nil {
		s.fail(c, errNoActions)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, newPolicyJSON(s.deps.Policy.Policy(), s.deps.Policy.Status()))
}
