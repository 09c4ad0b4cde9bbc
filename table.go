package churn

import (
	"fmt"
	"maps"
	"slices"
	"sync"
)

// Table is the result of a per-customer query keyed by a 64-bit key (the
// feature snapshot's sides: k = cityHash64(customer_id)), one row per key:
// numeric columns, Dates as day numbers, are float64 (exact for integers up
// to 2^53), String columns are strings.
type Table struct {
	Keys  []uint64
	Names []string    // the columns after the key, in query order
	Nums  [][]float64 // Nums[j] holds column j when it is numeric, else nil
	Strs  [][]string  // Strs[j] holds column j when it is a String, else nil
}

// Rows returns the number of rows.
func (t *Table) Rows() int { return len(t.Keys) }

// Column returns the index of the named column, or -1.
func (t *Table) Column(name string) int {
	for j, n := range t.Names {
		if n == name {
			return j
		}
	}
	return -1
}

// Columns are where a per-customer query's rows are read straight into
// columns in customer order (the sides of a feature snapshot): Pos gives
// the position of a row's key, -1 when the key is no customer's and the row
// is skipped, and each column of the row is stored at that position of the
// column of its name, numbers (Dates as day numbers) in Nums and Strings in
// Strs. The query's columns after its key are exactly those of Nums and
// Strs. Rows of different keys touch different positions, so several
// queries (a snapshot's sides, a query's shards) may fill one Columns at
// once.
type Columns struct {
	Pos  func(key uint64) int32
	Nums map[string][]float64
	Strs map[string][]string
}

// Check returns an error unless t's columns are exactly c's: the same
// names, numbers in Nums and Strings in Strs.
func (c *Columns) Check(t *Table) error {
	want := slices.Sorted(maps.Keys(c.Nums))
	want = append(want, slices.Sorted(maps.Keys(c.Strs))...)
	if len(t.Names) != len(want) {
		return fmt.Errorf("the columns %v, want %v", t.Names, want)
	}
	for j, name := range t.Names {
		_, num := c.Nums[name]
		_, str := c.Strs[name]
		switch {
		case t.Nums[j] != nil && !num:
			return fmt.Errorf("the number column %s, which is not one of the numbers %v", name, slices.Sorted(maps.Keys(c.Nums)))
		case t.Nums[j] == nil && !str:
			return fmt.Errorf("the String column %s, which is not one of the Strings %v", name, slices.Sorted(maps.Keys(c.Strs)))
		}
	}
	return nil
}

// Put stores t's rows, whose columns Check accepts, at their keys'
// positions: the keys are looked up in one loop, then each column is
// written in one loop, so that the cache misses of the random positions
// overlap (writing each row's columns in turn took a miss per value).
func (c *Columns) Put(t *Table) {
	at := make([]int32, len(t.Keys))
	for r, k := range t.Keys {
		at[r] = c.Pos(k)
	}
	for j, name := range t.Names {
		if t.Nums[j] != nil {
			Scatter(c.Nums[name], t.Nums[j], at)
		} else {
			Scatter(c.Strs[name], t.Strs[j], at)
		}
	}
}

// Scatter copies vals[r] to out[at[r]], skipping the rows whose position is
// -1.
func Scatter[T any](out, vals []T, at []int32) {
	for r, v := range vals {
		if p := at[r]; p >= 0 {
			out[p] = v
		}
	}
}

// Append adds the rows of o, which must have the same columns (another
// shard's rows of the same query).
func (t *Table) Append(o *Table) error {
	if len(o.Names) != len(t.Names) {
		return fmt.Errorf("columns %v, want %v", o.Names, t.Names)
	}
	for j, n := range o.Names {
		if n != t.Names[j] || (o.Nums[j] == nil) != (t.Nums[j] == nil) {
			return fmt.Errorf("columns %v, want %v", o.Names, t.Names)
		}
	}
	t.Keys = append(t.Keys, o.Keys...)
	for j := range t.Names {
		if t.Nums[j] != nil {
			t.Nums[j] = append(t.Nums[j], o.Nums[j]...)
		} else {
			t.Strs[j] = append(t.Strs[j], o.Strs[j]...)
		}
	}
	return nil
}

// ShareProgress adds up the progress of n tasks that start at different
// times (a snapshot's sides, a few at a time) for one callback: task i
// reports through the function it is given. Rows done are added up, and
// the total is estimated from the share of the work done, each task
// counting equally (a task not started yet has done none of its share):
// total = done / share. A task's total is known only once it runs, so a
// plain sum of totals would jump when a task starts and the percentage
// would fall back; done / total here is the share, which only grows. With a
// nil progress every task gets nil.
func ShareProgress(n int, progress func(done, total int64)) func(i int) func(done, total int64) {
	return combineProgress(n, progress, func(sd int64, done, total []int64) int64 {
		var share float64
		for j := range done {
			if total[j] > 0 {
				share += min(1, float64(done[j])/float64(total[j])) / float64(n)
			}
		}
		if share == 0 {
			return 0
		}
		return max(sd, int64(float64(sd)/share+0.5))
	})
}

// SumProgress adds up the progress of n tasks run at once (a query's
// shards) for one callback: task i reports through the function it is
// given. With a nil progress every task gets nil.
func SumProgress(n int, progress func(done, total int64)) func(i int) func(done, total int64) {
	return combineProgress(n, progress, func(_ int64, _, total []int64) int64 {
		var st int64
		for _, t := range total {
			st += t
		}
		return st
	})
}

// combineProgress gives each of n tasks a progress function; each report
// tells progress the rows done by all tasks and the total that estimate
// makes of every task's rows done and total so far.
func combineProgress(n int, progress func(done, total int64), estimate func(sd int64, done, total []int64) int64) func(i int) func(done, total int64) {
	var mu sync.Mutex
	done, total := make([]int64, n), make([]int64, n)
	return func(i int) func(d, t int64) {
		if progress == nil {
			return nil
		}
		return func(d, t int64) {
			mu.Lock()
			defer mu.Unlock()
			done[i], total[i] = d, t
			var sd int64
			for _, x := range done {
				sd += x
			}
			progress(sd, estimate(sd, done, total))
		}
	}
}
