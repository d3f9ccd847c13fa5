// Package snapshot provides what one request reads: an open index pinned
// at one instant, with the columns of its documents.
//
// A Source follows one open, writable index. Its current Snapshot is a
// Bleve reader (a scorch index snapshot) together with the columns of
// each of the reader's segments: dates, categories, topics and context
// tags as plain arrays (see segColumns). A request takes the current
// snapshot once (Acquire), reads everything from it (matches, columns,
// stored events, facets, highlights, related candidates) and releases it:
// whatever is written meanwhile, it sees the index as it was at one
// instant, so an event updated during the request is shown as it was, or
// not at all.
//
// Document numbers are this package's contract: a document's number is
// its place in its snapshot (the segment's offset plus its number within
// the segment, as scorch numbers them), valid for that snapshot only.
// Columns are loaded per segment and cached by segment id, so an update
// batch costs only its own small segment, and a segment Bleve merges in
// the background is loaded once, off the request path, before the
// snapshot holding it is made current (Refresh, run by the Source every
// FollowInterval and by whoever writes to the index after each write).
package snapshot

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/index"
)

// Snapshot is an index pinned at one instant, with its columns. It is
// safe for concurrent use and immutable; Release it once done.
type Snapshot struct {
	r     *scorch.IndexSnapshot
	own   bool // r is closed with the snapshot (false: the caller's reader)
	segs  []seg
	first seg    // segs[0], or an empty one: the big segment, checked first
	size  uint64 // one past the highest document number
	docs  uint64 // live documents
	// Epoch counts the snapshots of a Source: a later snapshot has a
	// higher one.
	Epoch uint64
	// Value tables, id → value, as of this snapshot; index 0 holds "".
	// Keys are the normal forms of tags (package entities).
	Categories, Topics, Contexts, Keys []string
	// Lengths are the average field lengths the build counted; zero for
	// a generation built without them.
	Lengths newsdesk.FieldLengths
	src     *Source
	refs    atomic.Int64
	memo    memo // see Memo
}

// seg is one segment of a snapshot.
type seg struct {
	start, end uint64 // its document numbers in the snapshot
	cols       *segColumns
	deleted    *roaring.Bitmap // local numbers; nil when none
	dead       []uint64        // deleted as a bit set: a bit test per match, where Contains cost a tenth of a search
	ss         *scorch.SegmentSnapshot
}

// isDead reports whether local number n of the segment is deleted.
func (sg *seg) isDead(n uint64) bool {
	return sg.dead != nil && sg.dead[n>>6]&(1<<(n&63)) != 0
}

// deadBits returns the bit set of bm's numbers, for a segment of n
// documents; nil when bm is empty.
func deadBits(bm *roaring.Bitmap, n uint64) []uint64 {
	if bm == nil || bm.IsEmpty() {
		return nil
	}
	bits := make([]uint64, (n+63)/64)
	for it := bm.Iterator(); it.HasNext(); {
		if d := uint64(it.Next()); d < n {
			bits[d>>6] |= 1 << (d & 63)
		}
	}
	return bits
}

// Release gives back a snapshot taken with Acquire. The snapshot must not
// be used afterwards.
func (s *Snapshot) Release() {
	if s.refs.Add(-1) == 0 && s.own {
		_ = s.r.Close()
	}
}

