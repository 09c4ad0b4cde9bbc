package serve

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// maxBodyBytes bounds request bodies; a batch of 1,000 ids fits easily.
const maxBodyBytes = 1 << 20

// maxHeaderBytes bounds a request's header block (request line and header
// fields). http.Server reads up to this plus 4 KiB of slack and answers a
// plain 431 itself past that; capHeaders answers the JSON 431 in between, so
// the cap is the same whichever catches it.
const maxHeaderBytes = 16 << 10

// capHeaders refuses requests whose headers are over maxHeaderBytes: large
// headers cost memory on every hop and no client of this API needs them.
func (s *Server) capHeaders(c *gin.Context) {
	r := c.Request
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4 // ": " and CRLF
		}
	}
	if n > maxHeaderBytes {
		c.Header("Connection", "close")
		s.fail(c, errHeadersTooLarge)
	}
}

// requestID takes the caller's X-Request-ID when it is a sane token and
// makes one otherwise, so that a request can be followed through the logs.
func requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if validCustomerID(id) != nil { // same rule: short printable ASCII
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(ctxRequestID, id)
	c.Header("X-Request-ID", id)
}

// observe logs each request and records its latency by route template.
func (s *Server) observe(c *gin.Context) {
	start := s.now()
	c.Next()
	d := s.now().Sub(start)
	route := routeLabel(c)
	status := c.Writer.Status()
	s.metrics.observe(c.Request.Method, route, strconv.Itoa(status), d)
	level := slog.LevelInfo
	if route == "/healthz" || route == "/readyz" || route == "/metrics" {
		level = slog.LevelDebug // probes and scrapes would drown the rest
	}
	s.log.LogAttrs(c.Request.Context(), level, "http request",
		slog.String("method", c.Request.Method), slog.String("route", route),
		slog.String("path", c.Request.URL.Path), slog.Int("status", status),
		slog.Duration("duration", d), slog.Int("bytes", c.Writer.Size()),
		slog.String("request_id", c.GetString(ctxRequestID)))
}

// routeLabel is the route template in OpenAPI form (/v1/customers/{id}/score),
// or "unmatched", so that metric labels stay few whatever clients send.
func routeLabel(c *gin.Context) string {
	p := c.FullPath()
	if p == "" {
		return "unmatched"
	}
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if strings.HasPrefix(part, ":") {
			parts[i] = "{" + part[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// recoverPanics turns a panic in a handler into a logged 500 in the JSON shape.
func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			s.fail(c, fmt.Errorf("panic: %v", r))
		}
	}()
	c.Next()
}

// decodeJSON reads a JSON body of at most maxBodyBytes into v. An empty body
// is allowed when optional is set (v keeps its zero value).
func decodeJSON(c *gin.Context, v any, optional bool) error {
	r := c.Request
	if r.ContentLength > maxBodyBytes {
		return errBodyTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, r.Body, maxBodyBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errBodyTooLarge
	}
	if err != nil {
		return invalid("body", "cannot read the body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return invalid("body", "the body is empty; send a JSON object")
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errMediaType
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return invalid("body", "unexpected data after the JSON object")
	}
	return nil
}

// jsonError names the field at fault when encoding/json tells it.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return invalid(te.Field, "want %s, got JSON %s", te.Type, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return invalid("body", "malformed JSON at byte %d: %v", se.Offset, err)
	}
	if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return invalid(strings.Trim(msg, `"`), "unknown field")
	}
	return invalid("body", "malformed JSON: %v", err)
}
