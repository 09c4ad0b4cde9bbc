package clickhouse

import (
	"context"
	"strconv"
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
	where, args := "", []any(nil)
	if !since.IsZero() {
		where, args = "at >= ?", []any{toDateTime(since.Truncate(time.Second))}
	}
	var out []churn.ActionEvent
	_, _, err := c.scanActionEvents(ctx, where, args, 0, func(e churn.ActionEvent) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// ScanActionEvents streams to fn, in event id order, the events whose id is
// after after ("": from the first) and at most upto ("": to the last).
//
// It reads in pages of scanPage events: ClickHouse sorts a page with a
// bounded heap and sends its first rows once it has scanned the table,
// where one ORDER BY over millions of whole rows can outlast the driver's
// read timeout before the first row arrives.
func (c *Client) ScanActionEvents(ctx context.Context, after, upto string, fn func(churn.ActionEvent) error) error {
	for {
		var (
			conds []string
			args  []any
		)
		if after != "" {
			conds, args = append(conds, "event_id > ?"), append(args, after)
			if t, ok := eventIDTime(after); ok {
				// Events are stamped with their id's time (retention.EventIDs),
				// so a later id is at no earlier second: this skips the older
				// partitions, which a filter on event_id alone reads whole.
				conds, args = append(conds, "at >= ?"), append(args, toDateTime(t.Add(-24*time.Hour)))
			}
		}
		if upto != "" {
			conds, args = append(conds, "event_id <= ?"), append(args, upto)
		}
		n, last, err := c.scanActionEvents(ctx, strings.Join(conds, " AND "), args, scanPage, fn)
		if err != nil || n < scanPage {
			return err
		}
		// Copies of the last event beyond the page are the same event,
		// which a replay skips anyway.
		after = last
	}
}

// scanPage is how many events one query of ScanActionEvents reads.
const scanPage = 1_000_000

// eventIDTime is the time a standard event id ("e" and 19 digits of Unix
// nanoseconds, then "-") stands for.
func eventIDTime(id string) (time.Time, bool) {
	if len(id) < 21 || id[0] != 'e' || id[20] != '-' {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(id[1:20], 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	return time.Unix(0, n).UTC(), true
}

// maxInterned bounds the strings a scan of action events shares.
const maxInterned = 1 << 14

// scanActionEvents streams the events a condition selects, at most limit
// (0: all), and returns how many it read and the id of the last.
func (c *Client) scanActionEvents(ctx context.Context, where string, args []any, limit int, fn func(churn.ActionEvent) error) (int, string, error) {
	const op = "read action_events"
	q := "SELECT " + strings.Join(actionEventColumns, ", ") + " FROM action_events"
	if where != "" {
		// PREWHERE: the server reads the filter's columns (event_id, at)
		// first and the other 24 only where a row passes, which for the
		// tail after a snapshot's cut is next to nowhere. As WHERE, 18.16
		// moved one condition and read whole rows of the newest day
		// (2.8 s against 0.4 s in a month of 2.5M events).
		q += " PREWHERE " + where
	}
	q += " ORDER BY event_id"
	if limit > 0 {
		q += " LIMIT " + strconv.Itoa(limit)
	}
	rows, err := c.conn.Query(ctx, q, args...)
	if err != nil {
		return 0, "", wrap(op, c.cfg, err)
	}
	defer rows.Close()
	// One set of destinations for every row (a full replay reads millions).
	var (
		e                     churn.ActionEvent
		a                     = &e.Action
		prio                  int32
		tries                 uint16
		lease                 time.Time
		typ, kind, tier, band string
	)
	dest := []any{&e.ID, &a.ID, &e.At, &typ, &a.CustomerID, &a.Cycle, &kind, &a.Offer,
		&a.Channel, &a.Cost, &prio, &a.Value, &a.Agent, &lease, &a.Outcome, &a.Note, &e.Actor,
		&a.RunID, &a.Rule, &tier, &band, &a.Reason, &a.Probability, &a.LifetimeValue, &e.Token, &tries}
	// The few values of the descriptive columns are shared rather than
	// held once per event: a replay keeps every action in memory.
	words := map[string]string{}
	intern := func(ps ...*string) {
		for _, p := range ps {
			if w, ok := words[*p]; ok {
				*p = w
			} else if len(words) < maxInterned {
				words[*p] = *p
			}
		}
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return n, e.ID, wrap(op, c.cfg, err)
		}
		n++
		intern(&a.Cycle, &typ, &kind, &a.Offer, &a.Channel, &a.Agent, &a.Outcome, &e.Actor, &a.RunID, &a.Rule, &tier, &band, &a.Reason)
		a.Priority, a.LeaseUntil, e.At, a.Attempts = int(prio), fromDateTime(lease), e.At.UTC(), int(tries)
		e.Type, a.Kind, a.Tier, a.Band = churn.ActionStatus(typ), churn.ActionKind(kind), churn.ValueTier(tier), churn.RiskBand(band)
		a.Status = e.Type
		if err := fn(e); err != nil {
			return n, e.ID, err
		}
	}
	return n, e.ID, wrap(op, c.cfg, rows.Err())
}

var outcomeColumns = []string{"cycle", "customer_id", "action_id", "grp", "kind", "tier", "lifetime_value", "status",
	"outcome", "cost", "churned", "churned_at", "horizon_days", "labeled_at", "reason", "probability"}

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
	clv, cost, prob := make([]float64, n), make([]float64, n), make([]float64, n)
	reason := make([]string, n)
	churned, horizon := make([]uint8, n), make([]uint16, n)
	day, at := make([]time.Time, n), make([]time.Time, n)
	for i, o := range outcomes {
		cols[0][i], cols[1][i], cols[2][i], cols[3][i] = o.Cycle, o.CustomerID, o.ActionID, o.Group
		cols[4][i], cols[5][i], cols[6][i], cols[7][i] = string(o.Kind), string(o.Tier), string(o.Status), o.Outcome
		clv[i], cost[i], horizon[i], at[i], day[i] = o.LifetimeValue, o.Cost, uint16(o.HorizonDays), toDateTime(o.LabeledAt), toDateTime(o.ChurnedAt)
		reason[i], prob[i] = o.Reason, o.Probability
		if o.Churned {
			churned[i] = 1
		}
	}
	return c.InsertColumns(ctx, "action_outcomes", outcomeColumns,
		[]any{cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], clv, cols[6], cols[7], cost, churned, day, horizon, at, reason, prob})
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
			&status, &o.Outcome, &o.Cost, &churned, &o.ChurnedAt, &horizon, &o.LabeledAt, &o.Reason, &o.Probability); err != nil {
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
// first day they did, by the churn definition of their billing (churnedSQL).
func (c *Client) ChurnedBetween(ctx context.Context, from, to time.Time) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := c.each(ctx, "read churn_events", "SELECT customer_id, min(gone_at) FROM ("+churnedSQL+") GROUP BY customer_id",
		func(s scanner) error {
			var id string
			var d time.Time
			if err := s.Scan(&id, &d); err != nil {
				return err
			}
			out[id] = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
			return nil
		}, c.churnedArgs(from, to)...)
	return out, err
}

// DeleteChurnEvents removes the voluntary churn events of customers in
// [from, to) and waits for ClickHouse to finish. Only the synthetic demo
// calls it (`churn actions simulate`), to give retention actions a real
// effect on the seeded outcomes; an operator's churn_events are facts.
func (c *Client) DeleteChurnEvents(ctx context.Context, customerIDs []string, from, to time.Time) error {
	const op = "delete synthetic churn events"
	const where = `has(?, customer_id) AND churned_at >= toDate(?) AND churned_at < toDate(?) AND kind = 'voluntary'`
	return inParts(customerIDs, func(part []string) error {
		args := []any{part, from.Format(time.DateOnly), to.Format(time.DateOnly)}
		if err := c.mutateSharded(ctx, "ALTER TABLE %s DELETE WHERE "+where, "churn_events", args...); err != nil {
			return wrap(op, c.cfg, err)
		}
		// Mutations run in the background; wait so that labels read after
		// us see the change, on whichever replica answers them.
		return c.awaitDeleted(ctx, op, "churn_events", where, args...)
	})
}

// ChurnReasonsBetween returns the customers with a voluntary churn event in
// [from, to) and the reason of their first one. Only the synthetic demo
// needs it (`churn actions simulate`): whether an action keeps a would-be
// churner depends on why they were leaving.
func (c *Client) ChurnReasonsBetween(ctx context.Context, from, to time.Time) (map[string]string, error) {
	const op = "read churn_events"
	rows, err := c.conn.Query(ctx, `SELECT customer_id, argMin(reason, churned_at) FROM churn_events
WHERE churned_at >= toDate(?) AND churned_at < toDate(?) AND kind = 'voluntary' GROUP BY customer_id`,
		from.Format(time.DateOnly), to.Format(time.DateOnly))
	if err != nil {
		return nil, wrap(op, c.cfg, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, reason string
		if err := rows.Scan(&id, &reason); err != nil {
			return nil, wrap(op, c.cfg, err)
		}
		out[id] = reason
	}
	return out, wrap(op, c.cfg, rows.Err())
}

// AddSyntheticChurnEvents writes voluntary churn events (customer ids[i] on
// days[i], for reason). Only the synthetic demo calls it, for the customers
// whom a contact made leave; an operator's churn_events are facts. On a
// cluster it returns once every replica holds the events, so that the
// report that follows reads them from either replica.
func (c *Client) AddSyntheticChurnEvents(ctx context.Context, ids []string, days []time.Time, reason string) error {
	if len(ids) == 0 {
		return nil
	}
	reasons, kinds := make([]string, len(ids)), make([]string, len(ids))
	for i := range ids {
		reasons[i], kinds[i] = reason, "voluntary"
	}
	return c.insertAgreed(ctx, "churn_events", "churn events", []string{"customer_id", "churned_at", "reason", "kind"},
		[]any{ids, days, reasons, kinds})
}
