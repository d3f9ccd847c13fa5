package search

import (
	"cmp"
	"container/heap"
	"context"
	"math"
	"slices"
	"sync"

	bsearch "github.com/blevesearch/bleve/v2/search"
	bindex "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/snapshot"
)

// The fast path answers plain words ranked by relevance on a generation
// of the legacy mapping (ranked.go ranks them on today's), without
// Bleve's searcher stack: it walks the words' posting lists itself
// (rarest first, skipping ahead in the others), checks the filters
// against the columns, and scores with Bleve's own BM25 formula, so that
// it ranks exactly as the Bleve path would (TestFastPath_MatchesBleve).
// Bleve spends most of a search on per-match bookkeeping (a pooled match
// object, a scorer and a collector per hit); on the 114k corpus the fast
// path is about 2.5x faster for the large result sets that make the
// slowest 1% of queries. Phrases, prefixes, exclusions and exact-field
// terms go through Bleve; date orders through the day column (bydate.go).

// maxFastTerms bounds the words of a fast-path query: every query the
// parser takes, so that a long one is ranked and relaxed as a short one.
const maxFastTerms = query.MaxTerms

// fastPlan is a query the fast path can answer, on one snapshot.
type fastPlan struct {
	snap    *snapshot.Snapshot
	tokens  []string   // every token, for "every word must match"
	clauses [][]string // the tokens of each word, for "any word may match"
	any     bool
	accept  func(doc uint64) bool // the filters; nil when there are none
	// days, when set, limits events to a day range: the walk skips to the
	// next event in range (events are numbered about in date order, as
	// the corpus is indexed, so the range is close to one run of numbers).
	days *snapshot.Days
}

// fastPlanFor returns the fast-path plan of p on snap, if it has one.
func (e *Engine) fastPlanFor(snap *snapshot.Snapshot, p query.Params) (*fastPlan, bool) {
	if len(p.After) > 0 || p.Sort != query.SortRelevance {
		return nil, false
	}
	plan := &fastPlan{snap: snap, any: p.AnyWord}
	for _, c := range p.Query.Clauses {
		if c.Kind != query.Word || c.Negated {
			return nil, false
		}
		toks, err := query.Tokens(e.m, c.Text)
		if err != nil {
			return nil, false
		}
		plan.tokens = append(plan.tokens, toks...)
		if len(toks) > 0 {
			plan.clauses = append(plan.clauses, toks)
		}
	}
	if len(plan.tokens) == 0 || len(plan.tokens) > maxFastTerms {
		return nil, false
	}
	plan.accept = filterFunc(snap, p, true)
	if lo, hi, ok := dayRange(p); ok {
		plan.days = snap.Days(lo, hi)
	}
	return plan, true
}

// filterFunc returns a check of p's exact-value filters, and of its date
// range with dates, against snap's columns, or nil when there is none.
func filterFunc(snap *snapshot.Snapshot, p query.Params, dates bool) func(uint64) bool {
	var checks []func(uint64) bool
	if lo, hi, ok := dayRange(p); ok && dates {
		checks = append(checks, func(n uint64) bool { d := snap.Day(n); return d != snapshot.NoDay && d >= lo && d <= hi })
	}
	ids := func(id func(string) (uint32, bool), values []string) map[uint32]bool {
		set := map[uint32]bool{}
		for _, v := range values {
			if i, ok := id(v); ok {
				set[i] = true
			}
		}
		return set
	}
	if len(p.Topics) > 0 {
		set := ids(snap.TopicID, p.Topics)
		checks = append(checks, func(n uint64) bool { return set[snap.Topic(n)] })
	}
	if len(p.Categories) > 0 {
		set := ids(snap.CategoryID, p.Categories)
		checks = append(checks, func(n uint64) bool { return set[snap.Category(n)] })
	}
	if len(p.Contexts) > 0 {
		set := ids(snap.ContextID, p.Contexts)
		checks = append(checks, func(n uint64) bool {
			return slices.ContainsFunc(snap.ContextsOf(n), func(id uint32) bool { return set[id] })
		})
	}
	if len(checks) == 0 {
		return nil
	}
	return func(n uint64) bool {
		for _, ok := range checks {
			if !ok(n) {
				return false
			}
		}
		return true
	}
}

