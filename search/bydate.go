package search

import (
	"container/heap"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/snapshot"
)

// Date orders are served from the day column: the matches are visited
// once, unscored, and the best by day kept in a small heap; only the
// page's events and those tied with its last day are looked up by id (the
// tie-break). Bleve's sort on the date field loads a doc value for every
// match: 34-43 ms for "killed" by date, 87-120 ms for everything.

// runByDate runs p, whose sort is a date order.
func (e *Engine) runByDate(ctx context.Context, snap *snapshot.Snapshot, names *Names, p query.Params, keep bool) (*found, error) {
	visit, read, err := e.matchVisitor(ctx, snap, names, p)
	if err != nil {
		return nil, err
	}
	desc := p.Sort == query.SortDateDesc
	key := func(day int32) int64 { // smaller is earlier in the order
		if desc {
			return -int64(day)
		}
		return int64(day)
	}
	var (
		after    bool
		afterKey int64
		afterID  string
	)
	if len(p.After) == 2 {
		t, err := newsdesk.ParseDate(p.After[0])
		if err != nil {
			return nil, invalid("cursor", "is not a cursor this server issued; pass next_cursor from a previous answer")
		}
		after, afterKey, afterID = true, key(snapshot.DayNumber(t)), p.After[1]
	}
	k := p.Offset + p.Size
	best := make(dateHeap, 0, k+1)
	var tied []dated // left out with the day of the heap's worst: may win on id
	var kept []uint32
	var total uint64
	var idErr error
	// past counts the events after the cursor weighed; skipped says the
	// walk passed over events later than the page's last: either says
	// whether a page follows this one.
	var past int
	var skipped bool
	consider := func(n uint64, day int32) {
		d := dated{key: key(day), num: n}
		if after {
			if d.key < afterKey {
				return
			}
			if d.key == afterKey {
				id, err := snap.ID(n)
				if err != nil {
					idErr = err
					return
				}
				if id <= afterID {
					return
				}
			}
		}
		past++
		switch {
		case len(best) < k:
			heap.Push(&best, d)
		case d.key < best[0].key || (d.key == best[0].key && d.num < best[0].num):
			out := best[0]
			best[0] = d
			heap.Fix(&best, 0)
			if out.key == best[0].key {
				tied = appendTied(tied, out, best[0].key)
			}
		case d.key == best[0].key:
			tied = appendTied(tied, d, best[0].key)
		}
	}
	if lo, hi, ranged := dayRange(p); rangeWalk && ranged && len(p.Query.Clauses) == 0 && filterFunc(snap, p, false) == nil && !keep {
		// A date range alone: the events are counted from the day
		// column, and the walk passes over the blocks of events all
		// later in the order than the page's last (or before the
		// cursor): the whole corpus, oldest first, 1.2 ms -> 0.13.
		days := snap.Days(lo, hi)
		total = days.Count()
		steps := 0
		days.EachLiveIn(desc, func(earliest, latest int32) bool {
			first, last := key(earliest), key(latest)
			if desc {
				first, last = last, first
			}
			if after && last < afterKey {
				return false
			}
			if len(best) == k && first > best[0].key {
				skipped = true
				return false
			}
			return true
		}, func(n uint64, day int32) bool {
			consider(n, day)
			steps++
			return steps%8192 != 0 || ctx.Err() == nil
		})
		err = ctx.Err()
	} else if desc {
		// Newest first, the matches are weighed backward. They come in
		// event order, about date order: weighed as they came, nearly
		// each was newer than the page's last and went in and out of the
		// heap (a common word at ten times the corpus took 14 ms at the
		// 99th percentile); backward, the page fills with the newest and
		// few enter after.
		ms := getMatches()
		defer matchesPool.Put(ms)
		err = visit(ctx, func(n uint64, day int32) {
			total++
			if keep {
				kept = append(kept, uint32(n))
			}
			*ms = append(*ms, match{num: uint32(n), day: day})
		})
		for i := len(*ms) - 1; i >= 0 && err == nil; i-- {
			consider(uint64((*ms)[i].num), (*ms)[i].day)
		}
	} else {
		err = visit(ctx, func(n uint64, day int32) {
			total++
			if keep {
				kept = append(kept, uint32(n))
			}
			consider(n, day)
		})
	}
	if err == nil {
		err = idErr
	}
	if err != nil {
		return nil, err
	}
	f := &found{total: total, more: past > k || skipped, relaxed: read.relaxed, boost: read.boost, visit: func(ctx context.Context, fn func(uint64)) error {
		if keep {
			for _, n := range kept {
				fn(uint64(n))
			}
			return nil
		}
		return visit(ctx, func(n uint64, _ int32) { fn(n) })
	}}
	if len(best) == 0 {
		return f, nil
	}
	cands := append([]dated(best), tied...)
	worst := best[0].key
	type page struct {
		dated
		id string
	}
	var ps []page
	for _, d := range cands {
		if d.key > worst {
			continue // a tie with an earlier worst day, since beaten
		}
		id, err := snap.ID(d.num)
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		ps = append(ps, page{d, id})
	}
	slices.SortFunc(ps, func(a, b page) int {
		if a.key != b.key {
			if a.key < b.key {
				return -1
			}
			return 1
		}
		return strings.Compare(a.id, b.id)
	})
	ps = ps[:min(len(ps), k)]
	start := p.Offset
	if after {
		start = 0 // the cursor, not an offset, says where the page starts
	}
	for _, d := range ps[min(start, len(ps)):] {
		f.hits = append(f.hits, scoredDoc{num: d.num})
	}
	if n := len(f.hits); n > 0 {
		last := ps[len(ps)-1]
		f.lastSort = []string{snapshot.DayTime(snap.Day(last.num)).Format(newsdesk.DateLayout), last.id}
	}
	return f, nil
}

