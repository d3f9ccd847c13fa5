package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/related"
	"github.com/newsdesk/newsdesk/search"
	"github.com/newsdesk/newsdesk/version"
)

// Searcher is what the API serves; *search.Engine implements it.
type Searcher interface {
	Search(ctx context.Context, r search.Request) (*search.Result, error)
	Event(ctx context.Context, id string) (newsdesk.Event, error)
	Suggest(prefix string, limit int) []search.Name
	Related(ctx context.Context, r related.Request) ([]related.Item, error)
}

// Limits of the server, as named constants so that tests and docs agree.
const (
	DefaultTimeout     = 2 * time.Second        // per-request deadline
	MaxBodyBytes       = 64 << 10               // request bodies
	MaxURIBytes        = 8 << 10                // request URIs: longer ones get 414
	MaxHeaderBytes     = 64 << 10               // request line and headers: from this size on, 431
	DefaultQueueFactor = 2                      // waiting requests allowed per request in flight, by default
	QueueWait          = 100 * time.Millisecond // how long a request waits for a slot before a 429, by default
)

// ServerMaxHeaderBytes is the http.Server.MaxHeaderBytes to serve the API
// with: above MaxHeaderBytes, so that URIs and headers from MaxHeaderBytes
// up to it reach the API and get its JSON 414 or 431; beyond it Go's own
// plain-text 431 answers, before any handler runs.
const ServerMaxHeaderBytes = 1 << 20

// Config configures a Server.
type Config struct {
	// Searcher returns what to serve, or nil while nothing is ready
	// (requests then get 503). It is called once per request, so a swap of
	// the index takes effect at the next request. Required.
	Searcher func() Searcher
	// Logger receives access and error logs. The zero value logs nothing.
	Logger zerolog.Logger
	// Timeout is the per-request deadline; zero means DefaultTimeout.
	Timeout time.Duration
	// InFlight caps concurrent API requests; zero means one per CPU
	// (GOMAXPROCS). Searches are CPU-bound, and reading, parsing and
	// writing happen outside the cap, so one per CPU keeps the CPUs busy
	// (5,075-5,092 requests/s on two cores against 5,103-5,236 with four
	// per CPU) while fewer goroutines compete for them: /livez and the
	// 429s of an overload wait behind two searches, not eight.
	InFlight int
	// Queue caps the requests waiting for a slot (each at most QueueWait);
	// beyond it they get 429 at once, so that an overload costs little.
	// Zero means DefaultQueueFactor × InFlight.
	Queue int
	// QueueWait is how long a request waits for a slot before a 429;
	// zero means QueueWait (100 ms).
	QueueWait time.Duration
	// Pages, if not nil, installs more routes (the web pages) on the
	// router, behind the same middleware. It is given the API's limits as
	// a wrapper, for the pages that search: their requests then share the
	// in-flight slots and the per-request deadline with the API's.
	Pages interface {
		Install(r *mux.Router, limit func(http.Handler) http.Handler)
	}
	// Ready, if not nil, reports why the server is not ready (nil when it
	// is): /readyz answers 503 with the reason. When nil, the server is
	// ready once Searcher returns something.
	Ready func() error
	// Info, if not nil, returns what GET /v1/info answers, but for the
	// version, which the API fills in from the build. Nil answers the
	// version alone.
	Info func() Info
	// Position, if not nil, returns the served generation and how far its
	// journal of updates is applied ("" while none is served): the answers
	// of the read endpoints then carry an ETag made of them, and a GET
	// that names it in If-None-Match gets 304 (conditional.go). It is
	// called once per request, before the search, and must be cheap.
	Position func() (generation string, updateSeq int64)
	// Derived, if not nil, returns the version of what answers derive from
	// the served index in the background, and may lag its position by
	// the time a count takes (search.Engine.Derived: the names suggestions
	// and filter spellings read, the related lists' dictionary of tags):
	// it is part of the ETag too, so that an answer that changes when they
	// catch up gets a new tag. Called with Position, it must be cheap.
	Derived func() uint64
	// Admin, if not nil, enables the /admin/ routes.
	Admin *Admin
	// Metrics, if not nil, observes every request; MetricsHandler, if not
	// nil, is served at /metrics.
	Metrics        Observer
	MetricsHandler http.Handler
	// MetricsKey, if not empty, is the bearer key /metrics needs (searchd
	// -metrics-auth gives it the admin key): without it, 401.
	MetricsKey string
	// AllowedOrigins are the web origins ("https://news.example") whose
	// pages may call the API from a browser (CORS), as the related-stories
	// widget does. Empty means none.
	AllowedOrigins []string
}

