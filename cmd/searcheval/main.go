// Searcheval scores the search box's ranking against readers' judgments
// (a judged development set such as ../shared/eval/search), in process
// over a real index, and fits the ranking's weights to them with k-fold
// cross-validation, so that the figures it reports for fitted weights
// come from queries the weights did not see.
//
// Usage:
//
//	searcheval -index DIR -judged DIR [-fit] [-folds 5] [-repeats 4] [-show] [-weights k1=0.9,...] [-against k1=1.2,...] [-unjudged FILE]
//	searcheval -index DIR -q WORDS [-weights ...]
//
// Without -fit it prints nDCG@10 (unjudged results as grade 0), nDCG'@10
// (unjudged removed), P@5 and the unjudged count of the default ranking,
// as ../shared/eval/search/score.py does against a running searchd, and
// the condensed nDCG@10, of the first 10 judged results of a page of 50.
// -unjudged FILE writes the top 10s' unjudged results, with their text,
// for judging. -against prints a second set of weights' figures (those
// it names, the others as -weights) and how it differs from the first,
// query by query: the mean nDCG@10 difference, its bootstrap interval and
// randomisation p-value, and the queries each wins (judged.Compare), to
// tell a change from the set's noise. With -fit it prints, for each repeat of a k-fold split,
// the held-out score of weights fitted on the other folds, their mean
// and range, and the weights a fit on all queries chooses.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/judged"
	"github.com/newsdesk/newsdesk/search"
	"github.com/newsdesk/newsdesk/serving"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "searcheval:", err)
		os.Exit(1)
	}
}

// params are the weights a fit may change, and the values it tries.
func params() []judged.Param[search.Ranking] {
	p := func(name string, values []float64, field func(*search.Ranking) *float64) judged.Param[search.Ranking] {
		return judged.Param[search.Ranking]{Name: name, Values: values,
			Get: func(r *search.Ranking) float64 { return *field(r) },
			Set: func(r *search.Ranking, v float64) { *field(r) = v }}
	}
	return []judged.Param[search.Ranking]{
		p("k1", []float64{0.6, 0.9, 1.2, 1.6, 2.0}, func(r *search.Ranking) *float64 { return &r.K1 }),
		p("b", []float64{0.5, 0.75, 0.9}, func(r *search.Ranking) *float64 { return &r.B }),
		p("variant", []float64{0, 0.25, 0.5, 0.75}, func(r *search.Ranking) *float64 { return &r.Variant }),
		p("coord", []float64{1, 2, 3}, func(r *search.Ranking) *float64 { return &r.Coord }),
		p("stub", []float64{0, 0.05, 0.1, 0.2}, func(r *search.Ranking) *float64 { return &r.Stub }),
		p("onset", []float64{0, 0.02, 0.05, 0.1}, func(r *search.Ranking) *float64 { return &r.Onset }),
		p("all_words", []float64{1, 10, 100, 1e9}, func(r *search.Ranking) *float64 { return &r.AllWords }),
		p("early", []float64{0, 0.02, 0.05}, func(r *search.Ranking) *float64 { return &r.Early }),
		p("tags_only", []float64{0, 0.05, 0.1, 0.2}, func(r *search.Ranking) *float64 { return &r.TagsOnly }),
		p("form", []float64{0, 0.05, 0.1, 0.2}, func(r *search.Ranking) *float64 { return &r.Form }),
	}
}

