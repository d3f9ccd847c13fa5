// Package search answers newsdesk's keyword searches over an open index:
// it parses and validates what the user asked, runs it on one snapshot of
// the index (its own walk of the posting lists for plain words, the day
// column for date orders, the Bleve request built by package query for
// the rest), relaxes or corrects it when it finds too little, and shapes
// the hits, facets and cursors of the answer.
package search

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	bmapping "github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/collector"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/entities"
	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/related"
	"github.com/newsdesk/newsdesk/snapshot"
)

// Limits of a request.
const (
	DefaultSize = 10
	MaxSize     = 100
	MaxPageHits = 1000 // page*size beyond this needs a cursor
	MaxFacets   = 50
	// FewResults is the hit count under which words absent from the index
	// are corrected for typos.
	FewResults = 3
)

// Request is a keyword search as the API received it, already typed.
type Request struct {
	Q                            string
	From, To                     time.Time // inclusive; zero means open
	Topics, Categories, Contexts []string
	Sort                         query.Sort
	Size, Page                   int
	Cursor                       string
	Facets                       int  // top N values per facet; 0 means none
	Highlight                    bool // highlighted fragments per hit
}

// Hit is one event found.
type Hit struct {
	newsdesk.Event
	Score      float64             `json:"score"`
	Highlights map[string][]string `json:"highlights,omitempty"`
}

// Result is the answer to a Request.
type Result struct {
	Total       uint64       `json:"total"`
	TookMS      float64      `json:"took_ms"`
	Hits        []Hit        `json:"hits"`
	Facets      *Facets      `json:"facets,omitempty"`
	NextCursor  string       `json:"next_cursor,omitempty"`
	Corrections []Correction `json:"corrections"`
	// Relaxed says too few events had every word, so events with some of
	// them are shown too, ranked by how many they have.
	Relaxed bool `json:"relaxed"`
	// DateBoost, when set, says the query named a year (and month): its
	// events rank higher, and the year is not a word to match.
	DateBoost *DateBoost `json:"date_boost,omitempty"`
	// Ignored lists the words (and phrases) of the query, as read, that
	// were not searched for: English words too common to be indexed
	// (the, of, who), which the index leaves out. "WHO pandemic" lists
	// every event saying pandemic, "WHO" alone none, and a reader is told
	// why rather than left to guess.
	Ignored []string `json:"ignored,omitempty"`
}

// Correction is a word the engine replaced because the index does not
// have it as typed.
type Correction struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Facets counts the matching events by value.
type Facets struct {
	Category []Count     `json:"category"`
	Topic    []Count     `json:"topic"`
	Context  []Count     `json:"context"`
	Date     []DateCount `json:"date"`
	DateUnit query.Unit  `json:"date_unit"`
}

// Count is one facet value.
type Count struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// DateCount is one histogram bucket, starting at Start.
type DateCount struct {
	Start string `json:"start"`
	Count int    `json:"count"`
}

// Engine runs searches over one index, each on one snapshot of it (see
// package snapshot). It is safe for concurrent use; the index may be
// written to while it serves.
type Engine struct {
	src     *snapshot.Source
	m       *bmapping.IndexMappingImpl
	ents    *entities.Table
	related *related.Ranker
	names   atomic.Pointer[Names]
	naming  atomic.Bool // a recount of the names is under way
	// preparing is set while the related lists' dictionary of tags is
	// built again (prepareRelated).
	preparing atomic.Bool
	// rechecking is set while a later CatchUp is due (recheckAfter).
	rechecking atomic.Bool
	dates      atomic.Pointer[dateRange]
	// legacy says the generation was built with the legacy mapping: plain
	// words rank by Bleve's BM25 over the text (fast.go), as they did.
	legacy  bool
	ranking Ranking
	tags    *tagWords
	// folds fold the spellings of one name, by tag table, for facets.
	folds  struct{ cat, topic, ctx foldTable }
	noFast bool // tests: always go through Bleve
}

// ListFields are the fields whose posting lists searches and related
// lists read decoded (snapshot.List): the text, the tag keys related
// lists search for, and the word forms of the form boost. A server warms
// them as it loads a generation (snapshot.Config.Warm).
var ListFields = []string{newsdesk.FieldText, newsdesk.FieldKeys, newsdesk.FieldForms}

// New returns an engine over src's snapshots; m is the index's mapping
// (it analyses text as the index does), legacy says its generation was
// built with mappings.Legacy. It counts the names of the current
// snapshot (about 0.1 s on the 114k-event corpus), and prepares related
// lists on it.
func New(src *snapshot.Source, m *bmapping.IndexMappingImpl, legacy bool) (*Engine, error) {
	ents, err := entities.New()
	if err != nil {
		return nil, err
	}
	e := &Engine{src: src, m: m, ents: ents, related: related.New(m), legacy: legacy, ranking: DefaultRanking, tags: &tagWords{m: m}}
	snap := src.Acquire()
	defer snap.Release()
	e.names.Store(NamesFromSnapshot(snap))
	e.related.Prepare(snap)
	return e, nil
}

