package dataset

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/telcoretain/churn"
)

// ReadOptions tunes ReadCSV.
type ReadOptions struct {
	Name      string    // the file's name as problems report it
	MaxErrors int       // problems reported in full; 0 means DefaultMaxErrors
	Lookup    KeyLookup // stored keys and references; nil skips those checks
}

// ReadCSV reads an operator's CSV file for contract table t and returns its
// rows as typed columns, only when every row is valid. The file may be
// gzip'd (recognised by its magic bytes, whatever its name). Its header names
// every contract column once, in any order, and nothing else. Each cell is
// checked against the column's type, enumeration, bounds and nullability,
// each row against the row rules, the key against the other rows and against
// the stored rows, and each reference against the referenced table.
//
// An invalid file yields a KindInvalid *churn.Error wrapping *Problems, which
// lists the first problems (by physical line) as FILE:LINE: column: problem.
// The file is read once, streaming; memory grows with the valid rows only.
func ReadCSV(ctx context.Context, r io.Reader, t Table, opts ReadOptions) (*Columns, error) {
	name := opts.Name
	if name == "" {
		name = t.Name + ".csv"
	}
	limit := opts.MaxErrors
	if limit <= 0 {
		limit = DefaultMaxErrors
	}
	op := "import " + t.Name
	src, err := decode(r)
	if err != nil {
		return nil, &churn.Error{Op: op, Kind: churn.KindInvalid, Field: name, Msg: err.Error()}
	}
	cr := csv.NewReader(src)
	cr.ReuseRecord = true
	parsed := &collector{limit: limit}
	invalid := func(parts ...*collector) error {
		p := merge(name, limit, parts...)
		return &churn.Error{Op: op, Kind: churn.KindInvalid,
			Msg: fmt.Sprintf("%s has %d %s", name, p.Total, plural(p.Total, "error", "errors")), Err: p}
	}

	header, err := cr.Read()
	if err != nil {
		var pe *csv.ParseError
		switch {
		case errors.Is(err, io.EOF):
			parsed.add(1, "", "the file is empty; the first line must name the columns: %s", strings.Join(t.ColumnNames(), ","))
		case errors.As(err, &pe):
			parsed.add(pe.Line, "", "header: %v", pe.Err)
		default:
			return nil, readError(op, name, err)
		}
		return nil, invalid(parsed)
	}
	order := matchHeader(t, header, parsed)
	if parsed.total > 0 {
		return nil, invalid(parsed)
	}
	cr.FieldsPerRecord = len(header)

	c := newColumns(t)
	keys := newKeyIndex(c)
	rules := c.bindRules()
	for rows := 0; ; rows++ {
		if rows%8192 == 0 && ctx.Err() != nil {
			return nil, churn.Unavailable(op, ctx.Err())
		}
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, readError(op, name, err)
			}
			if errors.Is(pe.Err, csv.ErrFieldCount) {
				parsed.add(pe.StartLine, "", "expected %d fields, got %d", len(header), len(rec))
			} else {
				parsed.add(pe.Line, "", "%v", pe.Err)
			}
			continue
		}
		c.addRow(rec, order, cr, keys, rules, parsed)
	}

	stored := &collector{limit: limit}
	if opts.Lookup != nil {
		if err := checkStored(ctx, opts.Lookup, c, keys, stored); err != nil {
			return nil, err
		}
	}
	if parsed.total+stored.total > 0 {
		return nil, invalid(parsed, stored)
	}
	return c, nil
}

// addRow appends one record, or reports its problems and leaves no trace of it.
func (c *Columns) addRow(rec []string, order []int, cr *csv.Reader, keys *keyIndex, rules []boundRule, out *collector) {
	n := c.n
	ok := true
	for i, v := range c.vecs {
		if order[i] < 0 {
			// A default is a valid value of its column.
			v.appendCell(v.col.Default)
			continue
		}
		if msg := v.appendCell(rec[order[i]]); msg != "" {
			line, _ := cr.FieldPos(order[i])
			out.add(line, v.col.Name, "%s", msg)
			ok = false
		}
	}
	line, _ := cr.FieldPos(0)
	if ok {
		for _, r := range rules {
			if msg := r.check(n); msg != "" {
				out.add(line, r.later.col.Name, "%s", msg)
				ok = false
			}
		}
	}
	if ok && keys != nil {
		if j := keys.add(n); j >= 0 {
			out.add(line, keys.column(), "duplicate key %s, first on line %d", keys.describe(n), c.Line(j))
			ok = false
		}
	}
	if !ok {
		c.truncate(n)
		return
	}
	c.lines = append(c.lines, uint32(line))
	c.n++
}

// matchHeader maps each contract column to its field in the header (any
// order) and reports missing, unknown and repeated names.
func matchHeader(t Table, header []string, out *collector) []int {
	at := make(map[string]int, len(header))
	var unknown []string
	for i, h := range header {
		h = strings.TrimSpace(h)
		switch _, known := t.Column(h); {
		case h == "":
			out.add(1, "", "field %d of the header has no name", i+1)
		case at[h] > 0:
			out.add(1, h, "named twice in the header (fields %d and %d)", at[h], i+1)
		case !known:
			unknown = append(unknown, h)
		}
		if _, seen := at[h]; !seen {
			at[h] = i + 1
		}
	}
	order := make([]int, len(t.Columns))
	for i, col := range t.Columns {
		pos, ok := at[col.Name]
		if !ok && col.Default != "" {
			order[i] = -1 // addRow fills in the default
			continue
		}
		if !ok {
			hint := ""
			for _, u := range unknown {
				if strings.EqualFold(u, col.Name) {
					hint = fmt.Sprintf(" (found %q: names are case-sensitive)", u)
				}
			}
			out.add(1, col.Name, "missing from the header%s", hint)
			continue
		}
		order[i] = pos - 1
	}
	for _, u := range unknown {
		out.add(1, u, "unknown column; %s has %s", t.Name, strings.Join(t.ColumnNames(), ", "))
	}
	return order
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// decode unwraps gzip (by magic bytes, not by name) and drops a UTF-8 byte
// order mark, which spreadsheet programs put before the header. Formats that
// cannot be a CSV get an error saying what the file is.
func decode(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("starts like gzip but is not a readable gzip file: %w", err)
		}
		br = bufio.NewReaderSize(zr, 1<<16)
		magic, _ = br.Peek(4)
	case bytes.HasPrefix(magic, []byte("PK\x03\x04")):
		return nil, errors.New("is a zip archive; unzip it or compress the CSV with gzip")
	}
	switch {
	case bytes.HasPrefix(magic, utf8BOM):
		_, _ = br.Discard(len(utf8BOM))
	case bytes.HasPrefix(magic, []byte{0xFF, 0xFE}), bytes.HasPrefix(magic, []byte{0xFE, 0xFF}):
		return nil, errors.New("is UTF-16 text; save it as UTF-8 CSV")
	}
	return br, nil
}

func readError(op, name string, err error) error {
	if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &churn.Error{Op: op, Kind: churn.KindInvalid, Field: name, Msg: "the file is truncated or corrupt", Err: err}
	}
	return &churn.Error{Op: op, Kind: churn.KindInvalid, Field: name, Msg: "cannot read the file", Err: err}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
