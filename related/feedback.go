package related

import (
	"slices"
	"sort"

	"github.com/newsdesk/newsdesk/entities"
)

// Neighbour feedback (pseudo-relevance feedback): the events that stage 1
// ranks first mostly belong to the source's story, and their tags say
// which, even when the source has none (a draft) or words that miss it.
const (
	neighbours   = 10  // the best events of the first pass that vote
	minVote      = 0.2 // the share of their weight a tag needs to be searched for
	feedbackTags = 6   // the most tags searched for
	// minCategoryVote is the share of their weight a category needs for
	// a source without one to adopt it.
	minCategoryVote = 0.3
)

// votes are what the neighbours agree on: each tag, topic and context tag
// with the share of their weight (each weighs its score relative to the
// best's) that has it.
type votes struct {
	tags     []tag // searched-for tags the source lacks, by vote × specificity
	topic    map[string]float64
	contexts map[string]float64
	// category is the category most of their weight has, and share that
	// weight's share.
	category      uint32
	categoryShare float64
}

// vote counts the tags of the best candidates of a first pass.
func (rk *run) vote(src *source, cands []cand) (votes, error) {
	v := votes{topic: map[string]float64{}, contexts: map[string]float64{}}
	cands = cands[:min(len(cands), neighbours)]
	if len(cands) == 0 || cands[0].s1 <= 0 {
		return v, nil
	}
	keys := map[string]float64{}
	cats := map[uint32]float64{}
	total := 0.0
	var buf []string
	for _, c := range cands {
		wn := c.s1 / cands[0].s1
		total += wn
		if cat := rk.snap.Category(c.num); cat != 0 {
			cats[cat] += wn
		}
		buf = rk.candTags(c.num, buf[:0])
		for _, k := range buf {
			keys[k] += wn
		}
		if t := rk.snap.Topic(c.num); t != 0 {
			v.topic[rk.snap.Topics[t]] += wn
		}
		for _, id := range rk.snap.ContextsOf(c.num) {
			v.contexts[rk.snap.Contexts[id]] += wn
		}
	}
	for _, m := range []map[string]float64{v.topic, v.contexts, keys} {
		for k := range m {
			m[k] /= total
		}
	}
	for cat, w := range cats {
		if share := w / total; share > v.categoryShare || (share == v.categoryShare && cat < v.category) {
			v.category, v.categoryShare = cat, share
		}
	}
	for k, share := range keys {
		if share < minVote || slices.ContainsFunc(src.tags, func(t tag) bool { return t.key == k }) {
			continue
		}
		t, ok, err := rk.tag(k)
		if err != nil {
			return v, err
		}
		if ok {
			t.vote = share
			v.tags = append(v.tags, t)
		}
	}
	sort.Slice(v.tags, func(i, j int) bool {
		a, b := v.tags[i].vote*v.tags[i].spec, v.tags[j].vote*v.tags[j].spec
		if a != b {
			return a > b
		}
		return v.tags[i].key < v.tags[j].key
	})
	v.tags = v.tags[:min(len(v.tags), feedbackTags)]
	return v, nil
}

// addVotes adds the neighbours' tags to sc, marking the events it
// changes.
func (rk *run) addVotes(sc *scores, src *source, v votes, sp eventRange) error {
	if rk.w.Feedback == 0 {
		return nil
	}
	for i := range v.tags {
		t := v.tags[i]
		if slices.ContainsFunc(src.tags, func(s tag) bool { return s.key == t.key }) {
			continue // adopted since
		}
		s := rk.w.Feedback * t.vote * t.spec
		if err := rk.eachDoc(t.post, sp, func(num uint64, _, _ int) { sc.addMarked(num, s) }); err != nil {
			return err
		}
	}
	return nil
}

// adopt gives a source without tags the topic and context tags that at
// least Adopt of its neighbours' weight agree on, as if its writer had
// filed it under them; it reports whether it did.
func (rk *run) adopt(src *source, v votes) bool {
	if src.topic != "" || len(src.context) > 0 || rk.w.Adopt > 1 {
		return false
	}
	best, share := "", 0.0
	for t, s := range v.topic {
		if s > share || (s == share && t < best) {
			best, share = t, s
		}
	}
	if share >= rk.w.Adopt && best != "" {
		src.topic = best
	}
	for c, s := range v.contexts {
		if s >= rk.w.Adopt {
			src.context = append(src.context, c)
		}
	}
	sort.Strings(src.context)
	return src.topic != "" || len(src.context) > 0
}

// storyKind is the kind of tag Context weighs; the others weigh Place.
const storyKind = entities.Story

// adoptCategory gives a source without a category (a draft) the category
// that the most of its neighbours' weight shares, if at least
// minCategoryVote: a draft's text says little of whether it is a disaster
// or a crime, its neighbours do, and re-ranking counts a different
// category against.
func (rk *run) adoptCategory(src *source, v votes) {
	if src.cat == 0 && v.category != 0 && v.categoryShare >= minCategoryVote {
		src.cat = v.category
	}
}