// WithRanking returns an engine like e that ranks plain words with r: for
// fitting the weights (cmd/searcheval).
func (e *Engine) WithRanking(r Ranking) *Engine {
	c := &Engine{src: e.src, m: e.m, ents: e.ents, related: e.related, legacy: e.legacy, ranking: r, tags: e.tags, noFast: e.noFast}
	c.names.Store(e.names.Load())
	return c
}

// dateRange is the first and last days of a snapshot's live events.
type dateRange struct {
	epoch  uint64
	lo, hi int32
}

// DateRange returns the first and last dates of the events served now,
// zero times when none has a date. Unlike the names' range, which lags an
// update until a search has them counted again, it follows every update:
// /v1/info shows it. It reads the dates of the current snapshot once (a
// millisecond per 200,000 events).
func (e *Engine) DateRange() (time.Time, time.Time) {
	snap := e.src.Acquire()
	defer snap.Release()
	r := e.dates.Load()
	if r == nil || r.epoch != snap.Epoch {
		r = &dateRange{epoch: snap.Epoch, lo: snapshot.NoDay, hi: snapshot.NoDay}
		snap.EachLive(func(n uint64) {
			if d := snap.Day(n); d != snapshot.NoDay {
				if r.lo == snapshot.NoDay || d < r.lo {
					r.lo = d
				}
				if r.hi == snapshot.NoDay || d > r.hi {
					r.hi = d
				}
			}
		})
		e.dates.Store(r)
	}
	if r.hi == snapshot.NoDay {
		return time.Time{}, time.Time{}
	}
	return snapshot.DayTime(r.lo), snapshot.DayTime(r.hi)
}

// Names returns the topic, category and context names of the index.
func (e *Engine) Names() *Names { return e.names.Load() }

// namesFor returns the names, and starts counting them again in the
// background when snap is newer than them: names serve suggestions and
// the spelling of filter values, which may lag an update by the time a
// count takes, never a request.
func (e *Engine) namesFor(snap *snapshot.Snapshot) *Names {
	n := e.names.Load()
	if n.epoch < snap.Epoch {
		e.inBackground(&e.naming, func(s *snapshot.Snapshot) {
			if e.names.Load().epoch < s.Epoch {
				e.names.Store(NamesFromSnapshot(s))
			}
		})
	}
	return n
}

// Event returns the stored event with the given id, or an error wrapping
// newsdesk.ErrNotFound.
func (e *Engine) Event(ctx context.Context, id string) (newsdesk.Event, error) {
	snap := e.src.Acquire()
	defer snap.Release()
	ev, err := snap.Event(ctx, id)
	if err != nil {
		return ev, err
	}
	return filled(ev), nil
}

// Related returns the events most related to an event or a draft; see
// package related.
func (e *Engine) Related(ctx context.Context, r related.Request) ([]related.Item, error) {
	snap := e.src.Acquire()
	defer snap.Release()
	e.prepareRelated(snap)
	if r.Spellings == nil {
		r.Spellings = e.namesFor(snap).Spellings
	}
	return e.related.Related(ctx, snap, r)
}

// prepareRelated builds the related lists' dictionary of tags again in
// the background when updates have added tags to snap: requests go on
// with the previous one meanwhile (see related.Ranker.Prepare).
func (e *Engine) prepareRelated(snap *snapshot.Snapshot) {
	if e.related.Stale(snap) {
		e.inBackground(&e.preparing, e.related.Prepare)
	}
}

// inBackground runs fn on the current snapshot in a goroutine of its own,
// unless one of the same kind (busy) is under way or the engine has closed:
// work derived from the index that a request must not wait for.
func (e *Engine) inBackground(busy *atomic.Bool, fn func(*snapshot.Snapshot)) {
	if !busy.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer busy.Store(false)
		s := e.src.TryAcquire()
		if s == nil {
			return // the engine closed meanwhile
		}
		defer s.Release()
		fn(s)
	}()
}

// Suggest completes a prefix into topic and context names; see
// Names.Suggest. Like a search, it has the names counted again when the
// index has changed since they were.
func (e *Engine) Suggest(prefix string, limit int) []Name {
	snap := e.src.Acquire()
	defer snap.Release()
	return e.namesFor(snap).Suggest(prefix, limit)
}

// CatchUp has what answers derive from the index (the names; the related
// lists' dictionary of tags) counted again in the background when the
// latest snapshot is newer than them: after updates, so that they catch
// up without waiting for a request.
func (e *Engine) CatchUp() {
	snap := e.src.TryAcquire()
	if snap == nil {
		return // closed
	}
	defer snap.Release()
	e.namesFor(snap)
	e.prepareRelated(snap)
	// What could not start now (a count of an earlier snapshot under way,
	// a dictionary built less than a second ago) is looked at again, so
	// that it catches up without waiting for a request.
	if e.behind(snap) && e.rechecking.CompareAndSwap(false, true) {
		time.AfterFunc(recheckAfter, func() {
			e.rechecking.Store(false)
			e.CatchUp()
		})
	}
}

