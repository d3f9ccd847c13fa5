package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/query"
)

// Error codes in error responses.
const (
	codeInvalid          = "invalid_parameter"
	codeUnknownParam     = "unknown_parameter"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeTooLarge         = "request_too_large"
	codeURITooLong       = "uri_too_long"
	codeHeadersTooLarge  = "headers_too_large"
	codeOverloaded       = "overloaded"
	codeTimeout          = "timeout"
	codeUnavailable      = "unavailable"
	codeInternal         = "internal"
	codeNoSpace          = "insufficient_storage"
)

// Error is an error with its HTTP status, as the API answers it:
// {"error": {"code", "message", "param", "request_id"}}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
	// RequestID is the request's id (RequestIDHeader), set when the error
	// is answered, for a caller to quote.
	RequestID string `json:"request_id,omitempty"`
	// RetryAfter, in seconds, is sent as a Retry-After header when set.
	RetryAfter int `json:"-"`
}

func (e *Error) Error() string { return e.Message }

func badParam(param, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: codeInvalid, Param: param, Message: param + ": " + fmt.Sprintf(format, args...)}
}

// toError maps any error to the API error to answer. Errors not known to
// be the client's are 500s whose message hides the cause.
func toError(err error) *Error {
	var ae *Error
	var qe *query.InvalidError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &qe):
		return &Error{Status: http.StatusBadRequest, Code: codeInvalid, Param: qe.Param, Message: qe.Error()}
	case errors.Is(err, newsdesk.ErrNoSpace):
		return &Error{Status: http.StatusInsufficientStorage, Code: codeNoSpace, RetryAfter: 60,
			Message: noSpace(err)}
	case errors.Is(err, newsdesk.ErrUnavailable):
		return &Error{Status: http.StatusServiceUnavailable, Code: codeUnavailable, RetryAfter: 1,
			Message: err.Error() + "; retry: updates are idempotent"}
	case errors.Is(err, newsdesk.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: codeNotFound, Message: err.Error()}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: http.StatusServiceUnavailable, Code: codeTimeout, RetryAfter: 1,
			Message: "the request took longer than the server's deadline; try a narrower query"}
	case errors.Is(err, context.Canceled):
		return &Error{Status: 499, Code: codeTimeout, Message: "the client went away"}
	}
	return &Error{Status: http.StatusInternalServerError, Code: codeInternal, Message: "internal error; it has been logged"}
}

// noSpace is the message of a 507: the error's, saying once that nothing
// was applied (the serving layer's errors say so already).
func noSpace(err error) string {
	if strings.Contains(err.Error(), "nothing applied") || strings.Contains(err.Error(), "nothing was applied") {
		return err.Error() + ": retry once space is freed"
	}
	return err.Error() + "; nothing was applied: retry once space is freed"
}
