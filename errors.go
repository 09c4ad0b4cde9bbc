package churn

import (
	"errors"
	"fmt"
)

// Kind classifies an error so that callers (the HTTP API, the CLI) can react to
// it without parsing messages. Kinds map to HTTP status codes in serve, once.
type Kind uint8

// Error kinds.
const (
	KindInternal     Kind = iota // a bug or an unexpected failure
	KindInvalid                  // bad input: a field, a row or a parameter
	KindNotFound                 // the thing asked for does not exist
	KindConflict                 // the request collides with current state
	KindUnavailable              // a dependency (ClickHouse) cannot be reached; retry later
	KindUnauthorized             // missing or wrong credentials
	KindForbidden                // valid credentials without the needed role
)

var kindNames = [...]string{
	KindInternal:     "internal",
	KindInvalid:      "invalid",
	KindNotFound:     "not_found",
	KindConflict:     "conflict",
	KindUnavailable:  "unavailable",
	KindUnauthorized: "unauthorized",
	KindForbidden:    "forbidden",
}

// String returns the kind's name as used in JSON error bodies.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Error is the structured error of the service: what was being done (Op), what
// kind of failure it is, which input field it concerns (if any), a message for
// people and the underlying cause.
type Error struct {
	Op    string // operation, e.g. "import customers"
	Kind  Kind
	Field string // input field, column or parameter at fault; empty when none
	Msg   string // message a user can act on
	Err   error  // underlying cause, may be nil
}

// Error formats the error as "op: field: message: cause", leaving out empty parts.
func (e *Error) Error() string {
	s := ""
	add := func(p string) {
		if p == "" {
			return
		}
		if s != "" {
			s += ": "
		}
		s += p
	}
	add(e.Op)
	add(e.Field)
	add(e.Msg)
	if e.Err != nil {
		add(e.Err.Error())
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error of the given kind with a formatted message.
func Errorf(kind Kind, op, format string, args ...any) *Error {
	return &Error{Op: op, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Invalid builds a KindInvalid error about one field.
func Invalid(op, field, format string, args ...any) *Error {
	return &Error{Op: op, Kind: KindInvalid, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// InField returns err with its field named as a part of outer (outer
// "answers[3]" and field "outcome": "answers[3].outcome"; no field: outer),
// or err itself when it is no *Error.
func InField(outer string, err error) error {
	var ce *Error
	if !errors.As(err, &ce) {
		return err
	}
	e := *ce
	e.Field = outer
	if ce.Field != "" {
		e.Field += "." + ce.Field
	}
	return &e
}

// Unavailable wraps err as a KindUnavailable error.
func Unavailable(op string, err error) *Error {
	return &Error{Op: op, Kind: KindUnavailable, Err: err}
}

// ErrorKind returns the kind of the first *Error in err's chain, KindInternal
// when there is none.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// ErrorField returns the field of the first *Error in err's chain that names one.
func ErrorField(err error) string {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return ""
		}
		if e.Field != "" {
			return e.Field
		}
		err = e.Err
	}
	return ""
}
