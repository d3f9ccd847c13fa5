package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/mappings"
	"github.com/newsdesk/newsdesk/related"
	"github.com/newsdesk/newsdesk/search"
	"github.com/newsdesk/newsdesk/testindex"
)

// engine serves testdata/events.jsonl, built once for the package's tests.
var engine *search.Engine

func TestMain(m *testing.M) {
	code, err := func() (int, error) {
		tmp, err := os.MkdirTemp("", "api-test-")
		if err != nil {
			return 1, err
		}
		defer os.RemoveAll(tmp)
		idx, err := testindex.New(tmp, "testdata/events.jsonl")
		if err != nil {
			return 1, err
		}
		defer idx.Close()
		if engine, err = search.New(idx.Source, mappings.New(), idx.Index.Legacy); err != nil {
			return 1, err
		}
		return m.Run(), nil
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "api tests:", err)
	}
	os.Exit(code)
}

func newServer(cfg Config) *Server {
	if cfg.Searcher == nil {
		cfg.Searcher = func() Searcher { return engine }
	}
	return New(cfg)
}

// get sends a GET through the real router and decodes the JSON answer.
func get(t *testing.T, s http.Handler, target string) (int, map[string]any, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("GET %s: status %d, body not JSON: %v: %s", target, rec.Code, err, rec.Body.String())
	}
	return rec.Code, body, rec.Header()
}

func hits(body map[string]any) []map[string]any {
	var out []map[string]any
	hs, _ := body["hits"].([]any)
	for _, h := range hs {
		out = append(out, h.(map[string]any))
	}
	return out
}

func ids(body map[string]any) []string {
	var out []string
	for _, h := range hits(body) {
		out = append(out, h["id"].(string))
	}
	return out
}

