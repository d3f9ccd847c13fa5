package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/gorilla/mux"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/metrics"
	"github.com/newsdesk/newsdesk/related"
	"github.com/newsdesk/newsdesk/search"
	"github.com/newsdesk/newsdesk/serving"
	"github.com/newsdesk/newsdesk/testindex"
	"github.com/newsdesk/newsdesk/web"
)

const docKey = "openapi-test-admin-key-0123456789"

// loadDoc loads the served document and validates it with kin-openapi's
// own checks of the OpenAPI 3.1 specification: the document lints clean.
func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPI)
	if err != nil {
		t.Fatalf("openapi.json does not load: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi.json is OpenAPI %s, want 3.1.0", doc.OpenAPI)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	return doc
}

// servers returns searchd's handler as searchd builds it (admin routes,
// pages, metrics behind the key), over the fixture index served as
// searchd serves it; one not ready yet (no index open); and one whose
// only in-flight slot is held, with release to free it.
func servers(t *testing.T) (ready *Server, notReady, full http.Handler, release func()) {
	t.Helper()
	d := testindex.Build(t, t.TempDir(), "testdata/events.jsonl")
	srv := serving.New(serving.Config{Dir: d})
	t.Cleanup(func() { srv.Close() })
	if _, err := srv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	pages, err := web.New(func() web.Source { return srv.Engine() })
	if err != nil {
		t.Fatal(err)
	}
	met := metrics.New(srv)
	ready = New(Config{
		Searcher: func() Searcher { return srv.Engine() },
		Info: func() Info {
			i := srv.Info()
			return Info{Generation: i.Generation, Events: i.Events, FirstDate: i.FirstDate, LastDate: i.LastDate,
				IndexBytes: i.DiskBytes, UpdateSeq: i.Applied}
		},
		Position: srv.Position,
		Pages:    pages, Metrics: met, MetricsHandler: met.Handler(), MetricsKey: docKey,
		Admin: &Admin{Key: docKey,
			Reload: func(ctx context.Context) (any, error) { return srv.Load(ctx) },
			Bulk: func(ctx context.Context, us []Update) ([]string, error) {
				updates := make([]index.Update, len(us))
				for i, u := range us {
					updates[i] = index.Update{Upsert: u.Upsert, Delete: u.Delete}
				}
				return srv.Update(ctx, updates)
			}},
	})
	nopages, _ := web.New(func() web.Source { return nil })
	notReady = New(Config{Searcher: func() Searcher { return nil }, Pages: nopages,
		Ready: func() error { return errors.New("no index yet: building one: 42%") }})
	hold := make(chan struct{})
	blocked := blocking{hold: hold, started: make(chan struct{}, 1)}
	fullPages, _ := web.New(func() web.Source { return blocked })
	full = New(Config{Searcher: func() Searcher { return blocked }, Pages: fullPages,
		InFlight: 1, Queue: 1, QueueWait: time.Millisecond})
	// One search holds the only slot until release.
	go full.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v1/search?q=x", nil))
	<-blocked.started
	return ready, notReady, full, func() { close(hold) }
}

// blocking is an engine whose calls wait for hold.
type blocking struct {
	hold    chan struct{}
	started chan struct{}
}

func (b blocking) Search(context.Context, search.Request) (*search.Result, error) {
	b.started <- struct{}{}
	<-b.hold
	return &search.Result{}, nil
}
func (b blocking) Event(context.Context, string) (newsdesk.Event, error) {
	<-b.hold
	return newsdesk.Event{}, nil
}
func (b blocking) Suggest(string, int) []search.Name { <-b.hold; return nil }
func (b blocking) Related(context.Context, related.Request) ([]related.Item, error) {
	<-b.hold
	return nil, nil
}

// call is one request sent to an operation of the document.
type call struct {
	op      string // the document's path template
	method  string
	target  string
	params  map[string]string // path parameters
	header  []string          // name, value, ...
	body    string
	status  int
	server  string // "" (ready), "notReady" or "full"
	invalid bool   // the request breaks the API's rules on purpose: only the answer is validated
}

