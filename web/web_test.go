package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/api"
	"github.com/newsdesk/newsdesk/mappings"
	"github.com/newsdesk/newsdesk/related"
	"github.com/newsdesk/newsdesk/search"
	"github.com/newsdesk/newsdesk/testindex"
	"github.com/newsdesk/newsdesk/web"
)

func TestWeight(t *testing.T) {
	n, err := web.Weight()
	if err != nil {
		t.Fatal(err)
	}
	if n >= 100<<10 {
		t.Errorf("the search page weighs %d bytes, want under 100 KB", n)
	}
	t.Logf("search page: %d bytes of HTML, CSS and JavaScript", n)
}

func TestPages(t *testing.T) {
	srv := server(t)
	get := func(path string) (int, string, http.Header) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	tests := []struct {
		path     string
		status   int
		contains []string
		absent   []string
	}{
		{"/", 200, []string{`<input id="q"`, `/static/search.js`}, []string{"http://", "https://"}},
		{"/events/2019-04-03/a-court-in-paris-sentences-a-smuggler-to-ten-years-in-prison-a-fine", 200,
			[]string{"&lt;in prison&gt; &amp; a fine", "<h3>Related</h3>"}, []string{"<in prison>"}},
		{"/events/2017-01-23/peace-talks-in-astana-kazakhstan-end-with-no-breakthrough-reported", 200,
			[]string{`<a href="https://rferl.example/astana" rel="nofollow noopener">Radio Free Europe/Radio Liberty</a>`,
				`class="related"`, `href="/events/2017-01-`, "Same story (Syrian peace process)", `href="/?topic=Syrian%20peace%20process"`}, nil},
		{"/events/2017-01-23/no-such-event", 404, []string{"No event"}, nil},
		{"/widget.js", 200, []string{"newsdesk-related"}, nil},
		{"/static/style.css", 200, []string{"system-ui"}, []string{"@import", "url("}},
		// No listing of the static files.
		{"/static/", 404, []string{"No such file"}, []string{"style.css"}},
		{"/static/nope.js", 404, nil, nil},
	}
	for _, tc := range tests {
		code, body, _ := get(tc.path)
		if code != tc.status {
			t.Errorf("%s: status %d, want %d", tc.path, code, tc.status)
		}
		for _, want := range tc.contains {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", tc.path, want)
			}
		}
		for _, bad := range tc.absent {
			if strings.Contains(body, bad) {
				t.Errorf("%s contains %q", tc.path, bad)
			}
		}
	}
}

// slowRelated is a source whose related lists are past the deadline.
type slowRelated struct{ web.Source }

func (slowRelated) Related(context.Context, related.Request) ([]related.Item, error) {
	return nil, context.DeadlineExceeded
}

// TestEventPage_ListUnavailable checks that an event page whose Related
// list was past the deadline says so, not that there is none.
func TestEventPage_ListUnavailable(t *testing.T) {
	idx := testindex.Open(t, "testdata/events.jsonl")
	e, err := search.New(idx.Source, mappings.New(), idx.Index.Legacy)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := web.New(func() web.Source { return slowRelated{e} })
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Config{Searcher: func() api.Searcher { return e }, Pages: pages}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/events/2017-01-23/peace-talks-in-astana-kazakhstan-end-with-no-breakthrough-reported")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "could not be listed in time") || strings.Contains(string(b), "No related events found") {
		t.Errorf("status %d, page:\n%s", resp.StatusCode, b)
	}
}
