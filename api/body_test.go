package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/search"
)

// send sends a request with a body through the real router and decodes
// the JSON answer.
func send(t *testing.T, s http.Handler, method, target, contentType, body string, header ...string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %s", method, target, rec.Code, rec.Body.String())
	}
	return rec.Code, out
}

// sameAnswer compares two search answers but for the time they took and
// the ids of the requests.
func sameAnswer(a, b map[string]any) bool {
	for _, m := range []map[string]any{a, b} {
		delete(m, "took_ms")
		if e, ok := m["error"].(map[string]any); ok {
			delete(e, "request_id")
		}
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// TestSearchBody sends POST /v1/search bodies: each answers as the GET
// with the same parameters does, errors included.
func TestSearchBody(t *testing.T) {
	s := newServer(Config{})
	tests := []struct {
		name, body, query string
	}{
		{"words", `{"q": "peace talks"}`, "q=peace+talks"},
		{"everything", `{"q": "talks", "from": "2016-01-01", "to": "2017-12-31", "topic": ["Syrian peace process", "Syrian Civil War"],
			"sort": "-date", "size": 2, "page": 2, "facets": 3, "highlight": true}`,
			"q=talks&from=2016-01-01&to=2017-12-31&topic=Syrian+peace+process&topic=Syrian+Civil+War&sort=-date&size=2&page=2&facets=3&highlight=true"},
		{"a filter alone", `{"context": ["Astana"]}`, "context=Astana"},
		// JSON has one kind of number: a client that holds them all as
		// floats sends 5.0 for 5.
		{"whole numbers written as floats", `{"q": "talks", "size": 5.0, "page": 2e0, "facets": 0.3e1}`, "q=talks&size=5&page=2&facets=3"},
		{"size out of range", `{"q": "x", "size": 101}`, "q=x&size=101"},
		{"bad date", `{"q": "x", "from": "2017-02-30"}`, "q=x&from=2017-02-30"},
		{"no q nor filter", `{"highlight": true}`, "highlight=true"},
		{"bad sort", `{"q": "x", "sort": "newest"}`, "q=x&sort=newest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := send(t, s, http.MethodPost, "/v1/search", "application/json", tc.body)
			wantCode, want, _ := get(t, s, "/v1/search?"+tc.query)
			if code != wantCode || !sameAnswer(body, want) {
				t.Errorf("POST %s: %d %v\nGET ?%s: %d %v", tc.body, code, body, tc.query, wantCode, want)
			}
		})
	}
	refused := []struct {
		name, target, contentType, body string
		status                          int
		code, param                     string
	}{
		{"unknown field", "/v1/search", "application/json", `{"q": "x", "colour": "red"}`, 400, codeUnknownParam, "colour"},
		{"a field in capitals", "/v1/search", "application/json", `{"Q": "war"}`, 400, codeUnknownParam, "Q"},
		{"a field twice, in two cases", "/v1/search", "application/json", `{"q": "war", "Q": "x"}`, 400, codeUnknownParam, "Q"},
		{"a query string too", "/v1/search?q=x", "application/json", `{"q": "x"}`, 400, codeUnknownParam, "q"},
		{"empty", "/v1/search", "application/json", ``, 400, codeInvalid, "q"},
		{"not JSON", "/v1/search", "application/json", `q=x`, 400, codeInvalid, ""},
		{"a filter not an array", "/v1/search", "application/json", `{"topic": "Astana"}`, 400, codeInvalid, "topic"},
		{"size a string", "/v1/search", "application/json", `{"q": "x", "size": "5"}`, 400, codeInvalid, "size"},
		{"size with a fraction", "/v1/search", "application/json", `{"q": "x", "size": 1.5}`, 400, codeInvalid, "size"},
		{"q a list", "/v1/search", "application/json", `{"q": ["x"]}`, 400, codeInvalid, "q"},
		{"two values", "/v1/search", "application/json", `{"q": "x"} {"q": "y"}`, 400, codeInvalid, ""},
		{"a stray bracket after the body", "/v1/search", "application/json", `{"q": "x"}]`, 400, codeInvalid, ""},
		{"too many filter values", "/v1/search", "application/json", `{"topic": [` + strings.Repeat(`"a",`, MaxFilterValues) + `"a"]}`, 400, codeInvalid, "topic"},
		{"another type", "/v1/search", "text/plain", `{"q": "x"}`, 415, codeInvalid, "Content-Type"},
		// Bad bytes are refused, as in a URL; encoding/json read them as U+FFFD.
		{"q not UTF-8", "/v1/search", "application/json", "{\"q\": \"war\xff\"}", 400, codeInvalid, ""},
		{"a draft not UTF-8", "/v1/related", "application/json", "{\"text\": \"peace talks\xff in astana\"}", 400, codeInvalid, ""},
		// encoding/json keeps the last of a key given twice.
		{"a field twice", "/v1/search", "application/json", `{"q": "syria", "q": "brexit"}`, 400, codeInvalid, "q"},
		{"a weight twice", "/v1/related", "application/json", `{"text": "x", "weights": {"topic": 1, "topic": 2}}`, 400, codeInvalid, "weights.topic"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			code, body := send(t, s, http.MethodPost, tc.target, tc.contentType, tc.body)
			e, _ := body["error"].(map[string]any)
			if code != tc.status || e == nil || e["code"] != tc.code || (e["param"] != nil || tc.param != "") && e["param"] != tc.param {
				t.Errorf("%d %v, want %d %s naming %q", code, body, tc.status, tc.code, tc.param)
			}
		})
	} // A body not an object says so in JSON's words, not Go's.
	for body, kind := range map[string]string{`[]`: "an array", `"x"`: "a string", `5`: "a number", `true`: "true or false"} {
		code, got := send(t, s, http.MethodPost, "/v1/search", "application/json", body)
		e, _ := got["error"].(map[string]any)
		if msg, _ := e["message"].(string); code != 400 || msg != "the body must be a JSON object, got "+kind {
			t.Errorf("POST %s: %d %v, want 400 saying it got %s", body, code, got, kind)
		}
	}
}