func calls() []call {
	auth := []string{"Authorization", "Bearer " + docKey}
	ct := func(t string) []string { return []string{"Content-Type", t} }
	id := map[string]string{"id": astana}
	bulk := `{"upsert": {"id": "2019-06-01/a-flamingo-escapes-from-the-zoo", "date": "2019-06-01", "text": "A flamingo escapes from the zoo."}}
{"delete": "2017-01-23/no-such-event"}
not json`
	return []call{
		{op: "/v1/search", method: "GET", target: "/v1/search?q=astana+peace&facets=5&highlight=true&size=2", status: 200},
		// A range beyond the last event: no hit, a histogram of its one day.
		{op: "/v1/search", method: "GET", target: "/v1/search?from=2199-01-01&facets=3", status: 200},
		// Nothing can match: the facets asked for, empty.
		{op: "/v1/search", method: "GET", target: "/v1/search?q=-peace&facets=3", status: 200},
		{op: "/v1/search", method: "GET", target: "/v1/search?to=1800-01-01&facets=3", status: 200},
		{op: "/v1/search", method: "GET", target: "/v1/search?topic=Syrian+peace+process&sort=-date&size=1", status: 200},
		{op: "/v1/search", method: "GET", target: "/v1/search?q=irann", status: 200},
		{op: "/v1/search", method: "GET", target: "/v1/search?q=cyclone+march+2019", status: 200}, // a date boost
		{op: "/v1/search", method: "GET", target: "/v1/search?q=astana", header: []string{"If-None-Match", "*"}, status: 304},
		{op: "/v1/search", method: "GET", target: "/v1/search?q=x&size=0", status: 400, invalid: true},
		{op: "/v1/search", method: "GET", target: "/v1/search?q=x&colour=red", status: 400, invalid: true},
		{op: "/v1/search", method: "GET", target: "/v1/search?q=" + strings.Repeat("a", 9000), status: 414, invalid: true},
		{op: "/v1/search", method: "GET", target: "/v1/search?q=x", status: 503, server: "notReady"},
		{op: "/v1/search", method: "GET", target: "/v1/search?q=x", status: 429, server: "full"},
		{op: "/v1/search", method: "POST", target: "/v1/search", header: ct("application/json"), body: `{"q": "astana", "facets": 3, "context": ["Astana"]}`, status: 200},
		{op: "/v1/search", method: "POST", target: "/v1/search", header: ct("application/json"), body: `{"q": "x", "colour": "red"}`, status: 400, invalid: true},
		{op: "/v1/search", method: "POST", target: "/v1/search", header: ct("text/plain"), body: `{"q": "x"}`, status: 415, invalid: true},
		{op: "/v1/search", method: "POST", target: "/v1/search", header: ct("application/json"), body: `{"q": "` + strings.Repeat("a", 70<<10) + `"}`, status: 413, invalid: true},
		{op: "/v1/suggest", method: "GET", target: "/v1/suggest?q=syr&size=3", status: 200},
		{op: "/v1/suggest", method: "GET", target: "/v1/suggest?q=", status: 400, invalid: true},
		{op: "/v1/events/{id}", method: "GET", target: "/v1/events/" + astana, params: id, status: 200},
		{op: "/v1/events/{id}", method: "GET", target: "/v1/events/2017-01-23/no-such-event", params: map[string]string{"id": "2017-01-23/no-such-event"}, status: 404},
		{op: "/v1/events/{id}", method: "GET", target: "/v1/events/" + astana + "?x=1", params: id, status: 400, invalid: true},
		{op: "/v1/events/{id}/related", method: "GET", target: "/v1/events/" + astana + "/related?size=3&direction=before&text_weight=2&date_floor=0.5", params: id, status: 200},
		{op: "/v1/events/{id}/related", method: "GET", target: "/v1/events/" + astana + "/related", params: id, header: []string{"If-None-Match", "*"}, status: 304},
		{op: "/v1/events/{id}/related", method: "GET", target: "/v1/events/2017-01-23/no-such-event/related", params: map[string]string{"id": "2017-01-23/no-such-event"}, header: []string{"If-None-Match", "*"}, status: 404},
		{op: "/v1/events/{id}/related", method: "GET", target: "/v1/events/" + astana + "/related?date_floor=2", params: id, status: 400, invalid: true},
		{op: "/v1/related", method: "POST", target: "/v1/related", header: ct("application/json"), body: `{"text": "Ceasefire talks in Astana", "date": "2017-01-25", "context": ["Astana"], "size": 2, "direction": "before"}`, status: 200},
		{op: "/v1/related", method: "POST", target: "/v1/related", header: ct("application/x-www-form-urlencoded"), body: `{"text": "Ceasefire talks in Astana"}`, status: 200, invalid: true},
		{op: "/v1/related", method: "POST", target: "/v1/related", header: ct("application/json"), body: `{}`, status: 400, invalid: true},
		{op: "/v1/related", method: "POST", target: "/v1/related", header: ct("text/plain"), body: `{"text": "x"}`, status: 415, invalid: true},
		{op: "/v1/info", method: "GET", target: "/v1/info", status: 200},
		{op: "/v1/info", method: "GET", target: "/v1/info", status: 200, server: "notReady"},
		{op: "/v1/info", method: "GET", target: "/v1/info?x=1", status: 400, invalid: true},
		{op: "/livez", method: "GET", target: "/livez", status: 200},
		{op: "/readyz", method: "GET", target: "/readyz", status: 200},
		{op: "/readyz", method: "GET", target: "/readyz", status: 503, server: "notReady"},
		{op: "/metrics", method: "GET", target: "/metrics", header: auth, status: 200},
		{op: "/metrics", method: "GET", target: "/metrics", status: 401},
		{op: "/openapi.json", method: "GET", target: "/openapi.json", status: 200},
		{op: "/admin/events/_bulk", method: "POST", target: "/admin/events/_bulk", header: append(ct("application/x-ndjson"), auth...), body: bulk, status: 200},
		{op: "/admin/events/_bulk", method: "POST", target: "/admin/events/_bulk", header: append(ct("application/x-ndjson"), auth...), body: "", status: 400, invalid: true},
		{op: "/admin/events/_bulk", method: "POST", target: "/admin/events/_bulk", header: ct("application/x-ndjson"), body: bulk, status: 401, invalid: true},
		{op: "/admin/events/_bulk", method: "POST", target: "/admin/events/_bulk", header: append(ct("text/plain"), auth...), body: bulk, status: 415, invalid: true},
		{op: "/admin/reload", method: "POST", target: "/admin/reload", header: auth, status: 200},
		{op: "/admin/reload", method: "POST", target: "/admin/reload", status: 401, invalid: true},
		{op: "/", method: "GET", target: "/", status: 200},
		{op: "/events/{id}", method: "GET", target: "/events/" + astana, params: id, status: 200},
		{op: "/events/{id}", method: "GET", target: "/events/2017-01-23/no-such-event", params: map[string]string{"id": "2017-01-23/no-such-event"}, status: 404},
		{op: "/events/{id}", method: "GET", target: "/events/" + astana, params: id, status: 503, server: "notReady"},
		{op: "/events/{id}", method: "GET", target: "/events/" + astana, params: id, status: 429, server: "full"},
		{op: "/widget.js", method: "GET", target: "/widget.js", status: 200},
		{op: "/static/{file}", method: "GET", target: "/static/search.js", params: map[string]string{"file": "search.js"}, status: 200},
		{op: "/static/{file}", method: "GET", target: "/static/style.css", params: map[string]string{"file": "style.css"}, status: 200},
		{op: "/static/{file}", method: "GET", target: "/static/nothing.js", params: map[string]string{"file": "nothing.js"}, status: 404},
	}
}

