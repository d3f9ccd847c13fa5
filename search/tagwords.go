package search

import (
	"cmp"
	"slices"
	"sync"

	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	bmapping "github.com/blevesearch/bleve/v2/mapping"

	"github.com/newsdesk/newsdesk/snapshot"
)

// tagWords tells the words of an event's sentence from those of its
// topic and context tags, which the text field holds after it: a word is
// in the sentence when the event's text frequency of it passes what its
// tags hold. It keeps each tag's analysed words by the tag's id (ids are
// fixed for a snapshot.Source's life, and its tags are finite); safe for
// concurrent use. An Engine serves one Source.
type tagWords struct {
	m                *bmapping.IndexMappingImpl
	topics, contexts sync.Map // id → map[string]int, the tag's analysed words and their counts
}

// of returns the analysed words of tag id (named name) of cache, and how
// often each occurs.
func (tw *tagWords) of(cache *sync.Map, id uint32, name string) map[string]int {
	if c, ok := cache.Load(id); ok {
		return c.(map[string]int)
	}
	counts := map[string]int{}
	if toks, err := tw.m.AnalyzeText(en.AnalyzerName, []byte(name)); err == nil {
		for _, t := range toks {
			counts[string(t.Term)]++
		}
	}
	cache.Store(id, counts)
	return counts
}

// inTags returns how often event num's topic and context tags hold term.
func (tw *tagWords) inTags(snap *snapshot.Snapshot, num uint64, term string) int {
	n := 0
	if t := snap.Topic(num); t != 0 && int(t) < len(snap.Topics) {
		n += tw.of(&tw.topics, t, snap.Topics[t])[term]
	}
	for _, c := range snap.ContextsOf(num) {
		if int(c) < len(snap.Contexts) {
			n += tw.of(&tw.contexts, c, snap.Contexts[c])[term]
		}
	}
	return n
}

// inSentence sets named[i] when the sentence of event sel[i].num (sel in
// document order) holds any form of the clauses' words. It reads the
// decoded lists (snapshot.List), shared for long ones: skipping through
// zap's iterators to each event cost twice the search over ten times the
// corpus.
func (tw *tagWords) inSentence(snap *snapshot.Snapshot, clauses []*clauseTerms, sel []scoredDoc, named []bool) error {
	for seg := range snap.Segments() {
		start, end := snap.SegmentStart(seg), snap.SegmentEnd(seg)
		a, _ := slices.BinarySearchFunc(sel, start, func(d scoredDoc, n uint64) int { return cmp.Compare(d.num, n) })
		z, _ := slices.BinarySearchFunc(sel, end, func(d scoredDoc, n uint64) int { return cmp.Compare(d.num, n) })
		if a == z {
			continue
		}
		for _, ct := range clauses {
			for _, w := range ct.lists {
				l, err := w.p.List(seg)
				if err != nil {
					return err
				}
				if l == nil {
					continue
				}
				at := 0
				for i := a; i < z; i++ {
					if named[i] {
						continue
					}
					j, found := slices.BinarySearch(l.Docs[at:], uint32(sel[i].num-start))
					at += j
					if found && int(l.Freqs[at]) > tw.inTags(snap, sel[i].num, w.term) {
						named[i] = true
					}
				}
			}
		}
	}
	return nil
}
