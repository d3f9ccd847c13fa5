package related

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
	"sort"
	"unicode"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/snapshot"
)

// features are what re-ranking knows of a candidate, all read from the
// candidate's postings and columns (no stored document).
type features struct {
	s1       float64 // stage-1 score, relative to the best candidate's
	text     float64 // BM25 over all the source's words, relative to the best's
	match    float64 // the share of the source's idf its words matched
	words    int     // the source's words it holds (of the featureWords read)
	classic  float64 // the classic more-like-this score, relative to the best's
	story    float64 // specificity of the shared story tags
	place    float64 // specificity of the shared place tags
	topic    float64 // 1 when on the source's story
	week     float64 // e^(-days/7)
	month    float64 // e^(-days/30)
	category float64 // 1 when both have a category, and they differ
	// textPos and classicPos are 1/(1 + r/10) for the candidate's rank r
	// (0 first) by text and by the classic score.
	textPos, classicPos float64
	// common is BM25 over the source's words written in lower case (what
	// happened, rather than who or where), relative to the best's.
	common float64
	// has marks the source's words (of the featureWords read, in their
	// order) the candidate holds; agree is the share of the source's
	// words' weight, each weighed by how many of the best candidates
	// hold it, that the candidate holds (agreement).
	has   uint64
	agree float64
}

// featureWords is the most words of a source the text features read.
const featureWords = 50

// features.has holds a bit for each of them.
var _ [64 - featureWords]struct{}

// shortSource is the most words a source ranked as a query has, and
// shortMatch the weight of the share of its idf an event holds (rerank).
const (
	shortSource = 3
	shortMatch  = 3
)

// score is the linear model.
func (f *features) score(w *Weights) float64 {
	return f.s1 + w.RankText*f.text + w.RankMatch*f.match + w.RankClassic*f.classic +
		w.RankStory*f.story + w.RankPlace*f.place + w.RankTopic*f.topic +
		w.RankWeek*f.week + w.RankMonth*f.month + w.RankCategory*f.category +
		w.RankTextPosition*f.textPos + w.RankClassicPosition*f.classicPos + w.RankCommon*f.common
}

// rerank scores the candidates with the linear model and sorts them, best
// first.
func (rk *run) rerank(src *source, cs []cand) error {
	if len(cs) == 0 {
		return nil
	}
	fs, idfs, err := rk.features(src, cs)
	if err != nil {
		return err
	}
	// A source of a few words is a search box's query more than a
	// story (a draft's title: "Astana talks"): events with all its words
	// first, as the search box ranks them (by the share of its words they
	// hold, squared), not those naming its one rare name (a bombing in
	// Astana Anyar, the Astana Open).
	short := len(src.words) > 0 && len(src.words) <= shortSource
	for i := range cs {
		cs[i].fi = i
		cs[i].score = fs[i].score(&rk.w)
		if short {
			share := float64(fs[i].words) / float64(len(src.words))
			cs[i].score += shortMatch * share * share
		}
	}
	sortCands(cs)
	if rk.w.RankAgree != 0 {
		// What the best of this order agree on re-orders them: the
		// candidates carry their features' index (fi) through the sort.
		agreement(cs, fs, idfs)
		for i := range cs {
			cs[i].score += rk.w.RankAgree * fs[cs[i].fi].agree
		}
		sortCands(cs)
	}
	return nil
}

// sortCands sorts candidates by score, best first; ties by stage 1.
func sortCands(cs []cand) {
	slices.SortStableFunc(cs, func(a, b cand) int {
		if c := cmpFloat(b.score, a.score); c != 0 {
			return c
		}
		return cmpFloat(b.s1, a.s1)
	})
}

// agreeTop is how many of the best candidates vote on the source's words.
const agreeTop = 10

