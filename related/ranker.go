package related

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"

	"github.com/newsdesk/newsdesk/entities"
	"github.com/newsdesk/newsdesk/mappings"
	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/snapshot"
)

// Ranker answers related-events requests, each on one snapshot of the
// index. It serves the snapshots of one snapshot.Source (it keeps what it
// learns of its tags): call Prepare when a snapshot has tags it lacks
// (Stale), as search.Engine does. It is safe for concurrent use.
type Ranker struct {
	an query.Analyzer
	// words analyses as an's English analyser does, without its generic
	// path (the candidates' texts were a tenth of a related list's time);
	// nil when an cannot say what that analyser is: an serves then.
	words   *mappings.SharedWords
	ents    *entities.Table
	entsErr error
	// dictionary of the tags a text may name, built on first use and
	// again when the index has new tags (dict.go).
	dictMu  sync.Mutex
	dictCur atomic.Pointer[dict]
	// tagKeys caches the keys of the index's tags: tag → []string;
	// fullKeys their full keys alone (fullKeysOf).
	tagKeys, fullKeys sync.Map
	// tagEntKeys caches the entities' keys of the index's tags
	// (run.entKeys).
	tagEntKeys sync.Map
	// tagWordSets caches the normalised words of the index's tags
	// (run.tagWords), for the reasons.
	tagWordSets sync.Map
	// priors caches date priors by days apart (priorTable).
	priors   sync.Map // [4]float64 → []float32
	priorsMu sync.Mutex
	priorsN  int // guarded by priorsMu
}

// New returns a ranker analysing text with an (the index's mapping).
func New(an query.Analyzer) *Ranker {
	ents, err := entities.New()
	rk := &Ranker{an: an, ents: ents, entsErr: err}
	if m, ok := an.(interface {
		AnalyzerNamed(name string) analysis.Analyzer
	}); ok {
		if a := m.AnalyzerNamed(en.AnalyzerName); a != nil {
			rk.words, _ = mappings.NewSharedWords(a) // nil if it cannot stand in for a: an serves
		}
	}
	return rk
}

// Prepare builds for snap what the first request on it would: the
// dictionary of the tags a text may name (again when snap has tags it
// lacks), and the date prior of the default weights. The first related
// list took 19 ms on the corpus without it, 56 ms at ten times its size,
// against 2 and 3 ms after.
func (rk *Ranker) Prepare(snap *snapshot.Snapshot) {
	rk.dictMu.Lock()
	if rk.Stale(snap) {
		d := newDict(snap, rk.ents)
		if old := rk.dictCur.Load(); old != nil {
			d.version = old.version + 1
		}
		rk.dictCur.Store(d)
	}
	rk.dictMu.Unlock()
	r := &run{Ranker: rk, snap: snap, w: DefaultWeights}
	r.priorTable()
}

// run is one request: the snapshot it reads, its weights, and what it
// has read.
type run struct {
	*Ranker
	snap   *snapshot.Snapshot
	w      Weights
	docs   float64 // live events
	avgLen float64 // of the text field
	// keyed is false for generations built before tags had normal forms:
	// exact tags stand for them.
	keyed bool
	posts map[string]*snapshot.Postings
	// spellings is Request.Spellings, or none.
	spellings func(term string) []string
}

// Related returns the events most related to r's event or draft, best
// first. Errors about the request are *InvalidError; an unknown id wraps
// newsdesk.ErrNotFound.
func (rk *Ranker) Related(ctx context.Context, snap *snapshot.Snapshot, r Request) ([]Item, error) {
	if rk.entsErr != nil {
		return nil, fmt.Errorf("related: %w", rk.entsErr)
	}
	w := DefaultWeights
	if r.Weights != nil {
		w = *r.Weights
		if err := w.Validate(); err != nil {
			return nil, err
		}
	}
	run := &run{Ranker: rk, snap: snap, w: w, docs: float64(max(snap.Docs(), 1)), avgLen: snap.Lengths.Text,
		keyed: len(snap.Keys) > 1, posts: map[string]*snapshot.Postings{}, spellings: r.Spellings}
	if run.spellings == nil {
		run.spellings = func(string) []string { return nil }
	}
	if run.avgLen <= 0 {
		run.avgLen = avgLengthUnknown
	}
	return run.related(ctx, r)
}