func TestSearch(t *testing.T) {
	s := newServer(Config{})
	tests := []struct {
		name      string
		query     string
		wantTotal int
		check     func(t *testing.T, body map[string]any)
	}{
		{"events with every word first, then some", "q=astana+talks", 7, func(t *testing.T, b map[string]any) {
			if b["relaxed"] != true {
				t.Error("relaxed = false, want true: fewer than 10 events have both words")
			}
			for _, h := range hits(b)[:2] {
				if txt := h["text"].(string); !strings.Contains(txt, "Astana") || !strings.Contains(txt, "talks") {
					t.Errorf("a top hit lacks a word: %s", txt)
				}
			}
		}},
		{"words match the topic too", "q=peace+process", 5, func(t *testing.T, b map[string]any) {
			for _, h := range hits(b)[:4] {
				if h["topic"] != "Syrian peace process" {
					t.Errorf("a top hit is not of the peace process: %v", h["id"])
				}
			}
		}},
		{"words match the context tags too", "q=zimbabwe", 1, nil},
		{"stemming", "q=celebrations", 1, nil},
		{"fallback to any word", "q=astana+zebra", 3, func(t *testing.T, b map[string]any) {
			if b["relaxed"] != true {
				t.Error("relaxed = false, want true")
			}
		}},
		{"phrase", `q="peace+talks"`, 4, nil},
		{"phrase in the wrong order", `q="talks+peace"`, 0, nil},
		{"unbalanced quote taken to the end", `q="peace+talks`, 4, nil},
		{"exclusion", "q=astana+-ceasefire", 2, nil},
		{"exact topic, any case", `q=topic:"syrian+peace+process"`, 4, nil},
		{"exact category", "q=category:Sports", 3, nil},
		{"exact context", "q=context:Astana+negotiations", 1, nil},
		{"excluded field term", `q=astana+-context:"Syrian+Civil+War"`, 2, nil},
		{"prefix", "q=astan*", 3, nil},
		{"stop words only", "q=the+of", 0, nil},
		{"date range inclusive", "q=cyclone&from=2019-03-10&to=2019-03-20", 2, nil},
		{"open-ended date range", "q=cyclone&from=2019-03-10", 2, nil},
		{"dates only", "from=2018-07-15&to=2018-07-16", 2, nil},
		{"repeated topic filter is any-of", "topic=Cyclone+Idai&topic=2018+FIFA+World+Cup", 6, nil},
		{"filters of different kinds all apply", "topic=Cyclone+Idai&context=Zimbabwe", 1, nil},
		{"category filter", "q=world+cup&category=sports", 3, nil},
		{"typo corrected", "q=irann", 3, func(t *testing.T, b map[string]any) {
			c, _ := b["corrections"].([]any)
			if len(c) != 1 || c[0].(map[string]any)["to"] != "iran" {
				t.Errorf("corrections = %v, want irann → iran", b["corrections"])
			}
		}},
		{"a known name is never corrected into another", "q=iran", 3, func(t *testing.T, b map[string]any) {
			for _, h := range hits(b) {
				if strings.Contains(h["text"].(string), "Iraq") {
					t.Errorf("iran matched an Iraq event: %s", h["text"])
				}
			}
			if c, _ := b["corrections"].([]any); len(c) != 0 {
				t.Errorf("corrections = %v, want none", c)
			}
		}},
		{"long word, two edits", "q=mozambiqeu", 3, nil},
		{"short words are not corrected", "q=zq", 0, nil},
		{"sort by date ascending", "q=cyclone&sort=date", 3, func(t *testing.T, b map[string]any) {
			if got := ids(b); !slices.IsSorted(got) {
				t.Errorf("ids not in date order: %v", got)
			}
		}},
		{"sort by date descending", "q=cyclone&sort=-date", 3, func(t *testing.T, b map[string]any) {
			got := ids(b)
			if !slices.IsSortedFunc(got, func(a, b string) int { return strings.Compare(b, a) }) {
				t.Errorf("ids not in reverse date order: %v", got)
			}
		}},
		{"size", "q=stock&size=5", 12, func(t *testing.T, b map[string]any) {
			if n := len(hits(b)); n != 5 {
				t.Errorf("%d hits, want 5", n)
			}
		}},
		{"page", "q=stock&size=5&page=3&sort=date", 12, func(t *testing.T, b map[string]any) {
			if got := ids(b); len(got) != 2 || got[0] != "2018-01-11/stock-markets-report-trading-day-number-11-with-steady-gains" {
				t.Errorf("page 3 = %v, want the 11th and 12th days", got)
			}
		}},
		{"facets", "q=cyclone+OR+world&facets=2", 6, func(t *testing.T, b map[string]any) {
			f := b["facets"].(map[string]any)
			cats := f["category"].([]any)
			if len(cats) != 2 || cats[0].(map[string]any)["value"] != "Disasters and accidents" && cats[0].(map[string]any)["value"] != "Sports" {
				t.Errorf("category facet = %v", cats)
			}
			if f["date_unit"] != "month" && f["date_unit"] != "year" {
				t.Errorf("date_unit = %v", f["date_unit"])
			}
		}},
		{"facets follow the filters", "topic=Cyclone+Idai&facets=5&from=2019-03-01&to=2019-03-31", 3, func(t *testing.T, b map[string]any) {
			f := b["facets"].(map[string]any)
			ctx := f["context"].([]any)
			if ctx[0].(map[string]any)["value"] != "Cyclone Idai" || ctx[0].(map[string]any)["count"] != 3.0 {
				t.Errorf("context facet = %v, want Cyclone Idai 3 first", ctx)
			}
			days := f["date"].([]any)
			if f["date_unit"] != "day" || len(days) != 31 || days[14].(map[string]any)["count"] != 1.0 {
				t.Errorf("date histogram = %v %v, want 31 days with 1 on the 15th", f["date_unit"], days)
			}
		}},
		{"highlight is escaped HTML with mark", "q=smuggler+prison&highlight=true", 1, func(t *testing.T, b map[string]any) {
			frag := hits(b)[0]["highlights"].(map[string]any)["text"].([]any)[0].(string)
			if !strings.Contains(frag, "<mark>smuggler</mark>") || !strings.Contains(frag, "&lt;in <mark>prison</mark>&gt; &amp;") {
				t.Errorf("fragment = %q", frag)
			}
		}},
		{"no highlight by default", "q=smuggler", 1, func(t *testing.T, b map[string]any) {
			if _, ok := hits(b)[0]["highlights"]; ok {
				t.Error("highlights present without highlight=true")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body, _ := get(t, s, "/v1/search?"+tc.query)
			if code != http.StatusOK {
				t.Fatalf("status %d: %v", code, body)
			}
			if got := int(body["total"].(float64)); got != tc.wantTotal {
				t.Fatalf("total = %d, want %d (ids %v)", got, tc.wantTotal, ids(body))
			}
			for _, k := range []string{"took_ms", "hits", "corrections", "relaxed"} {
				if _, ok := body[k]; !ok {
					t.Errorf("answer lacks %q", k)
				}
			}
			if tc.check != nil {
				tc.check(t, body)
			}
		})
	}
}

func TestSearch_HitShape(t *testing.T) {
	s := newServer(Config{})
	_, body, _ := get(t, s, "/v1/search?q=breakthrough")
	h := hits(body)[0]
	want := map[string]any{
		"id": "2017-01-23/peace-talks-in-astana-kazakhstan-end-with-no-breakthrough-reported", "date": "2017-01-23",
		"topic": "Syrian peace process", "category": "Politics and elections",
		"text": "Peace talks in Astana, Kazakhstan, end with no breakthrough reported.",
	}
	for k, v := range want {
		if h[k] != v {
			t.Errorf("%s = %v, want %v", k, h[k], v)
		}
	}
	if ctx := h["context"].([]any); len(ctx) != 3 {
		t.Errorf("context = %v", ctx)
	}
	if src := h["sources"].([]any); src[0].(map[string]any)["url"] != "https://rferl.example/astana" {
		t.Errorf("sources = %v", src)
	}
	if h["score"].(float64) <= 0 {
		t.Errorf("score = %v", h["score"])
	}
}

func TestSearch_Cursor(t *testing.T) {
	s := newServer(Config{})
	for _, sort := range []string{"date", "-date", "relevance"} {
		t.Run(sort, func(t *testing.T) {
			var all []string
			target := "/v1/search?q=stock&size=5&sort=" + sort
			for page := 0; page < 5; page++ {
				code, body, _ := get(t, s, target)
				if code != http.StatusOK {
					t.Fatalf("status %d: %v", code, body)
				}
				all = append(all, ids(body)...)
				next, _ := body["next_cursor"].(string)
				if next == "" {
					break
				}
				target = "/v1/search?q=stock&size=5&sort=" + sort + "&cursor=" + url.QueryEscape(next)
			}
			if len(all) != 12 {
				t.Fatalf("followed cursors to %d hits, want 12: %v", len(all), all)
			}
			seen := map[string]bool{}
			for _, id := range all {
				if seen[id] {
					t.Errorf("%s seen twice", id)
				}
				seen[id] = true
			}
			if sort == "date" && !slices.IsSorted(all) {
				t.Errorf("not in date order across pages: %v", all)
			}
		})
	}
}

func TestSearch_BadParams(t *testing.T) {
	s := newServer(Config{})
	_, first, _ := get(t, s, "/v1/search?q=stock&size=5&sort=date")
	dateCursor := url.QueryEscape(first["next_cursor"].(string))
	tests := []struct {
		query     string
		wantParam string
		wantCode  string
	}{
		{"", "q", codeInvalid},
		{"q=+++", "q", codeInvalid},
		{"q=as*", "q", codeInvalid},
		{"q=" + strings.Repeat("a", 513), "q", codeInvalid},
		{"q=" + distinctWords(33), "q", codeInvalid},
		{"q=%ff%fe", "q", codeInvalid},
		{"q=a&q=b", "q", codeInvalid},
		{"q=a&bogus=1", "bogus", codeUnknownParam},
		{"q=a&from=2019-13-01", "from", codeInvalid},
		{"q=a&from=yesterday", "from", codeInvalid},
		{"q=a&to=2019-02-30", "to", codeInvalid},
		{"q=a&from=2019-03-10&to=2019-03-01", "to", codeInvalid},
		{"q=a&topic=", "topic", codeInvalid},
		{"q=a&topic=" + strings.Repeat("x", 300), "topic", codeInvalid},
		{"q=a" + strings.Repeat("&context=x", 21), "context", codeInvalid},
		{"q=a&category=%ff", "category", codeInvalid},
		{"q=a&sort=newest", "sort", codeInvalid},
		{"q=a&size=0", "size", codeInvalid},
		{"q=a&size=101", "size", codeInvalid},
		{"q=a&size=ten", "size", codeInvalid},
		{"q=a&page=0", "page", codeInvalid},
		{"q=a&page=101&size=10", "page", codeInvalid},
		{"q=a&cursor=garbage", "cursor", codeInvalid},
		{"q=stock&size=5&sort=-date&cursor=" + dateCursor, "cursor", codeInvalid},
		{"q=stock&size=5&sort=date&page=2&cursor=" + dateCursor, "page", codeInvalid},
		{"q=a&cursor=" + strings.Repeat("x", 600), "cursor", codeInvalid},
		{"q=a&facets=-1", "facets", codeInvalid},
		{"q=a&facets=51", "facets", codeInvalid},
		{"q=a&highlight=maybe", "highlight", codeInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.query[:min(len(tc.query), 60)], func(t *testing.T) {
			code, body, _ := get(t, s, "/v1/search?"+tc.query)
			if code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %v", code, body)
			}
			e := body["error"].(map[string]any)
			if e["param"] != tc.wantParam || e["code"] != tc.wantCode || e["message"] == "" {
				t.Errorf("error = %v, want param %q code %q", e, tc.wantParam, tc.wantCode)
			}
		})
	}
}