// runFast runs p by the fast path; ok is false when p is not for it.
func (e *Engine) runFast(ctx context.Context, snap *snapshot.Snapshot, p query.Params, keep bool) (f *found, ok bool, err error) {
	plan, ok := e.fastPlanFor(snap, p)
	if !ok {
		return nil, false, nil
	}
	k := p.Offset + p.Size
	matches := e.fastMatches
	if plan.any {
		matches = e.fastAnyMatches
	}
	// With keep (facets wanted), the walk remembers the matches, so that
	// counting the facets does not walk the posting lists again.
	var kept []uint32
	var collect func(uint64)
	if keep {
		collect = func(n uint64) { kept = append(kept, uint32(n)) }
	}
	total, top, err := matches(ctx, plan, k, collect)
	if err != nil {
		return nil, true, err
	}
	f = &found{total: total,
		visit: func(ctx context.Context, fn func(uint64)) error {
			if keep {
				for _, n := range kept {
					fn(uint64(n))
				}
				return nil
			}
			_, _, err := matches(ctx, plan, 0, fn)
			return err
		}}
	if p.Offset < len(top) {
		f.hits = top[p.Offset:]
	}
	return f, true, nil
}

// filled gives an event empty lists instead of nil ones, for JSON.
func filled(ev newsdesk.Event) newsdesk.Event {
	if ev.Context == nil {
		ev.Context = []string{}
	}
	if ev.Sources == nil {
		ev.Sources = []newsdesk.Source{}
	}
	return ev
}

type scoredDoc struct {
	num   uint64
	score float64
}

// topDocs is a min-heap of the best k documents: lowest score (then
// highest number) on top, so the worst is evicted first.
type topDocs []scoredDoc

func (h topDocs) Len() int { return len(h) }
func (h topDocs) Less(i, j int) bool {
	if h[i].score != h[j].score {
		return h[i].score < h[j].score
	}
	return h[i].num > h[j].num
}
func (h topDocs) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *topDocs) Push(x any)   { *h = append(*h, x.(scoredDoc)) }
func (h *topDocs) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// fastMatches walks the events having every token and passing the plan's
// filters: it counts them, calls visit (if not nil) with each, and returns
// the best k by BM25, best first (ties: lower number first, as Bleve).
func (e *Engine) fastMatches(ctx context.Context, plan *fastPlan, k int, visit func(uint64)) (uint64, []scoredDoc, error) {
	return e.conjunction(ctx, plan, plan.tokens, k, visit, nil)
}

