package related

import (
	"cmp"
	"fmt"
	"math"
	mbits "math/bits"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"

	"github.com/newsdesk/newsdesk/snapshot"
)

// cand is an event found for re-ranking.
type cand struct {
	num   uint64
	s1    float64 // stage-1 score, date prior included
	score float64 // final score
	fi    int     // its features' index, in re-ranking
}

// scores accumulates the stage-1 score of every event, indexed by event
// number. Pooled: it is as long as the index.
//
// Stage 1 reads the posting lists itself and adds into this array,
// instead of running a Bleve disjunction: with 25 and more clauses Bleve
// merges the lists through a heap comparing ids, which made a related
// list cost 1.6 ms at the median.
//
// The events added to are kept as bits (an eighth of a megabyte over ten
// times the corpus, which stays in the caches), not as a list: best then
// reads the scores and days in event order, which the processor reads
// ahead, where a list's order of first touch made each read a miss
// (ten times the corpus: a list's addition, the days' lookups and
// best were 60% of a related list's time).
type scores struct {
	score []float32
	// touched and marked are sets of events, a bit each: those stage 1
	// added to, and those a second pass changed.
	touched, marked []uint64
}

var scoresPool sync.Pool

func getScores(n int) *scores {
	sc, _ := scoresPool.Get().(*scores)
	if sc == nil || len(sc.score) < n {
		n += n / 8 // room for the documents updates add
		words := (n + 63) / 64
		sc = &scores{score: make([]float32, words*64), touched: make([]uint64, words), marked: make([]uint64, words)}
	}
	return sc
}

// reset zeroes what was added.
func (sc *scores) reset() {
	for w, bits := range sc.touched {
		if bits == 0 {
			continue
		}
		if mbits.OnesCount64(bits) > 8 {
			clear(sc.score[w<<6 : w<<6+64]) // cheaper than bit by bit
		} else {
			for ; bits != 0; bits &= bits - 1 {
				sc.score[w<<6|mbits.TrailingZeros64(bits)] = 0
			}
		}
		sc.touched[w] = 0
	}
	clear(sc.marked)
}

// addMarked adds s to event num's score, and marks the event.
func (sc *scores) addMarked(num uint64, s float64) {
	sc.add(num, s)
	sc.marked[num>>6] |= 1 << (num & 63)
}

func (sc *scores) add(num uint64, s float64) {
	sc.touched[num>>6] |= 1 << (num & 63)
	sc.score[num] += float32(s)
}

// eventRange is a part of the events, numbers lo to hi-1, that a part of a
// pass adds to (pass): its ends are multiples of 64, so that no two parts
// share a word of scores' bit sets.
type eventRange struct{ lo, hi uint64 }

// allEvents is the range of every event.
var allEvents = eventRange{0, math.MaxUint64}

// pass adds the source's searched words and most specific tags (stage1)
// to sc, and the neighbours' tags v if given, then returns the best
// candidates (best). A long pass is cut into parts of the events, done at
// once on the machine's cores, each adding to its own events and keeping
// its own best (stage 1 and best are 40% of a related list's time).
// The answer is the same: the parts' best are merged in the order best
// gives.
func (rk *run) pass(sc *scores, src *source, v *votes, lo, hi int32) ([]cand, error) {
	one := func(sp eventRange) ([]cand, error) {
		if err := rk.stage1(sc, src, sp); err != nil {
			return nil, err
		}
		if v != nil {
			if err := rk.addVotes(sc, src, *v, sp); err != nil {
				return nil, err
			}
		}
		return rk.best(sc, sc.touched, src, lo, hi, rk.w.Candidates, sp), nil
	}
	spans := rk.ranges(src, v)
	if len(spans) == 1 {
		return one(spans[0])
	}
	type result struct {
		cands []cand
		err   error
		// panicked holds a part's panic, raised again in the request's
		// goroutine, where the server turns it into a 500 (a panic in
		// another goroutine would end the server).
		panicked any
	}
	rs := make([]result, len(spans))
	var wg sync.WaitGroup
	for i := range spans[1:] {
		wg.Add(1)
		go func(r *result, sp eventRange) {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					r.panicked = fmt.Sprintf("%v\n%s", p, debug.Stack())
				}
			}()
			r.cands, r.err = one(sp)
		}(&rs[i+1], spans[i+1])
	}
	func() {
		// Wait for the other parts whatever happens to this one: they
		// add to sc, which goes back to the pool.
		defer wg.Wait()
		rs[0].cands, rs[0].err = one(spans[0])
	}()
	var all []cand
	for _, r := range rs {
		if r.panicked != nil {
			panic(r.panicked)
		}
		if r.err != nil {
			return nil, r.err
		}
		all = append(all, r.cands...)
	}
	slices.SortFunc(all, bestFirst)
	return all[:min(len(all), rk.w.Candidates)], nil
}