func TestEvent(t *testing.T) {
	s := newServer(Config{})
	code, body, _ := get(t, s, "/v1/events/2017-01-23/peace-talks-in-astana-kazakhstan-end-with-no-breakthrough-reported")
	if code != http.StatusOK || body["topic"] != "Syrian peace process" || body["date"] != "2017-01-23" {
		t.Errorf("status %d, event %v", code, body)
	}
	code, body, _ = get(t, s, "/v1/events/2017-01-23/no-such-event")
	if e, _ := body["error"].(map[string]any); code != http.StatusNotFound || e["code"] != codeNotFound {
		t.Errorf("unknown id: status %d, %v", code, body)
	}
	code, _, _ = get(t, s, "/v1/events/2017-01-23/peace-talks-in-astana-kazakhstan-end-with-no-breakthrough-reported?x=1")
	if code != http.StatusBadRequest {
		t.Errorf("unknown parameter on an event: status %d, want 400", code)
	}
}

func TestSuggest(t *testing.T) {
	s := newServer(Config{})
	code, body, _ := get(t, s, "/v1/suggest?q=cyc")
	sug := body["suggestions"].([]any)
	if code != http.StatusOK || len(sug) == 0 || sug[0].(map[string]any)["value"] != "Cyclone Idai" {
		t.Errorf("status %d, suggestions %v, want Cyclone Idai first", code, sug)
	}
	_, body, _ = get(t, s, "/v1/suggest?q=peace+pro")
	sug = body["suggestions"].([]any)
	if len(sug) != 1 || sug[0].(map[string]any)["value"] != "Syrian peace process" {
		t.Errorf("two-word prefix: %v, want Syrian peace process", sug)
	}
	_, body, _ = get(t, s, "/v1/suggest?q=s&size=2")
	if n := len(body["suggestions"].([]any)); n != 2 {
		t.Errorf("size=2 gave %d suggestions", n)
	}
	for _, q := range []string{"", "q=", "q=a&size=11", "q=a&size=0", "q=a&x=1", "q=" + strings.Repeat("a", 300)} {
		if code, body, _ := get(t, s, "/v1/suggest?"+q); code != http.StatusBadRequest {
			t.Errorf("suggest?%s: status %d, want 400: %v", q, code, body)
		}
	}
}

