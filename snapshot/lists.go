package snapshot

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// List is one term's postings in one segment, decoded into arrays, for
// walks that read many long lists (related stories read a median 35,000
// postings a request).
type List struct {
	// Docs are the documents holding the term, by number within the
	// segment (add SegmentStart), ascending; deleted ones are left in, as
	// in Postings.
	Docs []uint32
	// Freqs are how often each holds the term, Lens how many words its
	// field has (from the field's norm; 0 for fields without norms), both
	// capped at 65,535.
	Freqs, Lens []uint16

	// maxNorm keeps MaxNormFreq's answer for the last b and average asked.
	maxNorm atomic.Pointer[normMax]
}

type normMax struct{ b, avg, max float64 }

// MaxNormFreq returns the largest frequency against length of the list,
// Freqs[i] / (1 - b + b×Lens[i]/avg) as BM25 normalises it: the bound of
// the list's score a ranking can skip events by. It reads the list once
// for each b and avg (a ranking's: they change only with the generation),
// and keeps the answer.
func (l *List) MaxNormFreq(b, avg float64) float64 {
	if m := l.maxNorm.Load(); m != nil && m.b == b && m.avg == avg {
		return m.max
	}
	best := 0.0
	for i, f := range l.Freqs {
		best = max(best, float64(f)/(1-b+b*float64(l.Lens[i])/avg))
	}
	l.maxNorm.Store(&normMax{b: b, avg: avg, max: best})
	return best
}

// CacheMinDF is the least number of postings a segment's list needs to be
// kept decoded: below it, decoding costs a few microseconds a request and
// caching would keep tens of thousands of small lists.
const CacheMinDF = 64

// lists caches the decoded lists of one segment, by field and term.
// Decoding a zap list costs 40-50 ns a posting, reading an array 2-4 ns:
// the 35,000 postings of a related list took 1.5 ms through the
// iterators. The cache holds only lists of at least CacheMinDF postings,
// so it is bounded by the segment's index: about 14 MB for the text
// field of the 114k-event corpus, if every long list were read.
//
// It also keeps zap's postings lists of those terms (pls) in a segment
// on disk, so that a request that asks for one again skips the
// dictionary: a lookup read the term's dictionary (an FST reader) and
// decoded its bitmap's header, a twentieth of a related list's time for
// its 50-100 words and tags. A zap postings list is read, never changed,
// by its iterators.
type lists struct {
	m   sync.Map // field + "\x00" + term → *List
	pls sync.Map // field + "\x00" + term → *keptList
}

// List returns the term's postings in segment i, decoded, or nil when the
// segment lacks the term. The List is shared: do not modify it.
func (p *Postings) List(i int) (*List, error) {
	if p.made != nil {
		return p.made[i], nil
	}
	pl := p.lists[i]
	if pl == nil {
		return nil, nil
	}
	k := p.kept[i]
	if k != nil {
		if l := k.decoded.Load(); l != nil {
			return l, nil
		}
	}
	l, err := p.snap.segs[i].cols.lists.get(p.field, p.term, pl)
	if k != nil && err == nil {
		k.decoded.Store(l) // get returns the list the cache keeps
	}
	return l, err
}

// get returns the decoded postings pl of field and term, from the cache
// when it has them, keeping them there when they are long enough.
func (c *lists) get(field, term string, pl segment.PostingsList) (*List, error) {
	n := pl.Count()
	var key string
	if n >= CacheMinDF {
		key = field + "\x00" + term
		if l, ok := c.m.Load(key); ok {
			return l.(*List), nil
		}
	}
	l := &List{Docs: make([]uint32, 0, n), Freqs: make([]uint16, 0, n), Lens: make([]uint16, 0, n)}
	it := pl.Iterator(true, true, false, nil)
	for {
		d, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("postings of %s:%s: %w", field, term, err)
		}
		if d == nil {
			break
		}
		l.Docs = append(l.Docs, uint32(d.Number()))
		l.Freqs = append(l.Freqs, uint16(min(d.Frequency(), math.MaxUint16)))
		l.Lens = append(l.Lens, normLength(d.Norm()))
	}
	if key != "" {
		got, _ := c.m.LoadOrStore(key, l)
		return got.(*List), nil
	}
	return l, nil
}

// warm decodes into the cache every list of the fields in segment sg
// that the cache would keep, until stop is closed, and returns how many
// postings it decoded. Lists a request decoded first are not read again.
func (c *lists) warm(sg segment.Segment, fields []string, stop <-chan struct{}) (int, error) {
	decoded := 0
	for _, f := range fields {
		dict, err := sg.Dictionary(f)
		if err != nil {
			return decoded, fmt.Errorf("dictionary of %s: %w", f, err)
		}
		if dict == nil {
			continue
		}
		it := dict.AutomatonIterator(nil, nil, nil)
		var pl segment.PostingsList
		for {
			de, err := it.Next()
			if err != nil {
				return decoded, fmt.Errorf("dictionary of %s: %w", f, err)
			}
			if de == nil {
				break
			}
			// zap's dictionary iterator reads each term's postings into one
			// PostingsList it never clears: after a term of one event
			// (written "1-hit", in a field without positions, such as the
			// tags' keys) it counts 1 for every term. Its other counts are
			// right; a 1 is counted again (9,316 of the corpus's 20,740
			// keys counted wrong, 272 of them long lists).
			if de.Count > 1 && de.Count < CacheMinDF {
				continue
			}
			select {
			case <-stop:
				return decoded, nil
			default:
			}
			if _, ok := c.m.Load(f + "\x00" + de.Term); ok {
				continue
			}
			if pl, err = dict.PostingsList([]byte(de.Term), nil, pl); err != nil {
				return decoded, fmt.Errorf("postings of %s:%s: %w", f, de.Term, err)
			}
			n := pl.Count()
			if n < CacheMinDF {
				continue
			}
			if _, err := c.get(f, de.Term, pl); err != nil {
				return decoded, err
			}
			decoded += int(n)
		}
	}
	return decoded, nil
}

// normLength turns a field norm, 1/√length as Bleve stores it, back into
// the length.
func normLength(norm float64) uint16 {
	if norm <= 0 || math.IsNaN(norm) {
		return 0
	}
	return uint16(min(math.Round(1/(norm*norm)), math.MaxUint16))
}
