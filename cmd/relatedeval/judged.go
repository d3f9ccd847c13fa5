package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/judged"
	"github.com/newsdesk/newsdesk/related"
	"github.com/newsdesk/newsdesk/search"
)

// judgedRun scores related lists against a judged set: each source by id,
// and as a draft (its text and date only, its id given so that it is
// left out).
type judgedRun struct {
	e      *search.Engine
	set    *judged.Set
	events map[string]newsdesk.Event // by query id: the source event
}

func newJudgedRun(ctx context.Context, e *search.Engine, dir string) (*judgedRun, error) {
	set, err := judged.LoadRelated(dir)
	if err != nil {
		return nil, err
	}
	jr := &judgedRun{e: e, set: set, events: map[string]newsdesk.Event{}}
	for _, q := range set.Queries {
		ev, err := e.Event(ctx, q.Text)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", q.ID, err)
		}
		jr.events[q.ID] = ev
	}
	return jr, nil
}

// lists returns the top size of each query of qids, by id or as drafts.
// Two workers: the machine has two cores.
func (jr *judgedRun) lists(ctx context.Context, w related.Weights, qids []string, drafts bool, size int) (map[string][]string, error) {
	out := make(map[string][]string, len(qids))
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
		next  = make(chan string)
	)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for q := range next {
				req := related.Request{ID: jr.events[q].ID, Size: size, Weights: &w}
				if drafts {
					ev := jr.events[q]
					req = related.Request{Draft: &related.Draft{ID: ev.ID, Text: ev.Text, Date: ev.Date}, Size: size, Weights: &w}
				}
				items, err := jr.e.Related(ctx, req)
				mu.Lock()
				if err != nil && first == nil {
					first = fmt.Errorf("related of %s: %w", q, err)
				}
				for _, it := range items {
					out[q] = append(out[q], it.ID)
				}
				mu.Unlock()
			}
		}()
	}
	for _, q := range qids {
		next <- q
	}
	close(next)
	wg.Wait()
	return out, first
}

// score returns the figures of weights w over qids (all when nil).
func (jr *judgedRun) score(ctx context.Context, w related.Weights, qids []string, drafts bool) (judged.Scores, error) {
	if qids == nil {
		qids = jr.set.IDs()
	}
	lists, err := jr.lists(ctx, w, qids, drafts, 10)
	if err != nil {
		return judged.Scores{}, err
	}
	return jr.set.Score(lists, qids), nil
}

// condensed returns the condensed nDCG@10 of weights w over every source:
// of the first 10 judged items of lists of judged.CondensedDepth.
func (jr *judgedRun) condensed(ctx context.Context, w related.Weights, drafts bool) (float64, error) {
	lists, err := jr.lists(ctx, w, jr.set.IDs(), drafts, judged.CondensedDepth)
	if err != nil {
		return 0, err
	}
	return jr.set.Score(lists, nil).Condensed, nil
}

// writeUnjudged writes to path the items of the top 10s of weights w, by
// id and as drafts, that the set has no grade for: a TSV of the source's
// query id, the list (id or draft), the item's rank, id and text, for
// judges to grade (unjudged items count 0 until they are).
func (jr *judgedRun) writeUnjudged(ctx context.Context, w related.Weights, path string) error {
	var items []judged.Unjudged
	for _, kind := range []string{"id", "draft"} {
		lists, err := jr.lists(ctx, w, jr.set.IDs(), kind == "draft", 10)
		if err != nil {
			return err
		}
		items = append(items, jr.set.Unjudged(lists, func(string) string { return kind })...)
	}
	err := judged.WriteUnjudged(path, "list", items, func(id string) (string, error) {
		ev, err := jr.e.Event(ctx, id)
		return ev.Text, err
	})
	if err != nil {
		return fmt.Errorf("-unjudged: %w", err)
	}
	return nil
}

// report prints the judged figures of the rankings.
func (jr *judgedRun) report(ctx context.Context, w related.Weights, stdout io.Writer) error {
	fmt.Fprintf(stdout, "judged set: %d sources, top 10 of each list (unjudged results count 0 in nDCG@10); condensed: of the first 10 judged items of lists of %d\n\n",
		len(jr.set.Queries), judged.CondensedDepth)
	fmt.Fprintf(stdout, "%-46s %8s %9s %6s %9s %10s\n", "ranking", "nDCG@10", "nDCG'@10", "P@5", "unjudged", "condensed")
	for _, r := range []struct {
		name   string
		w      related.Weights
		drafts bool
	}{
		{"newsdesk, by id", w, false},
		{"newsdesk, as drafts (text and date only)", w, true},
		{"text-only more-like-this (baseline), by id", related.TextOnly, false},
	} {
		s, err := jr.score(ctx, r.w, nil, r.drafts)
		if err != nil {
			return err
		}
		c, err := jr.condensed(ctx, r.w, r.drafts)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-46s %8.3f %9.3f %6.3f %9d %10.3f\n", r.name, s.NDCG, s.NDCGJudged, s.P5, s.Unjudged, c)
	}
	return nil
}

