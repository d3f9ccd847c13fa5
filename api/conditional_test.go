package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// position is a served position tests move.
type position struct {
	mu      sync.Mutex
	gen     string
	seq     int64
	derived uint64
}

func (p *position) getDerived() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.derived
}

func (p *position) get() (string, int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gen, p.seq
}

func (p *position) set(gen string, seq int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen, p.seq = gen, seq
}

// exchange sends method target through s with the If-None-Match header inm
// (none when empty).
func exchange(s http.Handler, method, target, inm, body string) *httptest.ResponseRecorder {
	var r *http.Request
	if body != "" {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	if inm != "" {
		r.Header.Set("If-None-Match", inm)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, r)
	return rec
}

func TestConditional_ReadEndpoints(t *testing.T) {
	pos := &position{gen: "20261201T000000.000000000Z", seq: 0}
	s := newServer(Config{Position: pos.get, Derived: pos.getDerived})
	const event = "/v1/events/2017-01-23/peace-talks-in-astana-kazakhstan-end-with-no-breakthrough-reported"
	for _, tc := range []struct{ target, other string }{
		{"/v1/search?q=astana", "/v1/search?q=astana&size=2"},
		{"/v1/suggest?q=syr", "/v1/suggest?q=syri"},
		{event, "/v1/events/2017-01-16/the-opposition-agrees-to-attend-peace-talks-in-astana-kazakhstan"},
		{event + "/related?size=3", event + "/related?size=2"},
	} {
		target := tc.target
		t.Run(target, func(t *testing.T) {
			first := exchange(s, http.MethodGet, target, "", "")
			if first.Code != http.StatusOK {
				t.Fatalf("GET: status %d: %s", first.Code, first.Body)
			}
			tag := first.Header().Get("ETag")
			if !strings.HasPrefix(tag, `W/"`) || first.Header().Get("Cache-Control") != "no-cache" {
				t.Fatalf("200 with ETag %q, Cache-Control %q; want a weak tag and no-cache", tag, first.Header().Get("Cache-Control"))
			}
			for _, inm := range []string{tag, strings.TrimPrefix(tag, "W/"), `"other", ` + tag, "*"} {
				for _, method := range []string{http.MethodGet, http.MethodHead} {
					rec := exchange(s, method, target, inm, "")
					if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 || rec.Header().Get("ETag") != tag {
						t.Errorf("%s with If-None-Match %s: status %d, %d bytes, ETag %q; want 304, none, %q",
							method, inm, rec.Code, rec.Body.Len(), rec.Header().Get("ETag"), tag)
					}
				}
			}
			if rec := exchange(s, http.MethodGet, target, `W/"other"`, ""); rec.Code != http.StatusOK {
				t.Errorf("another tag: status %d, want 200", rec.Code)
			}
			// The URL is in the tag: another request's tag is another tag.
			if rec := exchange(s, http.MethodGet, tc.other, tag, ""); rec.Code != http.StatusOK {
				t.Errorf("the tag of another URL: status %d, want 200", rec.Code)
			}
			// An update applied, or another generation: a new tag, and the
			// old one gets the answer again.
			for _, next := range []struct {
				gen string
				seq int64
			}{{"20261201T000000.000000000Z", 120}, {"20261202T000000.000000000Z", 120}} {
				pos.set(next.gen, next.seq)
				rec := exchange(s, http.MethodGet, target, tag, "")
				if rec.Code != http.StatusOK || rec.Header().Get("ETag") == tag || rec.Header().Get("ETag") == "" {
					t.Errorf("after a move to %s %d: status %d, ETag %q; want 200 with a new tag", next.gen, next.seq, rec.Code, rec.Header().Get("ETag"))
				}
				tag = rec.Header().Get("ETag")
			}
			// What answers derive in the background counted again (names,
			// the related lists' tags): a new tag too.
			pos.mu.Lock()
			pos.derived++
			pos.mu.Unlock()
			if rec := exchange(s, http.MethodGet, target, tag, ""); rec.Code != http.StatusOK || rec.Header().Get("ETag") == tag {
				t.Errorf("after the derived state moved: status %d, ETag %q; want 200 with a new tag", rec.Code, rec.Header().Get("ETag"))
			}
			pos.set("20261201T000000.000000000Z", 0)
		})
	}
}

func TestConditional_NoTag(t *testing.T) {
	pos := &position{gen: "20261201T000000.000000000Z"}
	tests := []struct {
		name                 string
		cfg                  Config
		method, target, body string
		want                 int
	}{
		{"POST search", Config{Position: pos.get}, http.MethodPost, "/v1/search", `{"q": "astana"}`, http.StatusOK},
		{"draft", Config{Position: pos.get}, http.MethodPost, "/v1/related", `{"text": "Peace talks in Astana"}`, http.StatusOK},
		{"bad request", Config{Position: pos.get}, http.MethodGet, "/v1/search?q=astana&size=500", "", http.StatusBadRequest},
		{"unknown event", Config{Position: pos.get}, http.MethodGet, "/v1/events/2017-01-23/no-such-event", "", http.StatusNotFound},
		{"no Position", Config{}, http.MethodGet, "/v1/search?q=astana", "", http.StatusOK},
		{"nothing served", Config{Position: func() (string, int64) { return "", 0 }}, http.MethodGet, "/v1/search?q=astana", "", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(tc.cfg)
			// "*" would match any tag: none must be there to match.
			rec := exchange(s, tc.method, tc.target, "*", tc.body)
			if rec.Code != tc.want || rec.Header().Get("ETag") != "" || rec.Header().Get("Cache-Control") != "" {
				t.Errorf("status %d, ETag %q, Cache-Control %q; want %d and neither", rec.Code, rec.Header().Get("ETag"), rec.Header().Get("Cache-Control"), tc.want)
			}
		})
	}
}

func TestConditional_NotReady(t *testing.T) {
	// While nothing is served the answer is 503, whatever the client holds.
	s := New(Config{Searcher: func() Searcher { return nil }, Position: func() (string, int64) { return "", 0 }})
	if rec := exchange(s, http.MethodGet, "/v1/search?q=astana", "*", ""); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", rec.Code)
	}
}
