package related

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/snapshot"
)

// cand is an event found for re-ranking.
type cand struct {
	num   uint64
	score float64
}

// scores accumulates the score of every event, indexed by event number.
// Pooled: it is as long as the index.
type scores struct {
	score   []float32
	touched []uint32
}

var scoresPool sync.Pool

// candidates scores every event that shares a chosen word, a context tag
// or the topic with the source, multiplies by the date factor, and
// returns the best w.Candidates within days lo..hi.
//
// It reads the posting lists itself and adds into an array, instead of
// running a Bleve disjunction: with 25 and more clauses Bleve merges the
// lists through a heap comparing ids, which made a related list cost
// 1.6 ms at the median; the scoring is Lucene's classic
// idf² × √tf × norm per word, boosted by the word's weight.
func (rk run) candidates(ctx context.Context, src source, terms []term, w Weights, lo, hi int32) ([]cand, error) {
	n := int(rk.snap.Size())
	sc, _ := scoresPool.Get().(*scores)
	if sc == nil || len(sc.score) < n {
		sc = &scores{score: make([]float32, n+n/8)} // room for the documents updates add
	}
	defer func() {
		for _, d := range sc.touched {
			sc.score[d] = 0
		}
		sc.touched = sc.touched[:0]
		scoresPool.Put(sc)
	}()
	add := func(field, value string, boost float64, useNorm bool) error {
		p, err := rk.snap.Postings(field, []byte(value))
		if err != nil {
			return err
		}
		df := float64(p.DF())
		if df == 0 {
			return nil
		}
		idf := 1 + math.Log(rk.docs/(df+1))
		base := boost * idf * idf
		for i := range rk.snap.Segments() {
			it := p.Iterator(i, true)
			if it == nil {
				continue
			}
			start := rk.snap.SegmentStart(i)
			for {
				d, err := it.Next()
				if err != nil {
					return err
				}
				if d == nil {
					break
				}
				if !rk.snap.LiveIn(i, d.Number()) {
					continue
				}
				num := start + d.Number()
				s := base * math.Sqrt(float64(d.Frequency()))
				if useNorm {
					s *= d.Norm()
				}
				if sc.score[num] == 0 {
					sc.touched = append(sc.touched, uint32(num))
				}
				sc.score[num] += float32(s)
			}
		}
		return nil
	}
	if len(terms) > 0 {
		top := terms[0].weight
		for _, t := range terms {
			if err := add(newsdesk.FieldText, t.stem, w.Text*t.weight/top, true); err != nil {
				return nil, fmt.Errorf("related: %w", err)
			}
		}
	}
	// Tags and topic are exact values without length: their weight is
	// scaled to a word's typical norm (a 30-word text: 1/√30).
	const tagNorm = 0.18
	if w.Context > 0 {
		for _, c := range src.context {
			if err := add(newsdesk.FieldContext, c, w.Context*tagNorm, false); err != nil {
				return nil, fmt.Errorf("related: %w", err)
			}
		}
	}
	if w.Topic > 0 && src.topic != "" {
		if err := add(newsdesk.FieldTopic, src.topic, w.Topic*tagNorm, false); err != nil {
			return nil, fmt.Errorf("related: %w", err)
		}
	}

	best := make([]cand, 0, w.Candidates+1)
	for _, d := range sc.touched {
		day := rk.snap.Day(uint64(d))
		if day < lo || day > hi {
			continue
		}
		s := float64(sc.score[d]) * w.dateFactor(src.day, day)
		if len(best) == w.Candidates && s <= best[len(best)-1].score {
			continue
		}
		at, _ := slices.BinarySearchFunc(best, s, func(c cand, s float64) int { return cmpFloat(s, c.score) })
		best = slices.Insert(best, at, cand{num: uint64(d), score: s})
		if len(best) > w.Candidates {
			best = best[:w.Candidates]
		}
	}
	return best, nil
}

// dayLimits turns a request's date limits and direction into days.
func dayLimits(src source, r Request) (int32, int32, error) {
	lo, hi := snapshot.DayNumber(query.FirstDay), snapshot.DayNumber(query.LastDay)
	if !r.From.IsZero() {
		lo = snapshot.DayNumber(r.From)
	}
	if !r.To.IsZero() {
		hi = snapshot.DayNumber(r.To)
	}
	switch {
	case r.Direction != Before && r.Direction != After:
	case src.day == snapshot.NoDay:
		return 0, 0, invalid("direction", "needs the draft's date")
	case r.Direction == Before:
		hi = min(hi, src.day)
	default:
		lo = max(lo, src.day)
	}
	return lo, hi, nil
}