// agreement sets each candidate's agree: the source's words it holds,
// each weighed by its idf times the share of the best agreeTop candidates
// (cs, sorted best first; the candidate itself left out) that hold it,
// over the same sum of all the source's words. The words a story's events
// share (Astana, talks, ceasefire) weigh more than those of one event's
// sentence (fragile, breakthrough, reported), whatever their idf.
func agreement(cs []cand, fs []features, idfs []float64) {
	k := min(agreeTop, len(cs))
	if k < 2 {
		return
	}
	var count [featureWords]int
	for _, c := range cs[:k] {
		for h := fs[c.fi].has; h != 0; h &= h - 1 {
			count[bits.TrailingZeros64(h)]++
		}
	}
	for r, c := range cs {
		f := &fs[c.fi]
		voters, own := k, uint64(0)
		if r < k {
			voters, own = k-1, f.has
		}
		var num, den float64
		for w, idf := range idfs {
			n := count[w]
			if own&(1<<uint(w)) != 0 {
				n--
			}
			a := idf * float64(n) / float64(voters)
			den += a
			if f.has&(1<<uint(w)) != 0 {
				num += a
			}
		}
		f.agree = ratio(num, den)
	}
}

// features computes the features of the candidates cs, in their order.
func (rk *run) features(src *source, cs []cand) ([]features, []float64, error) {
	n := len(cs)
	fs := make([]features, n)
	// Candidates by document number, to look them up in the posting lists.
	byNum := make([]int, n)
	for i := range byNum {
		byNum[i] = i
	}
	slices.SortFunc(byNum, func(a, b int) int { return cmp.Compare(cs[a].num, cs[b].num) })
	nums := make([]uint64, n)
	for i, j := range byNum {
		nums[i] = cs[j].num
	}
	tf := make([]int, n)
	lens := make([]int, n)

	// Text: BM25 over every word of the source, searched for or not; of a
	// long draft, over its featureWords most telling, which hold nearly
	// all its weight (a 1,000-character draft has about 100 words).
	words := src.words
	if len(words) > featureWords {
		words = slices.Clone(words)
		sort.SliceStable(words, func(i, j int) bool {
			return (1+math.Log(float64(words[i].qtf)))*words[i].idf > (1+math.Log(float64(words[j].qtf)))*words[j].idf
		})
		words = words[:featureWords]
	}
	idfSum := 0.0
	for _, w := range words {
		idfSum += w.idf
	}
	// The classic score's words are mostly the same lists: read once.
	classicLeft := make(map[*snapshot.Postings]float64, len(src.classic.terms))
	for _, t := range src.classic.terms {
		classicLeft[t.post] = t.w
	}
	addClassic := func(cw float64) {
		for i, j := range byNum {
			if tf[i] > 0 && lens[i] > 0 {
				fs[j].classic += cw * math.Sqrt(float64(tf[i])) / math.Sqrt(float64(lens[i]))
			}
		}
	}
	for wi, w := range words {
		if err := rk.freqs(w.post, nums, tf, lens); err != nil {
			return nil, nil, err
		}
		if cw, ok := classicLeft[w.post[0]]; ok && len(w.post) == 1 {
			addClassic(cw)
			delete(classicLeft, w.post[0])
		}
		qw := (1 + math.Log(float64(w.qtf))) * w.idf / src.self
		for i, j := range byNum {
			if tf[i] > 0 {
				fs[j].has |= 1 << uint(wi)
				bm := qw * rk.bm25tf(float64(tf[i]), float64(lens[i]))
				fs[j].text += bm
				if w.lower {
					fs[j].common += bm
				}
				fs[j].match += w.idf / idfSum
				fs[j].words++
			}
		}
	}
	for _, t := range src.classic.terms {
		if cw, ok := classicLeft[t.post]; ok {
			if err := rk.freqs([]*snapshot.Postings{t.post}, nums, tf, lens); err != nil {
				return nil, nil, err
			}
			addClassic(cw)
		}
	}

	var tags []string
	for i := range cs {
		f := &fs[i]
		num := cs[i].num
		for _, c := range src.classic.contexts {
			if slices.Contains(rk.snap.ContextsOf(num), c.id) {
				f.classic += c.w
			}
		}
		if t := src.classic.topic; t.id != 0 && rk.snap.Topic(num) == t.id {
			f.classic += t.w
		}
		day := rk.snap.Day(num)
		f.classic *= classicDate(src.day, day)
		if src.day != snapshot.NoDay && day != snapshot.NoDay {
			d := math.Abs(float64(day - src.day))
			f.week, f.month = math.Exp(-d/7), math.Exp(-d/30)
		}
		if cat := rk.snap.Category(num); src.cat != 0 && cat != 0 && cat != src.cat {
			f.category = 1
		}
		tags = rk.candTags(num, tags[:0])
		for _, t := range src.tags {
			if !slices.Contains(tags, t.key) {
				continue
			}
			if t.kind == storyKind {
				f.story += t.spec
			} else {
				f.place += t.spec
			}
		}
		if rk.w.RankTopic != 0 {
			f.topic = b2f(rk.sameStory(src, num, tags))
		}
		f.s1 = cs[i].s1
	}
	// Scores relative to the best candidate's, so that one weight fits
	// sources with many words and with few.
	var maxS1, maxText, maxClassic, maxCommon float64
	for _, f := range fs {
		maxS1, maxText, maxClassic = max(maxS1, f.s1), max(maxText, f.text), max(maxClassic, f.classic)
		maxCommon = max(maxCommon, f.common)
	}
	for i := range fs {
		fs[i].common = ratio(fs[i].common, maxCommon)
		fs[i].s1 = ratio(fs[i].s1, maxS1)
		fs[i].text = ratio(fs[i].text, maxText)
		fs[i].classic = ratio(fs[i].classic, maxClassic)
	}
	positions(fs, func(f *features) float64 { return f.text }, func(f *features, p float64) { f.textPos = p })
	positions(fs, func(f *features) float64 { return f.classic }, func(f *features, p float64) { f.classicPos = p })
	idfs := make([]float64, len(words))
	for i, w := range words {
		idfs[i] = w.idf
	}
	return fs, idfs, nil
}