func TestRouting_Errors(t *testing.T) {
	s := newServer(Config{})
	code, body, _ := get(t, s, "/v2/search?q=x")
	if code != http.StatusNotFound || body["error"].(map[string]any)["code"] != codeNotFound {
		t.Errorf("unknown route: %d %v", code, body)
	}
	// A 405 names the methods the path takes (RFC 9110, 15.5.6).
	for _, tc := range []struct{ method, target, allow string }{
		{http.MethodDelete, "/v1/search?q=x", "GET, HEAD, POST"},
		{http.MethodPut, "/v1/related", "POST"},
		{http.MethodPost, "/v1/events/" + astana, "GET, HEAD"},
	} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.target, nil))
		if rec.Code != http.StatusMethodNotAllowed || !strings.Contains(rec.Body.String(), codeMethodNotAllowed) || rec.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d, Allow %q, %s; want 405, Allow %q", tc.method, tc.target, rec.Code, rec.Header().Get("Allow"), rec.Body.String(), tc.allow)
		}
	}
	rec := httptest.NewRecorder()
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/search?q="+strings.Repeat("a", 9000), nil))
	if rec.Code != http.StatusRequestURITooLong || !strings.Contains(rec.Body.String(), codeURITooLong) {
		t.Errorf("long URI: %d %s", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/search", strings.NewReader(strings.Repeat("x", MaxBodyBytes+1))))
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), codeTooLarge) {
		t.Errorf("large body: %d %s", rec.Code, rec.Body.String())
	}
	if code, _, _ := get(t, newServer(Config{}), "/readyz"); code != 0 && code != http.StatusOK {
		t.Errorf("readyz: %d", code)
	}
}

