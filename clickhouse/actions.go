package clickhouse

import (
	"context"
	"strings"
	"time"

	"github.com/telcoretain/churn"
)

var actionEventColumns = []string{"event_id", "action_id", "at", "event", "customer_id", "cycle", "kind", "offer",
	"channel", "cost", "priority", "value", "agent", "lease_until", "outcome", "note", "actor",
	"run_id", "rule", "tier", "band", "reason", "probability", "lifetime_value", "token", "attempts"}

// epoch stands for "no time" in DateTime columns, which cannot hold Go's
// zero time.
var epoch = time.Unix(0, 0).UTC()

func toDateTime(t time.Time) time.Time {
	if t.IsZero() || t.Before(epoch) {
		return epoch
	}
	return t.UTC()
}

func fromDateTime(t time.Time) time.Time {
	if !t.After(epoch) {
		return time.Time{}
	}
	return t.UTC()
}

// AppendActionEvents writes events as one block. The queue's owner calls it
// before it answers, so an acknowledged change is in the log.
func (c *Client) AppendActionEvents(ctx context.Context, evs []churn.ActionEvent) error {
	n := len(evs)
	if n == 0 {
		return nil
	}
	var (
		str     = func() []string { return make([]string, n) }
		flt     = func() []float64 { return make([]float64, n) }
		eid, ev = str(), str()
		aid     = str()
		cust    = str()
		cycle   = str()
		kind    = str()
		offer   = str()
		channel = str()
		agent   = str()
		outcome = str()
		note    = str()
		actor   = str()
		run     = str()
		rule    = str()
		tier    = str()
		band    = str()
		reason  = str()
		cost    = flt()
		value   = flt()
		prob    = flt()
		clv     = flt()
		at      = make([]time.Time, n)
		lease   = make([]time.Time, n)
		prio    = make([]int32, n)
		token   = make([]uint64, n)
		tries   = make([]uint16, n)
	)
	for i, e := range evs {
		a := e.Action
		eid[i], ev[i], at[i], actor[i], token[i] = e.ID, string(e.Type), toDateTime(e.At), e.Actor, e.Token
		aid[i], cust[i], cycle[i], kind[i], offer[i], channel[i] = a.ID, a.CustomerID, a.Cycle, string(a.Kind), a.Offer, a.Channel
		cost[i], prio[i], value[i], agent[i], lease[i] = a.Cost, int32(a.Priority), a.Value, a.Agent, toDateTime(a.LeaseUntil)
		outcome[i], note[i], tries[i] = a.Outcome, a.Note, uint16(min(a.Attempts, 1<<16-1))
		run[i], rule[i], tier[i], band[i], reason[i], prob[i], clv[i] = a.RunID, a.Rule, string(a.Tier), string(a.Band), a.Reason, a.Probability, a.LifetimeValue
	}
	return c.InsertColumns(ctx, "action_events", actionEventColumns, []any{eid, aid, at, ev, cust, cycle, kind, offer,
		channel, cost, prio, value, agent, lease, outcome, note, actor, run, rule, tier, band, reason, prob, clv, token, tries})
}

// ActionEvents returns the events stamped at or after since (zero: all), in
// event id order, which is the order they happened in.
func (c *Client) ActionEvents(ctx context.Context, since time.Time) ([]churn.ActionEvent, error) {
	const op = "read action_events"
	q := "SELECT " + strings.Join(actionEventColumns, ", ") + " FROM action_events"
	var args []any
	if !since.IsZero() {
		q += " WHERE at >= ?"
		args = append(args, toDateTime(since.Truncate(time.Second)))
	}
	rows, err := c.conn.Query(ctx, q+" ORDER BY event_id", args...)
	if err != nil {
		return nil, wrap(op, c.cfg, err)
	}
	defer rows.Close()
	var out []churn.ActionEvent
	for rows.Next() {
		var (
			e                     churn.ActionEvent
			a                     = &e.Action
			prio                  int32
			tries                 uint16
			lease                 time.Time
			typ, kind, tier, band string
		)
		if err := rows.Scan(&e.ID, &a.ID, &e.At, &typ, &a.CustomerID, &a.Cycle, &kind, &a.Offer,
			&a.Channel, &a.Cost, &prio, &a.Value, &a.Agent, &lease, &a.Outcome, &a.Note, &e.Actor,
			&a.RunID, &a.Rule, &tier, &band, &a.Reason, &a.Probability, &a.LifetimeValue, &e.Token, &tries); err != nil {
			return nil, wrap(op, c.cfg, err)
		}
		a.Priority, a.LeaseUntil, e.At, a.Attempts = int(prio), fromDateTime(lease), e.At.UTC(), int(tries)
		e.Type, a.Kind, a.Tier, a.Band = churn.ActionStatus(typ), churn.ActionKind(kind), churn.ValueTier(tier), churn.RiskBand(band)
		a.Status = e.Type
		out = append(out, e)
	}
	return out, wrap(op, c.cfg, rows.Err())
}

var outcomeColumns = []string{"cycle", "customer_id", "action_id", "grp", "kind", "tier", "lifetime_value", "status",
	"outcome", "cost", "churned", "churned_at", "horizon_days", "labeled_at"}

