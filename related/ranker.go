package related

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/analysis/lang/en"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/snapshot"
)

// Ranker answers related-events requests, each on one snapshot of the
// index. It is safe for concurrent use.
type Ranker struct {
	an query.Analyzer
}

// New returns a ranker analysing text with an (the index's mapping).
func New(an query.Analyzer) *Ranker {
	return &Ranker{an: an}
}

// run is one request's view: the snapshot it reads and its event count.
type run struct {
	*Ranker
	snap *snapshot.Snapshot
	docs float64
}

// source is the event related events are found for.
type source struct {
	id      string
	day     int32 // snapshot.NoDay when unknown
	topic   string
	context []string
	text    string
}

// minMaxDF is the least document frequency MaxDFShare allows.
const minMaxDF = 50

// term is a word of the source chosen for the search.
type term struct {
	stem    string
	surface string // the word as the source wrote it
	weight  float64
}

// Related returns the events most related to r's event or draft, best
// first. Errors about the request are *InvalidError; an unknown id wraps
// newsdesk.ErrNotFound.
func (rk *Ranker) Related(ctx context.Context, snap *snapshot.Snapshot, r Request) ([]Item, error) {
	return run{Ranker: rk, snap: snap, docs: float64(max(snap.Docs(), 1))}.related(ctx, r)
}

func (rk run) related(ctx context.Context, r Request) ([]Item, error) {
	w := DefaultWeights
	if r.Weights != nil {
		w = *r.Weights
		if err := w.Validate(); err != nil {
			return nil, err
		}
	}
	if err := query.CheckDates(r.From, r.To); err != nil {
		return nil, err
	}
	size := r.Size
	if size == 0 {
		size = DefaultSize
	}
	if size < 1 || size > MaxSize {
		return nil, invalid("size", "must be between 1 and %d, got %d", MaxSize, r.Size)
	}
	switch r.Direction {
	case "", Both, Before, After:
	default:
		return nil, invalid("direction", "must be before, after or both, got %q", r.Direction)
	}
	src, err := rk.source(ctx, r)
	if err != nil {
		return nil, err
	}
	terms, err := rk.terms(ctx, src, w)
	if err != nil {
		return nil, err
	}
	lo, hi, err := dayLimits(src, r)
	if err != nil {
		return nil, err
	}
	cands, err := rk.candidates(ctx, src, terms, w, lo, hi)
	if err != nil {
		return nil, err
	}

	srcWords := rk.wordSet(src.text)
	var (
		items    []Item
		words    []map[string]bool
		perDay   = map[int32]int{}
		deferred []Item // held back by MaxPerDay, used if nothing else is left
	)
	for _, c := range cands {
		if len(items) == size {
			break
		}
		ev, err := rk.snap.EventAt(ctx, c.num)
		if err != nil {
			return nil, err
		}
		if ev.ID == src.id {
			continue
		}
		cw := rk.wordSet(ev.Text)
		if jaccard(cw, srcWords) >= w.DuplicateSimilarity || slices.ContainsFunc(words, func(o map[string]bool) bool {
			return jaccard(cw, o) >= w.DuplicateSimilarity
		}) {
			continue // the same event filed twice, or a wire copy
		}
		it := rk.item(ev, c.score, src, terms, cw)
		day := rk.snap.Day(c.num)
		if perDay[day] >= w.MaxPerDay {
			deferred = append(deferred, it)
			continue
		}
		perDay[day]++
		items = append(items, it)
		words = append(words, cw)
	}
	for _, it := range deferred {
		if len(items) == size {
			break
		}
		items = append(items, it)
	}
	if items == nil {
		items = []Item{}
	}
	return items, nil
}

func (rk run) source(ctx context.Context, r Request) (source, error) {
	if r.ID != "" {
		ev, err := rk.snap.Event(ctx, r.ID)
		if err != nil {
			return source{}, err
		}
		day := snapshot.NoDay
		if t, err := time.Parse(newsdesk.DateLayout, ev.Date); err == nil {
			day = snapshot.DayNumber(t)
		}
		return source{id: ev.ID, day: day, topic: ev.Topic, context: ev.Context, text: ev.Text}, nil
	}
	d := r.Draft
	if d == nil || strings.TrimSpace(d.Text) == "" {
		return source{}, invalid("text", "is required: the draft's text")
	}
	if len(d.Text) > MaxDraftText {
		return source{}, invalid("text", "is %d bytes; at most %d are accepted", len(d.Text), MaxDraftText)
	}
	src := source{id: d.ID, day: snapshot.NoDay, topic: strings.TrimSpace(d.Topic), context: d.Context, text: d.Text}
	if d.Date != "" {
		t, err := newsdesk.ParseDate(d.Date)
		if err != nil {
			return source{}, invalid("date", "%s", query.DateMessage(d.Date))
		}
		src.day = snapshot.DayNumber(t)
	}
	return src, nil
}

