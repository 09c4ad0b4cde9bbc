package serve

import (
	"cmp"
	"context"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/retention"
)

// ActionReader reads the queue for the listing routes.
type ActionReader interface {
	List(f retention.Filter, offset, limit int) ([]churn.Action, int, error)
	Get(id string) (churn.Action, error)
	// Archived reports whether a cycle is archived: its closed actions
	// are no longer listed.
	Archived(cycle string) bool
}

// ActionWorker moves actions through their states for the agents.
type ActionWorker interface {
	// ClaimCycle claims queued actions, of one cycle unless cycle is "".
	ClaimCycle(ctx context.Context, agent, actor string, limit int, cycle string) ([]churn.Action, error)
	Complete(ctx context.Context, id, agent, outcome, note, actor string) (churn.Action, error)
	Cancel(ctx context.Context, id, agent, note, actor string) (churn.Action, error)
	// Answer records a customer's answer to a delivered email or sms action.
	Answer(ctx context.Context, id, outcome, note, actor string) (churn.Action, error)
	// AnswerAll records many answers in one write, all or none.
	AnswerAll(ctx context.Context, answers []retention.MessageAnswer, actor string) ([]churn.Action, int, error)
}

// ActionAdder queues a manual action.
type ActionAdder interface {
	Add(ctx context.Context, actor string, a churn.Action) (churn.Action, bool, error)
}

// ActionQueue is the retention action queue this process owns
// (*retention.Queue): it writes each event to the log before answering.
type ActionQueue interface {
	ActionReader
	ActionWorker
	ActionAdder
}

// OutcomeReader reads the labelled outcomes lift is measured on.
type OutcomeReader interface {
	ActionOutcomes(ctx context.Context, cycles ...string) ([]churn.Outcome, error)
}

// PolicySource is the retention policy in force (*retention.Watcher).
type PolicySource interface {
	Policy() *retention.Policy
	Status() retention.WatchStatus
}

// Optional abilities of the action collaborators, run on the poll interval:
// folding in events other processes wrote, and rereading the policy file.
type (
	actionSyncer interface {
		Sync(ctx context.Context) (int, error)
	}
	policyChecker interface{ Check() (bool, error) }
)

// Limits of the action routes.
const (
	maxClaim   = 100
	maxNoteLen = 2000
	maxNameLen = 128
)

var errNoActions = churn.Errorf(churn.KindUnavailable, "retention actions",
	"this server does not own the retention action queue (it runs with --queue-owner=false): send action requests to the server that owns it")