// acquire takes a reference, unless the snapshot is already released
// for good.
func (s *Snapshot) acquire() bool {
	for {
		n := s.refs.Load()
		if n <= 0 {
			return false
		}
		if s.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// Reader returns the snapshot's Bleve reader. It stays valid until the
// snapshot is released; do not close it.
func (s *Snapshot) Reader() bindex.IndexReader { return s.r }

// Size returns one past the highest document number: the length of an
// array indexed by document number.
func (s *Snapshot) Size() uint64 { return s.size }

// Docs returns the number of live documents.
func (s *Snapshot) Docs() uint64 { return s.docs }

// segIndex returns the index of the segment holding document n, or
// len(s.segs) when n is past the end.
func (s *Snapshot) segIndex(n uint64) int {
	if n < s.first.end {
		return 0
	}
	return sort.Search(len(s.segs), func(i int) bool { return s.segs[i].end > n })
}

// at returns the segment of document n and n's number in it; ok is false
// when n is past the end.
func (s *Snapshot) at(n uint64) (*seg, uint64, bool) {
	if n < s.first.end {
		return &s.first, n, true
	}
	i := s.segIndex(n)
	if i == len(s.segs) {
		return nil, 0, false
	}
	return &s.segs[i], n - s.segs[i].start, true
}

// SegmentOf returns the index of the segment holding document n and n's
// number in it (as Postings.List and LiveIn take them); ok is false when
// n is past the end.
func (s *Snapshot) SegmentOf(n uint64) (seg int, local uint64, ok bool) {
	i := s.segIndex(n)
	if i == len(s.segs) {
		return 0, 0, false
	}
	return i, n - s.segs[i].start, true
}

// Live reports whether document n exists and is not deleted.
func (s *Snapshot) Live(n uint64) bool {
	sg, local, ok := s.at(n)
	return ok && !sg.isDead(local)
}

// Day returns the day of document n, NoDay when unknown.
func (s *Snapshot) Day(n uint64) int32 {
	if n < s.first.end {
		return s.first.cols.day[n]
	}
	sg, local, ok := s.at(n)
	if !ok {
		return NoDay
	}
	return sg.cols.day[local]
}

// NearDay returns the number of a document of the big segment (the
// first) dated about day: the first of the first block whose earliest day
// is day or later, found by halving, since a build numbers a segment's
// documents about in date order. ok is false when the big segment is
// empty. It is a place to start from, not an answer: a walk in date
// order that starts there meets the documents of nearby days first.
func (s *Snapshot) NearDay(day int32) (n uint64, ok bool) {
	c := s.first.cols
	if s.first.end == s.first.start || c == nil {
		return 0, false
	}
	b := sort.Search(len(c.blockMin), func(i int) bool { return c.blockMin[i] >= day })
	return min(s.first.start+uint64(b)*dayBlock, s.first.end-1), true
}

// DayBlock returns the earliest and latest days of the dated documents
// of the block holding document n (64 documents of one segment, which a
// build numbers about in date order, so that a block spans a few days),
// whether it has an undated one, and the first document past it: a walk
// in document order bounds what a date weighs for a block's events at
// once, instead of reading each one's day. ok is false past the end.
func (s *Snapshot) DayBlock(n uint64) (lo, hi int32, undated bool, end uint64, ok bool) {
	sg, local, ok := s.at(n)
	if !ok {
		return 0, 0, false, 0, false
	}
	b := local / dayBlock
	return sg.cols.blockMin[b], sg.cols.blockMax[b], sg.cols.blockUndated[b], min(sg.start+(b+1)*dayBlock, sg.end), true
}

// Category returns the category id of document n (0: none).
func (s *Snapshot) Category(n uint64) uint32 {
	if n < s.first.end {
		return s.first.cols.category[n]
	}
	sg, local, ok := s.at(n)
	if !ok {
		return 0
	}
	return sg.cols.category[local]
}

// Topic returns the topic id of document n (0: none).
func (s *Snapshot) Topic(n uint64) uint32 {
	if n < s.first.end {
		return s.first.cols.topic[n]
	}
	sg, local, ok := s.at(n)
	if !ok {
		return 0
	}
	return sg.cols.topic[local]
}

// ContextsOf returns the context tag ids of document n. The slice is
// shared: do not modify it.
func (s *Snapshot) ContextsOf(n uint64) []uint32 {
	sg, local, ok := s.at(n)
	if !ok {
		return nil
	}
	c := sg.cols
	return c.ctxIDs[c.ctxStart[local]:c.ctxStart[local+1]]
}

// KeysOf returns the tag key ids of document n (see Keys). The slice is
// shared: do not modify it.
func (s *Snapshot) KeysOf(n uint64) []uint32 {
	sg, local, ok := s.at(n)
	if !ok {
		return nil
	}
	c := sg.cols
	return c.keyIDs[c.keyStart[local]:c.keyStart[local+1]]
}

// Stub reports whether document n is a heading-only stub.
func (s *Snapshot) Stub(n uint64) bool {
	sg, local, ok := s.at(n)
	return ok && sg.cols.stub[local]
}

// KeyID returns the id of a tag key, if the index has it.
func (s *Snapshot) KeyID(v string) (uint32, bool) { return s.src.tables.key.id(v) }

// EachLive calls fn with the number of every live document, in order.
func (s *Snapshot) EachLive(fn func(n uint64)) {
	for i := range s.segs {
		sg := &s.segs[i]
		for local := uint64(0); local < sg.end-sg.start; local++ {
			if !sg.isDead(local) {
				fn(sg.start + local)
			}
		}
	}
}

// EachLiveBackward is EachLive from the last document to the first.
func (s *Snapshot) EachLiveBackward(fn func(n uint64)) {
	for i := len(s.segs) - 1; i >= 0; i-- {
		sg := &s.segs[i]
		for local := sg.end - sg.start; local > 0; local-- {
			if !sg.isDead(local - 1) {
				fn(sg.start + local - 1)
			}
		}
	}
}

// CategoryID, TopicID and ContextID return the id of an exact value, if
// the index has it.
func (s *Snapshot) CategoryID(v string) (uint32, bool) { return s.src.tables.category.id(v) }

// TopicID: see CategoryID.
func (s *Snapshot) TopicID(v string) (uint32, bool) { return s.src.tables.topic.id(v) }

// ContextID: see CategoryID.
func (s *Snapshot) ContextID(v string) (uint32, bool) { return s.src.tables.context.id(v) }

// ID returns the event id of document n.
func (s *Snapshot) ID(n uint64) (string, error) {
	id, err := s.r.ExternalID(InternalID(n))
	if err != nil {
		return "", fmt.Errorf("document %d: %w", n, err)
	}
	return id, nil
}

// Event returns the stored event with the given id, or an error wrapping
// newsdesk.ErrNotFound.
func (s *Snapshot) Event(ctx context.Context, id string) (newsdesk.Event, error) {
	if err := ctx.Err(); err != nil {
		return newsdesk.Event{}, err
	}
	d, err := s.r.Document(id)
	if err != nil {
		return newsdesk.Event{}, fmt.Errorf("load event %s: %w", id, err)
	}
	if d == nil {
		return newsdesk.Event{}, fmt.Errorf("event %q: %w", id, newsdesk.ErrNotFound)
	}
	return index.EventFromDocument(d)
}

// Number returns the number of the live document with the given id, or
// an error wrapping newsdesk.ErrNotFound.
func (s *Snapshot) Number(id string) (uint64, error) {
	iid, err := s.r.InternalID(id)
	if err != nil {
		return 0, fmt.Errorf("look up event %s: %w", id, err)
	}
	if iid == nil {
		return 0, fmt.Errorf("event %q: %w", id, newsdesk.ErrNotFound)
	}
	return DocNum(iid), nil
}

// EventAt returns the stored event of document n. It reads the
// document's segment directly: Event's lookup by id searches every
// segment's ids, which cost a sixth of a search's time once updates had
// added a few segments.
func (s *Snapshot) EventAt(ctx context.Context, n uint64) (newsdesk.Event, error) {
	var e newsdesk.Event
	if err := ctx.Err(); err != nil {
		return e, err
	}
	sg, local, ok := s.at(n)
	if !ok {
		return e, fmt.Errorf("document %d: %w", n, newsdesk.ErrNotFound)
	}
	var derr error
	err := sg.ss.VisitDocument(local, func(field string, _ byte, value []byte, _ []uint64) bool {
		if field == "_id" {
			e.ID = string(value)
			return true
		}
		derr = index.DecodeField(&e, field, value)
		return derr == nil
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		return e, fmt.Errorf("load document %d: %w", n, err)
	}
	return e, nil
}

// DocNum returns the number of a document from its internal id.
func DocNum(id bindex.IndexInternalID) uint64 {
	if len(id) != 8 {
		return ^uint64(0)
	}
	return binary.BigEndian.Uint64(id)
}

// InternalID returns the internal id of document number n; see DocNum.
func InternalID(n uint64) bindex.IndexInternalID {
	return binary.BigEndian.AppendUint64(nil, n)
}