// terms picks the source's words to search for: tf × idf, within the
// document-frequency bounds, best MaxTerms.
func (rk run) terms(ctx context.Context, src source, w Weights) ([]term, error) {
	if w.Text == 0 {
		return nil, nil
	}
	text := src.text
	if src.topic != "" {
		text += "\n" + src.topic
	}
	toks, err := rk.an.AnalyzeText(en.AnalyzerName, []byte(text))
	if err != nil {
		return nil, fmt.Errorf("related: analyze: %w", err)
	}
	tf := map[string]int{}
	surface := map[string]string{}
	for _, t := range toks {
		s := string(t.Term)
		if len(s) < 2 || isNumber(s) {
			continue
		}
		tf[s]++
		if _, ok := surface[s]; !ok && t.Start >= 0 && t.End <= len(text) {
			surface[s] = text[t.Start:t.End]
		}
	}
	reader := rk.snap.Reader()
	// A share alone would leave a small index no word at all.
	maxDF := max(w.MaxDFShare*rk.docs, minMaxDF)
	out := make([]term, 0, len(tf))
	for s, n := range tf {
		tfr, err := reader.TermFieldReader(ctx, []byte(s), newsdesk.FieldText, false, false, false)
		if err != nil {
			return nil, err
		}
		df := float64(tfr.Count())
		tfr.Close()
		if df < float64(w.MinDF) || df > maxDF {
			continue
		}
		out = append(out, term{stem: s, surface: surface[s], weight: float64(n) * math.Log(rk.docs/df)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].weight != out[j].weight {
			return out[i].weight > out[j].weight
		}
		return out[i].stem < out[j].stem
	})
	if len(out) > w.MaxTerms {
		out = out[:w.MaxTerms]
	}
	return out, nil
}

// dateFactor is the date proximity multiplier of an event on day d for a
// source on day s.
func (w Weights) dateFactor(s, d int32) float64 {
	if s == snapshot.NoDay || d == snapshot.NoDay {
		return 1
	}
	days := math.Abs(float64(d - s))
	return w.Floor + (1-w.Floor)*math.Exp2(-days/w.HalfLifeDays)
}

// item shapes a related event with its reason.
func (rk run) item(ev newsdesk.Event, score float64, src source, terms []term, words map[string]bool) Item {
	it := Item{ID: ev.ID, Date: ev.Date, Text: ev.Text, Topic: ev.Topic, Context: ev.Context, Score: score,
		SharedContext: []string{}, SharedTerms: []string{}}
	if it.Context == nil {
		it.Context = []string{}
	}
	for _, c := range src.context {
		if slices.Contains(ev.Context, c) {
			it.SharedContext = append(it.SharedContext, c)
		}
	}
	it.SameTopic = src.topic != "" && ev.Topic == src.topic
	for _, t := range terms {
		if len(it.SharedTerms) == 4 {
			break
		}
		if words[t.stem] && !containsFold(it.SharedContext, t.surface) && !strings.Contains(strings.ToLower(src.topic), strings.ToLower(t.surface)) {
			it.SharedTerms = append(it.SharedTerms, t.surface)
		}
	}
	if t, err := time.Parse(newsdesk.DateLayout, ev.Date); err == nil && src.day != snapshot.NoDay {
		it.DaysApart = int(snapshot.DayNumber(t) - src.day)
	}
	it.Reason = reason(it, src)
	return it
}

func reason(it Item, src source) string {
	var parts []string
	if it.SameTopic {
		parts = append(parts, "same story ("+src.topic+")")
	}
	if len(it.SharedContext) > 0 {
		parts = append(parts, "shares "+strings.Join(it.SharedContext, ", "))
	}
	if len(it.SharedTerms) > 0 {
		parts = append(parts, "also mentions "+strings.Join(it.SharedTerms, ", "))
	}
	if src.day != snapshot.NoDay {
		switch d := it.DaysApart; {
		case d == 0:
			parts = append(parts, "same day")
		case d == -1:
			parts = append(parts, "1 day before")
		case d == 1:
			parts = append(parts, "1 day after")
		case d < 0:
			parts = append(parts, fmt.Sprintf("%s before", span(-d)))
		default:
			parts = append(parts, fmt.Sprintf("%s after", span(d)))
		}
	}
	if len(parts) == 0 {
		return "similar wording"
	}
	s := strings.Join(parts, "; ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// span says a number of days the way an editor would.
func span(days int) string {
	switch {
	case days < 60:
		return fmt.Sprintf("%d days", days)
	case days < 730:
		return fmt.Sprintf("%d months", (days+15)/30)
	}
	return fmt.Sprintf("%d years", (days+182)/365)
}

// wordSet returns the analysed words of text.
func (rk *Ranker) wordSet(text string) map[string]bool {
	toks, err := rk.an.AnalyzeText(en.AnalyzerName, []byte(text))
	if err != nil {
		return nil
	}
	out := make(map[string]bool, len(toks))
	for _, t := range toks {
		out[string(t.Term)] = true
	}
	return out
}

func jaccard(a, b map[string]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	inter := 0
	for w := range a {
		if b[w] {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

func isNumber(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