func (c call) request() *http.Request {
	req := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
	for i := 0; i+1 < len(c.header); i += 2 {
		req.Header.Set(c.header[i], c.header[i+1])
	}
	return req
}

// TestOpenAPI sends requests to every operation of the document through
// the real router, and validates each answer (status, documented
// headers, body) against the document with kin-openapi; each request
// meant to be valid is validated too. HEAD is checked against GET.
func TestOpenAPI(t *testing.T) {
	doc := loadDoc(t)
	ready, notReady, full, release := servers(t)
	defer release()
	handlers := map[string]http.Handler{"": ready, "notReady": notReady, "full": full}
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			if in.SecurityScheme.Scheme == "bearer" && !strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
				return errors.New("no bearer key")
			}
			return nil
		},
	}
	succeeded := map[string]bool{} // operations answered with a 2xx
	for _, c := range calls() {
		t.Run(c.method+" "+c.target[:min(len(c.target), 80)]+" "+c.server, func(t *testing.T) {
			pi := doc.Paths.Value(c.op)
			if pi == nil {
				t.Fatalf("the document has no path %s", c.op)
			}
			op := pi.GetOperation(c.method)
			if op == nil {
				t.Fatalf("the document has no %s %s", c.method, c.op)
			}
			route := &routers.Route{Spec: doc, Path: c.op, PathItem: pi, Method: c.method, Operation: op}
			in := &openapi3filter.RequestValidationInput{Request: c.request(), PathParams: c.params, Route: route, Options: opts}
			if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil && !c.invalid {
				t.Errorf("the request does not follow the document: %v", err)
			}
			rec := httptest.NewRecorder()
			handlers[c.server].ServeHTTP(rec, c.request())
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %.300s", rec.Code, c.status, rec.Body.String())
			}
			out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
				Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())), Options: opts}
			if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
				t.Errorf("the answer does not follow the document: %v\n%.600s", err, rec.Body.String())
			}
			// "default" stands for the errors any request may get, and no other.
			if op.Responses.Status(rec.Code) == nil && !slices.Contains([]int{413, 414, 431, 500}, rec.Code) {
				t.Errorf("status %d is not one the operation lists, nor one of the default errors", rec.Code)
			}
			if rec.Code/100 == 2 {
				succeeded[c.method+" "+c.op] = true
			}
			if c.method == http.MethodGet {
				head := c.request()
				head.Method = http.MethodHead
				hrec := httptest.NewRecorder()
				handlers[c.server].ServeHTTP(hrec, head)
				if hrec.Code != rec.Code && c.server != "full" {
					t.Errorf("HEAD: status %d, GET %d", hrec.Code, rec.Code)
				}
			}
		})
	}
	for path, pi := range doc.Paths.Map() {
		for method := range pi.Operations() {
			if !succeeded[method+" "+path] {
				t.Errorf("%s %s: no request got a 2xx answer: the test does not exercise it", method, path)
			}
		}
	}
}