// runActions keeps the queue and the policy current until ctx ends.
func (s *Server) runActions(ctx context.Context) error {
	sync, _ := s.deps.Actions.(actionSyncer)
	check, _ := s.deps.Policy.(policyChecker)
	if sync == nil && check == nil {
		return nil
	}
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	for {
		if sync != nil {
			// Bounded, so that a hung ClickHouse cannot hold the queue (and
			// the action reads that wait for it) past one poll.
			sctx, cancel := context.WithTimeout(ctx, s.cfg.PollInterval)
			n, err := sync.Sync(sctx)
			cancel()
			if err != nil && ctx.Err() == nil {
				s.log.Warn("action queue: sync with the action log failed", "err", err)
			} else if n > 0 {
				s.log.Info("action queue: events from other writers applied", "events", n)
			}
		}
		if check != nil {
			_, _ = check.Check() // the watcher logs what it refuses
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Server) actions(c *gin.Context) ActionQueue {
	if s.deps.Actions == nil {
		s.fail(c, errNoActions)
	}
	return s.deps.Actions
}

// actionQuery is a parsed request for a page of the action list.
type actionQuery struct {
	filter        retention.Filter
	offset, limit int
}

func parseActionQuery(q url.Values) (actionQuery, error) {
	out := actionQuery{filter: retention.Filter{Status: churn.ActionStatus(q.Get("status")), Tier: churn.ValueTier(q.Get("tier")),
		Kind: churn.ActionKind(q.Get("kind")), Cycle: q.Get("cycle"), CustomerID: q.Get("customer_id"), Agent: q.Get("agent")}}
	if err := out.filter.Validate(); err != nil {
		return actionQuery{}, err
	}
	var err error
	if out.limit, err = intParam(q, "limit", 1, maxPageSize, defaultPageSize); err != nil {
		return actionQuery{}, err
	}
	if out.offset, err = intParam(q, "offset", 0, math.MaxInt32, 0); err != nil {
		return actionQuery{}, err
	}
	return out, nil
}

func intParam(q url.Values, name string, lo, hi, def int) (int, error) {
	if !q.Has(name) {
		return def, nil
	}
	n, err := strconv.Atoi(q.Get(name))
	if err != nil || n < lo || n > hi {
		return 0, invalid(name, "%q: want a whole number from %d to %d", q.Get(name), lo, hi)
	}
	return n, nil
}

func (s *Server) listActions(c *gin.Context) {
	aq, err := parseActionQuery(c.Request.URL.Query())
	if err != nil {
		s.fail(c, err)
		return
	}
	q := s.actions(c)
	if q == nil {
		return
	}
	as, total, err := q.List(aq.filter, aq.offset, aq.limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := actionListJSON{Items: newActionsJSON(as), Total: total, Offset: aq.offset, Limit: aq.limit,
		CycleArchived: aq.filter.Cycle != "" && q.Archived(aq.filter.Cycle)}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

func (s *Server) getAction(c *gin.Context) {
	q := s.actions(c)
	if q == nil {
		return
	}
	a, err := q.Get(c.Param("id"))
	s.answerAction(c, http.StatusOK, a, err)
}

func (s *Server) claimActions(c *gin.Context) {
	var req claimRequest
	if !s.bind(c, &req) {
		return
	}
	q := s.actions(c)
	if q == nil {
		return
	}
	agent, ok := s.actingAgent(c, req.Agent)
	if !ok {
		return
	}
	as, err := q.ClaimCycle(c.Request.Context(), agent, c.GetString(ctxActor), req.limit(), req.Cycle)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := claimJSON{Agent: agent, Actions: newActionsJSON(as)}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

func (s *Server) completeAction(c *gin.Context) {
	var req completeRequest
	if !s.bind(c, &req) {
		return
	}
	q := s.actions(c)
	if q == nil {
		return
	}
	agent := "" // an admin naming nobody completes whoever's claim it is
	if req.Agent != "" || roleOf(c) < RoleAdmin {
		var ok bool
		if agent, ok = s.actingAgent(c, req.Agent); !ok {
			return
		}
	}
	a, err := q.Complete(c.Request.Context(), c.Param("id"), agent, req.Outcome, req.Note, c.GetString(ctxActor))
	s.answerAction(c, http.StatusOK, a, err)
}

// actingAgent is the agent a request works as: the name of its key, or,
// for an admin only, the agent the body names. Others naming someone else
// get 403.
func (s *Server) actingAgent(c *gin.Context, named string) (string, bool) {
	self := c.GetString(ctxAgent)
	if named == "" || named == self || roleOf(c) >= RoleAdmin {
		return cmp.Or(named, self), true
	}
	s.fail(c, churn.Errorf(churn.KindForbidden, "", "agent %q: this API key works as %s; only an admin may act for another agent", named, self))
	return "", false
}

func (s *Server) cancelAction(c *gin.Context) {
	var req cancelRequest
	if err := decodeJSON(c, &req, true); err != nil {
		s.fail(c, err)
		return
	}
	if len(req.Note) > maxNoteLen {
		s.fail(c, invalid("note", "is %d bytes; at most %d", len(req.Note), maxNoteLen))
		return
	}
	q := s.actions(c)
	if q == nil {
		return
	}
	agent := "" // an admin cancels whoever's claim it is
	if roleOf(c) < RoleAdmin {
		agent = c.GetString(ctxAgent)
	}
	a, err := q.Cancel(c.Request.Context(), c.Param("id"), agent, req.Note, c.GetString(ctxActor))
	s.answerAction(c, http.StatusOK, a, err)
}

// answerMessage records the customer's answer to a delivered email or sms
// action, as the campaign system reports it.
func (s *Server) answerMessage(c *gin.Context) {
	var req answerRequest
	if !s.bind(c, &req) {
		return
	}
	q := s.actions(c)
	if q == nil {
		return
	}
	a, err := q.Answer(c.Request.Context(), c.Param("id"), req.Outcome, req.Note, c.GetString(ctxActor))
	s.answerAction(c, http.StatusOK, a, err)
}

// answerMessages records a batch of answers to delivered messages, as a
// campaign system reports them in bulk: all or none.
func (s *Server) answerMessages(c *gin.Context) {
	var req answersRequest
	if !s.bind(c, &req) {
		return
	}
	q := s.actions(c)
	if q == nil {
		return
	}
	answers := make([]retention.MessageAnswer, len(req.Answers))
	for i, a := range req.Answers {
		answers[i] = retention.MessageAnswer{ActionID: a.ActionID, Outcome: a.Outcome, Note: a.Note}
	}
	as, n, err := q.AnswerAll(c.Request.Context(), answers, c.GetString(ctxActor))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := answersJSON{Written: n, Actions: newActionsJSON(as)}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

func (s *Server) answerAction(c *gin.Context, status int, a churn.Action, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(status, newActionJSON(a))
}

// bind decodes a required JSON body into req and validates it, answering the
// error itself; it reports whether the handler may go on.
func (s *Server) bind(c *gin.Context, req interface{ validate() error }) bool {
	err := decodeJSON(c, req, false)
	if err == nil {
		err = req.validate()
	}
	if err != nil {
		s.fail(c, err)
		return false
	}
	return true
}