// Parts of a pass (ranges): each of at least partPostings postings of the
// lists it reads, at most passParts. Waking another core costs about as
// much as a pass of the corpus's (40,000 postings at the median, 100,000
// at most) saves on this project's two-core machine, so those take one;
// at ten times the corpus (190,000 at the median) a list by id takes two,
// p99 7.3 -> 5.3 ms. Variables: tests cut small passes.
var (
	partPostings = 65536
	passParts    = func() int { return runtime.GOMAXPROCS(0) }
)

// ranges cuts the events into the parts of a pass over the lists of src
// and v: as many as the postings allow, of as many events each.
func (rk *run) ranges(src *source, v *votes) []eventRange {
	var postings uint64
	for i := range src.words {
		if src.words[i].q != 0 && src.self > 0 {
			for _, p := range src.words[i].post {
				postings += p.DF()
			}
		}
	}
	count := func(post []*snapshot.Postings) {
		for _, p := range post {
			postings += p.DF()
		}
	}
	for i := range src.tags[:min(len(src.tags), rk.w.MaxTags)] {
		count(src.tags[i].post)
	}
	if v != nil {
		for i := range v.tags {
			count(v.tags[i].post)
		}
	}
	parts := min(uint64(max(passParts(), 1)), postings/uint64(max(partPostings, 1)))
	n := rk.snap.Size()
	if parts < 2 || n < 64*parts {
		return []eventRange{allEvents}
	}
	spans := make([]eventRange, parts)
	for i := range spans {
		spans[i].lo = n * uint64(i) / parts &^ 63
		spans[i].hi = n * uint64(i+1) / parts &^ 63
	}
	spans[parts-1].hi = math.MaxUint64
	return spans
}

// stage1 adds the source's searched words and its most specific tags to
// the events of sp in sc.
func (rk *run) stage1(sc *scores, src *source, sp eventRange) error {
	if src.self > 0 {
		for i := range src.words {
			w := &src.words[i]
			if w.q == 0 {
				continue
			}
			if err := rk.addWord(sc, w.post, rk.w.Text*w.q/src.self, sp); err != nil {
				return err
			}
		}
	}
	for i := range src.tags[:min(len(src.tags), rk.w.MaxTags)] {
		if err := rk.addTag(sc, &src.tags[i], 1, sp); err != nil {
			return err
		}
	}
	return nil
}

// addWord adds q × BM25's tf part of a word to the events of sp holding
// it. A word of one form, the most common, is read in a loop of its own:
// the call per posting of eachDoc was a tenth of a related list's time.
func (rk *run) addWord(sc *scores, post []*snapshot.Postings, q float64, sp eventRange) error {
	if len(post) != 1 {
		return rk.eachDoc(post, sp, func(num uint64, tf, length int) {
			sc.add(num, q*rk.bm25tf(float64(tf), float64(length)))
		})
	}
	c1, c2 := k1*(1-b), k1*b/rk.avgLen
	for seg := range rk.snap.Segments() {
		l, err := post[0].List(seg)
		if err != nil {
			return err
		}
		if l == nil {
			continue
		}
		start := rk.snap.SegmentStart(seg)
		i, j, ok := within(l.Docs, start, rk.snap.SegmentEnd(seg), sp)
		if !ok {
			continue
		}
		docs, freqs, lens := l.Docs[i:j], l.Freqs[i:j], l.Lens[i:j]
		for i, d := range docs {
			tf := float64(freqs[i])
			sc.add(start+uint64(d), q*tf*(k1+1)/(tf+c1+c2*float64(lens[i])))
		}
	}
	return nil
}

// within returns the postings i to j-1 of a segment's list docs (the
// segment's events start to end-1) that are events of sp; ok is false
// when there are none.
func within(docs []uint32, start, end uint64, sp eventRange) (i, j int, ok bool) {
	if end <= sp.lo || start >= sp.hi || len(docs) == 0 {
		return 0, 0, false
	}
	i, j = 0, len(docs)
	if sp.lo > start {
		i, _ = slices.BinarySearch(docs, uint32(sp.lo-start))
	}
	if sp.hi < end {
		j, _ = slices.BinarySearch(docs, uint32(sp.hi-start))
	}
	return i, j, i < j
}