// fake is a Searcher whose Search does what its test needs.
type fake struct {
	search func(ctx context.Context) (*search.Result, error)
	got    *search.Request // if not nil, receives the request searched
}

func (f fake) Search(ctx context.Context, r search.Request) (*search.Result, error) {
	if f.got != nil {
		*f.got = r
	}
	return f.search(ctx)
}
func (f fake) Event(context.Context, string) (newsdesk.Event, error)            { return newsdesk.Event{}, nil }
func (f fake) Suggest(string, int) []search.Name                                { return nil }
func (f fake) Related(context.Context, related.Request) ([]related.Item, error) { return nil, nil }

func TestOverloadTimeoutPanicUnready(t *testing.T) {
	t.Run("not ready", func(t *testing.T) {
		s := New(Config{Searcher: func() Searcher { return nil }})
		code, body, h := get(t, s, "/v1/search?q=x")
		if code != http.StatusServiceUnavailable || body["error"].(map[string]any)["code"] != codeUnavailable || h.Get("Retry-After") == "" {
			t.Errorf("%d %v %v", code, body, h)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" {
			t.Errorf("readyz while not ready: %d, Retry-After %q; want 503 with Retry-After 1", rec.Code, rec.Header().Get("Retry-After"))
		}
	})
	t.Run("deadline", func(t *testing.T) {
		slow := fake{search: func(ctx context.Context) (*search.Result, error) { <-ctx.Done(); return nil, ctx.Err() }}
		s := New(Config{Searcher: func() Searcher { return slow }, Timeout: 20 * time.Millisecond})
		code, body, _ := get(t, s, "/v1/search?q=x")
		if code != http.StatusServiceUnavailable || body["error"].(map[string]any)["code"] != codeTimeout {
			t.Errorf("%d %v", code, body)
		}
	})
	t.Run("panic", func(t *testing.T) {
		bad := fake{search: func(context.Context) (*search.Result, error) { panic("boom") }}
		var logs strings.Builder
		s := New(Config{Searcher: func() Searcher { return bad }, Logger: zerolog.New(&logs)})
		code, body, _ := get(t, s, "/v1/search?q=x")
		msg := fmt.Sprint(body)
		if code != http.StatusInternalServerError || strings.Contains(msg, "boom") || strings.Contains(msg, "goroutine") {
			t.Errorf("%d %v", code, body)
		}
		if !strings.Contains(logs.String(), "boom") {
			t.Error("the panic was not logged")
		}
	})
	t.Run("at capacity", func(t *testing.T) {
		// As many clients as can run or wait (InFlight + Queue), each
		// sending its next request as soon as it has an answer: none may
		// be refused as excess, even while a waiter handed a slot has not
		// run yet. The wait for a slot is made longer than the test, so
		// that only the count of requests can refuse one, never a busy
		// machine's scheduling (the wait's timeout has its own subtest).
		quick := fake{search: func(context.Context) (*search.Result, error) {
			runtime.Gosched()
			return &search.Result{Hits: []search.Hit{}, Corrections: []search.Correction{}}, nil
		}}
		s := New(Config{Searcher: func() Searcher { return quick }, InFlight: 1, Queue: 3, QueueWait: time.Hour})
		var refused atomic.Int64
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 2000 {
					rec := httptest.NewRecorder()
					s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/search?q=x", nil))
					if rec.Code != http.StatusOK {
						refused.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if n := refused.Load(); n > 0 {
			t.Errorf("%d of 8000 requests refused with only InFlight+Queue clients", n)
		}
	})
	t.Run("a slow body holds no slot", func(t *testing.T) {
		// A client sending its body slowly: while it does, another's
		// search runs (with one slot and no queue, it was refused).
		quick := fake{search: func(context.Context) (*search.Result, error) {
			return &search.Result{Hits: []search.Hit{}, Corrections: []search.Correction{}}, nil
		}}
		s := New(Config{Searcher: func() Searcher { return quick }, InFlight: 1, Queue: 0, QueueWait: time.Millisecond})
		pr, pw := io.Pipe()
		reading := make(chan struct{})
		body := &firstRead{r: pr, reading: reading}
		slow := make(chan int, 1)
		go func() {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/v1/search", body)
			req.Header.Set("Content-Type", "application/json")
			s.ServeHTTP(rec, req)
			slow <- rec.Code
		}()
		<-reading
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/search?q=x", nil))
		if rec.Code != http.StatusOK {
			t.Errorf("a search while another client sends its body: %d %s", rec.Code, rec.Body)
		}
		pw.Write([]byte(`{"q": "x"}`))
		pw.Close()
		if code := <-slow; code != http.StatusOK {
			t.Errorf("the slow client's search: %d", code)
		}
	})
	// blocked returns a server whose searches wait for release, and a
	// function that sends a search in the background and returns the
	// channel of its status.
	blocked := func(cfg Config) (*Server, chan struct{}, chan struct{}, func(q string) chan int) {
		release := make(chan struct{})
		started := make(chan struct{}, 8)
		cfg.Searcher = func() Searcher {
			return fake{search: func(ctx context.Context) (*search.Result, error) {
				started <- struct{}{}
				<-release
				return &search.Result{Hits: []search.Hit{}, Corrections: []search.Correction{}}, nil
			}}
		}
		s := New(cfg)
		send := func(q string) chan int {
			code := make(chan int, 1)
			go func() {
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/search?q="+q, nil))
				code <- rec.Code
			}()
			return code
		}
		return s, release, started, send
	}
	t.Run("queue full", func(t *testing.T) {
		// One runs, one waits (for an hour, were it not released), and the
		// third, finding the queue full, is refused at once: while the
		// second still waits.
		s, release, started, send := blocked(Config{InFlight: 1, Queue: 1, QueueWait: time.Hour})
		first := send("x")
		<-started
		second := send("y")
		for s.admitted.Load() < 2 {
			runtime.Gosched()
		}
		code, body, h := get(t, s, "/v1/search?q=z")
		if code != http.StatusTooManyRequests || h.Get("Retry-After") != "1" || body["error"].(map[string]any)["code"] != codeOverloaded {
			t.Errorf("third request: %d %v %v", code, body, h)
		}
		select {
		case c := <-second:
			t.Errorf("the waiting request ended (%d) before the slot was free", c)
		default:
		}
		close(release)
		if c := <-first; c != http.StatusOK {
			t.Errorf("first request: %d", c)
		}
		if c := <-second; c != http.StatusOK {
			t.Errorf("second request: %d, want 200 once the slot is free", c)
		}
	})
	t.Run("wait times out", func(t *testing.T) {
		// The only slot is held until the end: a request that waits for
		// it gets 429 once QueueWait has passed, not before.
		const wait = 30 * time.Millisecond
		_, release, started, send := blocked(Config{InFlight: 1, Queue: 1, QueueWait: wait})
		defer close(release)
		first := send("x")
		<-started
		t0 := time.Now()
		if c := <-send("y"); c != http.StatusTooManyRequests {
			t.Errorf("waiting request: %d, want 429", c)
		}
		if waited := time.Since(t0); waited < wait {
			t.Errorf("the 429 came after %v, before QueueWait %v", waited, wait)
		}
		select {
		case c := <-first:
			t.Errorf("the first request ended (%d) while its search was blocked", c)
		default:
		}
	})
}

func TestCORS(t *testing.T) {
	s := newServer(Config{AllowedOrigins: []string{"https://news.example"}})
	pre := func(origin string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodOptions, "/v1/events/x/related", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "GET")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec
	}
	if rec := pre("https://news.example"); rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != "https://news.example" {
		t.Errorf("allowed preflight: %d %v", rec.Code, rec.Header())
	}
	if rec := pre("https://evil.example"); rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other origin got CORS headers: %v", rec.Header())
	}
	req := httptest.NewRequest(http.MethodGet, "/v1/search?q=astana", nil)
	req.Header.Set("Origin", "https://news.example")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Header().Get("Access-Control-Allow-Origin") != "https://news.example" || rec.Header().Get("Vary") != "Origin" {
		t.Errorf("allowed GET: %d %v", rec.Code, rec.Header())
	}
	// Its script may read Retry-After, the ETag and the request id, and
	// send a request id of its own.
	if got := rec.Header().Get("Access-Control-Expose-Headers"); got != "Retry-After, ETag, X-Request-Id" {
		t.Errorf("Access-Control-Expose-Headers %q", got)
	}
	if got := pre("https://news.example").Header().Get("Access-Control-Allow-Headers"); got != "Content-Type, X-Request-Id" {
		t.Errorf("Access-Control-Allow-Headers %q", got)
	}
	// Without an Origin the answer varies with it too, so that a shared
	// cache never gives it to a partner page's widget.
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/search?q=astana", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Access-Control-Allow-Origin") != "" || rec.Header().Get("Vary") != "Origin" {
		t.Errorf("GET without Origin: %d %v; want Vary: Origin and no Allow-Origin", rec.Code, rec.Header())
	}
}

