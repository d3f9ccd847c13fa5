package judged

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestScore(t *testing.T) {
	s, err := LoadSearch("testdata/search")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                        string
		ranked                      []string
		ndcg, judged, p5, condensed float64
		unjudged                    int
	}{
		{"ideal", []string{"a", "b", "c", "d"}, 1, 1, 0.4, 1, 0},
		{"reversed", []string{"d", "c", "b", "a"}, 0.5478, 0.5478, 0.4, 0.5478, 0},
		{"unjudged first", []string{"x", "a", "b", "c"}, 0.6758, 1, 0.4, 1, 1},
		{"nothing", nil, 0, 0, 0, 0, 0},
		// Ten unjudged results: nDCG@10 and nDCG'@10 see nothing judged,
		// the condensed list the judged ones below them, in their order.
		{"deep", []string{"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "b", "a"}, 0, 0, 0, 0.7896, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := s.Score(map[string][]string{"q1": tc.ranked}, []string{"q1"})
			if math.Abs(got.NDCG-tc.ndcg) > 1e-3 || math.Abs(got.NDCGJudged-tc.judged) > 1e-3 || math.Abs(got.P5-tc.p5) > 1e-9 ||
				math.Abs(got.Condensed-tc.condensed) > 1e-3 || got.Unjudged != tc.unjudged {
				t.Errorf("Score = %+v; want nDCG %.4f, nDCG' %.4f, P@5 %.2f, condensed %.4f, unjudged %d", got, tc.ndcg, tc.judged, tc.p5, tc.condensed, tc.unjudged)
			}
		})
	}
}

func TestFit_CrossValidate(t *testing.T) {
	// One weight, best at 3 for every query: the fit must find it, and
	// every held-out fold then scores 1.
	type w struct{ x float64 }
	params := []Param[w]{{Name: "x", Values: []float64{0, 1, 2, 3, 4}, Get: func(v *w) float64 { return v.x }, Set: func(v *w, x float64) { v.x = x }}}
	score := func(v w, qids []string) float64 { return 1 - math.Abs(v.x-3)/3 }
	if got := Fit(w{x: 1}, params, []string{"a"}, 3, score); got.x != 3 {
		t.Errorf("Fit found x=%v, want 3", got.x)
	}
	ids := []string{"a", "b", "c", "d", "e", "f", "g"}
	folds := Folds(ids, 3, 1)
	var all []string
	for _, f := range folds {
		all = append(all, f...)
	}
	slices.Sort(all)
	if !slices.Equal(all, ids) || len(folds) != 3 {
		t.Errorf("Folds = %v", folds)
	}
	cv := CrossValidate(w{x: 0}, params, folds, 3, score, nil)
	if cv.Mean() != 1 {
		t.Errorf("held-out mean %v, want 1", cv.Mean())
	}
}

func TestWriteUnjudged(t *testing.T) {
	s, err := LoadSearch("testdata/search")
	if err != nil {
		t.Fatal(err)
	}
	items := s.Unjudged(map[string][]string{"q1": {"x", "a", "y"}}, func(q string) string { return "words of " + q })
	want := []Unjudged{{"q1", "words of q1", 1, "x"}, {"q1", "words of q1", 3, "y"}}
	if !slices.Equal(items, want) {
		t.Fatalf("Unjudged = %+v; want %+v", items, want)
	}
	texts := map[string]string{"x": "An event,\twith a tab\nand a line break.", "y": "Another."}
	path := filepath.Join(t.TempDir(), "unjudged.tsv")
	if err := WriteUnjudged(path, "query", items, func(id string) (string, error) { return texts[id], nil }); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), "qid\tquery\trank\tid\ttext\nq1\twords of q1\t1\tx\tAn event, with a tab and a line break.\nq1\twords of q1\t3\ty\tAnother.\n"; got != want {
		t.Errorf("file =\n%q\nwant\n%q", got, want)
	}
	// A text that cannot be read names the result.
	err = WriteUnjudged(path, "query", items, func(id string) (string, error) { return "", errors.New("gone") })
	if err == nil || !strings.Contains(err.Error(), "x: gone") {
		t.Errorf("WriteUnjudged with a failing text = %v; want an error naming x", err)
	}
	// A path that cannot be created is an error.
	if err := WriteUnjudged(filepath.Join(path, "sub"), "query", items, func(string) (string, error) { return "", nil }); err == nil {
		t.Error("WriteUnjudged under a file: no error")
	}
}

func TestCompare(t *testing.T) {
	a := map[string]float64{"q1": 0.5, "q2": 0.5, "q3": 0.5, "q4": 0.5, "q5": 0.5, "q6": 0.5, "q7": 0.5, "q8": 0.5}
	tests := []struct {
		name          string
		b             map[string]float64
		diff          float64
		better, worse int
		significant   bool // the interval leaves 0 out and p < 0.05
	}{
		{"same", a, 0, 0, 0, false},
		{"better everywhere", map[string]float64{"q1": 0.6, "q2": 0.7, "q3": 0.6, "q4": 0.65, "q5": 0.6, "q6": 0.7, "q7": 0.6, "q8": 0.65}, 0.1375, 8, 0, true},
		{"one big win", map[string]float64{"q1": 1.3, "q2": 0.5, "q3": 0.5, "q4": 0.5, "q5": 0.5, "q6": 0.5, "q7": 0.5, "q8": 0.5}, 0.1, 1, 0, false},
		{"mixed", map[string]float64{"q1": 0.6, "q2": 0.4, "q3": 0.6, "q4": 0.4, "q5": 0.6, "q6": 0.4, "q7": 0.7, "q8": 0.4}, 0.0125, 4, 4, false},
		// Queries only one side scored are left out.
		{"partial", map[string]float64{"q1": 0.6, "x": 1}, 0.1, 1, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Compare(a, tc.b, 1)
			sig := c.P < 0.05 && (c.Lo > 0 || c.Hi < 0)
			if math.Abs(c.Diff-tc.diff) > 1e-9 || c.Better != tc.better || c.Worse != tc.worse || sig != tc.significant || c.Lo > c.Diff || c.Hi < c.Diff {
				t.Errorf("Compare = %v; want diff %+.3f, better %d, worse %d, significant %v", c, tc.diff, tc.better, tc.worse, tc.significant)
			}
			if again := Compare(a, tc.b, 1); again != c {
				t.Errorf("Compare is not deterministic: %v, then %v", c, again)
			}
		})
	}
}