// Observer records requests for metrics.
type Observer interface {
	// Observe records an answered request: its route template ("unmatched"
	// when none), method, status and duration.
	Observe(route, method string, status int, d time.Duration)
	// Rejected records a request refused for reason (401, 413, 414, 431, 429,
	// 503 answers).
	Rejected(reason string)
}

// Server is the HTTP API. It is an http.Handler and safe for concurrent use.
type Server struct {
	cfg      Config
	router   *mux.Router
	handler  http.Handler
	slots    chan struct{}
	admitted atomic.Int64 // requests holding or waiting for a slot
}

// New returns the API server for cfg.
func New(cfg Config) *Server {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.InFlight <= 0 {
		cfg.InFlight = runtime.GOMAXPROCS(0)
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueueFactor * cfg.InFlight
	}
	if cfg.QueueWait <= 0 {
		cfg.QueueWait = QueueWait
	}
	s := &Server{cfg: cfg, slots: make(chan struct{}, cfg.InFlight)}
	// Paths are taken as sent: cleaned, "./" + id, "a/../" + id or a
	// doubled slash were redirected to another id's event, which a client
	// following redirects took for the one it asked for.
	r := mux.NewRouter().SkipClean(true)
	s.router = r
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, &Error{Status: http.StatusNotFound, Code: codeNotFound, Message: "no such endpoint: " + r.URL.Path})
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// RFC 9110, 15.5.6: a 405 says which methods the resource has.
		allow := allowed(r, req)
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, req, &Error{Status: http.StatusMethodNotAllowed, Code: codeMethodNotAllowed,
			Message: req.Method + " is not allowed on " + req.URL.Path + "; it takes " + strings.Join(allow, ", ")})
	})
	s.Install(r)
	if cfg.Pages != nil {
		cfg.Pages.Install(r, s.limit)
	}
	if cfg.Admin != nil {
		s.installAdmin(r)
	}
	if cfg.MetricsHandler != nil {
		r.Handle("/metrics", cfg.MetricsHandler).Methods(http.MethodGet, http.MethodHead)
	}
	r.Use(routeNamer)
	// Outer middleware wraps the router, not r.Use, so that it sees 404s
	// and 405s too. Order, outermost first: logger, request id, access
	// log, panic recovery, CORS, admin authentication, size limits.
	var h http.Handler = r
	h = limits(h)
	h = s.adminAuth(h)
	h = cors(cfg.AllowedOrigins, h)
	h = recoverer(h)
	if cfg.Metrics != nil {
		h = observe(cfg.Metrics, h)
	}
	h = hlog.AccessHandler(func(r *http.Request, status, size int, d time.Duration) {
		hlog.FromRequest(r).Info().Str("method", r.Method).Str("path", r.URL.Path).Int("status", status).
			Int("bytes", size).Float64("took_ms", float64(d.Microseconds())/1000).Msg("request")
	})(h)
	h = requestIDs(h)
	h = hlog.NewHandler(cfg.Logger)(h)
	s.handler = h
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Install registers every route of the API on r. The whole route table is
// here.
func (s *Server) Install(r *mux.Router) {
	// No subrouter: mux answers 405 for a known path with another method
	// only on the router that has the route.
	r.Handle("/v1/search", s.api(s.handleSearch)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/v1/search", s.api(s.handleSearchBody)).Methods(http.MethodPost)
	r.Handle("/v1/suggest", s.api(s.handleSuggest)).Methods(http.MethodGet, http.MethodHead)
	// Before the event route, which would take ".../related" as part of an
	// id. An id is a date, a slash and a slug (newsdesk.Event.Validate), so
	// the related route takes two segments before "/related": the event
	// 2019-06-04/related is the event route's, its list
	// 2019-06-04/related/related this one's.
	r.Handle("/v1/events/{id:[^/]+/[^/]+}/related", s.api(s.handleRelated)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/v1/events/{id:.+}", s.api(s.handleEvent)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/v1/related", s.api(s.handleRelatedDraft)).Methods(http.MethodPost)
	r.Handle("/v1/info", http.HandlerFunc(s.handleInfo)).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/openapi.json", handleOpenAPI).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/livez", handleLive).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", http.HandlerFunc(s.handleReady)).Methods(http.MethodGet, http.MethodHead)
}