// TestLimits_URIAndHeaders sends long URIs and large headers over real
// HTTP to the API served as searchd serves it (MaxHeaderBytes
// ServerMaxHeaderBytes): up to that size each gets the API's JSON error;
// beyond it, Go's own plain-text 431 answers.
func TestLimits_URIAndHeaders(t *testing.T) {
	ts := httptest.NewUnstartedServer(newServer(Config{}))
	ts.Config.MaxHeaderBytes = ServerMaxHeaderBytes
	ts.Start()
	defer ts.Close()
	tests := []struct {
		name     string
		uri      int // bytes of q
		header   int // bytes of one X-Padding header
		headers  int // number of 1 KiB headers
		status   int
		wantCode string // "" for Go's plain text
	}{
		{"small", 10, 100, 0, http.StatusOK, ""},
		{"URI just under 8 KiB reaches the handler", 8<<10 - 20, 0, 0, http.StatusBadRequest, codeInvalid},
		{"URI over 8 KiB", 9 << 10, 0, 0, http.StatusRequestURITooLong, codeURITooLong},
		{"URI of 64 KiB", 64 << 10, 0, 0, http.StatusRequestURITooLong, codeURITooLong},
		{"URI of 512 KiB", 512 << 10, 0, 0, http.StatusRequestURITooLong, codeURITooLong},
		{"headers just under 64 KiB", 10, 63 << 10, 0, http.StatusOK, ""},
		{"one header of 64 KiB", 10, 64 << 10, 0, http.StatusRequestHeaderFieldsTooLarge, codeHeadersTooLarge},
		{"100 headers of 1 KiB", 10, 0, 100, http.StatusRequestHeaderFieldsTooLarge, codeHeadersTooLarge},
		{"one header of 900 KiB", 10, 900 << 10, 0, http.StatusRequestHeaderFieldsTooLarge, codeHeadersTooLarge},
		{"one header of 2 MiB: Go's own 431", 10, 2 << 20, 0, http.StatusRequestHeaderFieldsTooLarge, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, ts.URL+"/v1/search?q="+strings.Repeat("a", tc.uri), nil)
			if tc.header > 0 {
				req.Header.Set("X-Padding", strings.Repeat("p", tc.header))
			}
			for i := range tc.headers {
				req.Header.Set(fmt.Sprintf("X-Padding-%d", i), strings.Repeat("p", 1<<10))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, tc.status, b)
			}
			isJSON := strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && json.Valid(b)
			switch {
			case tc.status == http.StatusOK:
			case tc.wantCode == "" && isJSON:
				t.Errorf("beyond ServerMaxHeaderBytes, want Go's plain text, got %s", b)
			case tc.wantCode != "" && (!isJSON || !strings.Contains(string(b), `"code":"`+tc.wantCode+`"`)):
				t.Errorf("got %q %s, want the JSON error %s", resp.Header.Get("Content-Type"), b, tc.wantCode)
			}
		})
	}
}