// addTag adds a tag's weight to the events of sp that have it: its
// specificity times the weight of its kind, plus Topic for the source's
// topic; vote scales it for the neighbours' tags.
func (rk *run) addTag(sc *scores, t *tag, vote float64, sp eventRange) error {
	wt := rk.w.Context
	if t.kind != storyKind {
		wt = rk.w.Place
	}
	s := wt * t.spec
	if t.topic {
		s += rk.w.Topic
	}
	s *= vote
	if s == 0 {
		return nil
	}
	return rk.eachDoc(t.post, sp, func(num uint64, _, _ int) { sc.add(num, s) })
}

// eachDoc calls fn once for each event of sp in any of the lists, with
// the sum of its frequencies and its field's length, in event order
// within each segment. Deleted events are included.
func (rk *run) eachDoc(post []*snapshot.Postings, sp eventRange, fn func(num uint64, tf, length int)) error {
	var ls []part
	for seg := range rk.snap.Segments() {
		start, end := rk.snap.SegmentStart(seg), rk.snap.SegmentEnd(seg)
		ls = ls[:0]
		for _, p := range post {
			l, err := p.List(seg)
			if err != nil {
				return err
			}
			if l == nil {
				continue
			}
			if i, j, ok := within(l.Docs, start, end, sp); ok {
				ls = append(ls, part{docs: l.Docs[i:j], freqs: l.Freqs[i:j], lens: l.Lens[i:j]})
			}
		}
		switch len(ls) {
		case 0:
		case 1:
			l := ls[0]
			for i, d := range l.docs {
				fn(start+uint64(d), int(l.freqs[i]), int(l.lens[i]))
			}
		default:
			merge(ls, func(d uint32, tf, length int) { fn(start+uint64(d), tf, length) })
		}
	}
	return nil
}

// part is the postings of a list that eachDoc reads.
type part struct {
	docs        []uint32
	freqs, lens []uint16
}

// merge walks sorted lists together, calling fn once per document.
func merge(ls []part, fn func(d uint32, tf, length int)) {
	pos := make([]int, len(ls))
	for {
		next := uint32(math.MaxUint32)
		done := true
		for i, l := range ls {
			if pos[i] < len(l.docs) {
				done = false
				next = min(next, l.docs[pos[i]])
			}
		}
		if done {
			return
		}
		tf, length := 0, 0
		for i, l := range ls {
			if p := pos[i]; p < len(l.docs) && l.docs[p] == next {
				tf += int(l.freqs[p])
				length = int(l.lens[p])
				pos[i]++
			}
		}
		fn(next, tf, length)
	}
}

// prior is the date prior of an event on day d for a source on day s.
func (w *Weights) prior(s, d int32) float64 {
	if s == snapshot.NoDay || d == snapshot.NoDay {
		return 1
	}
	days := math.Abs(float64(d - s))
	return w.Floor + (1-w.Floor)*(w.Near*math.Exp2(-days/w.HalfLifeDays)+(1-w.Near)*math.Exp2(-days/w.SlowHalfLifeDays))
}

// priorDays is how many days apart the table of a date prior covers:
// every pair of event dates newsdesk accepts (1800-2199).
const priorDays = 146_100

// priorTable returns the date prior by days apart for the request's
// weights. An exponential per event touched was an eighth of a related
// list's time; the table is made once per set of date weights (a few
// milliseconds), and a few are kept.
func (rk *run) priorTable() []float32 {
	key := [4]float64{rk.w.Floor, rk.w.Near, rk.w.HalfLifeDays, rk.w.SlowHalfLifeDays}
	if t, ok := rk.priors.Load(key); ok {
		return t.([]float32)
	}
	t := make([]float32, priorDays+1)
	for d := range t {
		t[d] = float32(rk.w.prior(0, int32(d)))
	}
	rk.priorsMu.Lock()
	defer rk.priorsMu.Unlock()
	if rk.priorsN >= maxPriorTables { // weights being fitted: keep the latest
		rk.priors.Clear()
		rk.priorsN = 0
	}
	if _, loaded := rk.priors.LoadOrStore(key, t); !loaded {
		rk.priorsN++
	}
	return t
}

// maxPriorTables is how many date priors' tables a Ranker keeps.
const maxPriorTables = 4

