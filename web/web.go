// Package web serves newsdesk's pages: the search page at /, an event page
// with its Related list at /events/{id}, and the embeddable related-stories
// widget at /widget.js. Everything is embedded in the binary (go:embed):
// no build step, no external requests, system fonts.
package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog/hlog"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/related"
)

//go:embed static templates
var files embed.FS

// Source is what the pages show; the search engine implements it.
type Source interface {
	Event(ctx context.Context, id string) (newsdesk.Event, error)
	Related(ctx context.Context, r related.Request) ([]related.Item, error)
}

// Pages serves the web pages. It is safe for concurrent use.
type Pages struct {
	source func() Source
	event  *template.Template
	search []byte
}

// New returns the pages over what source returns at each request (nil
// while nothing is ready: pages then answer 503).
func New(source func() Source) (*Pages, error) {
	event, err := template.ParseFS(files, "templates/event.html")
	if err != nil {
		return nil, err
	}
	search, err := files.ReadFile("templates/search.html")
	if err != nil {
		return nil, err
	}
	return &Pages{source: source, event: event, search: search}, nil
}

// Install registers the pages' routes on r. limit wraps the event page,
// which searches: it gives the page the API's in-flight slots and
// per-request deadline (nil means no limit). The other routes answer
// from memory.
func (p *Pages) Install(r *mux.Router, limit func(http.Handler) http.Handler) {
	if limit == nil {
		limit = func(h http.Handler) http.Handler { return h }
	}
	static, _ := fs.Sub(files, "static")
	r.Handle("/", secure(http.HandlerFunc(p.handleSearch))).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/events/{id:.+}", secure(limit(http.HandlerFunc(p.handleEvent)))).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/widget.js", secure(cached(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		http.ServeFileFS(w, req, static, "widget.js")
	})))).Methods(http.MethodGet, http.MethodHead)
	r.PathPrefix("/static/").Handler(secure(cached(http.StripPrefix("/static/", files404(static))))).Methods(http.MethodGet, http.MethodHead)
}

// files404 serves the files of fsys, and 404 for a directory: the file
// server would list it.
func files404(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimSuffix(r.URL.Path, "/")
		if name == "" {
			name = "."
		}
		if st, err := fs.Stat(fsys, name); err != nil || st.IsDir() {
			http.Error(w, "No such file.", http.StatusNotFound)
			return
		}
		files.ServeHTTP(w, r)
	})
}

// ContentSecurityPolicy is the pages' CSP, fitted to what they load:
// their own scripts and style sheet (no inline script, style or event
// handler, no CDN, system fonts), the API of their own origin, no
// plugins, no frames, no base or form target elsewhere. The search page
// sets heights of histogram bars through the CSSOM, which style-src
// allows; its highlights are HTML the server escaped.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// secure sets the security headers of every page and static file. The
// widget is loaded as a script by other sites' pages, where the CSP of
// those pages applies, not this one; nosniff is what matters for it (it is
// only run as the JavaScript it is labelled).
func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", ContentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY") // frame-ancestors 'none' for browsers without CSP 2
		hd.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.ServeHTTP(w, r)
	})
}

// cached lets browsers keep static files for an hour.
func cached(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

func (p *Pages) handleSearch(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(p.search)))
	_, _ = w.Write(p.search)
}

// eventPage is the data of the event template.
type eventPage struct {
	Event   newsdesk.Event
	Related []related.Item
	// NoList is true when the Related list could not be had (past the
	// deadline): the page says so, rather than that there is none.
	NoList bool
}

func (p *Pages) handleEvent(w http.ResponseWriter, r *http.Request) {
	src := p.source()
	if src == nil {
		http.Error(w, "The index is not ready yet; retry in a moment.", http.StatusServiceUnavailable)
		return
	}
	id := mux.Vars(r)["id"]
	ev, err := src.Event(r.Context(), id)
	if errors.Is(err, newsdesk.ErrNotFound) {
		http.Error(w, "No event with this id.", http.StatusNotFound)
		return
	}
	if errors.Is(err, context.DeadlineExceeded) {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "The server took too long; retry in a moment.", http.StatusServiceUnavailable)
		return
	}
	if err != nil {
		hlog.FromRequest(r).Error().Err(err).Msg("event page")
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	items, err := src.Related(r.Context(), related.Request{ID: id, Size: related.DefaultSize})
	if err != nil {
		// The page is still worth showing without its list; a list past
		// the deadline is load, not a fault.
		line := hlog.FromRequest(r).Error()
		if errors.Is(err, context.DeadlineExceeded) {
			line = hlog.FromRequest(r).Warn()
		}
		line.Err(err).Msg("event page shown without its related list")
		items = nil
	}
	var buf bytes.Buffer
	if err := p.event.Execute(&buf, eventPage{Event: ev, Related: items, NoList: err != nil}); err != nil {
		hlog.FromRequest(r).Error().Err(err).Msg("event page template")
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = buf.WriteTo(w)
}

// Weight returns the bytes the search page loads: its HTML, CSS and
// JavaScript.
func Weight() (int, error) {
	n := 0
	for _, f := range []string{"templates/search.html", "static/style.css", "static/search.js"} {
		b, err := files.ReadFile(f)
		if err != nil {
			return 0, err
		}
		n += len(b)
	}
	return n, nil
}
