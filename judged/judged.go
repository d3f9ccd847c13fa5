// Package judged scores rankings against judged development sets, the
// way ../shared/eval's score.py scripts do, and fits ranking weights to
// them with k-fold cross-validation, so that the figures reported for a
// ranking come from folds its weights did not see.
//
// A set is a list of queries (search words, or related-story source
// events) and, for each, graded results: 3 what was wanted, 2 relevant,
// 1 marginal, 0 not relevant. Unjudged results count as grade 0 in
// nDCG@10; nDCG'@10 drops them first. Both read the top 10 only, so a
// ranking that brings up results nobody judged (they were pooled from
// other rankings' top 10s) loses either way; the condensed nDCG@10
// (Sakai's condensed list) reads the judged results of a deeper ranking
// instead, the first 10 of them, which measures how a ranking orders what
// was judged whatever else it finds.
package judged

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Query is one judged query: its id (s000, d000) and its text (the words
// searched, or the source event's id).
type Query struct {
	ID, Text string
}

// Set is a judged set.
type Set struct {
	Queries []Query
	grades  map[string]map[string]int // query id → result id → grade
}

// LoadSearch reads a search set: queries.tsv (id, words) and judged.tsv.
func LoadSearch(dir string) (*Set, error) {
	s := &Set{}
	err := readTSV(filepath.Join(dir, "queries.tsv"), 2, func(f []string) error {
		s.Queries = append(s.Queries, Query{ID: f[0], Text: f[1]})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, s.readGrades(dir)
}

// LoadRelated reads a related-stories set: sources.json ([{qid, id}])
// and judged.tsv.
func LoadRelated(dir string) (*Set, error) {
	b, err := os.ReadFile(filepath.Join(dir, "sources.json"))
	if err != nil {
		return nil, fmt.Errorf("judged set: %w", err)
	}
	var sources []struct{ QID, ID string }
	if err := json.Unmarshal(b, &sources); err != nil {
		return nil, fmt.Errorf("judged set: sources.json: %w", err)
	}
	s := &Set{}
	for _, src := range sources {
		s.Queries = append(s.Queries, Query{ID: src.QID, Text: src.ID})
	}
	return s, s.readGrades(dir)
}

func (s *Set) readGrades(dir string) error {
	s.grades = map[string]map[string]int{}
	return readTSV(filepath.Join(dir, "judged.tsv"), 3, func(f []string) error {
		g, err := strconv.Atoi(f[2])
		if err != nil || g < 0 || g > 3 {
			return fmt.Errorf("grade %q is not 0-3", f[2])
		}
		if s.grades[f[0]] == nil {
			s.grades[f[0]] = map[string]int{}
		}
		s.grades[f[0]][f[1]] = g
		return nil
	})
}

func readTSV(path string, fields int, fn func([]string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("judged set: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) != fields {
			return fmt.Errorf("%s:%d: %d fields, want %d", path, n, len(parts), fields)
		}
		if err := fn(parts); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	return sc.Err()
}

// Grade returns the grade of result id for query q, and whether it was
// judged.
func (s *Set) Grade(q, id string) (int, bool) {
	g, ok := s.grades[q][id]
	return g, ok
}

// CondensedDepth is how deep the rankings whose condensed nDCG@10 the
// tools report are read: deep enough that nearly every query has 10
// judged results in them (the sets judged about 15 a query).
const CondensedDepth = 50

// Scores are a ranking's figures over some queries.
type Scores struct {
	NDCG       float64 // nDCG@10, unjudged results as grade 0
	NDCGJudged float64 // nDCG'@10: unjudged results removed first
	P5         float64 // share of the top 5 graded 2 or more
	Unjudged   int     // unjudged results in the top 10s
	// Condensed is the condensed nDCG@10: of the first 10 judged results
	// of each ranking, however deep it is (rankings of 10 give nDCG'@10).
	Condensed float64
	Queries   int
	// PerQuery holds each query's nDCG@10.
	PerQuery map[string]float64
}

// Score scores ranked result ids per query id, over the queries qids (all
// of the set's when nil). Queries without judgments are skipped.
func (s *Set) Score(ranked map[string][]string, qids []string) Scores {
	if qids == nil {
		qids = s.IDs()
	}
	out := Scores{PerQuery: map[string]float64{}}
	for _, q := range qids {
		rel := s.grades[q]
		if len(rel) == 0 {
			continue
		}
		var condensed []int
		for _, id := range ranked[q] {
			if g, ok := rel[id]; ok && len(condensed) < 10 {
				condensed = append(condensed, g)
			}
		}
		ids := ranked[q]
		if len(ids) > 10 {
			ids = ids[:10]
		}
		var ideal []int
		for _, g := range rel {
			ideal = append(ideal, g)
		}
		sort.Sort(sort.Reverse(sort.IntSlice(ideal)))
		best := dcg(ideal[:min(10, len(ideal))])
		if best == 0 {
			continue
		}
		var grades, judged []int
		p5 := 0
		for i, id := range ids {
			g, ok := rel[id]
			grades = append(grades, g)
			if ok {
				judged = append(judged, g)
			} else {
				out.Unjudged++
			}
			if i < 5 && g >= 2 {
				p5++
			}
		}
		n := dcg(grades) / best
		out.PerQuery[q] = n
		out.NDCG += n
		out.NDCGJudged += dcg(judged) / best
		out.Condensed += dcg(condensed) / best
		out.P5 += float64(p5) / 5
		out.Queries++
	}
	if out.Queries > 0 {
		k := float64(out.Queries)
		out.NDCG, out.NDCGJudged, out.P5 = out.NDCG/k, out.NDCGJudged/k, out.P5/k
		out.Condensed /= k
	}
	return out
}

func dcg(grades []int) float64 {
	s := 0.0
	for k, g := range grades {
		s += (math.Exp2(float64(g)) - 1) / math.Log2(float64(k+2))
	}
	return s
}

// IDs returns the ids of the set's queries, in order.
func (s *Set) IDs() []string {
	out := make([]string, len(s.Queries))
	for i, q := range s.Queries {
		out[i] = q.ID
	}
	return out
}

// Folds splits ids into k folds at random (seeded), as even as can be.
func Folds(ids []string, k int, seed uint64) [][]string {
	shuffled := slices.Clone(ids)
	rng := rand.New(rand.NewPCG(seed, 17))
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	folds := make([][]string, k)
	for i, id := range shuffled {
		folds[i%k] = append(folds[i%k], id)
	}
	return folds
}

// Unjudged is a result of a ranked list that the set has no grade for.
type Unjudged struct {
	QID  string
	List string // what the list was: the query's words, or which of a query's lists
	Rank int    // 1 first
	ID   string
}

// Unjudged returns the results of ranked (query id → result ids, best
// first) that s has no grade for, by query in s's order, each named list
// by listOf.
func (s *Set) Unjudged(ranked map[string][]string, listOf func(qid string) string) []Unjudged {
	var out []Unjudged
	for _, q := range s.IDs() {
		for rank, id := range ranked[q] {
			if _, ok := s.Grade(q, id); !ok {
				out = append(out, Unjudged{QID: q, List: listOf(q), Rank: rank + 1, ID: id})
			}
		}
	}
	return out
}

// WriteUnjudged writes items to path for judges to grade: a TSV of the
// query id, the list (its column named listColumn), the rank, the id and
// the result's text, which text returns (tabs and line breaks made
// spaces).
func WriteUnjudged(path, listColumn string, items []Unjudged, text func(id string) (string, error)) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	out := bufio.NewWriter(f)
	fmt.Fprintf(out, "qid\t%s\trank\tid\ttext\n", listColumn)
	for _, it := range items {
		t, err := text(it.ID)
		if err != nil {
			return fmt.Errorf("%s: %w", it.ID, err)
		}
		fmt.Fprintf(out, "%s\t%s\t%d\t%s\t%s\n", it.QID, it.List, it.Rank, it.ID, strings.Join(strings.Fields(t), " "))
	}
	return out.Flush()
}