// fitted returns params without those named in fix ("name,..."): the
// weights a fit keeps as they are set.
func fitted(params []judged.Param[search.Ranking], fix string) ([]judged.Param[search.Ranking], error) {
	for _, name := range strings.Split(fix, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		i := slices.IndexFunc(params, func(p judged.Param[search.Ranking]) bool { return p.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("-fix: unknown weight %q", name)
		}
		params = slices.Delete(params, i, i+1)
	}
	return params, nil
}

// parseWeights sets on r the weights of list, "name=value,..." with the
// names -fit prints; flag names the flag in errors.
func parseWeights(flag string, r search.Ranking, list string) (search.Ranking, error) {
	for _, kv := range strings.Split(list, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		name, value, _ := strings.Cut(kv, "=")
		v, err := strconv.ParseFloat(value, 64)
		i := slices.IndexFunc(params(), func(p judged.Param[search.Ranking]) bool { return p.Name == name })
		if err != nil || i < 0 {
			return r, fmt.Errorf("%s: %q is not name=number with a name -fit prints", flag, kv)
		}
		params()[i].Set(&r, v)
	}
	return r, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("searcheval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dirFlag := fs.String("index", "", "index `directory` (built by indexer build); required")
	judgedDir := fs.String("judged", "", "judged search set `directory` (queries.tsv, judged.tsv); required")
	fit := fs.Bool("fit", false, "fit the weights with cross-validation")
	folds := fs.Int("folds", 5, "folds of the cross-validation")
	repeats := fs.Int("repeats", 4, "repeats of the cross-validation, each with another split")
	show := fs.Bool("show", false, "print each query's score")
	queryFlag := fs.String("q", "", "print the top 10 of this query with the weights, and stop")
	set := fs.String("weights", "", "score these weights instead of the defaults: `name=value,...` (names as -fit prints them)")
	unjudged := fs.String("unjudged", "", "write the unjudged results of the top 10s to this `file`, a TSV for judging")
	fix := fs.String("fix", "", "with -fit: keep these weights as -weights (or the defaults) set them: `name,...`")
	against := fs.String("against", "", "compare these weights with -weights (or the defaults) query by query: `name=value,...`, the others as -weights")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dirFlag == "" || (*judgedDir == "" && *queryFlag == "") {
		return errors.New("need -index DIR, and -judged DIR or -q WORDS")
	}
	if *fix != "" && !*fit {
		return errors.New("-fix keeps weights out of a fit: give -fit too")
	}
	r, err := parseWeights("-weights", search.DefaultRanking, *set)
	if err != nil {
		return err
	}
	var other search.Ranking
	if *against != "" {
		if other, err = parseWeights("-against", r, *against); err != nil {
			return err
		}
	}
	var js *judged.Set
	if *queryFlag == "" {
		if js, err = judged.LoadSearch(*judgedDir); err != nil {
			return err
		}
	}
	dir, err := index.NewDir(*dirFlag)
	if err != nil {
		return err
	}
	srv := serving.New(serving.Config{Dir: dir})
	defer srv.Close()
	if _, err := srv.Load(ctx); err != nil {
		return err
	}
	base := srv.Engine()
	if *queryFlag != "" {
		res, err := base.WithRanking(r).Search(ctx, search.Request{Q: *queryFlag, Size: 10})
		if err != nil {
			return err
		}
		for i, h := range res.Hits {
			fmt.Fprintf(stdout, "%2d %.3f %s %s\n", i+1, h.Score, h.Date, h.Text)
		}
		return nil
	}
	text := map[string]string{}
	for _, q := range js.Queries {
		text[q.ID] = q.Text
	}
	hitText := map[string]string{} // of the hits seen, for -unjudged
	ranked := func(r search.Ranking, qids []string, size int) (map[string][]string, error) {
		e := base.WithRanking(r)
		out := map[string][]string{}
		for _, q := range qids {
			res, err := e.Search(ctx, search.Request{Q: text[q], Size: size})
			if err != nil {
				return nil, fmt.Errorf("%q: %w", text[q], err)
			}
			for _, h := range res.Hits {
				out[q] = append(out[q], h.ID)
				if *unjudged != "" {
					hitText[h.ID] = h.Text
				}
			}
		}
		return out, nil
	}
	var runErr error
	score := func(r search.Ranking, qids []string) float64 {
		top, err := ranked(r, qids, 10)
		if err != nil {
			runErr = err
			return 0
		}
		return js.Score(top, qids).NDCG
	}
	top, err := ranked(r, js.IDs(), 10)
	if err != nil {
		return err
	}
	s := js.Score(top, nil)
	// The condensed list reads deeper: a page of 50 (not the first 50 of
	// a page of 10, since the lead re-rank reads past a page's end).
	deep, err := ranked(r, js.IDs(), judged.CondensedDepth)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: nDCG@10 %.3f, nDCG'@10 %.3f, P@5 %.3f, %d unjudged in %d top 10s; condensed nDCG@10 %.3f (the first 10 judged of the top %d)\n",
		judged.Describe(r, params()), s.NDCG, s.NDCGJudged, s.P5, s.Unjudged, s.Queries, js.Score(deep, nil).Condensed, judged.CondensedDepth)
	if *unjudged != "" {
		items := js.Unjudged(top, func(q string) string { return text[q] })
		err := judged.WriteUnjudged(*unjudged, "query", items, func(id string) (string, error) { return hitText[id], nil })
		if err != nil {
			return fmt.Errorf("-unjudged: %w", err)
		}
	}
	if *against != "" {
		top, err := ranked(other, js.IDs(), 10)
		if err != nil {
			return err
		}
		o := js.Score(top, nil)
		fmt.Fprintf(stdout, "against %s: nDCG@10 %.3f, nDCG'@10 %.3f, P@5 %.3f, %d unjudged; nDCG@10 difference %s\n",
			judged.Describe(other, params()), o.NDCG, o.NDCGJudged, o.P5, o.Unjudged, judged.Compare(s.PerQuery, o.PerQuery, 1))
	}
	if *show {
		qs := js.IDs()
		sort.Slice(qs, func(i, j int) bool { return s.PerQuery[qs[i]] < s.PerQuery[qs[j]] })
		for _, q := range qs {
			fmt.Fprintf(stdout, "  %.3f  %s %s\n", s.PerQuery[q], q, text[q])
		}
	}
	if !*fit {
		return nil
	}
	ps, err := fitted(params(), *fix)
	if err != nil {
		return err
	}
	var all []float64
	for rep := range *repeats {
		cv := judged.CrossValidate(r, ps, judged.Folds(js.IDs(), *folds, uint64(rep+1)), 3, score, stderr)
		if runErr != nil {
			return runErr
		}
		lo, hi := cv.Range()
		fmt.Fprintf(stdout, "repeat %d: held-out nDCG@10 %.3f (folds %.3f-%.3f)\n", rep+1, cv.Mean(), lo, hi)
		all = append(all, cv.HeldOut...)
	}
	mean, lo, hi := 0.0, 1.0, 0.0
	for _, v := range all {
		mean += v
		lo, hi = min(lo, v), max(hi, v)
	}
	mean /= float64(len(all))
	fmt.Fprintf(stdout, "cross-validated nDCG@10 %.3f over %d held-out folds (%.3f-%.3f)\n", mean, len(all), lo, hi)
	w := judged.Fit(r, ps, js.IDs(), 3, score)
	fmt.Fprintf(stdout, "fitted on all %d queries: %s (nDCG@10 %.3f)\n", len(js.IDs()), judged.Describe(w, ps), score(w, js.IDs()))
	return runErr
}
