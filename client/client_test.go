package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/api"
	"github.com/newsdesk/newsdesk/related"
	"github.com/newsdesk/newsdesk/search"
)

// answer is one scripted answer of a fake searchd.
type answer struct {
	status     int
	retryAfter string
	body       string
}

// scripted serves the answers in order (the last one again past the end)
// and counts the requests.
func scripted(t *testing.T, answers ...answer) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := answers[min(int(n.Add(1))-1, len(answers)-1)]
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		fmt.Fprint(w, a.body)
	}))
	t.Cleanup(ts.Close)
	return ts, &n
}

const (
	ok         = `{"total": 1, "hits": [{"id": "2017-01-23/x", "date": "2017-01-23", "text": "x"}], "corrections": []}`
	overloaded = `{"error": {"code": "overloaded", "message": "retry in a second", "request_id": "r1"}}`
)

func TestRetries(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		answers   []answer
		wantTries int64
		wantErr   int // the status of the *Error returned; 0 for success
		minTime   time.Duration
	}{
		{"429 then 200, Retry-After 0", Config{}, []answer{{429, "0", overloaded}, {200, "", ok}}, 2, 0, 0},
		{"503 twice then 200", Config{}, []answer{{503, "0", overloaded}, {503, "0", overloaded}, {200, "", ok}}, 3, 0, 0},
		{"always 429: Retries+1 tries", Config{Retries: 2}, []answer{{429, "0", overloaded}}, 3, 429, 0},
		{"never retried", Config{Retries: -1}, []answer{{429, "0", overloaded}, {200, "", ok}}, 1, 429, 0},
		{"a wait over MaxRetryWait ends the retries", Config{MaxRetryWait: time.Second}, []answer{{429, "5", overloaded}, {200, "", ok}}, 1, 429, 0},
		{"no Retry-After: a backoff", Config{}, []answer{{503, "", overloaded}, {200, "", ok}}, 2, 0, firstBackoff},
		{"no Retry-After: the backoff held to MaxRetryWait", Config{MaxRetryWait: 100 * time.Millisecond}, []answer{{503, "", overloaded}, {503, "", overloaded}, {200, "", ok}}, 3, 0, 200 * time.Millisecond},
		{"no Retry-After, many retries: each waits", Config{Retries: 60, MaxRetryWait: time.Millisecond}, []answer{{503, "", overloaded}}, 61, 503, 60 * time.Millisecond},
		{"a Retry-After beyond any Duration ends the retries", Config{MaxRetryWait: time.Second}, []answer{{429, "10000000000", overloaded}, {200, "", ok}}, 1, 429, 0},
		{"Retry-After honoured", Config{}, []answer{{429, "1", overloaded}, {200, "", ok}}, 2, 0, time.Second},
		{"a 400 is not retried", Config{}, []answer{{400, "", `{"error": {"code": "invalid_parameter", "param": "size", "message": "size: no"}}`}}, 1, 400, 0},
		{"a 507 is not retried, Retry-After or not", Config{}, []answer{{507, "60", `{"error": {"code": "insufficient_storage", "message": "full"}}`}}, 1, 507, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, n := scripted(t, tc.answers...)
			tc.cfg.URL = ts.URL
			c, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res, err := c.Search(context.Background(), search.Request{Q: "x"})
			took := time.Since(start)
			if n.Load() != tc.wantTries {
				t.Errorf("%d tries, want %d", n.Load(), tc.wantTries)
			}
			if took < tc.minTime {
				t.Errorf("answered after %v, before the wait of %v", took, tc.minTime)
			}
			var ae *Error
			switch {
			case tc.wantErr == 0 && (err != nil || res.Total != 1):
				t.Errorf("got %v, %v; want the answer", res, err)
			case tc.wantErr != 0 && (!errors.As(err, &ae) || ae.Status != tc.wantErr):
				t.Errorf("got %v; want an *Error of status %d", err, tc.wantErr)
			}
		})
	}
}

// TestRetry_ContextEnds cancels a call while it waits to retry: it ends
// at once with the context's error, the answer's error wrapped too.
func TestRetry_ContextEnds(t *testing.T) {
	ts, n := scripted(t, answer{429, "8", overloaded})
	c, _ := New(Config{URL: ts.URL})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Search(ctx, search.Request{Q: "x"})
	var ae *Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ae) || ae.Code != "overloaded" {
		t.Errorf("got %v, want the deadline and the 429", err)
	}
	if d := time.Since(start); d > 5*time.Second || n.Load() != 1 {
		t.Errorf("%d tries in %v: the wait did not end with the context", n.Load(), d)
	}
}

