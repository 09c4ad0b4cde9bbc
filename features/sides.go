package features

import (
	"context"
	"embed"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/telcoretain/churn"
)

// The point-in-time snapshot is seven queries, its sides, one per group of
// tables (features/sql/snapshot/*.sql): each aggregates its tables per
// customer with conditional aggregates over day windows, keyed by k =
// cityHash64(customer_id), and returns one row per customer that has any
// row. Compute runs the sides at once, the customers side first and then
// the longest (as many at a time as the store's SnapshotQueries says, else
// DefaultSnapshotQueries), and joins them by k in Go onto the customers
// side: each other side's rows are stored at their customers' positions as
// they arrive. The outer expressions that combine sides (the label, whether
// a customer is active, prepaid activity, revenue) are computed there too
// (outer.go).
//
// The joins used to run in ClickHouse, as one query of nested ANY LEFT
// JOINs: ClickHouse 18.16 attaches a join's columns on one thread, at about
// 115 ns per column and row, which took 18.6 of the 65.7 s of server CPU of
// a snapshot of 800,000 customers while the sides used every core
// (docs/scaling.md). In Go the join is a hash lookup per side and row.
//
// Grouping by k, a UInt64, not by the id string: grouping a million string
// keys cost nearly twice the CPU of integer ones; the id itself is read once,
// from customers. Two ids that share a 64-bit hash would share their
// history; among a billion ids that happens with a probability below 3%,
// among ten million below 3e-6.
//
// A customer without rows in a side gets the values a SQL join gives (0, ”
// empty string and the day 0), so every side carries a count or *_present column that the
// outer expressions test before they use a value. Column names are unique
// across sides (prefixes c_ customers, k_ g_ w_ lifecycle, s_ support, p_
// plan, b_ y_ billing, u_ usage_monthly, v_ d_ usage_recent).
//
// Parameters of every side (bound client-side by the driver, never spliced
// by hand):
//
//	@as_of            'YYYY-MM-DD'
//	@horizon_days     days in the label window
//	@inactivity_days  prepaid inactivity churn (lifecycle.sql)
//	@history_days     HistoryDays: how far back billing and support are read
//	@segment_values/@segment_categories, @payment_values/@payment_categories,
//	@contract_values/@contract_categories, @ticket_values/@ticket_categories
//	                  the operator's vocabulary (churn.Vocabulary): its values
//	                  and their categories; a value it lacks maps to '' (no
//	                  category)
//
// The category lists of the categorical features (@contracts, @segments,
// @regions, @payment_methods, @billings) are parameters too, applied in Go.
//
//go:embed sql/snapshot/*.sql
var sidesFS embed.FS

// Side is one query of a snapshot.
type Side struct {
	Name string // the file's name without .sql: customers, lifecycle, ...
	SQL  string
}

// sideNames are the sides in the order they are started: customers first
// (RawSnapshot starts it first whatever the order, as every other side's
// rows need its customers' positions), then the longest, so that the short
// ones fill the time it takes.
var sideNames = []string{"customers", "usage_recent", "usage_monthly", "billing", "lifecycle", "support", "plan"}

// DefaultSnapshotQueries is how many side queries of a snapshot run at once
// unless the store says otherwise. ClickHouse runs each on up to max_threads
// cores; on the 2-core development machine 2, 3 and 7 at once measured the
// same within noise (docs/scaling.md).
const DefaultSnapshotQueries = 2