// WriteActionOutcomes writes the labels of cycles as one block: the table
// has no partition key, so the block lands whole or not at all.
func (c *Client) WriteActionOutcomes(ctx context.Context, outcomes []churn.Outcome) error {
	n := len(outcomes)
	if n == 0 {
		return nil
	}
	cols := make([][]string, 8)
	for i := range cols {
		cols[i] = make([]string, n)
	}
	clv, cost := make([]float64, n), make([]float64, n)
	churned, horizon := make([]uint8, n), make([]uint16, n)
	day, at := make([]time.Time, n), make([]time.Time, n)
	for i, o := range outcomes {
		cols[0][i], cols[1][i], cols[2][i], cols[3][i] = o.Cycle, o.CustomerID, o.ActionID, o.Group
		cols[4][i], cols[5][i], cols[6][i], cols[7][i] = string(o.Kind), string(o.Tier), string(o.Status), o.Outcome
		clv[i], cost[i], horizon[i], at[i], day[i] = o.LifetimeValue, o.Cost, uint16(o.HorizonDays), toDateTime(o.LabeledAt), toDateTime(o.ChurnedAt)
		if o.Churned {
			churned[i] = 1
		}
	}
	return c.InsertColumns(ctx, "action_outcomes", outcomeColumns,
		[]any{cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], clv, cols[6], cols[7], cost, churned, day, horizon, at})
}

// LabeledCycles returns the cycles action_outcomes already holds.
func (c *Client) LabeledCycles(ctx context.Context) (map[string]bool, error) {
	const op = "read action_outcomes"
	rows, err := c.conn.Query(ctx, "SELECT DISTINCT cycle FROM action_outcomes")
	if err != nil {
		return nil, wrap(op, c.cfg, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, wrap(op, c.cfg, err)
		}
		out[s] = true
	}
	return out, wrap(op, c.cfg, rows.Err())
}

// ActionOutcomes returns the labels of the given cycles, of all when none
// are given.
func (c *Client) ActionOutcomes(ctx context.Context, cycles ...string) ([]churn.Outcome, error) {
	const op = "read action_outcomes"
	q := "SELECT " + strings.Join(outcomeColumns, ", ") + " FROM action_outcomes"
	var args []any
	if len(cycles) > 0 {
		q += " WHERE has(?, cycle)"
		args = append(args, cycles)
	}
	rows, err := c.conn.Query(ctx, q+" ORDER BY cycle, action_id", args...)
	if err != nil {
		return nil, wrap(op, c.cfg, err)
	}
	defer rows.Close()
	var out []churn.Outcome
	for rows.Next() {
		var (
			o                  churn.Outcome
			churned            uint8
			horizon            uint16
			kind, tier, status string
		)
		if err := rows.Scan(&o.Cycle, &o.CustomerID, &o.ActionID, &o.Group, &kind, &tier, &o.LifetimeValue,
			&status, &o.Outcome, &o.Cost, &churned, &o.ChurnedAt, &horizon, &o.LabeledAt); err != nil {
			return nil, wrap(op, c.cfg, err)
		}
		o.Kind, o.Tier, o.Status = churn.ActionKind(kind), churn.ValueTier(tier), churn.ActionStatus(status)
		o.Churned, o.HorizonDays = churned == 1, int(horizon)
		o.ChurnedAt, o.LabeledAt = fromDateTime(o.ChurnedAt), o.LabeledAt.UTC()
		out = append(out, o)
	}
	return out, wrap(op, c.cfg, rows.Err())
}

// ChurnedBetween returns the customers who churned in [from, to) with the
// first day they did.
func (c *Client) ChurnedBetween(ctx context.Context, from, to time.Time) (map[string]time.Time, error) {
	const op = "read churn_events"
	rows, err := c.conn.Query(ctx, `SELECT customer_id, min(churned_at) FROM churn_events
WHERE churned_at >= toDate(?) AND churned_at < toDate(?) GROUP BY customer_id`,
		from.Format(time.DateOnly), to.Format(time.DateOnly))
	if err != nil {
		return nil, wrap(op, c.cfg, err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var d time.Time
		if err := rows.Scan(&id, &d); err != nil {
			return nil, wrap(op, c.cfg, err)
		}
		out[id] = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	}
	return out, wrap(op, c.cfg, rows.Err())
}

// DeleteChurnEvents removes the voluntary churn events of customers in
// [from, to) and waits for ClickHouse to finish. Only the synthetic demo
// calls it (`churn actions simulate`), to give retention actions a real
// effect on the seeded outcomes; an operator's churn_events are facts.
func (c *Client) DeleteChurnEvents(ctx context.Context, customerIDs []string, from, to time.Time) error {
	const op = "delete synthetic churn events"
	if len(customerIDs) == 0 {
		return nil
	}
	err := c.mutateSharded(ctx, `ALTER TABLE %s DELETE WHERE has(?, customer_id)
AND churned_at >= toDate(?) AND churned_at < toDate(?) AND kind = 'voluntary'`, "churn_events",
		customerIDs, from.Format(time.DateOnly), to.Format(time.DateOnly))
	if err != nil {
		return wrap(op, c.cfg, err)
	}
	// Mutations run in the background; wait so that labels read after us
	// see the change.
	return c.waitMutations(ctx, op, "churn_events")
}