func (rk *run) related(ctx context.Context, r Request) ([]Item, error) {
	if err := query.CheckDates(r.From, r.To); err != nil {
		return nil, err
	}
	size := r.Size
	if size == 0 {
		size = DefaultSize
	}
	if size < 1 || size > MaxSize {
		return nil, invalid("size", "must be between 1 and %d, got %d", MaxSize, r.Size)
	}
	switch r.Direction {
	case "", Both, Before, After:
	default:
		return nil, invalid("direction", "must be before, after or both, got %q", r.Direction)
	}
	src, err := rk.load(ctx, r)
	if err != nil {
		return nil, err
	}
	lo, hi, err := dayLimits(src, r)
	if err != nil {
		return nil, err
	}
	if err := rk.prepare(src); err != nil {
		return nil, err
	}
	sc := getScores(int(rk.snap.Size()))
	defer func() {
		sc.reset()
		scoresPool.Put(sc)
	}()
	cands, err := rk.pass(sc, src, nil, lo, hi)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Neighbour feedback: what the first pass's best agree on.
	v, err := rk.vote(src, cands)
	if err != nil {
		return nil, err
	}
	rk.adoptCategory(src, v)
	switch {
	case rk.adopt(src, v):
		if err := rk.prepare(src); err != nil {
			return nil, err
		}
		sc.reset()
		if cands, err = rk.pass(sc, src, &v, lo, hi); err != nil {
			return nil, err
		}
	case len(v.tags) > 0 && rk.w.Feedback > 0:
		if err := rk.addVotes(sc, src, v, allEvents); err != nil {
			return nil, err
		}
		// Only the events the votes changed can displace the first
		// pass's best: the others are not read again.
		for _, c := range cands {
			sc.addMarked(c.num, 0)
		}
		cands = rk.best(sc, sc.marked, src, lo, hi, rk.w.Candidates, allEvents)
	}
	if err := rk.rerank(src, cands); err != nil {
		return nil, err
	}
	items, err := rk.list(ctx, src, cands, size)
	if err != nil || len(items) == size || len(cands) < rk.w.Candidates || rk.w.Candidates >= MaxCandidates {
		return items, err
	}
	// Near-duplicates of the source and of each other took the
	// candidates, and more events remain: the list is made again from
	// ten times as many. A story's heading is filed alone on hundreds of
	// days ("War in Afghanistan" on 227), and such a draft listed 1 event
	// of 20.
	cands = rk.best(sc, sc.touched, src, lo, hi, min(MaxCandidates, 10*rk.w.Candidates), allEvents)
	if err := rk.rerank(src, cands); err != nil {
		return nil, err
	}
	return rk.list(ctx, src, cands, size)
}

// dict returns the dictionary of the tags a text may name. Once one is
// built, it serves until Prepare builds another for a snapshot with tags
// it lacks (the engine does, in the background): one built from an
// earlier snapshot misses only the newest tags, since a Source's tags are
// only ever added to, where building one in the request took 20 ms on
// the corpus, and held every related request meanwhile.
func (rk *run) dict() *dict {
	if d := rk.dictCur.Load(); d != nil {
		return d
	}
	rk.dictMu.Lock()
	defer rk.dictMu.Unlock()
	if d := rk.dictCur.Load(); d != nil {
		return d
	}
	d := newDict(rk.snap, rk.ents)
	rk.dictCur.Store(d)
	return d
}

// DictVersion returns the version of the dictionary of tags (0 before one
// is built): it changes when Prepare builds another.
func (rk *Ranker) DictVersion() int {
	if d := rk.dictCur.Load(); d != nil {
		return int(d.version) + 1
	}
	return 0
}

// Stale reports whether the dictionary is behind snap: snap has tags it
// lacks, or updates since may have given a tag its second event or taken
// it away (then, at most every dictRefresh, so that a stream of updates
// does not rebuild it at each): Prepare builds it again.
func (rk *Ranker) Stale(snap *snapshot.Snapshot) bool {
	d := rk.dictCur.Load()
	return d == nil || d.keys < len(snap.Keys) || (d.epoch < snap.Epoch && time.Since(d.built) >= dictRefresh)
}

// dictRefresh is the least time between two builds of the dictionary for
// updates that add no tag: 14 ms of a core on the corpus, 30 at ten times
// its size.
var dictRefresh = DictRefresh

// DictRefresh is dictRefresh's value outside tests.
const DictRefresh = time.Second

// Behind reports whether the dictionary was built from a snapshot older
// than snap, whether or not Stale would build it again yet.
func (rk *Ranker) Behind(snap *snapshot.Snapshot) bool {
	d := rk.dictCur.Load()
	return d == nil || d.epoch < snap.Epoch
}
