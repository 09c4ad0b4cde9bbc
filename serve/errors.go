package serve

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/telcoretain/churn"
)

// kindStatus maps error kinds to HTTP status codes; it is the only place
// where that mapping lives.
var kindStatus = [...]int{
	churn.KindInternal:     http.StatusInternalServerError,
	churn.KindInvalid:      http.StatusBadRequest,
	churn.KindNotFound:     http.StatusNotFound,
	churn.KindConflict:     http.StatusConflict,
	churn.KindUnavailable:  http.StatusServiceUnavailable,
	churn.KindUnauthorized: http.StatusUnauthorized,
	churn.KindForbidden:    http.StatusForbidden,
}

// httpError is a failure of the HTTP exchange itself (a method, a media type,
// a body size, an expired cursor) that has no domain kind.
type httpError struct {
	status int
	code   string
	field  string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

var (
	errMethodNotAllowed = &httpError{status: http.StatusMethodNotAllowed, code: "method_not_allowed", msg: "method not allowed on this route (see the Allow header)"}
	errRouteNotFound    = &httpError{status: http.StatusNotFound, code: "not_found", msg: "no such route; the API is described at /openapi.yaml"}
	errBodyTooLarge     = &httpError{status: http.StatusRequestEntityTooLarge, code: "payload_too_large", msg: fmt.Sprintf("request body is over %d bytes", maxBodyBytes)}
	errHeadersTooLarge  = &httpError{status: http.StatusRequestHeaderFieldsTooLarge, code: "headers_too_large", field: "headers", msg: fmt.Sprintf("request headers are over %d bytes", maxHeaderBytes)}
	errMediaType        = &httpError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type", field: "Content-Type", msg: "Content-Type: send the body as application/json"}
)

// statusOf returns the status, code and client message of err. Internal and
// unavailable errors get a generic message: their details (addresses, SQL)
// are for the log, which the request id links to.
func statusOf(err error) (status int, body errorBody) {
	var he *httpError
	if errors.As(err, &he) {
		return he.status, errorBody{Code: he.code, Message: he.msg, Field: he.field}
	}
	kind := churn.ErrorKind(err)
	status = http.StatusInternalServerError
	if int(kind) < len(kindStatus) {
		status = kindStatus[kind]
	}
	body = errorBody{Code: kind.String(), Message: err.Error(), Field: churn.ErrorField(err)}
	var ce *churn.Error
	if errors.As(err, &ce) && ce.Msg != "" && (kind == churn.KindInvalid || kind == churn.KindNotFound || kind == churn.KindConflict) {
		body.Message = ce.Msg
		if body.Field != "" {
			body.Message = body.Field + ": " + ce.Msg
		}
	}
	switch kind {
	case churn.KindInternal:
		body.Message = "internal error; the server log has the details under this request's id"
	case churn.KindUnavailable:
		body.Message = "storage is unavailable; retry later"
		if ce != nil && ce.Err == nil && ce.Msg != "" {
			body.Message = ce.Msg // a message of ours, not a driver's
		}
	}
	return status, body
}

// fail answers with the JSON error shape and stops the handler chain.
func (s *Server) fail(c *gin.Context, err error) {
	status, body := statusOf(s.deadlineError(c, err))
	if status >= 500 {
		level := slog.LevelError
		if status == http.StatusServiceUnavailable {
			level = slog.LevelWarn // a known state (no run yet, ClickHouse down), not a bug
		}
		s.log.LogAttrs(c.Request.Context(), level, "request failed",
			slog.String("request_id", c.GetString(ctxRequestID)), slog.String("err", err.Error()))
	}
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(status, errorJSON{Error: body})
}

// invalid is a 400 naming the parameter at fault.
func invalid(field, format string, args ...any) error {
	return churn.Invalid("", field, format, args...)
}