// compare prints how weights b (label says which) differ from a, source
// by source, by id and as drafts: b's figures and the nDCG@10 difference
// with its bootstrap interval (judged.Compare).
func (jr *judgedRun) compare(ctx context.Context, a, b related.Weights, label string, stdout io.Writer) error {
	fmt.Fprintf(stdout, "\nagainst %s:\n", label)
	for _, drafts := range []bool{false, true} {
		sa, err := jr.score(ctx, a, nil, drafts)
		if err != nil {
			return err
		}
		sb, err := jr.score(ctx, b, nil, drafts)
		if err != nil {
			return err
		}
		name := "by id"
		if drafts {
			name = "as drafts"
		}
		fmt.Fprintf(stdout, "  %-10s nDCG@10 %.3f, nDCG'@10 %.3f, P@5 %.3f, %d unjudged; nDCG@10 difference %s\n",
			name, sb.NDCG, sb.NDCGJudged, sb.P5, sb.Unjudged, judged.Compare(sa.PerQuery, sb.PerQuery, 1))
	}
	return nil
}

// fit cross-validates the fit of the weights: for each of seeds
// shufflings of the sources into folds, the weights are fitted from start
// on all folds but one and scored on the one left out, by id and as
// drafts. It then fits them on every source and prints them.
func (jr *judgedRun) fit(ctx context.Context, start related.Weights, folds, seeds, rounds int, objective string, stdout io.Writer) error {
	params := fitParams()
	score, ferr := jr.objective(ctx, objective)
	fmt.Fprintf(stdout, "cross-validation: %d folds × %d seeds, coordinate ascent (%d rounds at most) of the %s nDCG@10 from: %s\n\n",
		folds, seeds, rounds, objectives[objective], judged.Describe(start, params))
	var held, heldDrafts, heldJudged, heldP5 []float64
	for seed := 1; seed <= seeds; seed++ {
		fs := judged.Folds(jr.set.IDs(), folds, uint64(seed))
		cv := judged.CrossValidate(start, params, fs, rounds, score, stdout)
		if *ferr != nil {
			return *ferr
		}
		for i, f := range cv.Fitted {
			w := f.(related.Weights)
			s, err := jr.score(ctx, w, fs[i], false)
			if err != nil {
				return err
			}
			d, err := jr.score(ctx, w, fs[i], true)
			if err != nil {
				return err
			}
			held = append(held, s.NDCG)
			heldJudged = append(heldJudged, s.NDCGJudged)
			heldP5 = append(heldP5, s.P5)
			heldDrafts = append(heldDrafts, d.NDCG)
			fmt.Fprintf(stdout, "seed %d fold %d: held-out nDCG@10 %.3f nDCG'@10 %.3f P@5 %.3f; as drafts nDCG@10 %.3f\n", seed, i+1, s.NDCG, s.NDCGJudged, s.P5, d.NDCG)
		}
		lo, hi := cv.Range()
		fmt.Fprintf(stdout, "seed %d: held-out %s nDCG@10 mean %.3f (folds %.3f-%.3f)\n\n", seed, objectives[objective], cv.Mean(), lo, hi)
	}
	lo, hi := minMax(held)
	fmt.Fprintf(stdout, "held-out folds (%d): nDCG@10 %.3f (range %.3f-%.3f), nDCG'@10 %.3f, P@5 %.3f; as drafts nDCG@10 %.3f\n\n",
		len(held), mean(held), lo, hi, mean(heldJudged), mean(heldP5), mean(heldDrafts))

	fmt.Fprintf(stdout, "fitted on all %d sources (in-sample): ", len(jr.set.Queries))
	return jr.fitAll(ctx, start, params, rounds, score, ferr, stdout)
}

// fitAll fits the weights from start on every source, and prints them
// and their figures.
func (jr *judgedRun) fitAll(ctx context.Context, start related.Weights, params []judged.Param[related.Weights], rounds int,
	score func(related.Weights, []string) float64, ferr *error, stdout io.Writer) error {
	all := judged.Fit(start, params, jr.set.IDs(), rounds, score)
	if *ferr != nil {
		return *ferr
	}
	b, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n%s\n", judged.Describe(all, params), b)
	return jr.report(ctx, all, stdout)
}

// objective returns the score a fit maximises over some sources, and
// where the first error scoring met is kept.
func (jr *judgedRun) objective(ctx context.Context, objective string) (func(related.Weights, []string) float64, *error) {
	ferr := new(error)
	return func(w related.Weights, qids []string) float64 {
		var s, d judged.Scores
		var err error
		if objective != "drafts" {
			s, err = jr.score(ctx, w, qids, false)
		}
		if err == nil && objective != "id" {
			d, err = jr.score(ctx, w, qids, true)
		}
		if err != nil && *ferr == nil {
			*ferr = err
		}
		switch objective {
		case "drafts":
			return d.NDCG
		case "both":
			return (s.NDCG + d.NDCG) / 2
		}
		return s.NDCG
	}, ferr
}