// conjunction walks the events having every token and passing accept. When
// each is not nil it is called with every match and its score, and the
// return values are zero.
//
// It walks each segment's posting lists in turn, by number within the
// segment: rarest first, skipping ahead in the others (a leapfrog), with
// the date range taking part in the skipping. Deleted documents stay in
// the lists (see snapshot.Postings) and are dropped when matched.
func (e *Engine) conjunction(ctx context.Context, plan *fastPlan, tokens []string, k int, visit func(uint64), each func(n uint64, score float64)) (uint64, []scoredDoc, error) {
	snap := plan.snap
	r := snap.Reader()
	docCount, err := r.DocCount()
	if err != nil {
		return 0, nil, err
	}
	avgLen := 0.0
	if br, ok := r.(bindex.BM25Reader); ok && docCount > 0 {
		card, err := br.FieldCardinality(newsdesk.FieldText)
		if err != nil {
			return 0, nil, err
		}
		avgLen = math.Ceil(float64(card) / float64(docCount))
	}
	type term struct {
		postings *snapshot.Postings
		weight   float64 // idf × query weight, as Bleve's TermQueryScorer has it
	}
	terms := make([]term, 0, len(tokens))
	for _, t := range tokens {
		p, err := snap.Postings(newsdesk.FieldText, []byte(t))
		if err != nil {
			return 0, nil, err
		}
		df := float64(p.DF())
		if df == 0 {
			return 0, nil, nil // a word no event has: nothing matches them all
		}
		// Bleve multiplies each term's BM25 by idf × queryNorm; the norm
		// is the same for every event, so 1 does here (scores differ from
		// Bleve's by that constant, rankings not at all).
		idf := math.Log(1 + (float64(docCount)-df+0.5)/(df+0.5))
		terms = append(terms, term{postings: p, weight: idf * idf})
	}
	slices.SortFunc(terms, func(a, b term) int { return cmp.Compare(a.postings.DF(), b.postings.DF()) })
	if k == 0 && each == nil {
		lists := make([]*snapshot.Postings, len(terms))
		for i, t := range terms {
			lists[i] = t.postings
		}
		total, err := conjunctionLists(ctx, plan, lists, visit)
		return total, nil, err
	}

	var (
		total uint64
		best  = make(topDocs, 0, k+1)
		steps int
	)
	k1, b := bsearch.BM25_k1, bsearch.BM25_b
	type cursor struct {
		it     segment.PostingsIterator
		num    uint64 // local number of the current posting
		freq   uint64
		norm   float64
		weight float64
		moved  bool
	}
	curs := make([]cursor, len(terms))
	scored := k > 0 || each != nil
segments:
	for i := range snap.Segments() {
		start := snap.SegmentStart(i)
		for j, t := range terms {
			it := t.postings.Iterator(i, scored)
			if it == nil {
				continue segments // a word this segment lacks
			}
			curs[j] = cursor{it: it, weight: t.weight}
		}
		// advance moves c to its first posting at or after local number
		// target: the next one when that is target (cheaper than a
		// skip), else by skipping.
		advance := func(c *cursor, target uint64) (bool, error) {
			var p segment.Posting
			var err error
			if c.moved && c.num+1 == target {
				p, err = c.it.Next()
			} else {
				p, err = c.it.Advance(target)
			}
			if err != nil || p == nil {
				return false, err
			}
			c.moved = true
			c.num = p.Number()
			if scored {
				// Only a score reads them: Norm is a square root and a
				// division, a sixth of a search by date at ten times the
				// corpus.
				c.freq, c.norm = p.Frequency(), p.Norm()
			}
			return true, nil
		}
		target := uint64(0)
		for {
			if steps++; steps%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return 0, nil, err
				}
			}
			if plan.days != nil {
				// The date range takes part in the leapfrog: skip to the
				// first event in range at or after target.
				n, ok := plan.days.Next(start + target)
				if !ok {
					break segments
				}
				if n >= snap.SegmentEnd(i) {
					continue segments
				}
				target = n - start
			}
			// Leapfrog: bring every list to the highest document any is on.
			matched := true
			for j := range curs {
				c := &curs[j]
				if !c.moved || c.num < target {
					ok, err := advance(c, target)
					if err != nil {
						return 0, nil, err
					}
					if !ok {
						continue segments
					}
				}
				if c.num > target {
					target = c.num
					matched = false
					break
				}
			}
			if !matched {
				continue
			}
			local := target
			target++
			n := start + local
			if !snap.LiveIn(i, local) || (plan.accept != nil && !plan.accept(n)) {
				continue
			}
			total++
			if visit != nil {
				visit(n)
			}
			if k == 0 && each == nil {
				continue
			}
			score := 0.0
			for j := range curs {
				c := &curs[j]
				tf := math.Sqrt(float64(c.freq))
				fieldLen := 1 / (c.norm * c.norm)
				score += c.weight * (tf * k1) / (tf + k1*(1-b+b*fieldLen/avgLen))
			}
			if each != nil {
				each(n, score)
				continue
			}
			if len(best) < k {
				heap.Push(&best, scoredDoc{n, score})
			} else if score > best[0].score {
				best[0] = scoredDoc{n, score}
				heap.Fix(&best, 0)
			}
		}
	}
	return total, sorted(best), nil
}