// positions sets, for each candidate, 1/(1 + r/10) for its rank r by the
// score get reads (ties keep the candidates' order).
func positions(fs []features, get func(*features) float64, set func(*features, float64)) {
	order := make([]int, len(fs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmpFloat(get(&fs[b]), get(&fs[a])) })
	for r, i := range order {
		set(&fs[i], 1/(1+float64(r)/10))
	}
}

// sameStory reports whether event num, whose tags are tags, is on the
// source's story: its topic among the other's tags.
func (rk *run) sameStory(src *source, num uint64, tags []string) bool {
	for _, k := range src.topics {
		if slices.Contains(tags, k) {
			return true
		}
	}
	t := rk.snap.Topic(num)
	if t == 0 {
		return false
	}
	for _, k := range rk.keysOf(rk.snap.Topics[t], true) {
		if slices.ContainsFunc(src.tags, func(s tag) bool { return s.key == k }) {
			return true
		}
	}
	return false
}

// freqs sets tf[i] to how often the events nums[i] (ascending) hold any
// of the lists' term, and lens[i] to their field's length when they do.
func (rk *run) freqs(post []*snapshot.Postings, nums []uint64, tf, lens []int) error {
	clear(tf)
	for seg := range rk.snap.Segments() {
		start, end := rk.snap.SegmentStart(seg), rk.snap.SegmentEnd(seg)
		a, _ := slices.BinarySearch(nums, start)
		z, _ := slices.BinarySearch(nums, end)
		if a == z {
			continue
		}
		for _, p := range post {
			l, err := p.List(seg)
			if err != nil {
				return err
			}
			if l == nil {
				continue
			}
			// A short list is walked; a long one searched.
			walk := len(l.Docs) <= 8*(z-a)
			at := 0
			for i := a; i < z; i++ {
				d := uint32(nums[i] - start)
				if walk {
					for at < len(l.Docs) && l.Docs[at] < d {
						at++
					}
				} else {
					j, _ := slices.BinarySearch(l.Docs[at:], d)
					at += j
				}
				if at < len(l.Docs) && l.Docs[at] == d {
					tf[i] += int(l.Freqs[at])
					lens[i] = int(l.Lens[at])
				}
			}
		}
	}
	return nil
}