// sideColumns are the columns each side returns after its key k, in order:
// the contract between the SQL files and the expressions of outer.go, which
// RawSnapshot checks on every run.
var sideColumns = map[string][]string{
	"customers": {"c_id", "c_tenure", "c_segment", "c_region", "c_payment_method", "c_billing"},
	"lifecycle": {"k_topups", "k_last", "k_topups_90", "k_amount_30", "k_amount_90", "k_amount_prev", "k_amount_365",
		"k_l_before", "k_l_label", "k_l_after", "k_l_next", "g_terms", "g_end",
		"w_churns", "w_gone", "w_label", "w_returns", "w_last_return"},
	"support": {"s_billing_30", "s_billing_90", "s_network_30", "s_network_90", "s_device_30", "s_device_90",
		"s_service_30", "s_service_90", "s_complaint_30", "s_complaint_90", "s_unresolved", "s_rated",
		"s_last_satisfaction", "s_complaints", "s_complaint_age"},
	"plan": {"p_present", "p_contract", "p_fee", "p_fee_change", "p_days_since", "p_changes_12m"},
	"billing": {"b_invoices", "b_revenue_365", "b_revenue_90", "b_invoices_90", "b_amount_180", "b_invoices_180",
		"b_last_amount", "b_prev_n", "b_prev_sum", "y_payments", "y_last_paid", "y_payments_365", "y_paid_365",
		"b_outstanding", "b_late_12m", "b_missed_12m", "b_days_past_due"},
	"usage_monthly": {"u_active_old", "u_active_prev", "u_active_30", "u_last_age", "u_l_label", "u_l_after", "u_l_next"},
	"usage_recent": {"v_voice_1", "v_voice_2", "v_voice_3", "v_data_1", "v_data_2", "v_data_3", "v_sms_30",
		"v_calls_30", "v_calls_90", "v_dropped_30", "v_dropped_90", "v_intl_90", "v_roaming_90",
		"d_voice_wsum", "d_voice_56", "d_voice_14", "d_voice_base", "d_data_wsum", "d_data_56", "d_data_14", "d_data_base"},
}

// stringColumns are the side columns that are Strings; every other is a
// number.
var stringColumns = []string{"c_id", "c_segment", "c_region", "c_payment_method", "c_billing", "p_contract"}

// SideColumns returns the columns a side returns after its key k, in order,
// for fakes that answer the sides in tests; nil for a name that is no side.
func SideColumns(side string) []string { return slices.Clone(sideColumns[side]) }

// StringColumn reports whether a side column is a String (else a number).
func StringColumn(name string) bool { return slices.Contains(stringColumns, name) }

// sides returns the side queries.
func sides() []Side {
	out := make([]Side, len(sideNames))
	for i, n := range sideNames {
		b, err := sidesFS.ReadFile("sql/snapshot/" + n + ".sql")
		if err != nil {
			panic(err) // embedded: cannot happen
		}
		out[i] = Side{Name: n, SQL: string(b)}
	}
	return out
}

// SnapshotSides returns the side queries of a snapshot and their named
// parameters for an as-of date, a horizon and a prepaid inactivity in days
// and a feature set (whose category lists become parameters, so that a
// model's own encodings are replayed exactly), with the default vocabulary.
// RawSnapshot runs them; they are exported for tests that swap a side, for
// benchmarks and for people who want to run a query by hand.
func SnapshotSides(asOf time.Time, horizon, inactivity int, fs []churn.Feature) ([]Side, map[string]any) {
	return sides(), snapshotParams(Date(asOf), horizon, inactivity, fs, churn.Vocabulary{})
}

