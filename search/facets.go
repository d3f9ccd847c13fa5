package search

import (
	"cmp"
	"context"
	"slices"
	"sort"
	"sync"

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
// bucket, reading the values from snap's columns.
func (e *Engine) facets(ctx context.Context, c *snapshot.Snapshot, visit func(context.Context, func(uint64)) error, topN int, h *query.Histogram) (*Facets, error) {
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
	err := visit(ctx, func(n uint64) {
		cs.cat[c.Category(n)]++
		cs.topic[c.Topic(n)]++
		for _, id := range c.ContextsOf(n) {
			cs.ctx[id]++
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
		Category: top(cs.cat, c.Categories, topN),
		Topic:    top(cs.topic, c.Topics, topN),
		Context:  top(cs.ctx, c.Contexts, topN),
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

// top returns the n values with the highest counts, most first, then by
// value; the empty value (id 0) is never listed.
func top(counts []int32, values []string, n int) []Count {
	out := []Count{}
	for id := 1; id < len(counts); id++ {
		if counts[id] == 0 {
			continue
		}
		if len(out) == n && counts[id] <= int32(out[n-1].Count) {
			continue
		}
		out = append(out, Count{Value: values[id], Count: int(counts[id])})
		slices.SortFunc(out, func(a, b Count) int {
			return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Value, b.Value))
		})
		if len(out) > n {
			out = out[:n]
		}
	}
	return out
}