// observed is an Observer that keeps what it is told.
type observed struct {
	mu       sync.Mutex
	methods  []string
	routes   []string
	rejected []string
}

func (o *observed) Observe(route, method string, _ int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.methods = append(o.methods, method)
	o.routes = append(o.routes, route)
}

func (o *observed) Rejected(reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rejected = append(o.rejected, reason)
}

// TestObserve_Labels: the metrics' labels are bounded and say what was
// answered: a method HTTP does not define is "other", a refusal's reason
// is the error code answered.
func TestObserve_Labels(t *testing.T) {
	o := &observed{}
	s := New(Config{Searcher: func() Searcher { return nil }, Metrics: o})
	for _, tc := range []struct{ method, target string }{
		{"FOO1", "/v1/search?q=x"},
		{"get", "/nowhere"},
		{http.MethodGet, "/v1/search?q=" + strings.Repeat("a", 9000)},
		{http.MethodGet, "/v1/search?q=x"}, // not ready: 503 unavailable
		{http.MethodGet, "/readyz"},        // 503 too, as meant: not a refusal
	} {
		s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tc.method, tc.target, nil))
	}
	if want := []string{"other", "other", http.MethodGet, http.MethodGet, http.MethodGet}; !slices.Equal(o.methods, want) {
		t.Errorf("methods %v, want %v", o.methods, want)
	}
	if want := []string{codeURITooLong, codeUnavailable}; !slices.Equal(o.rejected, want) {
		t.Errorf("rejected %v, want the codes answered %v", o.rejected, want)
	}
}