// recheckAfter is when CatchUp looks again at what was behind: past the
// related dictionary's least time between builds.
const recheckAfter = related.DictRefresh + 100*time.Millisecond

// behind reports whether what answers derive from the index lags snap.
func (e *Engine) behind(snap *snapshot.Snapshot) bool {
	return e.names.Load().epoch < snap.Epoch || e.related.Behind(snap)
}

// Derived returns the version of what answers derive from the index in
// the background, which may lag it by the time a count takes (CatchUp):
// it changes when the names or the related lists' dictionary of tags are
// counted again. Answers' ETags hold it (api.Config.Derived).
func (e *Engine) Derived() uint64 {
	return e.names.Load().epoch<<32 | uint64(uint32(e.related.DictVersion()))
}

// Search answers r. Errors about the request wrap query.ErrInvalid.
func (e *Engine) Search(ctx context.Context, r Request) (*Result, error) {
	start := time.Now()
	snap := e.src.Acquire()
	defer snap.Release()
	names := e.namesFor(snap)
	p, day, err := e.paramsRead(ctx, snap, names, r)
	if err != nil {
		return nil, err
	}
	out := &Result{Corrections: []Correction{}, Hits: []Hit{}, Ignored: e.ignored(p.Query), DateBoost: day}
	res, err := e.run(ctx, snap, names, p, r.Facets > 0)
	if errors.Is(err, query.ErrNothingToMatch) {
		// No event can match (only stop words):
		// the facets asked for are still given, all empty.
		if r.Facets > 0 {
			none := func(context.Context, func(uint64)) error { return nil }
			if out.Facets, err = e.facets(ctx, snap, names, none, r.Facets, histogram(names, r)); err != nil {
				return nil, err
			}
		}
		out.TookMS = float64(time.Since(start).Microseconds()) / 1000
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	var relaxFixed *query.Params
	var relaxCorr []Correction
	if res.wantsCorrecting() && correctable(p.Query) {
		// Few events have every word as typed: correct words the index
		// does not know, then, if still nothing, accept any word. The
		// corrected query answers when it finds more events, or, when
		// the answer was relaxed (a word the index does not know matches
		// nothing), when it finds any: "hurricane katrna" found 834
		// events by "hurricane" alone, "hurricane katrina" 71 with both
		// words.
		if fixed, corr, err := e.correct(ctx, snap, names, p); err != nil {
			return nil, err
		} else if len(corr) > 0 {
			if res2, err := e.corrected(ctx, snap, names, p, fixed, res, r.Facets > 0); err != nil {
				return nil, err
			} else if res2 != nil {
				res, p, out.Corrections = res2, fixed, corr
			} else if res.total == 0 {
				// Neither has every clause: relaxed below, corrected (a
				// strict query's run does not relax, so that its
				// correction, finding none strict, was dropped: the
				// typed phrase, which matches nothing, relaxed in its
				// place). A word the index does not know matches
				// nothing, so the corrected query relaxed finds what the
				// typed one would, and more.
				relaxFixed, relaxCorr = &fixed, corr
			}
		}
	}
	if res.relaxed && res.whole == 0 && positive(p.Query.Clauses) > 1 && len(out.Corrections) == 0 {
		// No event may have every word as typed, though the index knows
		// each: a rare one a slip from a far commoner one is corrected,
		// when events have every word corrected (correctKnown).
		if res2, fixed, corr, err := e.knownFixed(ctx, snap, names, p, r.Facets > 0); err != nil {
			return nil, err
		} else if res2 != nil {
			res, p = res2, fixed
			out.Corrections = append(out.Corrections, corr...)
		}
	}
	// Nothing has every clause: events with any of them, whatever the
	// clauses are (phrases, prefixes and field terms alone relaxed
	// never: `astan* zebra*` found nothing, `astan*` alone 17 events),
	// unless events beyond the filters and the date range have them all:
	// filters do not decide how far a search relaxes (rankedPlan.settles),
	// so that a facet's count is what choosing it finds.
	if res.total == 0 && positive(p.Query.Clauses) > 1 {
		beyond, err := e.matchesBeyondFilters(ctx, snap, names, p)
		if err != nil {
			return nil, err
		}
		if !beyond && relaxFixed != nil {
			relaxed := *relaxFixed
			relaxed.AnyWord = true
			// Corrected to stop words alone (waht is: what is): nothing to
			// match, as typed; the error was a 500 (a review's finding).
			if res2, err := e.run(ctx, snap, names, relaxed, r.Facets > 0); errors.Is(err, query.ErrNothingToMatch) {
				// keep the answer as typed
			} else if err != nil {
				return nil, err
			} else if res2.total > 0 {
				res, p, out.Relaxed, out.Corrections = res2, relaxed, true, relaxCorr
			}
		}
		if !beyond && res.total == 0 {
			relaxed := p
			relaxed.AnyWord = true
			if res2, err := e.run(ctx, snap, names, relaxed, r.Facets > 0); err != nil {
				return nil, err
			} else if res2.total > 0 {
				res, p, out.Relaxed = res2, relaxed, true
			}
		}
	}
	out.Total = res.total
	out.Relaxed = (out.Relaxed || res.relaxed) && res.total > 0 // nothing found is not relaxed
	if res.boost != nil {
		out.DateBoost = res.boost
	}
	if out.Hits, err = e.load(ctx, snap, res); err != nil {
		return nil, err
	}
	if r.Highlight {
		// The words the search matched: a year read as a boost is not one
		// (its clauses go), a place's other forms are.
		hp := p
		if res.boost != nil {
			_, hp = dateBoost(p, names)
		}
		hl := newHighlighter(e.m, e.ents, hp)
		for i := range out.Hits {
			out.Hits[i].highlight(hl)
		}
	}
	if r.Facets > 0 {
		if out.Facets, err = e.facets(ctx, snap, names, res.visit, r.Facets, histogram(names, r)); err != nil {
			return nil, err
		}
	}
	more := uint64(p.Offset+len(res.hits)) < res.total
	if len(p.After) > 0 {
		more = res.more // a page after a cursor: the total counts the events before it too
	}
	if n := len(res.hits); n > 0 && n == p.Size && more {
		out.NextCursor = encodeCursor(p.Sort, r.cursorKey(), res.lastSort, p.Offset+n)
	}
	out.TookMS = float64(time.Since(start).Microseconds()) / 1000
	return out, nil
}

// correctable reports whether the query has a clause correct may change:
// a positive word, or a phrase (of one word).
func correctable(q query.Parsed) bool {
	return slices.ContainsFunc(q.Clauses, func(c query.Clause) bool {
		return !c.Negated && (c.Kind == query.Word || c.Kind == query.Phrase)
	})
}

// ignored returns the text, as read (query.Parse), of the query's words
// and phrases that analyse to no term (stop words), each once; not those
// without a letter or digit ("—", "...", an emoji), which are no words.
func (e *Engine) ignored(q query.Parsed) []string {
	var out []string
	for _, c := range q.Clauses {
		if c.Kind != query.Word && c.Kind != query.Phrase || !strings.ContainsFunc(c.Text, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) {
			continue
		}
		if toks, err := query.Tokens(e.m, c.Text); err == nil && len(toks) == 0 && !slices.Contains(out, c.Text) {
			out = append(out, c.Text)
		}
	}
	return out
}

// found is what one run of a search found.
type found struct {
	total    uint64
	more     bool        // date orders: events follow the page (past the cursor, if any)
	hits     []scoredDoc // the page, best first
	lastSort []string    // sort values of the page's last hit, for search-after cursors
	// visit calls fn with the number of every matching event, for facets.
	visit   func(ctx context.Context, fn func(doc uint64)) error
	relaxed bool       // the ranked path relaxed "every word"
	whole   uint64     // the ranked path: the events with every word (filters applied)
	boost   *DateBoost // the ranked path read a year as a boost
}

// run runs p once on snap: by the engine's own conjunction when p is
// plain words ranked by relevance (see fast.go), in date order from the
// day column for the date sorts (see bydate.go), else through Bleve. keep
// says the matches will be visited again (for facets).
func (e *Engine) run(ctx context.Context, snap *snapshot.Snapshot, names *Names, p query.Params, keep bool) (*found, error) {
	if p.Sort == query.SortDate || p.Sort == query.SortDateDesc {
		return e.runByDate(ctx, snap, names, p, keep)
	}
	if !e.noFast {
		if f, ok, err := e.runRanked(ctx, snap, names, p, keep); ok || err != nil {
			return f, err
		}
		if f, ok, err := e.runFast(ctx, snap, p, keep); ok || err != nil {
			return f, err
		}
	}
	req, err := query.Keyword(e.m, p)
	if err != nil {
		return nil, err
	}
	sr, sctx, err := snap.Searcher(ctx, req.Query, e.m, bsearch.SearcherOptions{})
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer sr.Close()
	coll := collector.NewTopNCollector(req.Size, req.From, req.Sort)
	if err := coll.Collect(sctx, sr, snap.Reader()); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	f := &found{total: coll.Total(),
		visit: func(ctx context.Context, fn func(uint64)) error {
			_, err := snap.VisitMatches(ctx, req.Query, e.m, fn)
			return err
		}}
	for _, h := range coll.Results() {
		f.hits = append(f.hits, scoredDoc{num: snapshot.DocNum(h.IndexInternalID), score: h.Score})
	}
	return f, nil
}

// load returns the stored events of f's page, from snap.
func (e *Engine) load(ctx context.Context, snap *snapshot.Snapshot, f *found) ([]Hit, error) {
	hits := make([]Hit, 0, len(f.hits))
	for _, d := range f.hits {
		ev, err := snap.EventAt(ctx, d.num)
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		hits = append(hits, Hit{Event: filled(ev), Score: d.score})
	}
	return hits, nil
}

// params validates r and turns it into query parameters.
func (e *Engine) params(ctx context.Context, snap *snapshot.Snapshot, names *Names, r Request) (query.Params, error) {
	p, _, err := e.paramsRead(ctx, snap, names, r)
	return p, err
}

// paramsRead is params, and returns too the day q is, when it is a day
// alone (dayAlone).
func (e *Engine) paramsRead(ctx context.Context, snap *snapshot.Snapshot, names *Names, r Request) (query.Params, *DateBoost, error) {
	parsed, err := query.Parse(r.Q)
	if err != nil {
		return query.Params{}, nil, err
	}
	p := query.Params{Query: parsed, From: r.From, To: r.To, Sort: r.Sort, Size: r.Size}
	day := dayAlone(&p, names)
	if p.Sort == "" {
		p.Sort = query.SortRelevance
	}
	requested := p.Sort
	if p.Sort == query.SortRelevance && !e.ranks(p.Query.Clauses) {
		// Nothing to rank by (filters alone, exact field terms, or
		// exclusions): every event would score alike, in event order,
		// the oldest first. A reader browsing a category expects the
		// newest. Pages and cursors follow that order too.
		p.Sort = query.SortDateDesc
	}
	if p.Size == 0 {
		p.Size = DefaultSize
	}
	if p.Size < 1 || p.Size > MaxSize {
		return p, day, invalid("size", "must be between 1 and %d, got %d", MaxSize, r.Size)
	}
	if r.Facets < 0 || r.Facets > MaxFacets {
		return p, day, invalid("facets", "must be between 0 and %d, got %d", MaxFacets, r.Facets)
	}
	if err := query.CheckDates(r.From, r.To); err != nil {
		return p, day, err
	}
	page := max(r.Page, 1)
	if r.Cursor != "" {
		if r.Page > 1 {
			return p, day, invalid("page", "cannot be combined with cursor")
		}
		c, err := decodeCursor(r.Cursor, requested, p.Sort, r.cursorKey(), r.cursorKeyAsTyped(), r.cursorKeyCurly())
		if err != nil {
			return p, day, err
		}
		p.After, p.Offset = c.After, c.Offset
		if p.Sort == query.SortRelevance && p.Offset+p.Size > MaxRelevanceOffset {
			p.Size = MaxRelevanceOffset - p.Offset // the last page ends at hit MaxRelevanceOffset
		}
	} else {
		if page*p.Size > MaxPageHits {
			return p, day, invalid("page", "page %d of size %d reaches past hit %d; follow next_cursor to go deeper", page, p.Size, MaxPageHits)
		}
		p.Offset = (page - 1) * p.Size
	}
	p.Topics = names.canonical(FieldTopic, r.Topics, snap.Topics)
	p.Categories = names.canonical(FieldCategory, r.Categories, snap.Categories)
	p.Contexts = names.canonical(FieldContext, r.Contexts, snap.Contexts)
	prefixBudget := prefixBudget
	for i, c := range p.Query.Clauses {
		if c.Kind == query.Field {
			table := snap.Contexts
			switch c.Field {
			case FieldTopic:
				table = snap.Topics
			case FieldCategory:
				table = snap.Categories
			}
			p.Query.Clauses[i].Values = names.canonical(c.Field, []string{c.Text}, table)
		}
		if c.Kind == query.Prefix {
			stems, err := e.prefixStems(ctx, snap, c.Text, &prefixBudget)
			if err != nil {
				return p, day, err
			}
			if !e.legacy {
				// A prefix typed without accents begins the words
				// written with them, and back, as a word matches them.
				lower := strings.ToLower(c.Text)
				for _, t := range names.spell.prefixed(lower, query.PrefixStems(e.m, lower)) {
					if !slices.Contains(stems, t) {
						stems = append(stems, t)
					}
				}
			}
			p.Query.Clauses[i].Values = stems
			popular, err := popularTerms(snap, c.Text, stems)
			if err != nil {
				return p, day, err
			}
			p.Query.Clauses[i].Popular = popular
		}
	}
	if !e.legacy {
		// A code matches as the events write it, joined or with a dash
		// (codeWritings); at most maxCodes a query, each reading events.
		codes := 0
		for i, c := range p.Query.Clauses {
			if runs, _ := codeParts(c.Text); c.Kind != query.Word || runs == nil || codes == maxCodes {
				continue
			}
			codes++
			if w, ok, err := e.codeWritings(ctx, snap, c); err != nil {
				return p, day, err
			} else if ok {
				p.Query.Clauses[i] = w
			}
		}
	}
	if !e.legacy {
		if err := e.markNames(ctx, snap, p.Query.Clauses); err != nil {
			return p, day, err
		}
	}
	if e.ents != nil && !e.legacy {
		// Through Bleve too, a word matches (or, excluded, excludes) a
		// place's other forms, as the ranked search matches them.
		p.Variants, p.VariantWeight = e.ents.Variants, e.ranking.Variant
	}
	if !e.legacy {
		// A legacy generation is searched as it was: by the word as typed
		// (its fast path for plain words knows no other spellings).
		p.Spellings = names.Spellings
	}
	if lo, hi, ok := dayRange(p); ok {
		p.DateFilter = snapshot.DayRangeQuery(e.src, lo, hi)
	}
	return p, day, nil
}

// dayRange returns p's date filter as days; ok is false when it has none.
func dayRange(p query.Params) (lo, hi int32, ok bool) {
	if p.From.IsZero() && p.To.IsZero() {
		return 0, 0, false
	}
	lo, hi = snapshot.DayNumber(query.FirstDay), snapshot.DayNumber(query.LastDay)
	if !p.From.IsZero() {
		lo = snapshot.DayNumber(p.From)
	}
	if !p.To.IsZero() {
		hi = snapshot.DayNumber(p.To)
	}
	return lo, hi, true
}

func invalid(param, format string, args ...any) error {
	return &query.InvalidError{Param: param, Msg: fmt.Sprintf(format, args...)}
}

// highlight sets h's highlights: fragments of its text and topic with the
// words hl matches marked.
func (h *Hit) highlight(hl *highlighter) {
	for field, text := range map[string]string{newsdesk.FieldText: h.Text, newsdesk.FieldTopic: h.Topic} {
		if frags := hl.fragments(text); frags != nil {
			if h.Highlights == nil {
				h.Highlights = map[string][]string{}
			}
			h.Highlights[field] = frags
		}
	}
}

// MaxRelevanceOffset is how deep a cursor follows relevance order. Date
// orders use search-after and go to the end; relevance order continues by
// offset, whose cost grows with depth, so it stops here.
const MaxRelevanceOffset = 10000

// cursor is the opaque token for the next page: the sort it belongs to
// and either the sort values of the last hit (search-after, date sorts)
// or the offset of the next hit (relevance).
type cursor struct {
	Sort   query.Sort `json:"s"`
	After  []string   `json:"a,omitempty"`
	Offset int        `json:"o,omitempty"`
	// Key is the request's cursorKey: a cursor followed with another
	// query or filters would page through that search from a place of
	// this one's.
	Key uint32 `json:"k"`
}

// cursorKey hashes what a cursor's pages must share, beside the sort
// (checked apart, to say so): the query but for its case and spaces (the
// search language has no case), the dates and the filters (any case, any
// order).
func (r Request) cursorKey() uint32 {
	// Its quotes and apostrophes as the query is read (query.Straight):
	// “peace talks” and "peace talks" are one search.
	return r.keyOf(strings.ToLower(strings.Join(strings.Fields(query.Straight(r.Q)), " ")))
}

// cursorKeyAsTyped is cursorKey with the query's case as typed: the key
// of the cursors issued before 2026-12-02, still followed.
func (r Request) cursorKeyAsTyped() uint32 {
	return r.keyOf(strings.Join(strings.Fields(r.Q), " "))
}

// cursorKeyCurly is cursorKey with the query's quotes as typed: the key
// of the cursors issued on 2026-12-02 before they were straightened,
// still followed (it differs only for typographic quotes).
func (r Request) cursorKeyCurly() uint32 {
	return r.keyOf(strings.ToLower(strings.Join(strings.Fields(r.Q), " ")))
}

func (r Request) keyOf(q string) uint32 {
	h := fnv.New32a()
	field := func(s string) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	field(q)
	field(r.From.Format(time.DateOnly))
	field(r.To.Format(time.DateOnly))
	for _, vs := range [][]string{r.Topics, r.Categories, r.Contexts} {
		set := make([]string, len(vs))
		for i, v := range vs {
			// In any case, but with the accents typed: nameKey also
			// folds them since 2026-12-02, which would have turned away
			// the cursors issued before for an accented filter value.
			set[i] = strings.ToLower(query.Straight(strings.TrimSpace(query.Compose(v))))
		}
		slices.Sort(set)
		field(strings.Join(slices.Compact(set), "\x00"))
		field("\x01")
	}
	return h.Sum32()
}

func encodeCursor(s query.Sort, key uint32, lastSort []string, next int) string {
	c := cursor{Sort: s, Key: key}
	if s == query.SortRelevance {
		if next >= MaxRelevanceOffset {
			return "" // hit MaxRelevanceOffset was on this page
		}
		c.Offset = next
	} else {
		c.After = lastSort
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(token string, requested, served query.Sort, keys ...uint32) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	var c cursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || len(c.After) > 2 || c.Offset < 0 || c.Offset >= MaxRelevanceOffset || (len(c.After) == 0) == (c.Offset == 0) {
		return cursor{}, invalid("cursor", "is not a cursor this server issued; pass next_cursor from a previous answer")
	}
	// A search with nothing to rank by asked by relevance is served newest
	// first: its cursors say so, and those issued before, which say
	// relevance, are followed from their offset.
	if c.Sort != served && c.Sort != requested {
		return cursor{}, invalid("cursor", "belongs to sort=%s, not sort=%s", c.Sort, requested)
	}
	if c.Sort != served {
		c.Sort, c.After = served, nil
	}
	// A cursor issued before cursors carried their search (no key) is
	// followed as it was: a reader paging across an upgrade, or across
	// replicas of two versions, is not refused.
	if c.Key != 0 && !slices.Contains(keys, c.Key) {
		return cursor{}, invalid("cursor", "belongs to another search: follow next_cursor with the same q, dates and filters it came with")
	}
	return c, nil
}

// IsInvalid reports whether err is about the request rather than the server.
func IsInvalid(err error) bool { return errors.Is(err, query.ErrInvalid) }

// corrected returns the answer of fixed, p with its unknown words
// corrected, when it answers instead of p, whose answer is res; nil when
// it does not. It answers when it finds more events, or, when p's answer
// was relaxed, any. As for relaxing, filters and dates do not decide it:
// with them, p and fixed are compared over the whole index, so that a
// facet's count is what choosing it finds ("hurricane katrna" is
// corrected over 71 events, none of them in 2011: in 2011 it found 53
// other hurricanes, relaxed and uncorrected, where the histogram said 0).
func (e *Engine) corrected(ctx context.Context, snap *snapshot.Snapshot, names *Names, p, fixed query.Params, res *found, keep bool) (*found, error) {
	if !e.legacy {
		// A name corrected is a name before a month as one typed right
		// is (thersa may 2019: theresa, may a word; it searched the
		// theresas of May 2019). fixed's clauses are correct's copy.
		if err := e.markNames(ctx, snap, fixed.Query.Clauses); err != nil {
			return nil, err
		}
	}
	res2, err := e.correctedRun(ctx, snap, names, p, fixed, res, keep)
	if errors.Is(err, query.ErrNothingToMatch) {
		// Corrected to stop words alone (aggain: again): no answer, where
		// the error was a 500 (a review's finding).
		return nil, nil
	}
	return res2, err
}

// correctedRun is corrected, but for a corrected query of stop words.
func (e *Engine) correctedRun(ctx context.Context, snap *snapshot.Snapshot, names *Names, p, fixed query.Params, res *found, keep bool) (*found, error) {
	all, filtered := unfiltered(p)
	if !filtered {
		res2, err := e.run(ctx, snap, names, fixed, keep)
		if err != nil || !res2.answersFor(res) {
			return nil, err
		}
		return res2, nil
	}
	resAll, err := e.run(ctx, snap, names, all, false)
	if err != nil || !resAll.wantsCorrecting() {
		return nil, err // the search over the whole index keeps its words
	}
	fixedAll, _ := unfiltered(fixed)
	res2All, err := e.run(ctx, snap, names, fixedAll, false)
	if err != nil || !res2All.answersFor(resAll) {
		return nil, err
	}
	return e.run(ctx, snap, names, fixed, keep)
}

// knownFixed returns the answer of p with its rare known words corrected
// (correctKnown), the corrected p and the corrections, when no event has
// every word of p and events have every word corrected (over the whole
// index, as for relaxing: filters do not decide it); a nil answer when
// not.
func (e *Engine) knownFixed(ctx context.Context, snap *snapshot.Snapshot, names *Names, p query.Params, keep bool) (*found, query.Params, []Correction, error) {
	// count returns how many events have every clause of cl (over the
	// whole index); whole, every clause of p but a date's.
	count := func(cl ...query.Clause) (uint64, error) {
		q, err := query.KeywordQuery(e.m, query.Params{Query: query.Parsed{Clauses: cl}, Variants: p.Variants, VariantWeight: p.VariantWeight, Spellings: p.Spellings})
		if errors.Is(err, query.ErrNothingToMatch) {
			return 0, nil // stop words alone
		}
		if err != nil {
			return 0, err
		}
		_, n, err := e.matchSet(ctx, snap, q)
		return n, err
	}
	whole := func(p query.Params) (uint64, error) {
		_, all := dateBoost(p, names)
		return count(all.Query.Clauses...)
	}
	// (Search calls it only when the walk found no event with every
	// word: a relaxed query with some, most of those relaxed, costs no
	// more than before.)
	// Which words are corrected, if any, depends on the snapshot and the
	// clauses alone: kept for the next request (3.1 ms for syria zebra,
	// each time, against 0.8 before the correction was tried).
	type known struct {
		clauses []query.Clause
		corr    []Correction
	}
	decide := func() (any, error) {
		if n, err := whole(p); err != nil || n > 0 {
			return known{}, err
		}
		fixed, corr, err := e.correctKnown(ctx, snap, names, p)
		if err != nil || len(corr) == 0 {
			return known{}, err
		}
		// The corrected words and the others go together: the events of
		// each other word hold them in a tenth at least (barack is in 601 of
		// obama's 746; kenya in 40 of protest's 5,490 is no reading of
		// konya protest, nor meets of court feet: a review's findings).
		if n, err := whole(fixed); err != nil || n == 0 {
			return known{}, err
		}
		dateWords := dateWordsOf(p, names)
		var corrected, others []query.Clause
		for i, c := range fixed.Query.Clauses {
			switch {
			case c.Text != p.Query.Clauses[i].Text:
				corrected = append(corrected, c)
			case c.Negated || (c.Kind != query.Word && c.Kind != query.Phrase) || slices.Contains(dateWords, strings.ToLower(c.Text)):
			default:
				others = append(others, c)
			}
		}
		// Each other word (a word equal to a correction proves nothing:
		// raab arab became arab arab, a second review found).
		together := len(others) > 0
		for _, o := range others {
			if slices.ContainsFunc(corrected, func(c query.Clause) bool { return strings.EqualFold(c.Text, o.Text) }) {
				together = false
				break
			}
			alone, err := count(o)
			if err != nil {
				return known{}, err
			}
			with, err := count(append(slices.Clip(corrected), o)...)
			if err != nil {
				return known{}, err
			}
			if alone == 0 || float64(with) < knownShare*float64(alone) {
				together = false
				break
			}
		}
		if !together {
			return known{}, nil
		}
		return known{fixed.Query.Clauses, corr}, nil
	}
	var v any
	var err error
	if key, kerr := json.Marshal(p.Query); kerr == nil {
		v, err = snap.Memo("known\x00"+string(key), decide)
	} else {
		v, err = decide()
	}
	if err != nil {
		return nil, p, nil, err
	}
	k := v.(known)
	if len(k.corr) == 0 {
		return nil, p, nil, nil
	}
	fixed := p
	fixed.Query.Clauses = slices.Clone(k.clauses) // the memo's is shared
	res, err := e.run(ctx, snap, names, fixed, keep)
	if err != nil || res.total == 0 {
		return nil, p, nil, err
	}
	return res, fixed, k.corr, nil
}

// wantsCorrecting reports whether an answer finds so little that the
// words the index does not know are corrected: fewer than FewResults
// events, or relaxed.
func (f *found) wantsCorrecting() bool { return f.total < FewResults || f.relaxed }

// answersFor reports whether f, the answer of a corrected query, answers
// in place of before, the query's as typed: it finds more events, or,
// before being relaxed (a word the index does not know matches nothing),
// any.
func (f *found) answersFor(before *found) bool {
	return f.total > before.total || (before.relaxed && f.total > 0)
}

// unfiltered returns p without its filters and date range, asking for one
// hit by relevance (its total is what callers read), and whether p had
// any.
func unfiltered(p query.Params) (query.Params, bool) {
	if len(p.Topics) == 0 && len(p.Categories) == 0 && len(p.Contexts) == 0 && p.From.IsZero() && p.To.IsZero() {
		return p, false
	}
	all := p
	all.Topics, all.Categories, all.Contexts = nil, nil, nil
	all.From, all.To, all.DateFilter = time.Time{}, time.Time{}, nil
	all.Sort, all.Size, all.Offset, all.After = query.SortRelevance, 1, 0, nil
	return all, true
}

// matchesBeyondFilters reports whether p, which has a filter or a date
// range, matches events without them (false when it has neither).
func (e *Engine) matchesBeyondFilters(ctx context.Context, snap *snapshot.Snapshot, names *Names, p query.Params) (bool, error) {
	all, filtered := unfiltered(p)
	if !filtered {
		return false, nil
	}
	if !slices.ContainsFunc(all.Query.Clauses, func(c query.Clause) bool { return c.Kind != query.Word || c.Negated }) {
		// Plain words: as the ranked walk matches them (their forms, a
		// year read as a boost), which counts them in about a millisecond.
		res, err := e.run(ctx, snap, names, all, false)
		if err != nil {
			return false, err
		}
		return res.total > 0, nil
	}
	// Phrases, prefixes, exclusions, field terms: Bleve's query, read to
	// its first match, not scored and counted whole ("united states"
	// government in Sports took 23-56 ms so), without a year read as a
	// boost beside them, which is no clause to match (a review found
	// "hurricane katrina" 2011 in Sports relaxed to events that say 2011,
	// though 70 have the phrase elsewhere). (A prefix of more than
	// maxPrefixTerms terms is Bleve's query's whole, the year a word: the
	// check may then find a match that query lacks, and not relax.)
	_, all = dateBoost(all, names)
	q, err := query.KeywordQuery(e.m, all)
	if err != nil {
		if errors.Is(err, query.ErrNothingToMatch) {
			return false, nil
		}
		return false, err
	}
	return snap.AnyMatch(ctx, q, e.m)
}

// ranks reports whether a clause of cs gives events scores to rank by: a
// word or a phrase that is not only stop words, or a prefix, not
// excluded ("the -war" is "-war": the newest first).
func (e *Engine) ranks(cs []query.Clause) bool {
	return slices.ContainsFunc(cs, func(c query.Clause) bool {
		if c.Negated || c.Kind == query.Field {
			return false
		}
		if c.Kind == query.Prefix {
			return true
		}
		toks, err := query.Tokens(e.m, c.Text)
		return err != nil || len(toks) > 0
	})
}

// positive counts the clauses that are not exclusions.
func positive(cs []query.Clause) int {
	n := 0
	for _, c := range cs {
		if !c.Negated {
			n++
		}
	}
	return n
}
