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
// row. Compute runs the sides at once, the longest first (as many at a time
// as the store's SnapshotQueries says, else DefaultSnapshotQueries), and
// joins them by k in Go onto the customers side, where the outer expressions that
// combine sides (the label, whether a customer is active, prepaid activity,
// revenue) are computed too (outer.go).
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

// sideNames are the sides in the order they are started: the longest first,
// so that the short ones fill the time it takes.
var sideNames = []string{"usage_recent", "usage_monthly", "billing", "lifecycle", "support", "plan", "customers"}

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

// RawSnapshot runs the side queries with their parameters, in order, as many
// at a time as the store's SnapshotQueries method says (DefaultSnapshotQueries
// when it has none), and joins them: one row per customer active at
// the as-of date, sorted by id, with its label and the features the SQL
// computes (QueryColumns of the feature set the parameters came from).
// progress, when not nil, is told the rows the server has read so far and
// its estimate of the total, summed over the sides.
func RawSnapshot(ctx context.Context, st Store, sides []Side, params map[string]any, progress func(done, total int64)) (*churn.Matrix, error) {
	got := make([]*churn.Table, len(sides))
	report := churn.SumProgress(len(sides), progress)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(DefaultSnapshotQueries)
	if q, ok := st.(interface{ SnapshotQueries() int }); ok && q.SnapshotQueries() > 0 {
		g.SetLimit(q.SnapshotQueries())
	}
	for i, s := range sides {
		g.Go(func() error {
			t, err := st.QueryTable(gctx, s.SQL, params, report(i))
			if err != nil {
				return fmt.Errorf("snapshot side %s: %w", s.Name, err)
			}
			got[i] = t
			return checkSide(s.Name, t)
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	tables := make(map[string]*churn.Table, len(sides))
	for i, s := range sides {
		tables[s.Name] = got[i]
	}
	return joinSides(tables, params)
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
	err  error // the first column asked for that no side has
}

// col is a numeric column in customer id order.
type col []float64

func (c col) at(i int) float64 { return c[i] }

// strCol is a String column in customer id order.
type strCol []string

func (c strCol) at(i int) string { return c[i] }

// joinSides attaches every side to the customers side by k, in customer id
// order, column by column: a customer's position is looked up once per side
// row, then each column is scattered to the positions.
func joinSides(tables map[string]*churn.Table, params map[string]any) (*churn.Matrix, error) {
	// RawSnapshot checked every side's columns (checkSide).
	cust, ok := tables["customers"]
	if !ok {
		return nil, churn.Errorf(churn.KindInternal, "compute features", "the snapshot has no customers side")
	}
	n := cust.Rows()
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	ids := cust.Strs[cust.Column("c_id")]
	slices.SortStableFunc(order, func(a, b int32) int { return strings.Compare(ids[a], ids[b]) })
	j := &joined{nums: map[string]col{}, strs: map[string]strCol{}}
	// The customers side's rows in id order, and every key's position; a
	// key two customers share (one id twice in customers) maps to the first
	// and is copied to the others.
	custPos := make([]int32, n)
	for p, r := range order {
		custPos[r] = int32(p)
	}
	j.scatter(cust, custPos, n)
	j.ids = j.strs["c_id"]
	pos := newKeyIndex(n)
	var dups [][2]int32 // (first position, another) of shared keys
	for p, r := range order {
		if first, seen := pos.add(cust.Keys[r], int32(p)); seen {
			dups = append(dups, [2]int32{first, int32(p)})
		}
	}
	for name, t := range tables {
		if name == "customers" {
			continue
		}
		at := make([]int32, t.Rows())
		for r, k := range t.Keys {
			at[r] = pos.get(k)
		}
		j.scatter(t, at, n)
		tables[name] = nil // the side's memory can go
	}
	for _, d := range dups {
		for _, c := range j.nums {
			c[d[1]] = c[d[0]]
		}
		for name, c := range j.strs {
			if name != "c_id" {
				c[d[1]] = c[d[0]]
			}
		}
	}
	return outer(j, params)
}

// scatter copies every column of a side to the positions at gives its rows
// (-1: no customer).
func (j *joined) scatter(t *churn.Table, at []int32, n int) {
	for c, name := range t.Names {
		if t.Nums[c] != nil {
			out := make(col, n)
			for r, v := range t.Nums[c] {
				if p := at[r]; p >= 0 {
					out[p] = v
				}
			}
			j.nums[name] = out
			continue
		}
		out := make(strCol, n)
		for r, v := range t.Strs[c] {
			if p := at[r]; p >= 0 {
				out[p] = v
			}
		}
		j.strs[name] = out
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