// TestObserve_Routes: a 405 is counted under its route's template, and an
// admin route refused without the key under /admin/, never as
// "unmatched", which is the 404s'.
func TestObserve_Routes(t *testing.T) {
	o := &observed{}
	s := New(Config{Searcher: func() Searcher { return nil }, Metrics: o})
	for _, tc := range []struct{ method, target string }{
		{http.MethodDelete, "/v1/search"},
		{http.MethodPost, "/admin/reload"},
		{http.MethodGet, "/nowhere"},
	} {
		s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tc.method, tc.target, nil))
	}
	if want := []string{"/v1/search", "/admin/", "unmatched"}; !slices.Equal(o.routes, want) {
		t.Errorf("routes %v, want %v", o.routes, want)
	}
}

// distinctWords returns n different words, joined by + (a space in a
// query string): a repeated word counts once towards the limit.
func distinctWords(n int) string {
	words := make([]string, n)
	for i := range words {
		words[i] = fmt.Sprintf("w%d", i)
	}
	return strings.Join(words, "+")
}

// firstRead is a body that says when it is first read.
type firstRead struct {
	r       io.Reader
	reading chan struct{}
	once    sync.Once
}

func (f *firstRead) Read(p []byte) (int, error) {
	f.once.Do(func() { close(f.reading) })
	return f.r.Read(p)
}

// asked records the ids the routes ask the searcher for.
type asked struct {
	fake
	event, related *string
}

func (a asked) Event(_ context.Context, id string) (newsdesk.Event, error) {
	*a.event = id
	return newsdesk.Event{ID: id}, nil
}

func (a asked) Related(_ context.Context, r related.Request) ([]related.Item, error) {
	*a.related = r.ID
	return nil, nil
}

// TestRouting_EventPaths checks which id each event path asks for: an id
// is a date and a slug, so a slug "related" is an event's, and a path is
// taken as sent, never redirected to another id's (mux cleaned "./", "..",
// "//" with a 301 a client followed to the other event).
func TestRouting_EventPaths(t *testing.T) {
	var event, rel string
	s := New(Config{Searcher: func() Searcher { return asked{event: &event, related: &rel} }})
	for _, tc := range []struct {
		path               string
		status             int
		wantEvent, wantRel string
	}{
		{"/v1/events/2019-06-04/related", 200, "2019-06-04/related", ""},
		{"/v1/events/2019-06-04%2Frelated", 200, "2019-06-04/related", ""},
		{"/v1/events/2019-06-04/related/related", 200, "", "2019-06-04/related"},
		{"/v1/events/2017-01-23/x/related", 200, "", "2017-01-23/x"},
		{"/v1/events/./2017-01-23/x", 200, "./2017-01-23/x", ""},
		{"/v1/events/2017-01-23/y/../x", 200, "2017-01-23/y/../x", ""},
		{"/v1/events/2017-01-23//x", 200, "2017-01-23//x", ""},
		{"/v1/events/2017-01-23/x/", 200, "2017-01-23/x/", ""},
	} {
		event, rel = "", ""
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		if rec.Code != tc.status || event != tc.wantEvent || rel != tc.wantRel {
			t.Errorf("GET %s: %d, event %q, related of %q; want %d, %q, %q", tc.path, rec.Code, event, rel, tc.status, tc.wantEvent, tc.wantRel)
		}
	}
}
