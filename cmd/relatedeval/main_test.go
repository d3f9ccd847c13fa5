package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/judged"
	"github.com/newsdesk/newsdesk/related"
	"github.com/newsdesk/newsdesk/serving"
	"github.com/newsdesk/newsdesk/testindex"
)

func TestRun(t *testing.T) {
	dir := testindex.Build(t, t.TempDir(), "testdata/events.jsonl").Path()
	tests := []struct {
		name string
		args []string
		want []string // regular expressions the output matches
		err  string
	}{
		{"judged", []string{"-judged", "testdata/judged", "-n", "0"},
			[]string{`judged set: 2 sources`, `newsdesk, by id +[01]\.\d{3} +[01]\.\d{3} +[01]\.\d{3} +\d+ +[01]\.\d{3}\n`, `as drafts \(text and date only\) +[01]\.\d{3}`, `condensed`}, ""},
		{"fit", []string{"-judged", "testdata/judged", "-fit", "-folds", "2", "-seeds", "1", "-rounds", "1", "-n", "0"},
			[]string{`seed 1 fold 2: held-out nDCG@10 [01]\.\d{3}`, `held-out folds \(2\): nDCG@10 [01]\.\d{3} \(range`, `fitted on all 2 sources \(in-sample\)`}, ""},
		{"refit", []string{"-judged", "testdata/judged", "-refit", "-rounds", "1", "-n", "0", "-weights", `{"rank_common": 0}`},
			[]string{`on all 2 sources, in-sample, from: .*rank_common=0\b`, `fitted: context=`, `newsdesk, by id +[01]\.\d{3}`}, ""},
		{"refit and fit", []string{"-judged", "testdata/judged", "-refit", "-fit"}, nil, "not both"},
		{"unjudged without a judged set", []string{"-unjudged", "x.tsv"}, nil, "-judged DIR with -fit, -refit, -unjudged or -against"},
		{"refit without a judged set", []string{"-refit"}, nil, "-judged DIR with -fit, -refit, -unjudged or -against"},
		{"story measure without stories", []string{"-n", "3"}, nil, "no topic shared by 5 events"},
		{"fit without a judged set", []string{"-fit"}, nil, "-judged DIR with -fit"},
		{"unknown objective", []string{"-judged", "testdata/judged", "-fit", "-objective", "best"}, nil, "-objective"},
		{"against", []string{"-judged", "testdata/judged", "-n", "0", "-against", `{"near": 0.5}`},
			[]string{`(?m)^against \{"near": 0\.5\}:$`,
				`(?m)^  by id +nDCG@10 [01]\.\d{3}, nDCG'@10 [01]\.\d{3}, P@5 [01]\.\d{3}, \d+ unjudged; nDCG@10 difference [+-]\d\.\d{3} \(95% interval [+-]\d\.\d{3} to [+-]\d\.\d{3}, p [01]\.\d{2}; better on \d+, worse on \d+\)$`,
				`(?m)^  as drafts +nDCG@10 [01]\.\d{3}`}, ""},
		// The same weights: no difference, on no source.
		{"against the same", []string{"-judged", "testdata/judged", "-n", "0", "-weights", `{"near": 0.5}`, "-against", `{"near": 0.5}`},
			[]string{`by id .*difference \+0\.000 \(95% interval \+0\.000 to \+0\.000, p 1\.00; better on 0, worse on 0\)`}, ""},
		{"against without a judged set", []string{"-against", "{}"}, nil, "-judged DIR with -fit, -refit, -unjudged or -against"},
		{"against with fit", []string{"-judged", "testdata/judged", "-fit", "-against", "{}"}, nil, "does not go with -fit or -refit"},
		{"against out of range", []string{"-judged", "testdata/judged", "-n", "0", "-against", `{"floor": 2}`}, nil, "-against: weights.floor"},
		{"unknown weight", []string{"-weights", `{"tex": 1}`}, nil, `unknown field "weights.tex"`},
		{"weight out of range", []string{"-weights", `{"floor": 2}`}, nil, "weights.floor"},
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
			if tc.name == "fit" || tc.name == "refit" {
				checkFitted(t, out.String())
			}
		})
	}
}