// conjunctionLists is conjunction's walk when nothing is scored (a search
// by date): the same events in the same order, read from the decoded
// lists (snapshot.List, which a server keeps warm) at 2-4 ns a posting
// rather than through zap's iterators at 40-50. posts are rarest first.
func conjunctionLists(ctx context.Context, plan *fastPlan, posts []*snapshot.Postings, visit func(uint64)) (uint64, error) {
	snap := plan.snap
	ls := make([]*snapshot.List, len(posts))
	pos := make([]int, len(posts))
	var total uint64
	steps := 0
segments:
	for i := range snap.Segments() {
		start, end := snap.SegmentStart(i), snap.SegmentEnd(i)
		for j, p := range posts {
			l, err := p.List(i)
			if err != nil {
				return 0, err
			}
			if l == nil || len(l.Docs) == 0 {
				continue segments // a word this segment lacks
			}
			ls[j], pos[j] = l, 0
		}
		lead := ls[0].Docs
		for a := 0; a < len(lead); {
			if steps++; steps%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return 0, err
				}
			}
			d := lead[a]
			if plan.days != nil {
				// The date range takes part: on to its first event at or
				// after d.
				n, ok := plan.days.Next(start + uint64(d))
				if !ok {
					break segments
				}
				if n >= end {
					continue segments
				}
				if t := uint32(n - start); t > d {
					a = seek(lead, a, uint64(t))
					continue
				}
			}
			// Leapfrog: every other list to d; one past it moves the lead
			// on to where that list is.
			next := d
			for j := 1; j < len(ls); j++ {
				docs := ls[j].Docs
				pos[j] = seek(docs, pos[j], uint64(d))
				if pos[j] == len(docs) {
					continue segments
				}
				if docs[pos[j]] > d {
					next = docs[pos[j]]
					break
				}
			}
			if next > d {
				a = seek(lead, a, uint64(next))
				continue
			}
			a++
			n := start + uint64(d)
			if !snap.LiveIn(i, uint64(d)) || (plan.accept != nil && !plan.accept(n)) {
				continue
			}
			total++
			if visit != nil {
				visit(n)
			}
		}
	}
	return total, nil
}

// sorted empties the heap into a best-first slice.
func sorted(h topDocs) []scoredDoc {
	out := make([]scoredDoc, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		out[i] = heap.Pop(&h).(scoredDoc)
	}
	return out
}

// anyScores accumulates, per event number, the score and the count of
// matched clauses of an any-word search. Pooled: it is as long as the index.
type anyScores struct {
	score   []float64
	matched []uint8
	touched []uint32
}

var anyPool sync.Pool

// fastAnyMatches is fastMatches for "any word may match": it walks each
// word's events (a conjunction of the word's tokens), adds up scores per
// event, and scales each by the share of words it matched, as Bleve's
// disjunction does.
func (e *Engine) fastAnyMatches(ctx context.Context, plan *fastPlan, k int, visit func(uint64)) (uint64, []scoredDoc, error) {
	n := int(plan.snap.Size())
	as, _ := anyPool.Get().(*anyScores)
	if as == nil || len(as.score) < n {
		n += n / 8 // room for the documents updates add
		as = &anyScores{score: make([]float64, n), matched: make([]uint8, n)}
	}
	defer func() {
		for _, d := range as.touched {
			as.score[d], as.matched[d] = 0, 0
		}
		as.touched = as.touched[:0]
		anyPool.Put(as)
	}()
	for _, toks := range plan.clauses {
		_, _, err := e.conjunction(ctx, plan, toks, 0, nil, func(d uint64, score float64) {
			if as.matched[d] == 0 {
				as.touched = append(as.touched, uint32(d))
			}
			as.matched[d]++
			as.score[d] += score
		})
		if err != nil {
			return 0, nil, err
		}
	}
	slices.Sort(as.touched) // in event order, as Bleve visits them
	best := make(topDocs, 0, k+1)
	clauses := float64(len(plan.clauses))
	for _, d := range as.touched {
		if visit != nil {
			visit(uint64(d))
		}
		if k == 0 {
			continue
		}
		score := as.score[d] * float64(as.matched[d]) / clauses
		if len(best) < k {
			heap.Push(&best, scoredDoc{uint64(d), score})
		} else if score > best[0].score {
			best[0] = scoredDoc{uint64(d), score}
			heap.Fix(&best, 0)
		}
	}
	return uint64(len(as.touched)), sorted(best), nil
}
