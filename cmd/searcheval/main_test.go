package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/testindex"
)

// The fixture is testdata/events.jsonl: eight events, of which the judged
// set (testdata/judged) grades some for two queries.

func TestRun(t *testing.T) {
	dir := testindex.Build(t, t.TempDir(), "testdata/events.jsonl").Path()
	tests := []struct {
		name string
		args []string
		want []string // regular expressions the output matches
		err  string
	}{
		{"judged", []string{"-judged", "testdata/judged", "-show"},
			[]string{`^k1=0\.9 b=0\.75 .*: nDCG@10 [01]\.\d{3}, nDCG'@10 [01]\.\d{3}, P@5 [01]\.\d{3}, 1 unjudged in 2 top 10s; condensed nDCG@10 [01]\.\d{3} \(the first 10 judged of the top 50\)`,
				`(?m)^  [01]\.\d{3}  s000 peace talks$`},
			""},
		{"weights", []string{"-judged", "testdata/judged", "-weights", "k1=1.2, b=0.9"},
			[]string{`^k1=1\.2 b=0\.9 variant=0\.25 `}, ""},
		{"one query", []string{"-q", "peace talks"},
			[]string{`(?m)^ 1 [01]\.\d{3} 2017-01-20 Peace talks open in Geneva\.$`, `(?m)^ 3 `}, ""},
		{"fit", []string{"-judged", "testdata/judged", "-fit", "-folds", "2", "-repeats", "1"},
			[]string{`repeat 1: held-out nDCG@10 [01]\.\d{3}`, `cross-validated nDCG@10 [01]\.\d{3} over 2 held-out folds`, `fitted on all 2 queries: k1=`}, ""},
		// -fix keeps weights out of the fit: they are not among those it
		// prints, and stay as -weights sets them.
		{"fit, some fixed", []string{"-judged", "testdata/judged", "-fit", "-folds", "2", "-repeats", "1", "-weights", "variant=0.5", "-fix", "variant, stub"},
			[]string{`fitted on all 2 queries: k1=[\d.]+ b=[\d.]+ coord=`}, ""},
		{"fix an unknown weight", []string{"-judged", "testdata/judged", "-fit", "-fix", "k9"}, nil, `-fix: unknown weight "k9"`},
		{"fix without a fit", []string{"-judged", "testdata/judged", "-fix", "variant"}, nil, "-fix keeps weights out of a fit: give -fit too"},
		{"against", []string{"-judged", "testdata/judged", "-against", "k1=1.6"},
			[]string{`(?m)^against k1=1\.6 b=0\.75 .*: nDCG@10 [01]\.\d{3}, nDCG'@10 [01]\.\d{3}, P@5 [01]\.\d{3}, \d+ unjudged; nDCG@10 difference [+-]\d\.\d{3} \(95% interval [+-]\d\.\d{3} to [+-]\d\.\d{3}, p [01]\.\d{2}; better on \d+, worse on \d+\)$`}, ""},
		// -against starts from -weights: the same weights, no difference.
		{"against the same", []string{"-judged", "testdata/judged", "-weights", "b=0.9", "-against", "b=0.9"},
			[]string{`(?m)^against k1=0\.9 b=0\.9 .*difference \+0\.000 \(95% interval \+0\.000 to \+0\.000, p 1\.00; better on 0, worse on 0\)$`}, ""},
		{"unknown against", []string{"-judged", "testdata/judged", "-against", "k9=1"}, nil, `-against: "k9=1"`},
		{"unknown weight", []string{"-judged", "testdata/judged", "-weights", "k2=1"}, nil, `-weights: "k2=1"`},
		{"not a number", []string{"-judged", "testdata/judged", "-weights", "k1=x"}, nil, `-weights: "k1=x"`},
		{"nothing to do", nil, nil, "need -index DIR, and -judged DIR or -q WORDS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), append([]string{"-index", dir}, tc.args...), &out, &errOut)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, errOut.String())
			}
			for _, re := range tc.want {
				if !regexp.MustCompile(re).MatchString(out.String()) {
					t.Errorf("output lacks %q:\n%s", re, out.String())
				}
			}
		})
	}
}

// TestRun_Condensed: the fixture's shortest event, the opening of the
// Geneva talks, is first for "peace talks" and judged by nobody. nDCG@10
// counts it as 0; the condensed nDCG@10 reads the judged events after
// it, which are in the best order.
func TestRun_Condensed(t *testing.T) {
	dir := testindex.Build(t, t.TempDir(), "testdata/events.jsonl").Path()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"-index", dir, "-judged", "testdata/judged"}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	m := regexp.MustCompile(`nDCG@10 ([01]\.\d{3}),.*condensed nDCG@10 ([01]\.\d{3})`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no figures in %q", out.String())
	}
	ndcg, _ := strconv.ParseFloat(m[1], 64)
	condensed, _ := strconv.ParseFloat(m[2], 64)
	if condensed <= ndcg {
		t.Errorf("condensed nDCG@10 %.3f, nDCG@10 %.3f: want the condensed one higher, the unjudged first result left out", condensed, ndcg)
	}
}

// TestRun_Unjudged: -unjudged writes the top 10s' unjudged results, here
// the Geneva opening for "peace talks", the fixture's one.
func TestRun_Unjudged(t *testing.T) {
	dir := testindex.Build(t, t.TempDir(), "testdata/events.jsonl").Path()
	path := filepath.Join(t.TempDir(), "unjudged.tsv")
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"-index", dir, "-judged", "testdata/judged", "-unjudged", path}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "qid\tquery\trank\tid\ttext\n" +
		"s000\tpeace talks\t1\t2017-01-20/peace-talks-open-in-geneva\tPeace talks open in Geneva.\n"
	if string(b) != want {
		t.Errorf("-unjudged wrote:\n%s\nwant:\n%s", b, want)
	}
	if err := run(context.Background(), []string{"-index", dir, "-judged", "testdata/judged", "-unjudged", filepath.Join(path, "no", "such")}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "-unjudged") {
		t.Errorf("an unwritable -unjudged file: error %v, want one naming -unjudged", err)
	}
}