// TestNewSearchBody checks that a search.Request becomes the body that
// asks for it.
func TestNewSearchBody(t *testing.T) {
	from := time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)
	var got search.Request
	s := New(Config{Searcher: func() Searcher {
		return fake{search: func(context.Context) (*search.Result, error) { return &search.Result{}, nil }, got: &got}
	}})
	want := search.Request{Q: "peace", From: from, Topics: []string{"A", "B"}, Contexts: []string{"C"}, Sort: query.SortDateDesc,
		Size: 3, Page: 2, Facets: 5, Highlight: true}
	b, _ := json.Marshal(NewSearchBody(want))
	if code, body := send(t, s, http.MethodPost, "/v1/search", "application/json", string(b)); code != http.StatusOK {
		t.Fatalf("%s: %d %v", b, code, body)
	}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Errorf("the body %s asked for\n%s\nwant\n%s", b, gj, wj)
	}
	if b, _ := json.Marshal(NewSearchBody(search.Request{Q: "x"})); string(b) != `{"q":"x"}` {
		t.Errorf("defaults left out: %s", b)
	}
}

// TestContentTypes sends each JSON endpoint's body with curl's default
// Content-Type (-d sends application/x-www-form-urlencoded): it is read as
// JSON. Another type gets 415 naming the one to send.
func TestContentTypes(t *testing.T) {
	s := newServer(Config{Admin: &Admin{Key: testKey, Bulk: func(_ context.Context, us []Update) ([]string, error) {
		return make([]string, len(us)), nil
	}}})
	auth := []string{"Authorization", "Bearer " + testKey}
	bulk := `{"delete": "2017-01-23/x"}`
	tests := []struct {
		name, target, contentType, body string
		header                          []string
		status                          int
		named                           string // the media type a 415 names
	}{
		{"search, curl -d", "/v1/search", curlForm, `{"q": "astana"}`, nil, 200, ""},
		{"search, JSON with a charset", "/v1/search", "application/json; charset=utf-8", `{"q": "astana"}`, nil, 200, ""},
		{"search, no type", "/v1/search", "", `{"q": "astana"}`, nil, 200, ""},
		{"search, text", "/v1/search", "text/plain", `{"q": "astana"}`, nil, 415, "application/json"},
		{"related, curl -d", "/v1/related", curlForm, `{"text": "Peace talks in Astana"}`, nil, 200, ""},
		{"related, multipart", "/v1/related", "multipart/form-data; boundary=x", `{"text": "x"}`, nil, 415, "application/json"},
		{"related, a form really", "/v1/related", curlForm, `text=Peace+talks`, nil, 400, ""},
		{"bulk, curl --data-binary", "/admin/events/_bulk", curlForm, bulk, auth, 200, ""},
		{"bulk, NDJSON", "/admin/events/_bulk", "application/x-ndjson", bulk, auth, 200, ""},
		{"bulk, NDJSON's registered type", "/admin/events/_bulk", "application/ndjson", bulk, auth, 200, ""},
		{"bulk, text", "/admin/events/_bulk", "text/plain", bulk, auth, 415, "application/x-ndjson"},
		// A compressed body is refused by name, not read as bytes.
		{"search, gzip", "/v1/search", "application/json", `{"q": "astana"}`, []string{"Content-Encoding", "gzip"}, 415, ""},
		{"bulk, gzip", "/admin/events/_bulk", "application/x-ndjson", bulk, append([]string{"Content-Encoding", "gzip"}, auth...), 415, ""},
		{"search, identity", "/v1/search", "application/json", `{"q": "astana"}`, []string{"Content-Encoding", "identity"}, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := send(t, s, http.MethodPost, tc.target, tc.contentType, tc.body, tc.header...)
			if code != tc.status {
				t.Fatalf("%d %v, want %d", code, body, tc.status)
			}
			if tc.named != "" {
				e := body["error"].(map[string]any)
				if msg, _ := e["message"].(string); !strings.Contains(msg, "Content-Type: "+tc.named) || e["param"] != "Content-Type" {
					t.Errorf("415 %v, want it to name %s", e, tc.named)
				}
			}
		})
	}
}

func TestWholeNumbers(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"size": 5.0}`, `{"size": 5}`},
		{`{"size": 5}`, `{"size": 5}`},
		{`{"size":1e2,"page":-2.00E+0}`, `{"size":100,"page":-2}`},
		{`{"weights": {"max_per_day": 3.0, "near": 0.5}}`, `{"weights": {"max_per_day": 3, "near": 0.5}}`},
		{`{"size": 1.5}`, `{"size": 1.5}`},     // refused by the field, as before
		{`{"size": 1e300}`, `{"size": 1e300}`}, // no integer meant: out of range, as before
		{`{"n": 9007199254740993.0, "m": 9007199254740991.0}`, `{"n": 9007199254740993.0, "m": 9007199254740991}`}, // 2^53+1 is no float's
		{`{"q": "size 5.0 \" 2.0", "size": 2.0}`, `{"q": "size 5.0 \" 2.0", "size": 2}`},                           // strings untouched
		{`{"size": 5.0`, `{"size": 5.0`}, // invalid: as sent
		{`[1.0, "e", 2.50]`, `[1, "e", 2.50]`},
	}
	for _, tc := range tests {
		if got := string(wholeNumbers([]byte(tc.in))); got != tc.want {
			t.Errorf("wholeNumbers(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
