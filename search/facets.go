package search

import (
	"cmp"
	"context"
	"math"
	"slices"
	"sort"
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
	var last int32 // the histogram's last day
	bucketize := func(h *query.Histogram) {
		starts = starts[:0]
		for _, t := range h.Buckets() {
			starts = append(starts, snapshot.DayNumber(t))
		}
		last = snapshot.DayNumber(h.To)
		cs.days = slices.Grow(cs.days[:0], len(starts))[:len(starts)]
		clear(cs.days)
	}
	if h != nil {
		bucketize(h)
	}
	// The matches' first and last days: the histogram's open ends are
	// the index's dates as names last counted them, which an update may
	// have moved (a search in the second after one dated past the last
	// day counted its event in the last bucket, one before the first in
	// none: a review's finding).
	lo, hi := int32(math.MaxInt32), int32(math.MinInt32)
	count := func(d int32) {
		if b := sort.Search(len(starts), func(i int) bool { return starts[i] > d }) - 1; b >= 0 && d <= last {
			cs.days[b]++
		}
	}
	ctxFold := e.folds.ctx.of(c.Contexts)
	err := visit(ctx, func(n uint64) {
		cs.cat[c.Category(n)]++
		cs.topic[c.Topic(n)]++
		// By name: an event tagged with two spellings of one counts once.
		ids := c.ContextsOf(n)
		for i, id := range ids {
			if len(ids) == 1 || !ctxFold.repeats(ids, i) {
				cs.ctx[id]++
			}
		}
		if d := c.Day(n); d != snapshot.NoDay {
			lo, hi = min(lo, d), max(hi, d)
			if starts != nil {
				count(d)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if lo <= hi && (h == nil || lo < starts[0] || hi > last) {
		// Rare (until names count again): the histogram is made to hold
		// them all, and the days counted again.
		if h == nil {
			h = query.NewHistogram(snapshot.DayTime(lo), snapshot.DayTime(hi))
		} else {
			h = query.NewHistogram(snapshot.DayTime(min(lo, snapshot.DayNumber(h.From))), snapshot.DayTime(max(hi, last)))
		}
		bucketize(h)
		if err := visit(ctx, func(n uint64) {
			if d := c.Day(n); d != snapshot.NoDay {
				count(d)
			}
		}); err != nil {
			return nil, err
		}
	}
	f := &Facets{
		Category: top(e.folds.cat.of(c.Categories).fold(cs.cat), c.Categories, topN, names.spelling(FieldCategory)),
		Topic:    top(e.folds.topic.of(c.Topics).fold(cs.topic), c.Topics, topN, names.spelling(FieldTopic)),
		Context:  top(ctxFold.fold(cs.ctx), c.Contexts, topN, names.spelling(FieldContext)),
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
	mu     sync.Mutex
	byName map[string]uint32 // the folded name → its first id
	view   atomic.Pointer[foldView]
}

// foldView is a foldTable as of a table's length. Its slices are only
// appended to (a reader's stay as they were); spelled is replaced when it
// changes.
type foldView struct {
	first   []uint32 // by id, the first id of its name
	others  []uint32 // the ids that are not the first of their name, ascending
	spelled []uint64 // a bit by id: its name has another spelling
}

// of returns the view of the table values.
func (t *foldTable) of(values []string) foldView {
	if v := t.view.Load(); v != nil && len(v.first) >= len(values) {
		return v.cut(len(values))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	v := &foldView{}
	if old := t.view.Load(); old != nil {
		*v = *old
	}
	if t.byName == nil {
		t.byName = map[string]uint32{}
	}
	spelled := v.spelled
	if n := (len(values) + 63) / 64; n > len(spelled) {
		spelled = append(make([]uint64, 0, n), spelled...)[:n]
	}
	copied := false
	mark := func(id uint32) {
		if !copied { // readers hold the old one
			spelled, copied = slices.Clone(spelled), true
		}
		spelled[id/64] |= 1 << (id % 64)
	}
	for id := len(v.first); id < len(values); id++ {
		key := nameKey(values[id]) // as Names compares them
		f, ok := t.byName[key]
		if !ok || id == 0 {
			f = uint32(id)
			t.byName[key] = f
		} else {
			v.others = append(v.others, uint32(id))
			mark(f)
			mark(uint32(id))
		}
		v.first = append(v.first, f)
	}
	v.spelled = spelled
	t.view.Store(v)
	return v.cut(len(values))
}

// cut returns the view of the table's first n ids.
func (v *foldView) cut(n int) foldView {
	k, _ := slices.BinarySearch(v.others, uint32(n))
	return foldView{first: v.first[:n], others: v.others[:k], spelled: v.spelled}
}

// fold adds the count of each spelling to its name's first id, and
// returns counts.
func (v foldView) fold(counts []int32) []int32 {
	for _, id := range v.others {
		counts[v.first[id]] += counts[id]
		counts[id] = 0
	}
	return counts
}

// repeats reports whether tag ids[i] of one event repeats a name another
// of its tags has: its first spelling, or an earlier one. An event counts
// once for a name however many spellings it is tagged with.
func (v foldView) repeats(ids []uint32, i int) bool {
	id := ids[i]
	if v.spelled[id/64]&(1<<(id%64)) == 0 {
		return false // the commonest case: a name of one spelling
	}
	f := v.first[id]
	for j, other := range ids {
		switch {
		case j == i || v.first[other] != f:
		case id == f: // the first spelling counts, unless it came before
			if other == f && j < i {
				return true
			}
		case other == f || j < i: // another counts: the first, or an earlier one
			return true
		}
	}
	return false
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
		// By the order shown (a tie by value, not by which name the index
		// met first): the top 1 is the first of the top 2. The values are
		// compared only on a tie with the last kept.
		if len(out) == n {
			if last := int32(out[n-1].Count); counts[id] < last || counts[id] == last && values[id] >= out[n-1].Value {
				continue
			}
		}
		c := Count{Value: values[id], Count: int(counts[id])}
		at, _ := slices.BinarySearchFunc(out, c, byCount) // out stays in order
		if len(out) == n {
			copy(out[at+1:], out[at:n-1])
			out[at] = c
		} else {
			out = slices.Insert(out, at, c)
		}
	}
	// Shown as spelled, once chosen and ordered: spelling each candidate
	// cost a tenth of a search with facets. (Sorted again by the
	// spellings, a tie of two cases could change places between a top
	// 1 and a top 2.)
	for i := range out {
		out[i].Value = spell(out[i].Value)
	}
	return out
}

// byCount orders facet values most first, then by value.
func byCount(a, b Count) int {
	return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Value, b.Value))
}