// handlerFunc is an API handler: it returns the value to answer with 200,
// or an error.
type handlerFunc func(ctx context.Context, r *http.Request, sr Searcher) (any, error)

// api adapts a handlerFunc: it applies the deadline and the concurrency
// cap, finds the searcher, and renders the result or the error.
func (s *Server) api(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The tag is read before the search: the answer is of its
		// position or a later one, never an earlier one.
		tag := s.etag(r)
		named, star := noneMatch(r, tag)
		if tag != "" && named {
			notModified(w, tag)
			return
		}
		// The body is read before a slot is taken: a client sending it
		// slowly must not hold one (two such held every search at the
		// default -in-flight).
		if err := bufferBody(r); err != nil {
			writeError(w, r, err)
			return
		}
		if !s.admit(w, r) {
			return
		}
		// The slot is held while the answer is computed, and given back
		// before it is written: a client's next request must not find
		// its previous one still counted.
		v, err := func() (any, error) {
			defer s.release()
			sr := s.cfg.Searcher()
			if sr == nil {
				return nil, &Error{Status: http.StatusServiceUnavailable, Code: codeUnavailable, RetryAfter: 1,
					Message: "the index is not ready yet"}
			}
			ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
			defer cancel()
			v, err := h(ctx, r, sr)
			if err == nil && ctx.Err() != nil {
				err = ctx.Err()
			}
			return v, err
		}()
		if err != nil {
			writeError(w, r, err)
			return
		}
		if tag != "" {
			if star {
				notModified(w, tag)
				return
			}
			setTag(w, tag)
		}
		writeJSON(w, r, http.StatusOK, v)
	})
}

// limit runs h within the API's limits, for routes that are not API
// handlers (the event pages): h waits for an in-flight slot like an API
// request (429 when none frees in time) and its request carries the
// per-request deadline.
func (s *Server) limit(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.admit(w, r) {
			return
		}
		defer s.release()
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// admit takes an in-flight slot for r, waiting at most Config.QueueWait behind
// at most Queue others; when it cannot, it answers 429 and returns false.
// A true return must be followed by release.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) bool {
	overloaded := func() bool {
		writeError(w, r, &Error{Status: http.StatusTooManyRequests, Code: codeOverloaded, RetryAfter: 1,
			Message: "the server is answering as many requests as it can; retry in a second"})
		return false
	}
	// admitted counts the requests running or waiting, each from its
	// arrival to its release by its own goroutine: a waiter handed a
	// slot but not yet scheduled must not make a newcomer look excess.
	if s.admitted.Add(1) > int64(s.cfg.InFlight+s.cfg.Queue) {
		s.admitted.Add(-1)
		return overloaded()
	}
	select {
	case s.slots <- struct{}{}:
	default:
		t := time.NewTimer(s.cfg.QueueWait)
		select {
		case s.slots <- struct{}{}:
			t.Stop()
		case <-t.C:
			s.admitted.Add(-1)
			return overloaded()
		}
	}
	return true
}

// release gives back the slot admit took.
func (s *Server) release() {
	s.admitted.Add(-1)
	<-s.slots
}

func (s *Server) handleSearch(ctx context.Context, r *http.Request, sr Searcher) (any, error) {
	req, perr := searchRequest(r)
	if perr != nil {
		return nil, perr
	}
	return sr.Search(ctx, req)
}

func (s *Server) handleSearchBody(ctx context.Context, r *http.Request, sr Searcher) (any, error) {
	req, perr := searchBodyRequest(r)
	if perr != nil {
		return nil, perr
	}
	return sr.Search(ctx, req)
}

func (s *Server) handleEvent(ctx context.Context, r *http.Request, sr Searcher) (any, error) {
	if _, err := parseParams(r, nil, nil); err != nil {
		return nil, err
	}
	id := mux.Vars(r)["id"]
	ev, err := sr.Event(ctx, id)
	if errors.Is(err, newsdesk.ErrNotFound) {
		return nil, &Error{Status: http.StatusNotFound, Code: codeNotFound, Param: "id", Message: "no event with id " + quote(id)}
	}
	return ev, err
}

// SuggestResult is the answer of GET /v1/suggest.
type SuggestResult struct {
	Suggestions []search.Name `json:"suggestions"`
}

