package search

import (
	"sync"
	"sync/atomic"

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
	topics, contexts tagTable
}

// tagTable holds the analysed words of tags by id, and how often each
// occurs: a slice indexed by id, read without a lock (a ranked walk asks
// it for each event that may make the page; a map keyed by id cost half
// of that), filled in as tags are first asked for.
type tagTable struct {
	slots atomic.Pointer[[]atomic.Pointer[map[string]int]]
	mu    sync.Mutex // serialises growing the slots
}

// of returns the analysed words of tag id (named name) of table t, and
// how often each occurs.
func (tw *tagWords) of(t *tagTable, id uint32, name string) map[string]int {
	if s := t.slots.Load(); s != nil && int(id) < len(*s) {
		if m := (*s)[id].Load(); m != nil {
			return *m
		}
	}
	counts := map[string]int{}
	if toks, err := tw.m.AnalyzeText(en.AnalyzerName, []byte(name)); err == nil {
		for _, tok := range toks {
			counts[string(tok.Term)]++
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.slots.Load()
	if s == nil || int(id) >= len(*s) {
		// Grown by doubling: the slots move, their values with them.
		n := 64
		if s != nil {
			n = len(*s)
		}
		for n <= int(id) {
			n *= 2
		}
		next := make([]atomic.Pointer[map[string]int], n)
		if s != nil {
			for i := range *s {
				next[i].Store((*s)[i].Load())
			}
		}
		t.slots.Store(&next)
		s = &next
	}
	(*s)[id].CompareAndSwap(nil, &counts)
	return *(*s)[id].Load()
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
