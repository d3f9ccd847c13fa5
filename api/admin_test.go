package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/newsdesk/newsdesk"
)

const testKey = "s3cret-admin-key-0123456789"

// TestAdminAuth walks every registered route: each admin route answers 401
// without the key and with a wrong one, and works with the right one.
func TestAdminAuth(t *testing.T) {
	var logs bytes.Buffer
	reloads := 0
	s := newServer(Config{Logger: zerolog.New(&logs).Level(zerolog.DebugLevel), Admin: &Admin{Key: testKey,
		Reload: func(context.Context) (any, error) { reloads++; return map[string]bool{"swapped": false}, nil }}})
	type route struct{ path, method string }
	var admin []route
	err := s.router.Walk(func(r *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tmpl, _ := r.GetPathTemplate()
		methods, _ := r.GetMethods()
		if strings.HasPrefix(tmpl, "/admin") {
			for _, m := range methods {
				admin = append(admin, route{tmpl, m})
			}
		}
		return nil
	})
	if err != nil || len(admin) == 0 {
		t.Fatalf("walk found %d admin routes (%v)", len(admin), err)
	}
	admin = append(admin, route{"/admin/no-such-route", http.MethodGet}, route{"/admin", http.MethodGet})
	for _, rt := range admin {
		for _, auth := range []string{"", "Bearer wrong-key", "Bearer " + testKey + "x", "Basic " + testKey, testKey, "Bearer "} {
			req := httptest.NewRequest(rt.method, rt.path, nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), codeUnauthorized) || rec.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s with %q: %d %s, want 401", rt.method, rt.path, auth, rec.Code, rec.Body.String())
			}
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/admin/reload", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || reloads != 1 {
		t.Errorf("reload with the key: %d %s, %d reloads", rec.Code, rec.Body.String(), reloads)
	}
	if strings.Contains(logs.String(), testKey) || strings.Contains(logs.String(), "wrong-key") {
		t.Errorf("a key reached the logs:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "/admin/reload") {
		t.Error("the admin requests were not logged at all")
	}
}

func TestAdminDisabled(t *testing.T) {
	s := newServer(Config{})
	req := httptest.NewRequest(http.MethodPost, "/admin/reload", nil)
	req.Header.Set("Authorization", "Bearer anything")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("admin route without -admin: %d", rec.Code)
	}
	// A caller holding the right key learns where else to look: the
	// same answer as a wrong key, which names -admin too.
	if !strings.Contains(rec.Body.String(), "searchd started with -admin") {
		t.Errorf("admin route without -admin: %s; want the message to name -admin", rec.Body.String())
	}
}

