package api

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/search"
)

// Limits of request parameters.
const (
	MaxFilterValues = 20  // values of one repeatable filter
	MaxValueBytes   = 256 // bytes of one filter value, cursor or suggest prefix
	MaxCursorBytes  = 512
)

// params reads a query string strictly: each parameter must be one the
// endpoint accepts, singular ones may appear once, and every value must
// be valid UTF-8.
type params struct {
	values url.Values
	err    *Error
}

func parseParams(r *http.Request, singular, repeatable []string) (*params, *Error) {
	values, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Code: codeInvalid, Message: "the query string is malformed: " + err.Error()}
	}
	return checkParams(values, singular, repeatable)
}

// checkParams checks values as parseParams does a query string.
func checkParams(values url.Values, singular, repeatable []string) (*params, *Error) {
	allowed := map[string]bool{}
	for _, n := range singular {
		allowed[n] = true
	}
	for _, n := range repeatable {
		allowed[n] = false
	}
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		one, ok := allowed[n]
		if !ok {
			accepted := append(append([]string(nil), singular...), repeatable...)
			takes := "this endpoint accepts: " + strings.Join(accepted, ", ")
			if len(accepted) == 0 {
				takes = "this endpoint takes no query parameter"
			}
			return nil, &Error{Status: http.StatusBadRequest, Code: codeUnknownParam, Param: n,
				Message: "unknown parameter " + strconv.Quote(n) + "; " + takes}
		}
		if one && len(values[n]) > 1 {
			return nil, badParam(n, "may be given once, got %d values", len(values[n]))
		}
		if !one && len(values[n]) > MaxFilterValues {
			return nil, badParam(n, "may be given at most %d times, got %d", MaxFilterValues, len(values[n]))
		}
		for _, v := range values[n] {
			if !utf8.ValidString(v) {
				return nil, badParam(n, "is not valid UTF-8")
			}
		}
	}
	return &params{values: values}, nil
}

func (p *params) str(name string) string { return p.values.Get(name) }

func (p *params) list(name string) []string {
	var out []string
	for _, v := range p.values[name] {
		if p.err != nil {
			return nil
		}
		v = strings.TrimSpace(v)
		switch {
		case v == "":
			p.err = badParam(name, "is empty; give a value or leave the parameter out")
		case len(v) > MaxValueBytes:
			p.err = badParam(name, "is %d bytes; at most %d are accepted", len(v), MaxValueBytes)
		default:
			out = append(out, v)
		}
	}
	return out
}

func (p *params) int(name string, def, lo, hi int) int {
	v := p.values.Get(name)
	if v == "" || p.err != nil {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.err = badParam(name, "must be a whole number from %d to %d, got %q", lo, hi, clip(v))
		return def
	}
	return n
}

func (p *params) bool(name string, def bool) bool {
	v := p.values.Get(name)
	if v == "" || p.err != nil {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.err = badParam(name, "must be true or false (1, 0, t and f are read so too), got %q", clip(v))
		return def
	}
	return b
}

func (p *params) date(name string) time.Time {
	v := p.values.Get(name)
	if v == "" || p.err != nil {
		return time.Time{}
	}
	t, err := newsdesk.ParseDate(v)
	if err != nil {
		p.err = badParam(name, "%s", query.DateMessage(clip(v)))
	}
	return t
}

