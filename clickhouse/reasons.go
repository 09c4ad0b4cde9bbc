package clickhouse

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/telcoretain/churn"
)

// Reading a run's scores is dominated by decoding the reasons column (a
// million rows of three reasons each when `churn serve` starts). The column
// only ever holds what reasonsJSON marshals, so decodeReasons reads that
// exact shape by hand, with the texts and feature names sliced out of the
// row's string rather than copied, and hands anything else (escapes, other
// key orders, foreign rows) to encoding/json, which stays the definition.

// parseReasons decodes a stored reasons column.
func parseReasons(s string) ([]churn.Reason, error) {
	if s == "" {
		return nil, nil
	}
	if out, ok := decodeReasons(s); ok {
		return out, nil
	}
	var rs []reason
	if err := json.Unmarshal([]byte(s), &rs); err != nil {
		return nil, err
	}
	out := make([]churn.Reason, len(rs))
	for i, r := range rs {
		out[i] = churn.Reason{Feature: r.Feature, Value: math.NaN(), Contribution: r.Contribution, Text: r.Text}
		if r.Value != nil {
			out[i].Value = *r.Value
		}
	}
	return out, nil
}

// decodeReasons reads the form reasonsJSON writes; ok is false for any
// other input, which the caller then decodes with encoding/json.
func decodeReasons(s string) (out []churn.Reason, ok bool) {
	if s == "null" {
		return nil, true
	}
	d := reasonDecoder{s: s}
	if !d.lit("[") {
		return nil, false
	}
	if d.lit("]") {
		return []churn.Reason{}, d.end()
	}
	out = make([]churn.Reason, 0, 1+strings.Count(s, `},{`))
	for {
		var r churn.Reason
		if !d.lit(`{"feature":`) || !d.str(&r.Feature) || !d.lit(`,"value":`) || !d.num(&r.Value, true) ||
			!d.lit(`,"contribution":`) || !d.num(&r.Contribution, false) || !d.lit(`,"text":`) || !d.str(&r.Text) || !d.lit("}") {
			return nil, false
		}
		out = append(out, r)
		if d.lit("]") {
			return out, d.end()
		}
		if !d.lit(",") {
			return nil, false
		}
	}
}

type reasonDecoder struct {
	s string
	i int
}

func (d *reasonDecoder) end() bool { return d.i == len(d.s) }

func (d *reasonDecoder) lit(p string) bool {
	if strings.HasPrefix(d.s[d.i:], p) {
		d.i += len(p)
		return true
	}
	return false
}

// str reads a string without escapes: one with a backslash (or a control
// character, which JSON does not allow raw) is left to encoding/json.
func (d *reasonDecoder) str(out *string) bool {
	if !d.lit(`"`) {
		return false
	}
	for j := d.i; j < len(d.s); j++ {
		switch c := d.s[j]; {
		case c == '"':
			*out = d.s[d.i:j]
			d.i = j + 1
			return true
		case c == '\\' || c < 0x20:
			return false
		}
	}
	return false
}

// num reads a JSON number, or null as NaN when nullable.
func (d *reasonDecoder) num(out *float64, nullable bool) bool {
	if nullable && d.lit("null") {
		*out = math.NaN()
		return true
	}
	j := d.i
	for j < len(d.s) && strings.IndexByte("+-.0123456789eE", d.s[j]) >= 0 {
		j++
	}
	if j == d.i || (d.s[d.i] != '-' && (d.s[d.i] < '0' || d.s[d.i] > '9')) {
		return false
	}
	f, err := strconv.ParseFloat(d.s[d.i:j], 64)
	if err != nil {
		return false
	}
	*out, d.i = f, j
	return true
}