// RawSnapshot runs the side queries with their parameters, as many at a
// time as the store's SnapshotQueries method says (DefaultSnapshotQueries
// when it has none), the customers side first and then the others in order,
// and joins them: one row per customer active at the as-of date, sorted by
// id, with its label and the features the SQL computes (QueryColumns of the
// feature set the parameters came from). progress, when not nil, is told the
// rows the server has read so far and its estimate of the total, summed
// over the sides.
//
// The customers side gives every customer's position in id order; a store
// that can (clickhouse.Client's QueryColumns) writes the other sides' rows
// straight to those positions, which they wait for only when their first
// rows arrive, and any other store's tables are copied there.
func RawSnapshot(ctx context.Context, st Store, sides []Side, params map[string]any, progress func(done, total int64)) (*churn.Matrix, error) {
	ci := slices.IndexFunc(sides, func(s Side) bool { return s.Name == "customers" })
	if ci < 0 {
		return nil, churn.Errorf(churn.KindInternal, "compute features", "the snapshot has no customers side")
	}
	for _, s := range sides {
		if _, ok := sideColumns[s.Name]; !ok {
			return nil, churn.Errorf(churn.KindInternal, "compute features", "%s is no snapshot side", s.Name)
		}
	}
	report := churn.ShareProgress(len(sides), progress)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(DefaultSnapshotQueries)
	if q, ok := st.(interface{ SnapshotQueries() int }); ok && q.SnapshotQueries() > 0 {
		g.SetLimit(q.SnapshotQueries())
	}
	j := &joined{nums: map[string]col{}, strs: map[string]strCol{}}
	ready := make(chan struct{})
	g.Go(func() error {
		t, err := st.QueryTable(gctx, sides[ci].SQL, params, report(ci))
		if err != nil {
			return fmt.Errorf("snapshot side customers: %w", err)
		}
		if err := checkSide("customers", t); err != nil {
			return err
		}
		j.attachCustomers(t, sides)
		close(ready)
		return nil
	})
	for i, s := range sides {
		if i == ci {
			continue
		}
		dst := func() (*churn.Columns, error) {
			select {
			case <-ready:
				return j.columns(s.Name), nil
			case <-gctx.Done():
				return nil, gctx.Err()
			}
		}
		g.Go(func() error { return readSide(gctx, st, s, params, report(i), dst) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	j.copyShared()
	return outer(j, params)
}

// columnStore is a Store that reads a query's rows straight into columns in
// customer order.
type columnStore interface {
	QueryColumns(ctx context.Context, query string, params map[string]any, progress func(done, total int64), dst func() (*churn.Columns, error)) error
}

// readSide runs a side other than customers and stores its rows in the
// columns dst returns.
func readSide(ctx context.Context, st Store, s Side, params map[string]any, progress func(done, total int64), dst func() (*churn.Columns, error)) error {
	if cs, ok := st.(columnStore); ok {
		if err := cs.QueryColumns(ctx, s.SQL, params, progress, dst); err != nil {
			return fmt.Errorf("snapshot side %s: %w", s.Name, err)
		}
		return nil
	}
	t, err := st.QueryTable(ctx, s.SQL, params, progress)
	if err != nil {
		return fmt.Errorf("snapshot side %s: %w", s.Name, err)
	}
	if err := checkSide(s.Name, t); err != nil {
		return err
	}
	d, err := dst()
	if err != nil {
		return err
	}
	d.Put(t)
	return nil
}

// checkSide rejects a side table whose columns are not those outer.go reads.
func checkSide(name string, t *churn.Table) error {
	want, ok := sideColumns[name]
	if !ok {
		return churn.Errorf(churn.KindInternal, "compute features", "%s is no snapshot side", name)
	}
	if !slices.Equal(t.Names, want) {
		return churn.Errorf(churn.KindInternal, "compute features", "snapshot side %s returned the columns %v, want %v", name, t.Names, want)
	}
	for c, n := range t.Names {
		if (t.Strs[c] != nil) != StringColumn(n) {
			return churn.Errorf(churn.KindInternal, "compute features", "snapshot side %s: column %s has the wrong type", name, n)
		}
	}
	return nil
}

// joined is the sides' columns in customer id order: a customer without a
// row in a side reads that side's columns as zeros (a SQL join's defaults).
type joined struct {
	ids  []string
	nums map[string]col
	strs map[string]strCol
	pos  *keyIndex  // every customer's key and position
	dups [][2]int32 // (first position, another) of keys two customers share
	err  error      // the first column asked for that no side has
}

// col is a numeric column in customer id order.
type col []float64

func (c col) at(i int) float64 { return c[i] }

// strCol is a String column in customer id order.
type strCol []string

func (c strCol) at(i int) string { return c[i] }

// attachCustomers puts the customers side's rows in id order, indexes their
// keys and makes the columns of the other sides, zeros until they are
// read. A key two customers share (one id twice in customers) maps to the
// first, whose values copyShared copies to the others.
func (j *joined) attachCustomers(cust *churn.Table, sides []Side) {
	n := cust.Rows()
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	ids := cust.Strs[cust.Column("c_id")]
	slices.SortStableFunc(order, func(a, b int32) int { return strings.Compare(ids[a], ids[b]) })
	custPos := make([]int32, n)
	for p, r := range order {
		custPos[r] = int32(p)
	}
	for c, name := range cust.Names {
		if cust.Nums[c] != nil {
			j.nums[name] = make(col, n)
			churn.Scatter(j.nums[name], cust.Nums[c], custPos)
		} else {
			j.strs[name] = make(strCol, n)
			churn.Scatter(j.strs[name], cust.Strs[c], custPos)
		}
	}
	j.ids = j.strs["c_id"]
	j.pos = newKeyIndex(n)
	for p, r := range order {
		if first, seen := j.pos.add(cust.Keys[r], int32(p)); seen {
			j.dups = append(j.dups, [2]int32{first, int32(p)})
		}
	}
	for _, s := range sides {
		if s.Name == "customers" {
			continue
		}
		for _, name := range sideColumns[s.Name] {
			if StringColumn(name) {
				j.strs[name] = make(strCol, n)
			} else {
				j.nums[name] = make(col, n)
			}
		}
	}
}

// columns are the columns of a side other than customers, to be filled.
func (j *joined) columns(side string) *churn.Columns {
	d := &churn.Columns{Pos: j.pos.get, Nums: map[string][]float64{}, Strs: map[string][]string{}}
	for _, name := range sideColumns[side] {
		if StringColumn(name) {
			d.Strs[name] = j.strs[name]
		} else {
			d.Nums[name] = j.nums[name]
		}
	}
	return d
}

// copyShared copies the first customer's values of a shared key to the
// others.
func (j *joined) copyShared() {
	for _, d := range j.dups {
		for _, c := range j.nums {
			c[d[1]] = c[d[0]]
		}
		for name, c := range j.strs {
			if name != "c_id" {
				c[d[1]] = c[d[0]]
			}
		}
	}
}

// num returns a numeric column of whichever side has it; a missing column
// sets j.err and reads as zeros.
func (j *joined) num(name string) col {
	if c, ok := j.nums[name]; ok {
		return c
	}
	j.missing(name)
	return make(col, len(j.ids))
}

// str returns a String column of whichever side has it, like num.
func (j *joined) str(name string) strCol {
	if c, ok := j.strs[name]; ok {
		return c
	}
	j.missing(name)
	return make(strCol, len(j.ids))
}

func (j *joined) missing(name string) {
	if j.err == nil {
		j.err = churn.Errorf(churn.KindInternal, "compute features", "no snapshot side returned the column %s", name)
	}
}

// keyIndex maps the customers' keys to their positions: an open-addressing
// table probed linearly from the key's low bits (the keys are hashes
// already). On a million customers its lookups took 0.37 s of CPU where a
// Go map's took 1.6 s.
type keyIndex struct {
	keys []uint64
	pos  []int32 // -1: empty slot
	mask uint64
}

func newKeyIndex(n int) *keyIndex {
	size := 16
	for size < 2*n {
		size *= 2
	}
	ix := &keyIndex{keys: make([]uint64, size), pos: make([]int32, size), mask: uint64(size - 1)}
	for i := range ix.pos {
		ix.pos[i] = -1
	}
	return ix
}

// add stores key at position p, unless the key is there already: then it
// returns the position stored and true.
func (ix *keyIndex) add(key uint64, p int32) (int32, bool) {
	for s := key & ix.mask; ; s = (s + 1) & ix.mask {
		switch {
		case ix.pos[s] < 0:
			ix.keys[s], ix.pos[s] = key, p
			return p, false
		case ix.keys[s] == key:
			return ix.pos[s], true
		}
	}
}

// get returns the position of key, -1 when it is no customer's.
func (ix *keyIndex) get(key uint64) int32 {
	for s := key & ix.mask; ; s = (s + 1) & ix.mask {
		if ix.pos[s] < 0 || ix.keys[s] == key {
			return ix.pos[s]
		}
	}
}
