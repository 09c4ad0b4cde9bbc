package model

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/telcoretain/churn"
)

// Column kinds of a tabular CSV.
const (
	KindNumeric     = "numeric"
	KindBoolean     = "boolean"
	KindCategorical = "categorical"
)

// maxCategories caps the one-hot width of a categorical column: rarer values
// share the "(other)" category.
const maxCategories = 30

const otherCategory = "(other)"

// TabColumn is one input column of a tabular data set as detected in training.
type TabColumn struct {
	Name       string   `json:"name"`
	Kind       string   `json:"kind"`
	Categories []string `json:"categories,omitempty"`
}

// Schema is what `churn train --csv` learned about a file's columns; the model
// file carries it so that `churn predict` reads new files the same way.
type Schema struct {
	Label   string      `json:"label"`
	ID      string      `json:"id,omitempty"`
	Columns []TabColumn `json:"columns"`
	Skipped []string    `json:"skipped,omitempty"` // columns left out (identifiers, constants)
}

// Categories returns the categorical columns and their categories, as the
// encoder wants them.
func (s *Schema) Categories() map[string][]string {
	out := map[string][]string{}
	for _, c := range s.Columns {
		if c.Kind != KindNumeric {
			out[c.Name] = c.Categories
		}
	}
	return out
}

var missingTokens = map[string]bool{"": true, "na": true, "n/a": true, "nan": true, "null": true, "none": true, "?": true, "-": true}

func isMissing(s string) bool { return missingTokens[strings.ToLower(s)] }

var (
	trueTokens  = map[string]bool{"yes": true, "y": true, "true": true, "t": true}
	falseTokens = map[string]bool{"no": false, "n": false, "false": false, "f": false}
)

// parseLabel reads a churn label: yes/no, true/false, 1/0, churned/active.
func parseLabel(s string) (float32, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "1.0", "yes", "y", "true", "t", "churned", "churn", "left", "exited":
		return 1, true
	case "0", "0.0", "no", "n", "false", "f", "active", "retained", "stayed", "stay":
		return 0, true
	}
	return 0, false
}

// table is a CSV file read into memory as trimmed strings.
type table struct {
	name   string
	header []string
	rows   [][]string
	lines  []int // physical line of each row, for messages
}

func readTable(r io.Reader, name string) (*table, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, churn.Invalid("read "+name, "header", "%s is empty", name)
		}
		return nil, csvError(name, err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	t := &table{name: name, header: header}
	seen := map[string]bool{}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
		if seen[header[i]] {
			return nil, churn.Invalid("read "+name, header[i], "%s:1: column %q appears twice", name, header[i])
		}
		seen[header[i]] = true
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		t.rows = append(t.rows, rec)
		t.lines = append(t.lines, line)
	}
	if len(t.rows) == 0 {
		return nil, churn.Invalid("read "+name, "rows", "%s has a header but no rows", name)
	}
	return t, nil
}

func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			msg = "wrong number of fields (ragged row): every row needs one value per header column"
		}
		return churn.Invalid("read "+name, "row", "%s:%d: %s", name, pe.Line, msg)
	}
	return fmt.Errorf("read %s: %w", name, err)
}

func (t *table) col(name string) int {
	for i, h := range t.header {
		if h == name {
			return i
		}
	}
	return -1
}

// ReadTraining reads a labelled CSV, detects the type of every column and
// returns the matrix and the schema. Identifier-like text columns (a distinct
// value in nearly every row) and constant columns are skipped and listed.
func ReadTraining(r io.Reader, name, label, id string) (*churn.Matrix, *Schema, error) {
	op := "read " + name
	t, err := readTable(r, name)
	if err != nil {
		return nil, nil, err
	}
	li := t.col(label)
	if li < 0 {
		return nil, nil, churn.Invalid(op, "label", "%s has no column %q (columns: %s)", name, label, strings.Join(t.header, ", "))
	}
	ii := -1
	if id != "" {
		if ii = t.col(id); ii < 0 {
			return nil, nil, churn.Invalid(op, "id", "%s has no column %q (columns: %s)", name, id, strings.Join(t.header, ", "))
		}
	}
	s := &Schema{Label: label, ID: id}
	for j, h := range t.header {
		if j == li || j == ii {
			continue
		}
		c, keep := detect(t, j)
		if !keep {
			s.Skipped = append(s.Skipped, h)
			continue
		}
		s.Columns = append(s.Columns, c)
	}
	if len(s.Columns) == 0 {
		return nil, nil, churn.Invalid(op, "columns", "%s has no usable feature columns besides the label", name)
	}
	m, err := s.matrix(t, true)
	if err != nil {
		return nil, nil, err
	}
	var pos int
	for _, l := range m.Labels {
		pos += int(l)
	}
	if pos == 0 || pos == m.Rows() {
		return nil, nil, churn.Invalid(op, "label", "column %q has only one class in %d rows; need churned and retained customers", label, m.Rows())
	}
	return m, s, nil
}

