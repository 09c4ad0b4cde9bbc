package dataset

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	dateLayout     = "2006-01-02"
	dateTimeLayout = "2006-01-02 15:04:05"
)

// The range both ClickHouse and clickhouse-go store for Date and DateTime.
// Outside it ClickHouse would silently wrap the value, so it is rejected here.
var (
	minDay      = uint32(0)
	maxDay      = uint32(time.Date(2105, 12, 31, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	maxDateTime = time.Date(2105, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
)

// isNull reports whether a cell spells a missing value.
func isNull(s string) bool {
	return s == "" || s == `\N` || strings.EqualFold(s, "NA") || strings.EqualFold(s, "NULL")
}

// appendCell parses one cell into the column. It returns what is wrong with
// the cell, or "" when it was appended.
func (v *vec) appendCell(raw string) string {
	c := v.col
	if c.Type == String {
		return v.appendString(raw)
	}
	s := strings.TrimSpace(raw)
	if isNull(s) {
		if c.Nullable {
			v.appendNull()
			return ""
		}
		if s == "" {
			return fmt.Sprintf("empty, but every row needs %s (%s)", c.Name, want(c.Type))
		}
		return fmt.Sprintf("missing value %q, but %s cannot be empty (%s)", s, c.Name, want(c.Type))
	}
	var msg string
	switch c.Type {
	case Date:
		var d uint32
		if d, msg = parseDate(s); msg == "" {
			v.num = append(v.num, d)
		}
	case DateTime:
		var t uint32
		if t, msg = parseDateTime(s); msg == "" {
			v.num = append(v.num, t)
		}
	case Float32, Float64:
		var x float64
		if x, msg = v.parseFloat(s); msg == "" {
			if c.Type == Float32 {
				v.f32 = append(v.f32, float32(x))
			} else {
				v.f64 = append(v.f64, x)
			}
		}
	case UInt8, UInt32:
		var x uint32
		if x, msg = v.parseUint(s); msg == "" {
			v.num = append(v.num, x)
		}
	default:
		msg = fmt.Sprintf("column type %s is not supported by the importer", c.Type)
	}
	if msg == "" && c.Nullable {
		v.null = append(v.null, false)
	}
	return msg
}

func (v *vec) appendString(s string) string {
	c := v.col
	if c.Nullable && isNull(s) {
		v.appendNull()
		return ""
	}
	if s == "" && v.required {
		return fmt.Sprintf("empty, but every row needs %s", c.Name)
	}
	if c.Enum != nil {
		for _, e := range c.Enum {
			if s == e {
				v.str = append(v.str, e) // the contract's own string: no copy per row
				if c.Nullable {
					v.null = append(v.null, false)
				}
				return ""
			}
		}
		if c.EnumHint != "" {
			return fmt.Sprintf("%q is not one of %s; add it to %s", s, strings.Join(c.Enum, ", "), c.EnumHint)
		}
		return fmt.Sprintf("%q is not one of %s", s, strings.Join(c.Enum, ", "))
	}
	if !utf8.ValidString(s) {
		return fmt.Sprintf("%q is not valid UTF-8 (save the file as UTF-8)", s)
	}
	v.str = append(v.str, v.keep(s))
	if c.Nullable {
		v.null = append(v.null, false)
	}
	return ""
}

func want(t ColumnType) string {
	switch t {
	case Date:
		return "a date, YYYY-MM-DD"
	case DateTime:
		return "a date-time, YYYY-MM-DD HH:MM:SS in UTC or RFC 3339"
	case UInt8, UInt32:
		return "a whole number"
	}
	return "a number"
}

// parseDate reads YYYY-MM-DD into days since 1970-01-01. The common case is
// decoded by hand: time.Parse would dominate the cost of a usage_daily row.
func parseDate(s string) (uint32, string) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		if _, msg := parseDateTime(s); msg == "" {
			return 0, fmt.Sprintf("%q has a time of day, but the column holds dates (YYYY-MM-DD)", s)
		}
		return 0, fmt.Sprintf("%q is not a date (want YYYY-MM-DD)", s)
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return 0, fmt.Sprintf("%q is not a date (want YYYY-MM-DD)", s)
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if m < 1 || m > 12 || t.Day() != d {
		return 0, fmt.Sprintf("%q is not a date: no such day", s)
	}
	return dayInRange(s, t.Unix())
}

func dayInRange(s string, unix int64) (uint32, string) {
	day := unix / 86400
	if unix < 0 || day < int64(minDay) {
		return 0, fmt.Sprintf("%s is before 1970-01-01, the earliest date ClickHouse stores", s)
	}
	if day > int64(maxDay) {
		return 0, fmt.Sprintf("%s is after 2105-12-31, the latest date ClickHouse stores", s)
	}
	return uint32(day), ""
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// parseDateTime reads `YYYY-MM-DD HH:MM:SS` (taken as UTC: a file carries no
// time zone, and ClickHouse keeps Unix seconds) or RFC 3339 with its offset.
// DateTime holds whole seconds; a fraction is dropped.
func parseDateTime(s string) (uint32, string) {
	layout := dateTimeLayout
	if len(s) > 10 && s[10] == 'T' {
		layout = time.RFC3339
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		var pe *time.ParseError
		if errors.As(err, &pe) && strings.HasPrefix(pe.Message, ": ") {
			return 0, fmt.Sprintf("%q is not a date-time%s", s, pe.Message)
		}
		return 0, fmt.Sprintf("%q is not a date-time (want YYYY-MM-DD HH:MM:SS in UTC or RFC 3339)", s)
	}
	u := t.Unix()
	if u < 0 {
		return 0, fmt.Sprintf("%s is before 1970-01-01 00:00:00 UTC, the earliest time ClickHouse stores", s)
	}
	if u > maxDateTime {
		return 0, fmt.Sprintf("%s is after 2105-12-31 23:59:59 UTC, the latest time ClickHouse stores", s)
	}
	return uint32(u), ""
}

func (v *vec) parseFloat(s string) (float64, string) {
	bits := 64
	if v.col.Type == Float32 {
		bits = 32
	}
	x, err := strconv.ParseFloat(s, bits)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Sprintf("%s is too large for %s", s, v.col.Type)
		}
		return 0, fmt.Sprintf("%q is not a number", s)
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Sprintf("%q is not a finite number", s)
	}
	return x, v.bounds(x, s)
}

// parseUint reads a whole number. "4.0" is accepted: tools that write missing
// values as NaN (pandas) turn integer columns into floats on export.
func (v *vec) parseUint(s string) (uint32, string) {
	bits, top := 32, float64(math.MaxUint32)
	if v.col.Type == UInt8 {
		bits, top = 8, math.MaxUint8
	}
	u, err := strconv.ParseUint(s, 10, bits)
	x := float64(u)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		switch {
		case ferr != nil || math.IsNaN(f) || math.IsInf(f, 0):
			return 0, fmt.Sprintf("%q is not a whole number", s)
		case f != math.Trunc(f):
			return 0, fmt.Sprintf("%s is not a whole number", s)
		}
		x = f
	}
	if msg := v.bounds(x, s); msg != "" {
		return 0, msg
	}
	if x < 0 {
		return 0, fmt.Sprintf("%s is negative; %s holds %s values from 0", s, v.col.Name, v.col.Type)
	}
	if x > top {
		return 0, fmt.Sprintf("%s is above %.0f, the largest %s", s, top, v.col.Type)
	}
	return uint32(x), ""
}

// bounds checks the contract's inclusive range; Min and Max both zero mean
// none is set.
func (v *vec) bounds(x float64, s string) string {
	c := v.col
	if c.Min == 0 && c.Max == 0 {
		return ""
	}
	if x < c.Min {
		return fmt.Sprintf("%s is below the minimum %s", s, strconv.FormatFloat(c.Min, 'g', -1, 64))
	}
	if x > c.Max {
		return fmt.Sprintf("%s is above the maximum %s", s, strconv.FormatFloat(c.Max, 'g', -1, 64))
	}
	return ""
}