// checkFitted checks that the weights -fit prints are valid weights.
func checkFitted(t *testing.T, out string) {
	t.Helper()
	start := strings.Index(out, "{\n")
	end := strings.Index(out, "\n}\n")
	if start < 0 || end < start {
		t.Fatalf("no weights printed:\n%s", out)
	}
	var w related.Weights
	if err := json.Unmarshal([]byte(out[start:end+2]), &w); err != nil {
		t.Fatal(err)
	}
	if err := w.Validate(); err != nil {
		t.Errorf("fitted weights: %v", err)
	}
}

// TestJudged_Score: the figures printed are the judged set's scores of
// the lists the engine gives, by id and as drafts without their own
// event.
func TestJudged_Score(t *testing.T) {
	dir := testindex.Build(t, t.TempDir(), "testdata/events.jsonl").Path()
	d, err := index.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	srv := serving.New(serving.Config{Dir: d})
	defer srv.Close()
	if _, err := srv.Load(ctx); err != nil {
		t.Fatal(err)
	}
	e := srv.Engine()
	jr, err := newJudgedRun(ctx, e, "testdata/judged")
	if err != nil {
		t.Fatal(err)
	}
	set, err := judged.LoadRelated("testdata/judged")
	if err != nil {
		t.Fatal(err)
	}
	for _, drafts := range []bool{false, true} {
		got, err := jr.score(ctx, related.DefaultWeights, nil, drafts)
		if err != nil {
			t.Fatal(err)
		}
		lists := map[string][]string{}
		for _, q := range set.Queries {
			ev, err := e.Event(ctx, q.Text)
			if err != nil {
				t.Fatal(err)
			}
			r := related.Request{ID: q.Text, Size: 10}
			if drafts {
				r = related.Request{Draft: &related.Draft{ID: q.Text, Text: ev.Text, Date: ev.Date}, Size: 10}
			}
			items, err := e.Related(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				if it.ID == q.Text {
					t.Errorf("%s lists itself", q.ID)
				}
				lists[q.ID] = append(lists[q.ID], it.ID)
			}
		}
		want := set.Score(lists, nil)
		if fmt.Sprint(got.NDCG, got.NDCGJudged, got.P5, got.Unjudged) != fmt.Sprint(want.NDCG, want.NDCGJudged, want.P5, want.Unjudged) || want.Queries != 2 {
			t.Errorf("drafts %v: scores %+v, want %+v", drafts, got, want)
		}
	}
}

// TestRun_Unjudged: -unjudged writes, for each list by id and as a draft,
// the items of its top 10 that the set does not grade, one a line.
func TestRun_Unjudged(t *testing.T) {
	dir := testindex.Build(t, t.TempDir(), "testdata/events.jsonl").Path()
	path := filepath.Join(t.TempDir(), "unjudged.tsv")
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"-index", dir, "-judged", "testdata/judged", "-n", "0", "-unjudged", path}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if lines[0] != "qid\tlist\trank\tid\ttext" {
		t.Fatalf("header %q", lines[0])
	}
	// The report's unjudged counts, by id and as drafts, are the file's.
	counts := regexp.MustCompile(`(?m)^newsdesk, (by id|as drafts)[^\n]*? (\d+) +[01]\.\d{3}$`).FindAllStringSubmatch(out.String(), -1)
	if len(counts) != 2 {
		t.Fatalf("no unjudged counts in:\n%s", out.String())
	}
	want := map[string]int{}
	for _, c := range counts {
		n, _ := strconv.Atoi(c[2])
		want[map[string]string{"by id": "id", "as drafts": "draft"}[c[1]]] = n
	}
	got := map[string]int{}
	for _, l := range lines[1:] {
		f := strings.Split(l, "\t")
		if len(f) != 5 || f[4] == "" {
			t.Fatalf("line %q: want 5 fields with the text", l)
		}
		got[f[1]]++
	}
	if got["id"] != want["id"] || got["draft"] != want["draft"] {
		t.Errorf("lines by list %v, want the report's unjudged counts %v", got, want)
	}
}