func (p *params) oneOf(name, def string, allowed ...string) string {
	v := p.values.Get(name)
	if v == "" || p.err != nil {
		return def
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.err = badParam(name, "must be one of %s, got %q", strings.Join(allowed, ", "), clip(v))
	return def
}

// clip shortens a value quoted back in an error message.
func clip(v string) string { return newsdesk.Clip(v, 40) }

var searchParams = []string{"q", "from", "to", "sort", "size", "page", "cursor", "facets", "highlight"}
var filterParams = []string{"topic", "category", "context"}

func searchRequest(r *http.Request) (search.Request, *Error) {
	p, err := parseParams(r, searchParams, filterParams)
	if err != nil {
		return search.Request{}, err
	}
	return searchRequestFrom(p)
}

// searchBodyRequest reads the JSON body of POST /v1/search. The query
// string must be empty: one request, one place for its parameters.
func searchBodyRequest(r *http.Request) (search.Request, *Error) {
	if _, err := parseParams(r, nil, nil); err != nil {
		return search.Request{}, err
	}
	var body SearchBody
	if err := decodeBody(r, &body, "q", `{"q": "..."} with the parameters of GET /v1/search`); err != nil {
		return search.Request{}, err
	}
	// The same checks as a query string's, through the same parser: a
	// filter value given as JSON is a value like any other.
	p, err := checkParams(body.values(), searchParams, filterParams)
	if err != nil {
		return search.Request{}, err
	}
	return searchRequestFrom(p)
}

func searchRequestFrom(p *params) (search.Request, *Error) {
	req := search.Request{
		Q:          p.str("q"),
		From:       p.date("from"),
		To:         p.date("to"),
		Topics:     p.list("topic"),
		Categories: p.list("category"),
		Contexts:   p.list("context"),
		Sort:       query.Sort(p.oneOf("sort", string(query.SortRelevance), string(query.SortRelevance), string(query.SortDate), string(query.SortDateDesc))),
		Size:       p.int("size", search.DefaultSize, 1, search.MaxSize),
		Page:       p.int("page", 1, 1, search.MaxPageHits),
		Cursor:     p.str("cursor"),
		Facets:     p.int("facets", 0, 0, search.MaxFacets),
		Highlight:  p.bool("highlight", false),
	}
	if p.err != nil {
		return req, p.err
	}
	if len(req.Cursor) > MaxCursorBytes {
		return req, badParam("cursor", "is %d bytes, longer than any cursor this server issues", len(req.Cursor))
	}
	if strings.TrimSpace(req.Q) == "" && req.From.IsZero() && req.To.IsZero() && len(req.Topics)+len(req.Categories)+len(req.Contexts) == 0 {
		return req, badParam("q", "is required unless a filter (from, to, topic, category, context) is given")
	}
	return req, nil
}

// SearchBody is the JSON body of POST /v1/search: the parameters of GET
// /v1/search, with the same names, limits and defaults, for a query that
// is long or awkward to put in a URL. The filters are arrays (any of
// their values matches). Fields left out take their defaults.
type SearchBody struct {
	Q         string   `json:"q,omitempty"`
	From      string   `json:"from,omitempty"` // YYYY-MM-DD
	To        string   `json:"to,omitempty"`
	Topic     []string `json:"topic,omitempty"`
	Category  []string `json:"category,omitempty"`
	Context   []string `json:"context,omitempty"`
	Sort      string   `json:"sort,omitempty"` // relevance, date or -date
	Size      *int     `json:"size,omitempty"`
	Page      *int     `json:"page,omitempty"`
	Cursor    string   `json:"cursor,omitempty"`
	Facets    *int     `json:"facets,omitempty"`
	Highlight *bool    `json:"highlight,omitempty"`
}

// NewSearchBody returns the body of POST /v1/search that asks for r; its
// zero fields are left out (their defaults apply).
func NewSearchBody(r search.Request) SearchBody {
	b := SearchBody{Q: r.Q, Topic: r.Topics, Category: r.Categories, Context: r.Contexts, Sort: string(r.Sort), Cursor: r.Cursor}
	if !r.From.IsZero() {
		b.From = r.From.Format(newsdesk.DateLayout)
	}
	if !r.To.IsZero() {
		b.To = r.To.Format(newsdesk.DateLayout)
	}
	set := func(n int) *int {
		if n == 0 {
			return nil
		}
		return &n
	}
	b.Size, b.Page, b.Facets = set(r.Size), set(r.Page), set(r.Facets)
	if r.Highlight {
		b.Highlight = &r.Highlight
	}
	return b
}

// values turns b into the query parameters it stands for, so that a body
// is checked exactly as a query string is.
func (b SearchBody) values() url.Values {
	v := url.Values{}
	add := func(name, s string) {
		if s != "" {
			v.Set(name, s)
		}
	}
	add("q", b.Q)
	add("from", b.From)
	add("to", b.To)
	add("sort", b.Sort)
	add("cursor", b.Cursor)
	for name, n := range map[string]*int{"size": b.Size, "page": b.Page, "facets": b.Facets} {
		if n != nil {
			v.Set(name, strconv.Itoa(*n))
		}
	}
	if b.Highlight != nil {
		v.Set("highlight", strconv.FormatBool(*b.Highlight))
	}
	for name, vals := range map[string][]string{"topic": b.Topic, "category": b.Category, "context": b.Context} {
		for _, s := range vals {
			v.Add(name, s)
		}
	}
	return v
}