// template turns a mux route's path template into the document's: the
// patterns of its variables left out ({id:.+} is {id}), and a prefix
// route (/static/) followed by its one variable ({file}).
var muxVar = regexp.MustCompile(`\{([^:}]+):[^}]*\}`)

// TestOpenAPI_Routes walks the router searchd serves (admin routes,
// pages, metrics all on): every route and method is an operation of the
// document, and every operation a route. HEAD, answered by every GET
// route, is described by the GET.
func TestOpenAPI_Routes(t *testing.T) {
	doc := loadDoc(t)
	ready, _, _, release := servers(t)
	defer release()
	var routes []string
	err := ready.router.Walk(func(r *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tmpl, err := r.GetPathTemplate()
		if err != nil {
			return err
		}
		tmpl = muxVar.ReplaceAllString(tmpl, "{$1}")
		if re, _ := r.GetPathRegexp(); !strings.HasSuffix(re, "$") {
			tmpl += "{file}" // a prefix route: the rest of the path is one variable
		}
		methods, err := r.GetMethods()
		if err != nil {
			return err
		}
		hasGet := slices.Contains(methods, http.MethodGet)
		for _, m := range methods {
			if m == http.MethodHead && hasGet {
				continue
			}
			routes = append(routes, m+" "+tmpl)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for path, pi := range doc.Paths.Map() {
		for method := range pi.Operations() {
			ops = append(ops, method+" "+path)
		}
	}
	sort.Strings(routes)
	sort.Strings(ops)
	for _, r := range routes {
		if !slices.Contains(ops, r) {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, d := range ops {
		if !slices.Contains(routes, d) {
			t.Errorf("openapi.json describes %s, which no route serves", d)
		}
	}
	if len(routes) < 15 {
		t.Errorf("only %d routes found: %v", len(routes), routes)
	}
}

// TestOpenAPI_RelatedDefaults checks that the document's defaults of the
// related-stories weights are the ranking's: they were refitted without
// the document following.
func TestOpenAPI_RelatedDefaults(t *testing.T) {
	doc := loadDoc(t)
	w := related.DefaultWeights
	for name, want := range map[string]float64{
		"text_weight":    w.Text,
		"context_weight": w.Context,
		"topic_weight":   w.Topic,
		"half_life_days": w.HalfLifeDays,
		"date_floor":     w.Floor,
		"max_per_day":    float64(w.MaxPerDay),
	} {
		p := doc.Components.Parameters[name]
		if p == nil || p.Value == nil || p.Value.Schema == nil || p.Value.Schema.Value == nil {
			t.Errorf("parameter %s: not in the document's components", name)
			continue
		}
		if got, ok := p.Value.Schema.Value.Default.(float64); !ok || got != want {
			t.Errorf("parameter %s: default %v in openapi.json, want DefaultWeights' %v", name, p.Value.Schema.Value.Default, want)
		}
	}
}

// TestOpenAPI_Weights checks that the document's Weights schema has every
// weight the ranking takes, and only those, none required: the body's
// weights take any subset (a weight added to related.Weights without the
// document following was refused by clients that check it).
func TestOpenAPI_Weights(t *testing.T) {
	doc := loadDoc(t)
	s := doc.Components.Schemas["Weights"]
	if s == nil || s.Value == nil {
		t.Fatal("no Weights schema in the document's components")
	}
	var fields []string
	typ := reflect.TypeFor[related.Weights]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		fields = append(fields, name)
	}
	var props []string
	for name := range s.Value.Properties {
		props = append(props, name)
	}
	slices.Sort(fields)
	slices.Sort(props)
	if !slices.Equal(fields, props) {
		t.Errorf("Weights schema properties %v, want related.Weights' fields %v", props, fields)
	}
	if len(s.Value.Required) > 0 {
		t.Errorf("Weights schema requires %v; any subset is accepted", s.Value.Required)
	}
}
