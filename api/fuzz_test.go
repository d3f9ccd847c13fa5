package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/serving"
	"github.com/newsdesk/newsdesk/testindex"
)

// documented are the statuses the README's errors table lists, with 200.
// A fuzzed request may get any of them but a 5xx (a server error, or a
// timeout of a request that should never take seconds).
var documented = map[int]bool{200: true, 400: true, 401: true, 404: true, 405: true, 413: true, 414: true,
	415: true, 429: true, 431: true}

// checkAnswer fails t unless rec is a documented status other than a 5xx,
// with a JSON body (an error in the API's shape when it is not a 200).
func checkAnswer(t *testing.T, what string, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if !documented[rec.Code] {
		t.Fatalf("%s: status %d, not one the README documents (or a server error): %.300s", what, rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: status %d with Content-Type %q: %.300s", what, rec.Code, ct, rec.Body.String())
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s: status %d, body not a JSON object: %v: %.300s", what, rec.Code, err, rec.Body.String())
	}
	if rec.Code != http.StatusOK {
		e, _ := body["error"].(map[string]any)
		if e == nil || e["code"] == "" || e["message"] == "" {
			t.Fatalf("%s: status %d without the API's error shape: %.300s", what, rec.Code, rec.Body.String())
		}
	}
	return body
}

// FuzzSearchParams sends fuzzed query strings to GET /v1/search through
// the real router over the fixture index.
func FuzzSearchParams(f *testing.F) {
	for _, seed := range []string{
		"q=astana+talks", "q=%22peace+talks%22&highlight=true&facets=5", "q=cyclone&from=2019-03-10&to=2019-03-20&sort=-date",
		"topic=Cyclone+Idai&topic=2018+FIFA+World+Cup&size=3&page=2", "q=irann", "q=astan*+-ceasefire+context:Astana",
		"q=a&from=0001-01-01", "q=a&to=9999-12-31", "q=a&cursor=garbage", "q=stock&sort=date&size=1", "q=%ff%fe",
		"q=" + strings.Repeat("%22a+b%22+", 32), "q=a&bogus=1", "q=a;b", "%zz", "q=a&q=b", "from=1800-01-01", "facets=50&size=100&to=2199-12-31",
		"q=" + strings.Repeat("a", 9000), "q=topic:%22", "q=-%22%22", "q=\x00\x01", "sort=date&cursor=eyJzIjoiZGF0ZSIsImEiOlsiMjAxOSIsIngiXX0",
	} {
		f.Add(seed)
	}
	s := newServer(Config{})
	f.Fuzz(func(t *testing.T, raw string) {
		req := httptest.NewRequest(http.MethodGet, "/v1/search", nil)
		req.URL.RawQuery, req.RequestURI = raw, "/v1/search?"+raw
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		checkAnswer(t, "GET /v1/search?"+raw, rec)
	})
}

// FuzzRelatedBody sends fuzzed JSON bodies to POST /v1/related through the
// real router over the fixture index.
func FuzzRelatedBody(f *testing.F) {
	for _, seed := range []string{
		`{"text": "Ceasefire talks in Astana between the Syrian opposition and the government", "date": "2017-01-25", "context": ["Astana"], "size": 2}`,
		`{"text": "x", "direction": "after", "date": "2019-03-01", "from": "2019-01-01", "to": "2019-12-31"}`,
		`{"text": "Astana", "weights": {"text": 1, "context": 2, "topic": 3, "half_life_days": 180, "floor": 0.25, "max_terms": 25, "min_df": 2, "max_df_share": 0.02, "duplicate_similarity": 0.7, "max_per_day": 2, "candidates": 60}}`,
		`{"text": "Astana", "weights": {"text": 1e308, "context": 1e308, "topic": 1e308, "half_life_days": 1e-308, "floor": 1, "max_terms": 100, "min_df": 1, "max_df_share": 1, "duplicate_similarity": 2, "max_per_day": 1, "candidates": 1000}}`,
		`{"text": "a", "id": "2017-01-23/peace-talks-in-astana-kazakhstan-end-with-no-breakthrough-reported", "topic": "Syrian peace process"}`,
		`{"text": "a", "date": "0001-01-01"}`, `{"text": 42}`, `{}`, ``, `[]`, `null`, `{"text": "x"} {"text": "y"}`, `{"text": "x", "size": -1}`,
		`{"text": "\ud800"}`, `{"text": "x", "weights": {"text": -0}}`, `{"text": "` + strings.Repeat("war ", 5000) + `"}`,
	} {
		f.Add([]byte(seed))
	}
	s := newServer(Config{})
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/v1/related", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		checkAnswer(t, "POST /v1/related "+clip(string(body)), rec)
	})
}