// bulk sends body to POST /admin/events/_bulk of s with the test key.
func bulk(t *testing.T, s http.Handler, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/admin/events/_bulk", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/x-ndjson")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// TestBulk_BadLines sends a body mixing good lines with lines every check
// refuses (dates out of range, ids off the scheme, a line over 1 MiB):
// each bad line is one 400 item naming what is wrong, and every good line,
// including those after the long one, is applied.
func TestBulk_BadLines(t *testing.T) {
	var applied []string
	s := newServer(Config{Admin: &Admin{Key: testKey, Bulk: func(_ context.Context, us []Update) ([]string, error) {
		out := make([]string, len(us))
		for i, u := range us {
			if u.Upsert != nil {
				applied = append(applied, u.Upsert.ID)
				out[i] = "created"
			} else {
				applied = append(applied, "delete "+u.Delete)
				out[i] = "deleted"
			}
		}
		return out, nil
	}}})
	upsert := func(id, date string) string {
		return `{"upsert": {"id": "` + id + `", "date": "` + date + `", "text": "Something happens."}}`
	}
	long := `{"upsert": {"id": "2019-06-01/long", "date": "2019-06-01", "text": "` + strings.Repeat("a", 1<<20) + `"}}`
	lines := []struct {
		text      string
		wantError string // "" for a line applied
	}{
		{upsert("2019-06-01/a-flamingo-escapes", "2019-06-01"), ""},
		{upsert("0001-01-01/null-date", "0001-01-01"), "date 0001-01-01 is outside the accepted range 1800-01-01 to 2199-12-31"},
		{upsert("9999-12-31/far-future", "9999-12-31"), "date 9999-12-31 is outside the accepted range"},
		{upsert("../../etc/passwd", "2019-06-01"), `id "../../etc/passwd" does not start with the event's date 2019-06-01`},
		{upsert("2019-06-01/x/related", "2019-06-01"), "not '/'"},
		{upsert("2019-06-01/"+strings.Repeat("a", 200000), "2019-06-01"), "slug of 200000 characters, more than 128"},
		{long, fmt.Sprintf("line 7 is %d bytes, longer than the 1048576-byte limit of a line", len(long))},
		{upsert("2019-06-02/after-the-long-line", "2019-06-02"), ""},
		{`{"delete": " 2019-06-01/a-flamingo-escapes "}`, ""}, // trimmed, as an upsert's id is
		// encoding/json keeps the last of a repeated key: b alone deleted,
		// or the event filed with its second text.
		{`{"delete": "2019-06-01/a", "delete": "2019-06-01/b"}`, `"delete" is given more than once`},
		{`{"upsert": {"id": "2019-06-01/c", "date": "2019-06-01", "text": "A.", "text": "B."}}`, `upsert: field "text" is given more than once`},
		{`{"upsert": {"id": "2019-06-01/d", "date": "2019-06-01", "text": "A.", "contxt": ["Zoo"]}}`, `upsert: unknown field "contxt"`},
		{`{"upsert": {"id": "2019-06-01/e", "date": "2019-06-01", "text": "A.", "topic": "` + strings.Repeat("t", 5000) + `"}}`, `upsert: topic is 5000 bytes, more than 256`},
		// Bad bytes are named where they are on the line; a delete's id
		// was read with U+FFFD for them, a 404 for an id never sent.
		{`{"upsert": {"id": "2019-06-01/h", "date": "2019-06-01", "text": "caf` + "\xe9" + `"}}`, "invalid UTF-8 at byte 69 of the line"},
		{`{"delete": "2019-06-01/caf` + "\xe9" + `"}`, "invalid UTF-8 at byte 27 of the line"},
		// A source's misspelt field dropped its value without a word.
		{`{"upsert": {"id": "2019-06-01/f", "date": "2019-06-01", "text": "A.", "sources": [{"name": "BBC", "link": "https://bbc.example/a"}]}}`, `upsert: unknown field "sources[0].link"`},
		{`{"upsert": {"id": "2019-06-01/g", "date": "2019-06-01", "text": "A.", "Sources": [{"Name": "BBC", "URL": "https://bbc.example/a"}]}}`, ""}, // any case, as the event's fields
	}
	var body strings.Builder
	body.WriteString("\xef\xbb\xbf") // a byte-order mark, as some editors save: not part of line 1
	for _, l := range lines {
		body.WriteString(l.text + "\n")
	}
	code, answer := bulk(t, s, body.String())
	if code != http.StatusOK {
		t.Fatalf("status %d: %.300s", code, answer)
	}
	var res BulkResult
	if err := json.Unmarshal([]byte(answer), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != len(lines) || !res.Errors {
		t.Fatalf("%d items (errors %v), want %d: %.500s", len(res.Items), res.Errors, len(lines), answer)
	}
	for i, l := range lines {
		it := res.Items[i]
		switch {
		case it.Line != i+1:
			t.Errorf("item %d is about line %d", i+1, it.Line)
		case l.wantError == "" && it.Status >= 300:
			t.Errorf("line %d: %+v, want it applied", i+1, it)
		case l.wantError != "" && (it.Status != http.StatusBadRequest || !strings.Contains(it.Error, l.wantError)):
			t.Errorf("line %d: %d %q, want 400 containing %q", i+1, it.Status, it.Error, l.wantError)
		}
	}
	// A refused upsert whose id reads names it, as an applied one does:
	// indexer push reports the events refused by their ids.
	for line, id := range map[int]string{2: "0001-01-01/null-date", 6: "2019-06-01/" + strings.Repeat("a", 128) + "…", 13: "2019-06-01/e", 16: "2019-06-01/f"} {
		if got := res.Items[line-1].ID; got != id {
			t.Errorf("line %d refused with id %q, want %q", line, got, id)
		}
	}
	want := []string{"2019-06-01/a-flamingo-escapes", "2019-06-02/after-the-long-line", "delete 2019-06-01/a-flamingo-escapes", "2019-06-01/g"}
	if strings.Join(applied, ",") != strings.Join(want, ",") {
		t.Errorf("applied %v, want %v", applied, want)
	}
}

// TestMetricsAuth: /metrics is public by default; with a MetricsKey it
// answers 401 (JSON) without the key or with another, 200 with it.
func TestMetricsAuth(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("newsdesk_index_events 8\n")) })
	tests := []struct {
		name, key, auth string
		want            int
	}{
		{"public by default", "", "", http.StatusOK},
		{"no key sent", testKey, "", http.StatusUnauthorized},
		{"wrong key", testKey, "Bearer wrong-key-0123456789", http.StatusUnauthorized},
		{"basic auth", testKey, "Basic " + testKey, http.StatusUnauthorized},
		{"the key", testKey, "Bearer " + testKey, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(Config{MetricsHandler: metrics, MetricsKey: tc.key})
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body.String())
			}
			if tc.want == http.StatusUnauthorized && (!json.Valid(rec.Body.Bytes()) || !strings.Contains(rec.Body.String(), codeUnauthorized) || rec.Header().Get("WWW-Authenticate") == "") {
				t.Errorf("401 without the JSON error and WWW-Authenticate: %v %s", rec.Header(), rec.Body.String())
			}
			if tc.want == http.StatusOK && !strings.Contains(rec.Body.String(), "newsdesk_index_events") {
				t.Errorf("metrics body: %s", rec.Body.String())
			}
		})
	}
}

