package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// TestRequestIDs sends requests with and without an X-Request-Id through
// the real router: a usable incoming id is kept, anything else is
// replaced; the id comes back in the header, in error bodies, and in the
// request's access log line.
func TestRequestIDs(t *testing.T) {
	tests := []struct {
		name, target, incoming string
		keep                   bool
		status                 int
	}{
		{"an id kept", "/v1/search?q=astana", "client-7f3a9c", true, 200},
		{"kept in an error", "/v1/search?q=x&size=0", "trace:abc/123", true, 400},
		{"kept on an unknown route", "/v2/nothing", "abc", true, 404},
		{"none: one is made", "/v1/search?q=astana", "", false, 200},
		{"a line break: replaced", "/v1/search?q=x&size=0", "abc\u0085def", false, 400},
		{"spaces: replaced", "/v1/search?q=x&size=0", "a b", false, 400},
		{"too long: replaced", "/v1/search?q=x&size=0", strings.Repeat("a", MaxRequestIDBytes+1), false, 400},
		{"as long as allowed: kept", "/v1/search?q=x&size=0", strings.Repeat("a", MaxRequestIDBytes), true, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			s := newServer(Config{Logger: zerolog.New(&logs)})
			req := httptest.NewRequest(http.MethodGet, tc.target, nil)
			if tc.incoming != "" {
				req.Header.Set(RequestIDHeader, tc.incoming)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			id := rec.Header().Get(RequestIDHeader)
			switch {
			case rec.Code != tc.status:
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			case tc.keep && id != tc.incoming:
				t.Errorf("answered id %q, want the incoming %q", id, tc.incoming)
			case !tc.keep && (id == "" || id == tc.incoming || !usableRequestID(id)):
				t.Errorf("answered id %q for incoming %q, want a new one", id, tc.incoming)
			}
			if rec.Code >= 400 {
				var body struct{ Error *Error }
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == nil || body.Error.RequestID != id {
					t.Errorf("error body %s, want request_id %q", rec.Body.String(), id)
				}
			}
			var access map[string]any
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				var m map[string]any
				if json.Unmarshal([]byte(line), &m) == nil && m["message"] == "request" {
					access = m
				}
			}
			if access == nil || access["req_id"] != id {
				t.Errorf("access line %v, want req_id %q; logs:\n%s", access, id, logs.String())
			}
		})
	}
}

// TestNotReady_LoggedAsAState checks that the 503s of a server not ready
// (starting, building its index) are not logged as errors: a load
// balancer probes /readyz every second or two meanwhile.
func TestNotReady_LoggedAsAState(t *testing.T) {
	var logs bytes.Buffer
	s := New(Config{Searcher: func() Searcher { return nil }, Logger: zerolog.New(&logs).Level(zerolog.InfoLevel)})
	for _, target := range []string{"/readyz", "/v1/search?q=x"} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s: %d, want 503", target, rec.Code)
		}
	}
	if strings.Contains(logs.String(), `"level":"error"`) {
		t.Errorf("not being ready was logged as an error:\n%s", logs.String())
	}
}
