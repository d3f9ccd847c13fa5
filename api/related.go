package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/related"
)

// RelatedResult is the answer of both related endpoints.
type RelatedResult struct {
	ID      string         `json:"id,omitempty"`
	TookMS  float64        `json:"took_ms"`
	Related []related.Item `json:"related"`
}

// Weight parameters of the related endpoints, and the Weights field (its
// JSON name) each sets.
var weightParams = []string{"text_weight", "context_weight", "topic_weight", "half_life_days", "date_floor", "max_per_day"}

var weightFields = map[string]string{"text_weight": "text", "context_weight": "context", "topic_weight": "topic",
	"half_life_days": "half_life_days", "date_floor": "floor", "max_per_day": "max_per_day"}

func (s *Server) handleRelated(ctx context.Context, r *http.Request, sr Searcher) (any, error) {
	p, perr := parseParams(r, append([]string{"size", "from", "to", "direction"}, weightParams...), nil)
	if perr != nil {
		return nil, perr
	}
	req := related.Request{
		ID:        mux.Vars(r)["id"],
		Size:      p.int("size", related.DefaultSize, 1, related.MaxSize),
		From:      p.date("from"),
		To:        p.date("to"),
		Direction: related.Direction(p.oneOf("direction", string(related.Both), string(related.Both), string(related.Before), string(related.After))),
	}
	w, werr := weightsFromParams(p)
	if p.err != nil {
		return nil, p.err
	}
	if werr != nil {
		return nil, werr
	}
	req.Weights = w
	return runRelated(ctx, sr, req)
}

// RelatedBody is the JSON body of POST /v1/related: the draft, and the
// parameters of the GET route, dates as YYYY-MM-DD; Weights, if given,
// may give any subset of the weights (the others keep their defaults).
type RelatedBody struct {
	related.Draft
	Size      *int             `json:"size,omitempty"` // nil: the default; 0 is refused, as size=0 is
	From      string           `json:"from,omitempty"`
	To        string           `json:"to,omitempty"`
	Direction string           `json:"direction,omitempty"`
	Weights   *related.Weights `json:"weights,omitempty"`
}

func (s *Server) handleRelatedDraft(ctx context.Context, r *http.Request, sr Searcher) (any, error) {
	if _, err := parseParams(r, nil, nil); err != nil {
		return nil, err
	}
	var body RelatedBody
	if err := decodeBody(r, &body, "text", `{"text": "..."}`); err != nil {
		return nil, err
	}
	req := related.Request{Draft: &body.Draft, Size: related.DefaultSize, Direction: related.Direction(body.Direction), Weights: body.Weights}
	if body.Size != nil {
		if *body.Size == 0 { // which related.Request reads as its default
			return nil, badParam("size", "must be between 1 and %d, got 0", related.MaxSize)
		}
		req.Size = *body.Size // the ranker checks the rest of its range
	}
	if req.Direction == "" {
		req.Direction = related.Both
	}
	for _, d := range []struct {
		name string
		v    string
		t    *time.Time
	}{{"from", body.From, &req.From}, {"to", body.To, &req.To}} {
		if d.v == "" {
			continue
		}
		t, err := newsdesk.ParseDate(d.v)
		if err != nil {
			return nil, badParam(d.name, "%s", query.DateMessage(clip(d.v)))
		}
		*d.t = t
	}
	return runRelated(ctx, sr, req)
}

func runRelated(ctx context.Context, sr Searcher, req related.Request) (any, error) {
	start := time.Now()
	items, err := sr.Related(ctx, req)
	var ie *related.InvalidError
	switch {
	case errors.As(err, &ie):
		return nil, badParam(ie.Param, "%s", ie.Msg)
	case errors.Is(err, newsdesk.ErrNotFound):
		return nil, &Error{Status: http.StatusNotFound, Code: codeNotFound, Param: "id", Message: "no event with id " + quote(req.ID)}
	case err != nil:
		return nil, err
	}
	return RelatedResult{ID: req.ID, TookMS: float64(time.Since(start).Microseconds()) / 1000, Related: items}, nil
}

