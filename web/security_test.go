package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/api"
	"github.com/newsdesk/newsdesk/related"
	"github.com/newsdesk/newsdesk/web"
)

// TestSecurityHeaders: every page and static file carries the CSP and the
// other security headers; the event page and the search page load nothing
// the CSP would block (checked in a browser by browser_test.go).
func TestSecurityHeaders(t *testing.T) {
	srv := server(t)
	want := map[string]string{
		"Content-Security-Policy": web.ContentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "strict-origin-when-cross-origin",
	}
	for _, path := range []string{"/", "/events/2017-01-23/peace-talks-in-astana-kazakhstan-end-with-no-breakthrough-reported",
		"/events/2017-01-23/no-such-event", "/widget.js", "/static/style.css", "/static/search.js"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for h, v := range want {
			if got := resp.Header.Get(h); got != v {
				t.Errorf("%s: %s = %q, want %q", path, h, got, v)
			}
		}
	}
}

// blocking is a page Source whose Event waits until released or until
// its request's deadline.
type blocking struct {
	release chan struct{}
	started chan struct{}
}

func (b *blocking) Event(ctx context.Context, id string) (newsdesk.Event, error) {
	b.started <- struct{}{}
	select {
	case <-b.release:
		return newsdesk.Event{ID: id, Date: "2017-01-23", Text: "x"}, nil
	case <-ctx.Done():
		return newsdesk.Event{}, ctx.Err()
	}
}

func (b *blocking) Related(context.Context, related.Request) ([]related.Item, error) { return nil, nil }

// TestEventPage_SharesLimits: an event page takes one of the API's
// in-flight slots (so API requests and other pages wait, then get 429)
// and is held to the per-request deadline (503 past it).
func TestEventPage_SharesLimits(t *testing.T) {
	t.Run("in-flight slots", func(t *testing.T) {
		src := &blocking{release: make(chan struct{}), started: make(chan struct{}, 1)}
		pages, err := web.New(func() web.Source { return src })
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(api.New(api.Config{Searcher: func() api.Searcher { return nil }, Pages: pages,
			InFlight: 1, Queue: 1, Timeout: 10 * time.Second}))
		defer ts.Close()
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(ts.URL + "/events/2017-01-23/x")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("the page holding the slot: %d", resp.StatusCode)
				}
			}
		}()
		<-src.started // the page holds the one slot
		for _, path := range []string{"/v1/search?q=x", "/events/2017-01-23/y"} {
			start := time.Now()
			resp, err := http.Get(ts.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusTooManyRequests || time.Since(start) < api.QueueWait {
				t.Errorf("%s while a page holds the only slot: %d after %v, want 429 after waiting %v", path, resp.StatusCode, time.Since(start), api.QueueWait)
			}
		}
		close(src.release)
		wg.Wait()
	})
	t.Run("deadline", func(t *testing.T) {
		src := &blocking{release: make(chan struct{}), started: make(chan struct{}, 1)}
		pages, err := web.New(func() web.Source { return src })
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(api.New(api.Config{Searcher: func() api.Searcher { return nil }, Pages: pages, Timeout: 100 * time.Millisecond}))
		defer ts.Close()
		start := time.Now()
		resp, err := http.Get(ts.URL + "/events/2017-01-23/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if took := time.Since(start); resp.StatusCode != http.StatusServiceUnavailable || took > time.Second {
			t.Errorf("event page past the deadline: %d after %v, want 503 after about 100ms", resp.StatusCode, took)
		}
	})
}
