package snapshot

import (
	"fmt"
	"sync/atomic"

	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Postings is one term's postings list in every segment of a snapshot,
// for walks that read posting lists themselves (the search engine's fast
// path, related candidates).
//
// Its lists leave deleted documents in, unlike Bleve's term readers:
// Bleve's zap iterators walk two bitmaps in step for every posting of a
// segment that has any deletion, which made searches a quarter slower
// after a few hundred updates. Callers check Live (or LiveIn) on the few
// documents they keep instead.
type Postings struct {
	lists       []segment.PostingsList // by segment; nil where the term is absent
	kept        []*keptList            // by segment; nil where the cache keeps no list
	df          uint64
	snap        *Snapshot
	field, term string
	// made, when not nil, are the decoded lists by segment, of postings
	// made rather than read (MadePostings): List serves them.
	made []*List
}

// MadePostings returns postings made of lists, one a segment (nil where
// the segment has none), as a term's: events a query matched (a code's
// parts written side by side), for a walk that reads them as it reads a
// term's lists. Only List and DF serve them; they have no iterators.
func (s *Snapshot) MadePostings(lists []*List) *Postings {
	p := &Postings{lists: make([]segment.PostingsList, len(s.segs)), kept: make([]*keptList, len(s.segs)), snap: s, made: lists}
	for _, l := range lists {
		if l != nil {
			p.df += uint64(len(l.Docs))
		}
	}
	return p
}

// Postings returns the postings of term in field.
func (s *Snapshot) Postings(field string, term []byte) (*Postings, error) {
	p := &Postings{lists: make([]segment.PostingsList, len(s.segs)), kept: make([]*keptList, len(s.segs)), snap: s, field: field, term: string(term)}
	key := field + "\x00" + p.term
	for i := range s.segs {
		cache := &s.segs[i].cols.lists.pls
		if c, ok := cache.Load(key); ok {
			c := c.(*keptList)
			p.lists[i], p.kept[i] = c.pl, c
			p.df += c.n
			continue
		}
		sg := s.segs[i].ss.Segment()
		dict, err := sg.Dictionary(field)
		if err != nil {
			return nil, fmt.Errorf("postings of %s:%s: %w", field, term, err)
		}
		if dict == nil {
			continue
		}
		pl, err := dict.PostingsList(term, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("postings of %s:%s: %w", field, term, err)
		}
		if n := pl.Count(); n > 0 {
			p.lists[i] = pl
			p.df += n
			// Only a segment on disk: a list refers to its segment's
			// bytes, and a segment in memory is written to disk under the
			// same id (which keeps the cache), whose copy in memory the
			// list would keep.
			if _, onDisk := sg.(segment.PersistedSegment); onDisk && n >= CacheMinDF {
				c, _ := cache.LoadOrStore(key, &keptList{pl: pl, n: n})
				p.kept[i] = c.(*keptList)
			}
		}
	}
	return p, nil
}

// keptList is a segment's zap postings list of a term, its count, and
// once read its decoded List: a request that meets the term again finds
// both with one lookup.
type keptList struct {
	pl      segment.PostingsList
	n       uint64
	decoded atomic.Pointer[List]
}

// DF returns how many documents hold the term: deleted ones included,
// which a few hundred updates change by a fraction of a percent.
func (p *Postings) DF() uint64 { return p.df }

// Iterator returns an iterator over the term's postings in segment i, by
// document number within the segment (add SegmentStart for the snapshot's
// number), or nil when the segment lacks the term. freqNorm asks for each
// posting's frequency and norm.
func (p *Postings) Iterator(i int, freqNorm bool) segment.PostingsIterator {
	if p.lists[i] == nil {
		return nil
	}
	return p.lists[i].Iterator(freqNorm, freqNorm, false, nil)
}

// LocationIterator returns an iterator over the term's postings in
// segment i with their locations (positions in the field, and which of
// an array field's values), or nil when the segment lacks the term.
func (p *Postings) LocationIterator(i int) segment.PostingsIterator {
	if p.lists[i] == nil {
		return nil
	}
	return p.lists[i].Iterator(false, false, true, nil)
}

// Segments returns the number of segments of the snapshot.
func (s *Snapshot) Segments() int { return len(s.segs) }

// SegmentStart returns the number of segment i's first document.
func (s *Snapshot) SegmentStart(i int) uint64 { return s.segs[i].start }

// SegmentEnd returns one past the number of segment i's last document.
func (s *Snapshot) SegmentEnd(i int) uint64 { return s.segs[i].end }

// LiveIn reports whether document local of segment i is not deleted.
func (s *Snapshot) LiveIn(i int, local uint64) bool {
	return !s.segs[i].isDead(local)
}