func (s *Server) handleSuggest(_ context.Context, r *http.Request, sr Searcher) (any, error) {
	p, perr := parseParams(r, []string{"q", "size"}, nil)
	if perr != nil {
		return nil, perr
	}
	q := p.str("q")
	size := p.int("size", search.MaxSuggestions, 1, search.MaxSuggestions)
	switch {
	case p.err != nil:
		return nil, p.err
	case strings.TrimSpace(q) == "":
		return nil, badParam("q", "is required: the start of a topic or context name")
	case len(q) > MaxValueBytes:
		return nil, badParam("q", "is %d bytes; at most %d are accepted", len(q), MaxValueBytes)
	}
	return SuggestResult{Suggestions: sr.Suggest(q, size)}, nil
}

// Info is the answer of GET /v1/info: which build serves what.
type Info struct {
	// Version is the server's version, from its build (package version).
	Version string `json:"version"`
	// Generation is the served index generation; "" while none is open.
	Generation string `json:"generation"`
	// Events is the number of events served, updates included.
	Events uint64 `json:"events"`
	// FirstDate and LastDate are the served events' first and last
	// dates, YYYY-MM-DD; "" while no index is open.
	FirstDate string `json:"first_date"`
	LastDate  string `json:"last_date"`
	// IndexBytes is the size of the served index on disk.
	IndexBytes int64 `json:"index_bytes"`
	// UpdateSeq is how far the index directory's journal of bulk updates
	// is applied to the served index, in bytes of the journal: servers of
	// one directory with the same generation and UpdateSeq serve the same
	// events; a larger UpdateSeq has more updates. On a replica (searchd
	// -nats) it is the last message of the update stream the served index
	// holds, with the same meaning for all replicas.
	UpdateSeq int64 `json:"update_seq"`
	// Stream, on a replica alone, says how it follows the update stream.
	Stream *StreamInfo `json:"stream,omitempty"`
}

// StreamInfo is how a replica follows the update stream, in GET /v1/info.
type StreamInfo struct {
	// Published is the generation the shared pointer names, as last seen;
	// Generation above is the one served.
	Published string `json:"published"`
	// LastSeq is the stream's last message, as last heard.
	LastSeq uint64 `json:"last_seq"`
	// LagSeconds is how long the replica has known of the oldest message
	// it has not applied; 0 when it has applied all it knows of.
	LagSeconds float64 `json:"lag_seconds"`
	// Connected says whether its connection to NATS is up.
	Connected bool `json:"connected"`
	// InvalidMessages counts the messages skipped as not valid updates.
	InvalidMessages uint64 `json:"invalid_messages"`
}

// handleInfo answers even while the index is not open (generation ""):
// which version runs is worth knowing then too. It reads no index data
// that a request slot guards.
func (s *Server) handleInfo(w http.ResponseWriter, r *http.Request) {
	if _, err := parseParams(r, nil, nil); err != nil {
		writeError(w, r, err)
		return
	}
	var info Info
	if s.cfg.Info != nil {
		info = s.cfg.Info()
	}
	info.Version = version.Get().Version
	writeJSON(w, r, http.StatusOK, info)
}

func handleLive(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	var err error
	switch {
	case s.cfg.Ready != nil:
		err = s.cfg.Ready()
	case s.cfg.Searcher() == nil:
		err = errors.New("the index is not ready yet")
	}
	if err != nil {
		writeError(w, r, &Error{Status: http.StatusServiceUnavailable, Code: codeUnavailable, RetryAfter: 1, Message: err.Error()})
		return
	}
	handleLive(w, r)
}

func quote(s string) string { return `"` + clip(s) + `"` }

// limits answers 414 for over-long URIs, 431 for over-large headers and
// 413 for over-large bodies, and caps what a handler can read.
func limits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.RequestURI) > MaxURIBytes {
			writeError(w, r, &Error{Status: http.StatusRequestURITooLong, Code: codeURITooLong,
				Message: fmt.Sprintf("the request URI is %d bytes, longer than 8 KiB", len(r.RequestURI))})
			return
		}
		if n := headerBytes(r); n >= MaxHeaderBytes {
			writeError(w, r, &Error{Status: http.StatusRequestHeaderFieldsTooLarge, Code: codeHeadersTooLarge,
				Message: fmt.Sprintf("the request line and headers are %d bytes; they must stay under %d KiB", n, MaxHeaderBytes>>10)})
			return
		}
		limit := int64(MaxBodyBytes)
		if r.URL.Path == "/admin/events/_bulk" {
			limit = MaxBulkBytes
		}
		if r.ContentLength > limit {
			writeError(w, r, &Error{Status: http.StatusRequestEntityTooLarge, Code: codeTooLarge,
				Message: fmt.Sprintf("the request body is larger than %d KiB", limit>>10)})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// headerBytes is the size of r's request line and headers as sent, give
// or take the spelling of their names.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	if r.Host != "" {
		n += len("Host: ") + len(r.Host) + 2 // Go moves the Host header out of r.Header
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n + 2
}