// match is a match of a search by date, as runByDate keeps it to weigh
// the matches backward.
type match struct {
	num uint32
	day int32
}

// matchesPool holds the buffers of runByDate's matches (*[]match).
var matchesPool sync.Pool

// getMatches returns an empty buffer of matches from the pool.
func getMatches() *[]match {
	if ms, ok := matchesPool.Get().(*[]match); ok {
		*ms = (*ms)[:0]
		return ms
	}
	return new([]match)
}

// rangeWalk turns on runByDate's walk of a date range alone; tests turn it
// off to compare.
var rangeWalk = true

// matchVisitor returns a walk over the documents p matches, with their
// days, unscored: filters alone from the columns (newest first
// backward), what the ranked walk ranks by its walk (rankedPlanFor),
// plain words of a legacy generation by the fast path's conjunction,
// anything else through Bleve.
func (e *Engine) matchVisitor(ctx context.Context, snap *snapshot.Snapshot, names *Names, p query.Params) (func(context.Context, func(n uint64, day int32)) error, *reading, error) {
	read := &reading{}
	if len(p.Query.Clauses) == 0 {
		lo, hi, ranged := dayRange(p)
		accept := filterFunc(snap, p, false)
		if accept == nil && !ranged {
			return nil, nil, invalid("q", "is empty; give words to search for, or a filter (from, to, topic, category, context)")
		}
		return func(ctx context.Context, fn func(uint64, int32)) error {
			steps := 0
			each := func(n uint64, day int32) bool {
				if steps++; steps%8192 == 0 && ctx.Err() != nil {
					return false
				}
				if accept == nil || accept(n) {
					fn(n, day)
				}
				return true
			}
			// Newest first, the walk goes backward: the index is numbered
			// about in date order, so it meets the page's events first,
			// where a forward walk replaced the page at every event (the
			// whole corpus newest first: 3.2 ms, backward 1.4).
			switch desc := p.Sort == query.SortDateDesc; {
			case ranged && desc:
				snap.Days(lo, hi).EachLiveBackward(each)
			case ranged:
				snap.Days(lo, hi).EachLive(each)
			case desc:
				snap.EachLiveBackward(func(n uint64) { each(n, snap.Day(n)) })
			default:
				snap.EachLive(func(n uint64) { each(n, snap.Day(n)) })
			}
			return ctx.Err()
		}, read, nil
	}
	words := p
	words.Sort = query.SortRelevance
	words.After = nil
	// The clauses match as the ranking matches them (their other forms,
	// a year read as a boost, every word or, when fewer than AllWords
	// events have them all, the rarest; a phrase's, prefix's, field
	// term's or exclusion's events): by date, the same events. (When the
	// walk finds none, neither does Bleve's query, which the relevance
	// order then asks: it holds the year as a word.)
	if !e.noFast {
		plan, ok, err := e.rankedPlanFor(ctx, snap, names, words)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			read.boost = plan.boost
			return func(ctx context.Context, fn func(uint64, int32)) error {
				// Each mode's matches are kept as walked, and given once
				// the mode is known to answer: one walk a mode.
				ms := getMatches()
				defer matchesPool.Put(ms)
				modes := plan.modes()
				for i, mode := range modes {
					*ms = (*ms)[:0]
					total, _, err := e.rankedWalk(ctx, plan, mode, 0, func(n uint64) { *ms = append(*ms, match{num: uint32(n)}) })
					if err != nil {
						return err
					}
					settles, err := plan.settles(mode, total, i == len(modes)-1)
					if err != nil {
						return err
					}
					if settles {
						read.relaxed = mode != allWords
						for _, m := range *ms {
							fn(uint64(m.num), snap.Day(uint64(m.num)))
						}
						return nil
					}
				}
				return nil
			}, read, nil
		}
	}
	if plan, ok := e.fastPlanFor(snap, words); ok && !e.noFast {
		matches := e.fastMatches
		if plan.any {
			matches = e.fastAnyMatches
		}
		return func(ctx context.Context, fn func(uint64, int32)) error {
			_, _, err := matches(ctx, plan, 0, func(n uint64) { fn(n, snap.Day(n)) })
			return err
		}, read, nil
	}
	q, err := query.KeywordQuery(e.m, p)
	if err != nil {
		return nil, nil, err
	}
	return func(ctx context.Context, fn func(uint64, int32)) error {
		_, err := snap.VisitMatches(ctx, q, e.m, func(n uint64) { fn(n, snap.Day(n)) })
		return err
	}, read, nil
}

// reading is how matchVisitor read a query, once its walk has run.
type reading struct {
	relaxed bool       // fewer than AllWords events had every word
	boost   *DateBoost // a year (and month) typed, read as a boost
}

// appendTied adds d, of the day worst of the heap's worst, to tied. The
// worst day only improves, so ties with a later one are dropped: in an
// index numbered in date order, a newest-first walk ties every event of a
// day with the last, and the list grew to thousands.
func appendTied(tied []dated, d dated, worst int64) []dated {
	if len(tied) > 0 && tied[0].key != worst {
		tied = tied[:0]
	}
	return append(tied, d)
}

// dated is a match in a date order: key is its day, negated for newest
// first, so that smaller keys come first either way.
type dated struct {
	key int64
	num uint64
}

// dateHeap keeps the first k matches of a date order, the last on top.
type dateHeap []dated

func (h dateHeap) Len() int { return len(h) }
func (h dateHeap) Less(i, j int) bool {
	if h[i].key != h[j].key {
		return h[i].key > h[j].key
	}
	return h[i].num > h[j].num
}
func (h dateHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *dateHeap) Push(x any)   { *h = append(*h, x.(dated)) }
func (h *dateHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