// FuzzBulkBody sends fuzzed NDJSON bodies to POST /admin/events/_bulk
// through the real router, with the admin key, over an index of its own
// (each fuzzing process builds one: bulk requests write to it).
func FuzzBulkBody(f *testing.F) {
	for _, seed := range []string{
		`{"upsert": {"id": "2019-06-01/a-flamingo-escapes-from-the-zoo", "date": "2019-06-01", "text": "A flamingo escapes from the zoo.", "context": ["Zoo"]}}`,
		`{"delete": "2017-01-23/peace-talks-in-astana-kazakhstan-end-with-no-breakthrough-reported"}` + "\n" + `{"delete": "2017-01-23/no-such-event"}`,
		`{"upsert": {"id": "0001-01-01/x", "date": "0001-01-01", "text": "x"}}` + "\n" + `{"upsert": {"id": "../../etc/passwd", "date": "2019-06-01", "text": "x"}}`,
		`{"upsert": {"id": "2019-06-01/x", "date": "2019-06-01", "text": "x", "sources": [{"name": "A", "url": "https://a.example"}], "topic": "T", "category": "Sports"}}` + "\n" + `{"delete": "2019-06-01/x"}`,
		"not json\n{\"rename\": \"x\"}\n{\"delete\": 42}\n\n\r\n", `{"upsert": {"date": "2019-06-02", "text": "No id."}}`, ``, "\n\n",
		`{"upsert": {"id": "2019-06-01/y", "date": "2019-06-01", "text": "` + strings.Repeat("y", 1<<20) + `"}}` + "\n" + `{"delete": "2019-06-01/y"}`,
		`{"upsert": null}`, `{"delete": ""}`, `{"upsert": {}, "delete": "x"}`, `{"upsert": {"id": "2019-06-01/z", "date": "2019-06-01", "text": "z", "context": [null]}}`,
	} {
		f.Add([]byte(seed))
	}
	dir := testindex.Build(f, f.TempDir(), "testdata/events.jsonl")
	srv := serving.New(serving.Config{Dir: dir})
	f.Cleanup(func() { srv.Close() })
	if _, err := srv.Load(context.Background()); err != nil {
		f.Fatal(err)
	}
	s := New(Config{
		Searcher: func() Searcher {
			if e := srv.Engine(); e != nil {
				return e
			}
			return nil
		},
		Admin: &Admin{Key: testKey, Bulk: func(ctx context.Context, us []Update) ([]string, error) {
			updates := make([]index.Update, len(us))
			for i, u := range us {
				updates[i] = index.Update{Upsert: u.Upsert, Delete: u.Delete}
			}
			return srv.Update(ctx, updates)
		}},
	})
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/admin/events/_bulk", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("Content-Type", "application/x-ndjson")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		what := "POST /admin/events/_bulk " + clip(string(body))
		answer := checkAnswer(t, what, rec)
		if rec.Code != http.StatusOK {
			return
		}
		items, _ := answer["items"].([]any)
		for _, it := range items {
			item, _ := it.(map[string]any)
			switch item["status"] {
			case 200.0, 201.0, 400.0, 404.0:
			default:
				t.Fatalf("%s: item %v has a status the README does not document", what, item)
			}
		}
		// The index still answers after the update.
		rec = httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/search?q=astana&facets=3", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: a search after it answered %d: %s", what, rec.Code, rec.Body.String())
		}
	})
}