// classic is the more-like-this query newsdesk ranked by before the
// judged set (Lucene's classic formula): a re-ranking feature, since it
// weighs rare words and exact tags in a way the other features do not.
type classic struct {
	terms    []classicTerm
	contexts []classicTag
	topic    classicTag
}

type classicTerm struct {
	post *snapshot.Postings
	w    float64 // its tf × idf relative to the best word's, times idf²
}

type classicTag struct {
	id uint32
	w  float64
}

// The classic query's constants, as it was tuned: its words (at most
// classicTerms, within 2% of the events or 50), exact context tags and
// topic weights, and date decay.
const (
	classicTerms    = 25
	classicMaxDF    = 0.02
	classicContext  = 2 * 0.18 // a tag is scaled to a word's typical norm: a 30-word text, 1/√30
	classicTopic    = 3 * 0.18
	classicFloor    = 0.25
	classicHalfLife = 180
)

// prepareClassic builds the classic query: the source's raw stems by
// tf × ln(N/df), each then weighed by Lucene's idf²; its exact tags.
func (rk *run) prepareClassic(src *source) error {
	src.classic = classic{}
	if rk.w.RankClassic == 0 && rk.w.RankClassicPosition == 0 {
		return nil
	}
	tf := map[string]int{}
	var order []string
	for _, s := range src.raw {
		if len(s) < 2 || isNumber(s) {
			continue
		}
		if tf[s] == 0 {
			order = append(order, s)
		}
		tf[s]++
	}
	maxDF := max(classicMaxDF*rk.docs, minMaxDF)
	type scored struct {
		stem string
		post *snapshot.Postings
		w    float64
		df   float64
	}
	var terms []scored
	for _, s := range order {
		p, err := rk.postings(newsdesk.FieldText, s)
		if err != nil {
			return err
		}
		df := float64(p.DF())
		// df >= docs happens on a small index (maxDF is at least
		// minMaxDF), and df counts deleted postings: such a word has no
		// weight, and a weight of 0 first would make the others NaN.
		if df < 2 || df > maxDF || df >= rk.docs {
			continue
		}
		terms = append(terms, scored{s, p, float64(tf[s]) * math.Log(rk.docs/df), df})
	}
	sort.Slice(terms, func(i, j int) bool {
		if terms[i].w != terms[j].w {
			return terms[i].w > terms[j].w
		}
		return terms[i].stem < terms[j].stem
	})
	terms = terms[:min(len(terms), classicTerms)]
	for _, t := range terms {
		idf := 1 + math.Log(rk.docs/(t.df+1))
		src.classic.terms = append(src.classic.terms, classicTerm{post: t.post, w: t.w / terms[0].w * idf * idf})
	}
	for _, c := range src.context {
		id, ok := rk.snap.ContextID(c)
		if !ok || slices.ContainsFunc(src.classic.contexts, func(t classicTag) bool { return t.id == id }) {
			continue
		}
		p, err := rk.postings(newsdesk.FieldContext, c)
		if err != nil {
			return err
		}
		idf := 1 + math.Log(rk.docs/(float64(p.DF())+1))
		src.classic.contexts = append(src.classic.contexts, classicTag{id, classicContext * idf * idf})
	}
	if id, ok := rk.snap.TopicID(src.topic); ok && src.topic != "" {
		p, err := rk.postings(newsdesk.FieldTopic, src.topic)
		if err != nil {
			return err
		}
		idf := 1 + math.Log(rk.docs/(float64(p.DF())+1))
		src.classic.topic = classicTag{id, classicTopic * idf * idf}
	}
	return nil
}

// classicDate is the classic query's date factor.
func classicDate(s, d int32) float64 {
	if s == snapshot.NoDay || d == snapshot.NoDay {
		return 1
	}
	return classicFloor + (1-classicFloor)*math.Exp2(-math.Abs(float64(d-s))/classicHalfLife)
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func isNumber(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// lowerWord reports whether a word was written in lower case: a common
// word, not a name.
func lowerWord(s string) bool {
	for _, r := range s {
		return !unicode.IsUpper(r)
	}
	return false
}
