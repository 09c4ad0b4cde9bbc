package liblinear

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// The wire format between Fit and the child, all little-endian:
//
//	request:  "LLFITRQ1" rows:u64 cols:u64 C:f64 eps:f64, then per row
//	          label:u8 (0 or 1) and cols x f64 features
//	response: "LLFITRS1" cols:u64, cols x f64 coefficients, bias:f64
//
// Rows go out one at a time so the parent never holds the dense design
// matrix; the child needs it whole anyway, for liblinear.
const (
	requestMagic  = "LLFITRQ1"
	responseMagic = "LLFITRS1"
	headerLen     = len(requestMagic) + 4*8
)

// Limits of liblinear, which counts rows and columns (plus its bias column
// and one spare) in C ints.
const (
	maxRows = math.MaxInt32 - 1
	maxCols = math.MaxInt32 - 3
)

// ctxCheckRows is how often, in rows, the writer checks for cancellation.
const ctxCheckRows = 4096

// check reports the first problem with p and params, naming the field.
func check(p Problem, params Params) error {
	switch {
	case p.Rows <= 0 || p.Rows > maxRows:
		return fmt.Errorf("rows: %d, want 1 to %d", p.Rows, maxRows)
	case p.Cols <= 0 || p.Cols > maxCols:
		return fmt.Errorf("cols: %d, want 1 to %d", p.Cols, maxCols)
	case !(params.C > 0) || math.IsInf(params.C, 0):
		return fmt.Errorf("params.C: %g, want a positive finite number", params.C)
	case !(params.Eps > 0) || math.IsInf(params.Eps, 0):
		return fmt.Errorf("params.Eps: %g, want a positive finite number", params.Eps)
	}
	return nil
}

// problemError marks a fault in the problem found while streaming it, as
// opposed to a failure to write it.
type problemError struct{ error }

// writeRequest streams p to w, encoding one row at a time. It stops early
// when ctx is cancelled.
func writeRequest(ctx context.Context, w io.Writer, p Problem, params Params) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	hdr := make([]byte, 0, headerLen)
	hdr = append(hdr, requestMagic...)
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(p.Rows))
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(p.Cols))
	hdr = binary.LittleEndian.AppendUint64(hdr, math.Float64bits(params.C))
	hdr = binary.LittleEndian.AppendUint64(hdr, math.Float64bits(params.Eps))
	if _, err := bw.Write(hdr); err != nil {
		return err
	}
	row := make([]float64, p.Cols)
	buf := make([]byte, 1+8*p.Cols)
	var pos int
	for i := range p.Rows {
		if i%ctxCheckRows == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		positive := p.Row(i, row)
		buf[0] = 0
		if positive {
			buf[0] = 1
			pos++
		}
		for k, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return problemError{fmt.Errorf("row %d column %d: %v is not a finite number", i, k, v)}
			}
			binary.LittleEndian.PutUint64(buf[1+8*k:], math.Float64bits(v))
		}
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	if pos == 0 || pos == p.Rows {
		return problemError{fmt.Errorf("labels: all %d rows are in one class; need both", p.Rows)}
	}
	return bw.Flush()
}

// request is a problem as the child reads it: rows with liblinear's constant
// bias column appended, and labels as 0 or 1.
type request struct {
	x      [][]float64
	y      []float64
	cols   int
	params Params
}

// readRequest reads one request from r and checks it. Rows are allocated as
// they arrive, so a header promising more rows than follow fails on the
// missing data before it can claim memory for them.
func readRequest(r io.Reader) (*request, error) {
	hdr := make([]byte, headerLen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("request header: %w", err)
	}
	if string(hdr[:len(requestMagic)]) != requestMagic {
		return nil, fmt.Errorf("request header: starts with %q, want %q", hdr[:len(requestMagic)], requestMagic)
	}
	u := func(k int) uint64 { return binary.LittleEndian.Uint64(hdr[len(requestMagic)+8*k:]) }
	rows, cols := u(0), u(1)
	if rows == 0 || rows > maxRows || cols == 0 || cols > maxCols {
		return nil, fmt.Errorf("request header: %d rows x %d cols, want 1 to %d rows and 1 to %d cols", rows, cols, maxRows, maxCols)
	}
	req := &request{cols: int(cols), params: Params{C: math.Float64frombits(u(2)), Eps: math.Float64frombits(u(3))}}
	if err := check(Problem{Rows: int(rows), Cols: int(cols)}, req.params); err != nil {
		return nil, fmt.Errorf("request header: %w", err)
	}
	buf := make([]byte, 1+8*cols)
	var pos int
	for i := range int(rows) {
		if _, err := io.ReadFull(r, buf); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("request row %d of %d: %w", i, rows, err)
		}
		switch buf[0] {
		case 0:
			req.y = append(req.y, 0)
		case 1:
			req.y = append(req.y, 1)
			pos++
		default:
			return nil, fmt.Errorf("request row %d: label byte %d, want 0 or 1", i, buf[0])
		}
		x := make([]float64, cols+1)
		for k := range int(cols) {
			v := math.Float64frombits(binary.LittleEndian.Uint64(buf[1+8*k:]))
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("request row %d column %d: %v is not a finite number", i, k, v)
			}
			x[k] = v
		}
		// golearn's liblinear fits no intercept: a constant column stands
		// in for it (liblinear's usual "bias" feature).
		x[cols] = 1
		req.x = append(req.x, x)
	}
	if pos == 0 || pos == int(rows) {
		return nil, fmt.Errorf("request labels: all %d rows are in one class; need both", rows)
	}
	return req, nil
}

// writeResult writes the fitted weights.
func writeResult(w io.Writer, wt Weights) error {
	out := make([]byte, 0, len(responseMagic)+8*(len(wt.Coef)+2))
	out = append(out, responseMagic...)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(wt.Coef)))
	for _, v := range wt.Coef {
		out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
	}
	out = binary.LittleEndian.AppendUint64(out, math.Float64bits(wt.Bias))
	_, err := w.Write(out)
	return err
}

// readResult parses the child's answer to a problem with cols columns.
func readResult(b []byte, cols int) (Weights, error) {
	want := len(responseMagic) + 8*(cols+2)
	if len(b) != want || string(b[:len(responseMagic)]) != responseMagic {
		return Weights{}, fmt.Errorf("child answer: %d bytes starting %q, want %d bytes starting %q", len(b), b[:min(len(b), len(responseMagic))], want, responseMagic)
	}
	b = b[len(responseMagic):]
	if n := binary.LittleEndian.Uint64(b); n != uint64(cols) {
		return Weights{}, fmt.Errorf("child answer: %d coefficients for %d columns", n, cols)
	}
	f := func(k int) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b[8+8*k:])) }
	wt := Weights{Coef: make([]float64, cols), Bias: f(cols)}
	for k := range wt.Coef {
		wt.Coef[k] = f(k)
	}
	return wt, nil
}
