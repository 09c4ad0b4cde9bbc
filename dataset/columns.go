package dataset

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxInterned bounds the strings shared per column: past it a column of
// mostly distinct values (free text) stops paying for the map.
const maxInterned = 1 << 20

// Columns holds the valid rows of one contract table column by column, in a
// compact form so that files of millions of rows fit in memory: dates as day
// numbers, date-times as Unix seconds, repeated strings (customer ids of
// usage rows, enumerations) shared. Block turns a range of rows into the
// slices the ClickHouse driver appends.
type Columns struct {
	table Table
	vecs  []*vec
	lines []uint32 // physical line of each row, for problems found after reading
	n     int
}

// vec is one column. Exactly one of the value slices is used, by type.
type vec struct {
	col      Column
	required bool              // empty strings are rejected (keys and references)
	intern   map[string]string // nil when values are stored as they come
	str      []string
	num      []uint32 // Date: days since 1970-01-01; DateTime: Unix seconds; UInt8, UInt32
	f32      []float32
	f64      []float64
	null     []bool // Nullable columns only
}

func newColumns(t Table) *Columns {
	c := &Columns{table: t}
	for _, col := range t.Columns {
		v := &vec{col: col, required: col.Type == String && (col.Ref != "" || slices.Contains(t.Key, col.Name))}
		// A column that is the whole key holds distinct values: sharing buys nothing.
		if col.Type == String && !(len(t.Key) == 1 && t.Key[0] == col.Name) && col.Enum == nil {
			v.intern = make(map[string]string)
		}
		c.vecs = append(c.vecs, v)
	}
	return c
}

// Table is the contract table the rows belong to.
func (c *Columns) Table() Table { return c.table }

// Len is the number of rows.
func (c *Columns) Len() int { return c.n }

// Names are the column names in contract order, matching Block.
func (c *Columns) Names() []string { return c.table.ColumnNames() }

// Line is the physical line of the file that row i came from.
func (c *Columns) Line(i int) int { return int(c.lines[i]) }

// Value formats the value of the named column in row i the way the CSV would
// write it: dates as YYYY-MM-DD, date-times as YYYY-MM-DD HH:MM:SS in UTC, NULL
// as the empty string. It returns "" for an unknown column.
func (c *Columns) Value(i int, column string) string {
	for _, v := range c.vecs {
		if v.col.Name == column {
			return v.format(i)
		}
	}
	return ""
}

// Block returns rows [from, to) as one slice per column, in the types
// clickhouse-go appends to the column's ClickHouse type: []string,
// []time.Time (Date, DateTime), []float32, []float64, []uint8, []uint32, and
// slices of pointers for Nullable columns. Strings and numbers share memory
// with the Columns; dates are built for the block only, so a large file is
// never held twice in full.
func (c *Columns) Block(from, to int) []any {
	out := make([]any, len(c.vecs))
	for i, v := range c.vecs {
		out[i] = v.block(from, to)
	}
	return out
}

// truncate drops rows from n on, undoing a row that turned out invalid.
func (c *Columns) truncate(n int) {
	for _, v := range c.vecs {
		v.truncate(n)
	}
}

func (v *vec) truncate(n int) {
	if len(v.str) > n {
		v.str = v.str[:n]
	}
	if len(v.num) > n {
		v.num = v.num[:n]
	}
	if len(v.f32) > n {
		v.f32 = v.f32[:n]
	}
	if len(v.f64) > n {
		v.f64 = v.f64[:n]
	}
	if len(v.null) > n {
		v.null = v.null[:n]
	}
}

func (v *vec) isNull(i int) bool { return v.null != nil && v.null[i] }

// keep stores a string cell. Cells of a CSV record share one allocation, so a
// kept cell is copied (or shared with an equal earlier value) rather than
// pinning the whole line.
func (v *vec) keep(s string) string {
	if v.intern == nil {
		return strings.Clone(s)
	}
	if k, ok := v.intern[s]; ok {
		return k
	}
	k := strings.Clone(s)
	if len(v.intern) < maxInterned {
		v.intern[k] = k
	}
	return k
}

