package search

import (
	"cmp"
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/snapshot"
)

// histogram returns the date buckets for r: its own range, with open ends
// closed by the first and last event dates, or by its other end when the
// events lie all beyond it (from=2030-01-01 alone: that day); nil when
// neither end is known (no event, no range).
func histogram(names *Names, r Request) *query.Histogram {
	from, to := r.From, r.To
	lo, hi := names.DateRange()
	if from.IsZero() {
		from = lo
		if !to.IsZero() && (from.IsZero() || from.After(to)) {
			from = to
		}
	}
	if to.IsZero() {
		to = hi
		if !from.IsZero() && (to.IsZero() || to.Before(from)) {
			to = from
		}
	}
	if from.IsZero() || to.IsZero() || to.Before(from) {
		return nil
	}
	return query.NewHistogram(from, to)
}

// counters are the per-value counts of one facet pass, pooled because
// the context table alone has tens of thousands of entries.
type counters struct {
	cat, topic, ctx, days []int32
}

var counterPool sync.Pool

// facets counts the events visit visits by category, topic, context and date
// bucket, reading the values from snap's columns. The spellings of a name
// (in other case) count as one, as filters match them all, shown as names
// spells it most.
func (e *Engine) facets(ctx context.Context, c *snapshot.Snapshot, names *Names, visit func(context.Context, func(uint64)) error, topN int, h *query.Histogram) (*Facets, error) {
	cs, _ := counterPool.Get().(*counters)
	if cs == nil || len(cs.cat) != len(c.Categories) || len(cs.topic) != len(c.Topics) || len(cs.ctx) != len(c.Contexts) {
		cs = &counters{cat: make([]int32, len(c.Categories)), topic: make([]int32, len(c.Topics)), ctx: make([]int32, len(c.Contexts))}
	}
	defer func() {
		clear(cs.cat)
		clear(cs.topic)
		clear(cs.ctx)
		counterPool.Put(cs)
	}()
	var starts []int32
	if h != nil {
		for _, t := range h.Buckets() {
			starts = append(starts, snapshot.DayNumber(t))
		}
		cs.days = slices.Grow(cs.days[:0], len(starts))[:len(starts)]
		clear(cs.days)
	}
	ctxFold := e.folds.ctx.of(c.Contexts)
	err := visit(ctx, func(n uint64) {
		cs.cat[c.Category(n)]++
		cs.topic[c.Topic(n)]++
		// By name: an event tagged with two spellings of one counts once.
		ids := c.ContextsOf(n)
		for i, id := range ids {
			f := ctxFold[id]
			if !slices.ContainsFunc(ids[:i], func(prev uint32) bool { return ctxFold[prev] == f }) {
				cs.ctx[f]++
			}
		}
		if starts != nil {
			if d := c.Day(n); d != snapshot.NoDay {
				if b := sort.Search(len(starts), func(i int) bool { return starts[i] > d }) - 1; b >= 0 {
					cs.days[b]++
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	f := &Facets{
		Category: top(e.folds.cat.fold(cs.cat, c.Categories), c.Categories, topN, names.spelling(FieldCategory)),
		Topic:    top(e.folds.topic.fold(cs.topic, c.Topics), c.Topics, topN, names.spelling(FieldTopic)),
		Context:  top(cs.ctx, c.Contexts, topN, names.spelling(FieldContext)), // counted by name
		Date:     []DateCount{},
		// Without buckets (an index with no dated event), still one of
		// the units the answer's schema allows.
		DateUnit: query.Day,
	}
	if h != nil {
		f.DateUnit = h.Unit
		for i, t := range h.Buckets() {
			f.Date = append(f.Date, DateCount{Start: h.BucketName(t), Count: int(cs.days[i])})
		}
	}
	return f, nil
}

// foldTable maps each id of a tag table to the first id of the same
// name in any case (as Names groups spellings); safe for concurrent use. Tag
// tables only grow (ids are fixed for a Source's life), and so does it.
type foldTable struct {
	mu    sync.Mutex
	first map[string]uint32 // the folded name → its first id
	ids   atomic.Pointer[[]uint32]
}

// of returns the first id of each id of values.
func (t *foldTable) of(values []string) []uint32 {
	if p := t.ids.Load(); p != nil && len(*p) >= len(values) {
		return (*p)[:len(values)]
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var ids []uint32
	if p := t.ids.Load(); p != nil {
		ids = *p
	}
	if t.first == nil {
		t.first = map[string]uint32{}
	}
	// Appended past what readers see: their slices stay as they were.
	for id := len(ids); id < len(values); id++ {
		key := strings.ToLower(values[id])
		f, ok := t.first[key]
		if !ok || id == 0 {
			f = uint32(id)
			t.first[key] = f
		}
		ids = append(ids, f)
	}
	t.ids.Store(&ids)
	return ids[:len(values)]
}

// fold adds the count of each spelling to its name's first id, and
// returns counts.
func (t *foldTable) fold(counts []int32, values []string) []int32 {
	ids := t.of(values)
	for id, n := range counts[:min(len(counts), len(ids))] {
		if n != 0 && ids[id] != uint32(id) {
			counts[ids[id]] += n
			counts[id] = 0
		}
	}
	return counts
}

// top returns the n values with the highest counts, most first, then by
// value; the empty value (id 0) is never listed. spell gives the name a
// value is shown as.
func top(counts []int32, values []string, n int, spell func(string) string) []Count {
	out := []Count{}
	for id := 1; id < len(counts); id++ {
		if counts[id] == 0 {
			continue
		}
		if len(out) == n && counts[id] <= int32(out[n-1].Count) {
			continue
		}
		out = append(out, Count{Value: spell(values[id]), Count: int(counts[id])})
		slices.SortFunc(out, func(a, b Count) int {
			return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Value, b.Value))
		})
		if len(out) > n {
			out = out[:n]
		}
	}
	return out
}