// detect decides a column's kind from its values.
func detect(t *table, j int) (TabColumn, bool) {
	c := TabColumn{Name: t.header[j], Kind: KindNumeric}
	counts := map[string]int{}
	numeric, boolean := true, true
	present := 0
	for _, row := range t.rows {
		v := row[j]
		if isMissing(v) {
			continue
		}
		present++
		counts[v]++
		if numeric {
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				numeric = false
			}
		}
		lv := strings.ToLower(v)
		if _, ok := trueTokens[lv]; !ok {
			if _, ok := falseTokens[lv]; !ok {
				boolean = false
			}
		}
	}
	if len(counts) <= 1 {
		return c, false // constant or empty: carries no information
	}
	switch {
	case numeric:
		return c, true
	case boolean:
		c.Kind = KindBoolean
		c.Categories = []string{"false", "true"}
		return c, true
	}
	if len(counts) > 50 && float64(len(counts)) > 0.9*float64(present) {
		return c, false // an identifier, not a feature
	}
	c.Kind = KindCategorical
	type kv struct {
		v string
		n int
	}
	var byFreq []kv
	for v, n := range counts {
		byFreq = append(byFreq, kv{v, n})
	}
	sort.Slice(byFreq, func(a, b int) bool {
		if byFreq[a].n != byFreq[b].n {
			return byFreq[a].n > byFreq[b].n
		}
		return byFreq[a].v < byFreq[b].v
	})
	for i, e := range byFreq {
		if i == maxCategories-1 && len(byFreq) > maxCategories {
			c.Categories = append(c.Categories, otherCategory)
			break
		}
		c.Categories = append(c.Categories, e.v)
	}
	return c, true
}

// ReadScoring reads a CSV to predict on with a training schema: every
// training column must be present (the label may be absent); missing values
// and unseen categories become missing.
func (s *Schema) ReadScoring(r io.Reader, name string) (*churn.Matrix, error) {
	t, err := readTable(r, name)
	if err != nil {
		return nil, err
	}
	return s.matrix(t, false)
}

func (s *Schema) matrix(t *table, needLabel bool) (*churn.Matrix, error) {
	op := "read " + t.name
	idx := make([]int, len(s.Columns))
	for k, c := range s.Columns {
		if idx[k] = t.col(c.Name); idx[k] < 0 {
			return nil, churn.Invalid(op, c.Name, "%s has no column %q, which the model was trained on", t.name, c.Name)
		}
	}
	li, ii := t.col(s.Label), -1
	if s.ID != "" {
		if ii = t.col(s.ID); ii < 0 {
			return nil, churn.Invalid(op, s.ID, "%s has no id column %q", t.name, s.ID)
		}
	}
	n := len(t.rows)
	m := &churn.Matrix{IDs: make([]string, n), Cols: make([][]float32, len(s.Columns))}
	for k, c := range s.Columns {
		m.Features = append(m.Features, c.Name)
		m.Cols[k] = make([]float32, n)
	}
	if needLabel || li >= 0 {
		m.Labels = make([]float32, n)
	}
	lookup := make([]map[string]int, len(s.Columns))
	for k, c := range s.Columns {
		if c.Kind == KindCategorical {
			lookup[k] = map[string]int{}
			for ci, v := range c.Categories {
				lookup[k][v] = ci
			}
		}
	}
	for i, row := range t.rows {
		if ii >= 0 {
			m.IDs[i] = row[ii]
		} else {
			m.IDs[i] = strconv.Itoa(i + 1)
		}
		if m.Labels != nil {
			l, ok := parseLabel(row[li])
			switch {
			case ok:
				m.Labels[i] = l
			case needLabel:
				return nil, churn.Invalid(op, s.Label, "%s:%d: %s: %q is not a label (use yes/no, true/false, 1/0 or churned/active)", t.name, t.lines[i], s.Label, row[li])
			default:
				m.Labels[i] = churn.NaN32
			}
		}
		for k, c := range s.Columns {
			v := row[idx[k]]
			if isMissing(v) {
				m.Cols[k][i] = churn.NaN32
				continue
			}
			switch c.Kind {
			case KindNumeric:
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return nil, churn.Invalid(op, c.Name, "%s:%d: %s: %q is not a number", t.name, t.lines[i], c.Name, v)
				}
				m.Cols[k][i] = float32(f)
			case KindBoolean:
				lv := strings.ToLower(v)
				switch {
				case trueTokens[lv]:
					m.Cols[k][i] = 1
				case isFalse(lv):
					m.Cols[k][i] = 0
				default:
					return nil, churn.Invalid(op, c.Name, "%s:%d: %s: %q is not yes/no or true/false", t.name, t.lines[i], c.Name, v)
				}
			default:
				ci, ok := lookup[k][v]
				if !ok {
					ci, ok = lookup[k][otherCategory]
				}
				if ok {
					m.Cols[k][i] = float32(ci)
				} else {
					m.Cols[k][i] = churn.NaN32 // unseen category
				}
			}
		}
	}
	return m, nil
}

func isFalse(s string) bool {
	_, ok := falseTokens[s]
	return ok
}
