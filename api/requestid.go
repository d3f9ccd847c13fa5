package api

import (
	"context"
	"net/http"

	"github.com/rs/xid"
	"github.com/rs/zerolog"
)

// RequestIDHeader carries a request's id: taken from the request when the
// caller (or a proxy in front) sent a usable one, made up otherwise, and
// sent back on every answer. The id is in every log line of the request,
// as req_id, and in every error body, as request_id, so that a caller's
// report of a failure leads to its log lines.
const RequestIDHeader = "X-Request-Id"

// MaxRequestIDBytes is the longest incoming request id kept; a longer one,
// or one with other bytes than visible ASCII, is replaced by a new id, so
// that a caller cannot put line breaks or megabytes in the logs.
const MaxRequestIDBytes = 128

type requestIDKey struct{}

// requestIDs gives each request its id; it runs inside hlog.NewHandler,
// whose logger it adds the id to.
func requestIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !usableRequestID(id) {
			id = xid.New().String()
		}
		w.Header().Set(RequestIDHeader, id)
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		zerolog.Ctx(ctx).UpdateContext(func(c zerolog.Context) zerolog.Context { return c.Str("req_id", id) })
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func usableRequestID(id string) bool {
	if id == "" || len(id) > MaxRequestIDBytes {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}