// recoverer turns a panic into a logged 500 without a stack trace in the
// answer.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				hlog.FromRequest(r).Error().Interface("panic", v).Bytes("stack", debug.Stack()).Msg("handler panicked")
				writeError(w, r, errors.New("panic"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// cors lets pages of the allowed origins call the API from a browser:
// it answers preflight requests and marks API answers for them. Other
// origins get no CORS headers, so browsers keep them out.
func cors(origins []string, next http.Handler) http.Handler {
	allowed := map[string]bool{}
	for _, o := range origins {
		allowed[strings.TrimRight(o, "/")] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v1/") {
			next.ServeHTTP(w, r)
			return
		}
		// Every answer varies with Origin, those to requests without one
		// too: a shared cache (a CDN) must not hand an answer made without
		// Access-Control-Allow-Origin to a partner page's widget.
		w.Header().Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if origin == "" || !allowed[origin] {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
		// A partner's script may read what a retry or a report needs
		// (browsers hide every other header from it), and send its own
		// request id.
		w.Header().Set("Access-Control-Expose-Headers", "Retry-After, ETag, "+RequestIDHeader)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type, "+RequestIDHeader)
			w.Header().Set("Access-Control-Max-Age", "3600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

type routeKey struct{}

// codeKey, in a request's context, holds where writeError puts the error
// code it answered (observe reads it).
type codeKey struct{}

// metricMethod is a request's method as a metric's label: one of the
// methods HTTP defines, else "other", so that a client cannot make a
// series per method it invents.
func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// routeNamer, inside the router, tells observe which route matched.
func routeNamer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if t, err := mux.CurrentRoute(r).GetPathTemplate(); err == nil {
			nameRoute(r, t)
		}
		next.ServeHTTP(w, r)
	})
}

// nameRoute tells observe the route r is counted under: its template, or
// what stands for the routes not matched by the router (a 405's route,
// the admin routes refused before it).
func nameRoute(r *http.Request, route string) {
	if name, ok := r.Context().Value(routeKey{}).(*string); ok {
		*name = route
	}
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap gives http.ResponseController the connection's writer: a
// handler's deadlines (the bulk route's) reach it.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// observe reports every request to o, with its route, status and time.
func observe(o Observer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		route, code := "unmatched", ""
		sw := &statusWriter{ResponseWriter: w}
		ctx := context.WithValue(context.WithValue(r.Context(), routeKey{}, &route), codeKey{}, &code)
		next.ServeHTTP(sw, r.WithContext(ctx))
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		o.Observe(route, metricMethod(r.Method), sw.status, time.Since(start))
		if route == "/readyz" || route == "/livez" {
			// A probe's 503 says not ready (starting, draining), as meant:
			// counted, a load balancer's checks every second flooded the
			// count an alert on refused requests watches.
			return
		}
		switch sw.status {
		case http.StatusUnauthorized, http.StatusRequestEntityTooLarge, http.StatusRequestURITooLong,
			http.StatusRequestHeaderFieldsTooLarge, http.StatusTooManyRequests, http.StatusServiceUnavailable:
			if code == "" { // not the API's answer (a page's, Go's own 431)
				code = strings.ReplaceAll(strings.ToLower(http.StatusText(sw.status)), " ", "_")
			}
			o.Rejected(code)
		}
	})
}

// allowed returns the methods r routes for req's path, in the order of
// RFC 9110's list.
func allowed(r *mux.Router, req *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		try := req.Clone(req.Context())
		try.Method = m
		var match mux.RouteMatch
		if r.Match(try, &match) && match.MatchErr == nil {
			out = append(out, m)
			if t, err := match.Route.GetPathTemplate(); err == nil {
				nameRoute(req, t) // the 405 is counted under the route's template
			}
		}
	}
	return out
}