// weightsFromParams reads the optional weight parameters over the
// defaults. An error names the parameter.
// decimal is a number as a query parameter may write it: decimal, with
// a fraction and an exponent or not, as in JSON (a leading + or . too).
// strconv.ParseFloat also reads Go's forms, 1_0 as 10 and 0x1p4 as 16,
// and the words NaN and Inf.
var decimal = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

func weightsFromParams(p *params) (*related.Weights, error) {
	w := related.DefaultWeights
	set := false
	for _, name := range weightParams {
		v := p.str(name)
		if v == "" {
			continue
		}
		set = true
		if name == "max_per_day" {
			n, err := strconv.Atoi(v)
			if errors.Is(err, strconv.ErrRange) { // as the JSON body's: out of range, not "not whole"
				return nil, badParam(name, "must be a whole number from 1 to %d, got %q, out of range", math.MaxInt, clip(v))
			} else if err != nil {
				return nil, badParam(name, "must be a whole number, got %q", clip(v))
			}
			w.MaxPerDay = n
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if !decimal.MatchString(v) || err != nil && !errors.Is(err, strconv.ErrRange) { // out of range: Validate says what is accepted
			return nil, badParam(name, "must be a number, got %q", clip(v))
		}
		switch name {
		case "text_weight":
			w.Text = f
		case "context_weight":
			w.Context = f
		case "topic_weight":
			w.Topic = f
		case "half_life_days":
			w.HalfLifeDays = f
		case "date_floor":
			w.Floor = f
		}
	}
	if !set {
		return nil, nil
	}
	if err := w.Validate(); err != nil {
		var ie *related.InvalidError
		if errors.As(err, &ie) {
			for param, field := range weightFields {
				if ie.Param == "weights."+field {
					return nil, badParam(param, "%s", ie.Msg)
				}
			}
			return nil, badParam(ie.Param, "%s", ie.Msg)
		}
		return nil, err
	}
	return &w, nil
}

// NewRelatedBody returns the body of POST /v1/related that asks for r,
// whose Draft must be set.
func NewRelatedBody(r related.Request) RelatedBody {
	b := RelatedBody{Direction: string(r.Direction), Weights: r.Weights}
	if r.Size != 0 {
		b.Size = &r.Size
	}
	if r.Draft != nil {
		b.Draft = *r.Draft
	}
	if !r.From.IsZero() {
		b.From = r.From.Format(newsdesk.DateLayout)
	}
	if !r.To.IsZero() {
		b.To = r.To.Format(newsdesk.DateLayout)
	}
	return b
}

// RelatedQuery returns the query parameters of GET
// /v1/events/{id}/related that ask for r (its ID, not in them, is in the
// path). The route takes six of the weights (text, context, topic,
// half_life_days, floor, max_per_day): a request whose Weights differ
// from the defaults in another cannot be asked this way, and is an error,
// rather than a list ranked with weights other than those asked for.
func RelatedQuery(r related.Request) (url.Values, error) {
	v := url.Values{}
	if r.Size != 0 {
		v.Set("size", strconv.Itoa(r.Size))
	}
	if !r.From.IsZero() {
		v.Set("from", r.From.Format(newsdesk.DateLayout))
	}
	if !r.To.IsZero() {
		v.Set("to", r.To.Format(newsdesk.DateLayout))
	}
	if r.Direction != "" {
		v.Set("direction", string(r.Direction))
	}
	if w := r.Weights; w != nil {
		d := related.DefaultWeights
		rest := *w
		rest.Text, rest.Context, rest.Topic = d.Text, d.Context, d.Topic
		rest.HalfLifeDays, rest.Floor, rest.MaxPerDay = d.HalfLifeDays, d.Floor, d.MaxPerDay
		if rest != d {
			return nil, errors.New("related: GET /v1/events/{id}/related takes the text, context, topic, half_life_days, floor and max_per_day weights; the others are taken by POST /v1/related only")
		}
		f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
		v.Set("text_weight", f(w.Text))
		v.Set("context_weight", f(w.Context))
		v.Set("topic_weight", f(w.Topic))
		v.Set("half_life_days", f(w.HalfLifeDays))
		v.Set("date_floor", f(w.Floor))
		v.Set("max_per_day", strconv.Itoa(w.MaxPerDay))
	}
	return v, nil
}