// refit fits the weights from start on every source, without
// cross-validation (start has seen them all: there is no held-out
// figure), and prints them and their figures: how the defaults are
// brought to a local optimum when a feature is added.
func (jr *judgedRun) refit(ctx context.Context, start related.Weights, rounds int, objective string, stdout io.Writer) error {
	params := fitParams()
	score, ferr := jr.objective(ctx, objective)
	fmt.Fprintf(stdout, "coordinate ascent (%d rounds at most) of the %s nDCG@10 on all %d sources, in-sample, from: %s\n\n",
		rounds, objectives[objective], len(jr.set.Queries), judged.Describe(start, params))
	fmt.Fprint(stdout, "fitted: ")
	return jr.fitAll(ctx, start, params, rounds, score, ferr, stdout)
}

// objectives are what -fit may maximise.
var objectives = map[string]string{"id": "by-id", "drafts": "drafts'", "both": "mean of the by-id and drafts'"}

// fitParams are the weights the fit moves, with the values it tries.
func fitParams() []judged.Param[related.Weights] {
	p := func(name string, f func(*related.Weights) *float64, values ...float64) judged.Param[related.Weights] {
		return judged.Param[related.Weights]{Name: name, Values: values,
			Get: func(w *related.Weights) float64 { return *f(w) },
			Set: func(w *related.Weights, v float64) { *f(w) = v }}
	}
	return []judged.Param[related.Weights]{
		p("context", func(w *related.Weights) *float64 { return &w.Context }, 0, 0.02, 0.04, 0.08, 0.16),
		p("place", func(w *related.Weights) *float64 { return &w.Place }, 0, 0.02, 0.04, 0.08, 0.16),
		p("topic", func(w *related.Weights) *float64 { return &w.Topic }, 0, 0.25, 0.5, 1),
		p("feedback", func(w *related.Weights) *float64 { return &w.Feedback }, 0, 0.04, 0.08, 0.16),
		p("half_life_days", func(w *related.Weights) *float64 { return &w.HalfLifeDays }, 7, 14, 30, 60),
		p("slow_half_life_days", func(w *related.Weights) *float64 { return &w.SlowHalfLifeDays }, 140, 280, 560, 1100),
		p("near", func(w *related.Weights) *float64 { return &w.Near }, 0.3, 0.5, 0.7, 0.9),
		p("floor", func(w *related.Weights) *float64 { return &w.Floor }, 0.15, 0.3, 0.5, 0.7),
		p("adopt", func(w *related.Weights) *float64 { return &w.Adopt }, 0.3, 0.5, 0.7, 2),
		p("rank_text", func(w *related.Weights) *float64 { return &w.RankText }, 0, 0.25, 0.5, 1),
		p("rank_match", func(w *related.Weights) *float64 { return &w.RankMatch }, 0, 0.25, 0.5, 1),
		p("rank_classic", func(w *related.Weights) *float64 { return &w.RankClassic }, 0, 0.25, 0.5, 1, 2, 4),
		p("rank_story", func(w *related.Weights) *float64 { return &w.RankStory }, 0, 0.01, 0.02, 0.05),
		p("rank_place", func(w *related.Weights) *float64 { return &w.RankPlace }, -0.02, 0, 0.02),
		p("rank_topic", func(w *related.Weights) *float64 { return &w.RankTopic }, 0, 0.1, 0.2, 0.4),
		p("rank_week", func(w *related.Weights) *float64 { return &w.RankWeek }, 0, 0.1, 0.2, 0.4),
		p("rank_month", func(w *related.Weights) *float64 { return &w.RankMonth }, 0, 0.1, 0.2, 0.4),
		p("rank_category", func(w *related.Weights) *float64 { return &w.RankCategory }, -0.4, -0.2, -0.1, 0),
		p("rank_text_position", func(w *related.Weights) *float64 { return &w.RankTextPosition }, 0, 0.25, 0.5, 1),
		p("rank_classic_position", func(w *related.Weights) *float64 { return &w.RankClassicPosition }, 0, 0.25, 0.5, 1),
		p("rank_common", func(w *related.Weights) *float64 { return &w.RankCommon }, 0, 0.05, 0.1, 0.2),
		p("rank_agree", func(w *related.Weights) *float64 { return &w.RankAgree }, 0, 0.1, 0.2, 0.4),
	}
}

// fitStart is where fits start: stage 1 as the research set it by hand
// (REPORT.md §3.3), no re-ranking. Not DefaultWeights, which are fitted
// on every source: a held-out fold would start from weights that saw it.
var fitStart = func() related.Weights {
	w := related.DefaultWeights
	w.Context, w.Place, w.Topic, w.Feedback = 0.04, 0.02, 0.5, 0.08
	w.HalfLifeDays, w.SlowHalfLifeDays, w.Near, w.Floor = 14, 280, 0.7, 0.3
	w.RankText, w.RankMatch, w.RankClassic, w.RankStory, w.RankPlace = 0, 0, 0, 0, 0
	w.RankTopic, w.RankWeek, w.RankMonth, w.RankCategory = 0, 0, 0, 0
	w.RankTextPosition, w.RankClassicPosition, w.RankCommon, w.RankAgree = 0, 0, 0, 0
	return w
}()

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(max(1, len(xs)))
}

func minMax(xs []float64) (float64, float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	lo, hi := xs[0], xs[0]
	for _, x := range xs {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}