// best returns the k best events of sp in sc among set (sc.touched or
// sc.marked) by score times date prior, within days lo..hi, live, the
// source's own event left out; best first, ties in event order.
func (rk *run) best(sc *scores, set []uint64, src *source, lo, hi int32, k int, sp eventRange) []cand {
	if k <= 0 {
		return nil
	}
	// out is a heap of the best so far, its worst at the root: a sorted
	// list moved a hundred candidates at each that entered, which in
	// event order is often.
	out := make(worstFirst, 0, k)
	var table []float32
	if src.day != snapshot.NoDay {
		table = rk.priorTable()
	}
	// The date prior of a block of events is at most that of its day
	// nearest the source's: an event that cannot enter with it is not
	// weighed, which spares most of the days' lookups.
	var blockEnd uint64
	bound := 1.0
	visit := func(w0, w1 int) {
		blockEnd = 0 // a walk that starts before the last ended
		for w, bits := range set[w0:w1] {
			w += w0
			for ; bits != 0; bits &= bits - 1 {
				num := uint64(w<<6 | mbits.TrailingZeros64(bits))
				s := float64(sc.score[num])
				if len(out) == k {
					// The prior is at most 1; of equal scores the
					// earlier event is the better.
					if worse(s, num, out[0]) {
						continue
					}
					if table != nil {
						if num >= blockEnd {
							bound = rk.blockBound(num, src.day, table, &blockEnd)
						}
						if worse(s*bound, num, out[0]) {
							continue
						}
					}
				}
				day := rk.snap.Day(num)
				if day < lo || day > hi || (src.indexed && num == src.num) || !rk.snap.Live(num) {
					continue
				}
				if table != nil && day != snapshot.NoDay {
					if apart := int(day - src.day); apart >= -priorDays && apart <= priorDays {
						s *= float64(table[max(apart, -apart)])
					} else {
						s *= rk.w.prior(src.day, day)
					}
				}
				if len(out) < k {
					out = append(out, cand{num: num, s1: s})
					out.up(len(out) - 1)
				} else if !worse(s, num, out[0]) {
					out[0] = cand{num: num, s1: s}
					out.down(0)
				}
			}
		}
	}
	w0, w1 := int(min(sp.lo/64, uint64(len(set)))), int(min(sp.hi/64, uint64(len(set))))
	// The events of the source's days first: they weigh most (the date
	// prior), so the heap's root, the score to beat, is high from the
	// start and most of the others are passed over on their score or
	// their block's bound alone. The order of the walk does not change
	// the answer: the heap keeps the k best by score, then event.
	if c, ok := rk.nearSource(src); ok && table != nil {
		cw := int(c / 64)
		n0, n1 := min(max(cw-nearWords, w0), w1), max(min(cw+nearWords, w1), w0)
		visit(n0, n1)
		visit(w0, n0)
		visit(n1, w1)
	} else {
		visit(w0, w1)
	}
	slices.SortFunc(out, bestFirst)
	return []cand(out)
}

// nearWords is how many words of the candidates' bit set (64 events
// each) on each side of the source's place best walks first: 1,024
// events, about 80 days of the corpus.
var nearWords = 16

// nearSource returns the number of the source's event, or of an event
// dated about its day (ok false when neither is known).
func (rk *run) nearSource(src *source) (uint64, bool) {
	if src.indexed {
		return src.num, true
	}
	if src.day == snapshot.NoDay {
		return 0, false
	}
	return rk.snap.NearDay(src.day)
}

// worse reports whether an event num of score s is worse than c: a lower
// score, or the same score and a later event.
func worse(s float64, num uint64, c cand) bool {
	return s < c.s1 || (s == c.s1 && num > c.num)
}

// bestFirst orders candidates best first, ties in event order.
func bestFirst(a, b cand) int {
	if c := cmpFloat(b.s1, a.s1); c != 0 {
		return c
	}
	return cmp.Compare(a.num, b.num)
}

// worstFirst is a binary heap of candidates whose root is the worst: the
// lowest score, and of equal scores the latest event. Its own up and down
// rather than container/heap's, whose calls through an interface were a
// fifth of best's time.
type worstFirst []cand

func (h worstFirst) less(i, j int) bool {
	if h[i].s1 != h[j].s1 {
		return h[i].s1 < h[j].s1
	}
	return h[i].num > h[j].num
}

// up moves element i towards the root while it is worse than its parent.
func (h worstFirst) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

// down moves element i away from the root while a child is worse.
func (h worstFirst) down(i int) {
	for {
		c := 2*i + 1
		if c >= len(h) {
			return
		}
		if r := c + 1; r < len(h) && h.less(r, c) {
			c = r
		}
		if !h.less(c, i) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// blockBound returns the highest date prior of the events of the block
// holding num for a source on day day, and sets end past the block.
func (rk *run) blockBound(num uint64, day int32, table []float32, end *uint64) float64 {
	lo, hi, undated, e, ok := rk.snap.DayBlock(num)
	if !ok {
		*end = num + 1
		return 1
	}
	*end = e
	if undated || lo > hi { // an undated event's prior is 1
		return 1
	}
	apart := 0
	switch {
	case day < lo:
		apart = int(lo) - int(day)
	case day > hi:
		apart = int(day) - int(hi)
	}
	if apart > priorDays {
		return rk.w.prior(0, int32(min(apart, math.MaxInt32)))
	}
	return float64(table[apart])
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