// TestBulk_Outcomes checks what a bulk request answers for each outcome
// of applying it: applied, refused for want of disk space (nothing
// applied), failed (nothing applied), or journaled but not visible.
func TestBulk_Outcomes(t *testing.T) {
	body := `{"upsert": {"id": "2019-06-01/a-flamingo-escapes", "date": "2019-06-01", "text": "A flamingo escapes."}}` + "\n" +
		`{"delete": "2019-06-01/never-there"}` + "\n"
	tests := []struct {
		name       string
		results    []string
		err        error
		wantStatus int
		wantBody   []string
	}{
		{"applied", []string{"created", "not_found"}, nil, http.StatusOK, []string{`"result":"created"`, `"status":404`}},
		{"disk full", nil, fmt.Errorf("update refused: %w", newsdesk.ErrNoSpace), http.StatusInsufficientStorage,
			[]string{`"code":"insufficient_storage"`, "nothing was applied"}},
		{"failed", nil, errors.New("journal: input/output error"), http.StatusInternalServerError, []string{`"code":"internal"`}},
		{"journaled, not visible", []string{"created", "not_found"}, fmt.Errorf("%w: reopening failed", ErrAccepted), http.StatusAccepted,
			[]string{`"result":"accepted","error":"updates accepted, not visible yet: reopening failed"`, `"status":202`, `"result":"not_found"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(Config{Admin: &Admin{Key: testKey, Bulk: func(context.Context, []Update) ([]string, error) { return tc.results, tc.err }}})
			req := httptest.NewRequest(http.MethodPost, "/admin/events/_bulk", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+testKey)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Errorf("status %d, want %d: %s", rec.Code, tc.wantStatus, rec.Body.String())
			}
			for _, want := range tc.wantBody {
				if !strings.Contains(rec.Body.String(), want) {
					t.Errorf("body %s lacks %s", rec.Body.String(), want)
				}
			}
		})
	}
}

// TestBulk_LongerThanTheWriteTimeout: a bulk request applied in longer
// than the server's write timeout (set for searches) still gets its
// answer; it was applied and journaled, and the client got none.
func TestBulk_LongerThanTheWriteTimeout(t *testing.T) {
	// With metrics on, as searchd runs: the deadline reaches the
	// connection through the writer that observes the status.
	s := newServer(Config{Metrics: &observed{}, Admin: &Admin{Key: testKey, Bulk: func(_ context.Context, us []Update) ([]string, error) {
		time.Sleep(300 * time.Millisecond)
		return []string{"created"}, nil
	}}})
	ts := httptest.NewUnstartedServer(s)
	ts.Config.WriteTimeout = 50 * time.Millisecond
	ts.Start()
	defer ts.Close()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/admin/events/_bulk",
		strings.NewReader(`{"upsert": {"id": "2019-06-01/a-flamingo-escapes", "date": "2019-06-01", "text": "A flamingo escapes."}}`))
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("a bulk request longer than the write timeout: %v", err)
	}
	defer resp.Body.Close()
	var res BulkResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != http.StatusOK || len(res.Items) != 1 {
		t.Errorf("%d %+v %v; want the item's answer", resp.StatusCode, res, err)
	}
}

func TestEchoID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		most int
		want string
	}{
		{"2019-06-01/a", 139, "2019-06-01/a"},
		{strings.Repeat("z", 139), 139, strings.Repeat("z", 139)},
		{strings.Repeat("z", 5000), maxEchoedID, strings.Repeat("z", maxEchoedID) + "…"},
		{"ab" + strings.Repeat("é", 10), 5, "abé…"}, // whole characters
	} {
		if got := echoID(tc.id, tc.most); got != tc.want {
			t.Errorf("echoID(%.20q, %d) = %q, want %q", tc.id, tc.most, got, tc.want)
		}
	}
}