// TestErrors reads the errors a server may answer into *Error values.
func TestErrors(t *testing.T) {
	date := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name string
		a    answer
		want Error
	}{
		{"the API's error", answer{400, "", `{"error": {"code": "invalid_parameter", "message": "size: must be from 1 to 100", "param": "size", "request_id": "abc"}}`},
			Error{Status: 400, Code: "invalid_parameter", Message: "size: must be from 1 to 100", Param: "size", RequestID: "abc"}},
		{"not the API's: a proxy's page", answer{502, "", "<html>Bad Gateway</html>"},
			Error{Status: 502, Message: "<html>Bad Gateway</html>"}},
		{"a long page, cut at a character", answer{502, "", "a" + strings.Repeat("é", 400)},
			Error{Status: 502, Message: "a" + strings.Repeat("é", 255) + "…"}},
		{"an empty body", answer{404, "", ""}, Error{Status: 404, Message: "404 Not Found"}},
		{"Retry-After as a date", answer{503, date, `{"error": {"code": "unavailable", "message": "later"}}`},
			Error{Status: 503, Code: "unavailable", Message: "later", RetryAfter: 2 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, _ := scripted(t, tc.a)
			c, _ := New(Config{URL: ts.URL, Retries: -1})
			_, err := c.Event(context.Background(), "2017-01-23/x")
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("got %v, want an *Error", err)
			}
			got := *ae
			// The date is 3 s ahead cut to the second, so 2 to 3 s ahead
			// when written, and a little less when read (1.9993 s once).
			if tc.want.RetryAfter > 0 && got.RetryAfter > tc.want.RetryAfter-time.Second && got.RetryAfter <= 3*time.Second {
				got.RetryAfter = tc.want.RetryAfter
			}
			got.asked = false
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if !strings.Contains(err.Error(), fmt.Sprint(tc.want.Status)) {
				t.Errorf("message %q lacks the status", err.Error())
			}
		})
	}
}

// TestRequests checks what the client sends: paths, methods, bodies,
// the key only to admin routes, request ids.
func TestRequests(t *testing.T) {
	var got []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, fmt.Sprintf("%s %s %s key=%v id=%s", r.Method, r.URL.RequestURI(), r.Header.Get("Content-Type"),
			r.Header.Get("Authorization") != "", r.Header.Get("X-Request-Id")))
		fmt.Fprint(w, `{}`)
	}))
	defer ts.Close()
	c, _ := New(Config{URL: ts.URL + "/", Key: "k", RequestID: func(context.Context) string { return "rid" }})
	ctx := context.Background()
	c.Search(ctx, search.Request{Q: "x"})
	c.Event(ctx, "2017-01-23/peace talks")
	c.Suggest(ctx, "syr", 3)
	c.Related(ctx, related.Request{ID: "2017-01-23/x", Size: 2, Direction: related.Before})
	c.Related(ctx, related.Request{Draft: &related.Draft{Text: "x"}})
	// Both: the event named, as the ranker reads such a request.
	c.Related(ctx, related.Request{ID: "2017-01-23/y", Draft: &related.Draft{Text: "x"}})
	c.Info(ctx)
	c.Bulk(ctx, nil)
	c.Reload(ctx)
	want := []string{
		"POST /v1/search application/json key=false id=rid",
		"GET /v1/events/2017-01-23/peace%20talks  key=false id=rid",
		"GET /v1/suggest?q=syr&size=3  key=false id=rid",
		"GET /v1/events/2017-01-23/x/related?direction=before&size=2  key=false id=rid",
		"POST /v1/related application/json key=false id=rid",
		"GET /v1/events/2017-01-23/y/related  key=false id=rid",
		"GET /v1/info  key=false id=rid",
		"POST /admin/events/_bulk application/x-ndjson key=true id=rid",
		"POST /admin/reload  key=true id=rid",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("sent:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := c.Related(ctx, related.Request{ID: "x", Weights: &related.Weights{MaxTerms: 3}}); err == nil {
		t.Error("a weight GET cannot take was sent")
	}
	for _, u := range []string{"127.0.0.1:8080", "http://127.0.0.1:8080?x=1", "http://127.0.0.1:8080/?", "http://127.0.0.1:8080#top"} {
		if _, err := New(Config{URL: u}); err == nil {
			t.Errorf("%q taken as a base URL: the calls' paths would follow its query or fragment", u)
		}
	}
}

// TestInvalidUTF8 checks that a string that is not UTF-8 is an error of
// the call, never sent: encoding/json would send it as U+FFFD, and the
// server store or search for the replaced text.
func TestInvalidUTF8(t *testing.T) {
	ts, n := scripted(t, answer{200, "", ok})
	c, _ := New(Config{URL: ts.URL})
	ctx := context.Background()
	ev := newsdesk.Event{ID: "2019-06-03/cafe", Date: "2019-06-03", Text: "Caf\xe9 opens."}
	if _, err := c.Bulk(ctx, []api.Update{{Delete: "2019-06-03/x"}, {Upsert: &ev}}); err == nil || !strings.Contains(err.Error(), "update 2: upsert.text") {
		t.Errorf("bulk: %v, want an error naming update 2's upsert.text (counted from 1, as the server counts)", err)
	}
	if _, err := c.Search(ctx, search.Request{Q: "war", Topics: []string{"ok", "Syria\xff"}}); err == nil || !strings.Contains(err.Error(), "topic[1]") {
		t.Errorf("search: %v, want an error naming topic[1]", err)
	}
	if _, err := c.Related(ctx, related.Request{Draft: &related.Draft{Text: "\xc3"}}); err == nil || !strings.Contains(err.Error(), "text") {
		t.Errorf("draft: %v, want an error naming its text", err)
	}
	if n.Load() != 0 {
		t.Errorf("%d requests sent", n.Load())
	}
}

// TestSuggest_Last checks that a suggestion's Last, not in the JSON, is
// read back from its last_date.
func TestSuggest_Last(t *testing.T) {
	ts, _ := scripted(t, answer{200, "", `{"suggestions": [{"value": "Syrian Civil War", "kind": "context", "count": 3, "last_date": "2017-01-23"}]}`})
	c, _ := New(Config{URL: ts.URL})
	got, err := c.Suggest(context.Background(), "syr", 0)
	if err != nil || len(got) != 1 || !got[0].Last.Equal(time.Date(2017, 1, 23, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("got %+v, %v; want Last 2017-01-23", got, err)
	}
}