func (v *vec) appendNull() {
	switch v.col.Type {
	case String:
		v.str = append(v.str, "")
	case Float32:
		v.f32 = append(v.f32, 0)
	case Float64:
		v.f64 = append(v.f64, 0)
	default:
		v.num = append(v.num, 0)
	}
	v.null = append(v.null, true)
}

// instant is the time of a Date or DateTime value in Unix seconds.
func (v *vec) instant(i int) int64 {
	if v.col.Type == Date {
		return int64(v.num[i]) * 86400
	}
	return int64(v.num[i])
}

func (v *vec) format(i int) string {
	if v.isNull(i) {
		return ""
	}
	switch v.col.Type {
	case String:
		return v.str[i]
	case Date:
		return time.Unix(v.instant(i), 0).UTC().Format(dateLayout)
	case DateTime:
		return time.Unix(v.instant(i), 0).UTC().Format(dateTimeLayout)
	case Float32:
		return strconv.FormatFloat(float64(v.f32[i]), 'g', -1, 32)
	case Float64:
		return strconv.FormatFloat(v.f64[i], 'g', -1, 64)
	}
	return strconv.FormatUint(uint64(v.num[i]), 10)
}

// hash feeds the value of row i to h; equal values hash equally.
func (v *vec) hash(h *maphash.Hash, i int) {
	if v.isNull(i) {
		_ = h.WriteByte(0)
		return
	}
	_ = h.WriteByte(1)
	var b [8]byte
	switch v.col.Type {
	case String:
		_, _ = h.WriteString(v.str[i])
		_ = h.WriteByte(0)
		return
	case Float32:
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v.f32[i]))
	case Float64:
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v.f64[i]))
	default:
		binary.LittleEndian.PutUint32(b[:], v.num[i])
	}
	_, _ = h.Write(b[:])
}

func (v *vec) equal(i, j int) bool {
	if v.isNull(i) || v.isNull(j) {
		return v.isNull(i) == v.isNull(j)
	}
	switch v.col.Type {
	case String:
		return v.str[i] == v.str[j]
	case Float32:
		return v.f32[i] == v.f32[j]
	case Float64:
		return v.f64[i] == v.f64[j]
	}
	return v.num[i] == v.num[j]
}

func (v *vec) block(from, to int) any {
	m := to - from
	switch v.col.Type {
	case String:
		if v.null == nil {
			return v.str[from:to]
		}
		return pointers(v.str[from:to], v.null[from:to])
	case Float32:
		if v.null == nil {
			return v.f32[from:to]
		}
		return pointers(v.f32[from:to], v.null[from:to])
	case Float64:
		if v.null == nil {
			return v.f64[from:to]
		}
		return pointers(v.f64[from:to], v.null[from:to])
	case UInt32:
		if v.null == nil {
			return v.num[from:to]
		}
		return pointers(v.num[from:to], v.null[from:to])
	case UInt8:
		b := make([]uint8, m)
		for k := range b {
			b[k] = uint8(v.num[from+k])
		}
		if v.null == nil {
			return b
		}
		return pointers(b, v.null[from:to])
	}
	// Date and DateTime: UTC times, whose calendar day is the stored day.
	ts := make([]time.Time, m)
	for k := range ts {
		ts[k] = time.Unix(v.instant(from+k), 0).UTC()
	}
	if v.null == nil {
		return ts
	}
	return pointers(ts, v.null[from:to])
}

// pointers turns values into the []*T the driver wants for Nullable(T),
// pointing into vals itself (nil where null).
func pointers[T any](vals []T, null []bool) []*T {
	out := make([]*T, len(vals))
	for k := range vals {
		if !null[k] {
			out[k] = &vals[k]
		}
	}
	return out
}
