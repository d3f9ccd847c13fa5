// Relatedeval scores related-event lists on a real index: against a
// judged set (editors' grades), and by a story measure that needs no
// judgments.
//
// Usage:
//
//	relatedeval -index DIR [-judged DIR [-fit [-folds 5] [-seeds 3] [-rounds 3] [-objective both]] [-unjudged FILE] [-against JSON]] [-n 300] [-seed 1] [-gold PAGE.md] [-weights JSON]
//
// With -judged (a directory of sources.json and judged.tsv, such as
// ../shared/eval/related), it prints nDCG@10 (unjudged results count as
// grade 0), nDCG'@10 (unjudged results removed first), P@5 and the number
// of unjudged results, exactly as that set's score.py does: for each
// source by id, and as a draft (its text and date only, its id given so
// that it is left out); and the condensed nDCG@10, of the first 10
// judged items of lists of 50. -unjudged FILE writes the items of those
// top 10s that the set does not grade, with their text, for judging.
// -against JSON scores a second set of weights (over -weights or the
// defaults) and compares it with the first source by source, by id and as
// drafts: the mean nDCG@10 difference, its bootstrap interval and
// randomisation p-value, and the sources each wins (judged.Compare).
// With -fit, it cross-validates the fit of the
// weights instead: the sources are shuffled into -folds folds (once per
// seed, -seeds times), the weights are fitted by coordinate ascent (of the
// mean nDCG@10 of the lists by id and as drafts, or of one of them:
// -objective) on all folds but one and scored on the one left out; it
// prints each held-out fold's figures, their mean and range, then the
// weights fitted on every source (DefaultWeights are those) and their
// in-sample figures.
//
// The story measure, story precision@5 (-n events, 0 to skip): sample
// events that belong to a story (a topic that at least 5 events share);
// hide each one's topic and context and ask for the related list of its
// text and date alone; count the share of the top 5 that belong to its
// story (same topic, or the topic among their context tags). Hiding the
// tags keeps the measure from rewarding a ranking for echoing them; a
// second row gives the tags back, as the event page does. It also
// reports how many distinct days the top 5 span, and how far in time
// they are from the source.
//
// With -gold, it also prints the related list of the event page's event
// next to the page's own Related list, and how many of those it found.
//
// -weights takes a JSON object of weights (any subset of them, as the
// API's) to score instead of the defaults.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"regexp"
	"sort"
	"strings"
	"syscall"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/related"
	"github.com/newsdesk/newsdesk/search"
	"github.com/newsdesk/newsdesk/serving"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "relatedeval:", err)
		os.Exit(1)
	}
}

// config is one ranking to score.
type config struct {
	name     string
	weights  related.Weights
	withTags bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("relatedeval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dirFlag := fs.String("index", "", "index `directory` (built by indexer build); required")
	n := fs.Int("n", 300, "events to sample for the story measure; 0 skips it")
	seed := fs.Uint64("seed", 1, "sampling seed")
	gold := fs.String("gold", "", "an event page (Markdown) whose Related list to compare with")
	judgedDir := fs.String("judged", "", "a judged set `directory` (sources.json, judged.tsv) to score")
	fit := fs.Bool("fit", false, "with -judged: cross-validate the fit of the weights, then fit them on every source")
	folds := fs.Int("folds", 5, "with -fit: folds")
	seeds := fs.Int("seeds", 3, "with -fit: shufflings of the sources into folds")
	rounds := fs.Int("rounds", 3, "with -fit: rounds of coordinate ascent at most")
	objective := fs.String("objective", "both", "with -fit: the nDCG@10 maximised, of lists by `id`, of drafts, or both (their mean)")
	weights := fs.String("weights", "", "a JSON object of weights to score instead of the defaults (any subset)")
	refit := fs.Bool("refit", false, "with -judged: fit the weights (the defaults, or -weights) on every source by coordinate ascent, without cross-validation")
	against := fs.String("against", "", "with -judged: compare these weights (a JSON object, over -weights or the defaults) with -weights source by source")
	unjudged := fs.String("unjudged", "", "with -judged: write the unjudged items of the top 10s (by id and as drafts) to this `file`, a TSV for judging")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dirFlag == "" || *n < 0 || ((*fit || *refit || *unjudged != "" || *against != "") && *judgedDir == "") || (*fit && *refit) || *folds < 2 || *seeds < 1 || *rounds < 1 || objectives[*objective] == "" {
		return errors.New("need -index DIR, -n ≥ 0, -folds ≥ 2, -seeds ≥ 1, -rounds ≥ 1, -objective id, drafts or both, -judged DIR with -fit, -refit, -unjudged or -against, and not both of -fit and -refit")
	}
	if *against != "" && (*fit || *refit) {
		return errors.New("-against compares two sets of weights' lists; it does not go with -fit or -refit")
	}
	w, err := parseWeights("-weights", related.DefaultWeights, *weights)
	if err != nil {
		return err
	}
	var other related.Weights
	if *against != "" {
		if other, err = parseWeights("-against", w, *against); err != nil {
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
	e := srv.Engine()
	if *judgedDir != "" {
		jr, err := newJudgedRun(ctx, e, *judgedDir)
		if err != nil {
			return err
		}
		switch {
		case *fit:
			err = jr.fit(ctx, fitStart, *folds, *seeds, *rounds, *objective, stdout)
		case *refit:
			err = jr.refit(ctx, w, *rounds, *objective, stdout)
		default:
			err = jr.report(ctx, w, stdout)
			if err == nil && *against != "" {
				err = jr.compare(ctx, w, other, *against, stdout)
			}
		}
		if err == nil && *unjudged != "" {
			err = jr.writeUnjudged(ctx, w, *unjudged)
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout)
	}
	if *n > 0 {
		if err := storyMeasure(ctx, e, *n, *seed, w, stdout); err != nil {
			return err
		}
	}
	if *gold != "" {
		return compareGold(ctx, e, *gold, w, stdout)
	}
	return nil
}

// parseWeights reads a JSON object of weights over w (any subset of
// them, as the API's); flag names the flag in errors.
func parseWeights(flag string, w related.Weights, s string) (related.Weights, error) {
	if s == "" {
		return w, nil
	}
	// UnmarshalJSON starts from the defaults: give it w's fields first.
	base, err := json.Marshal(w)
	if err != nil {
		return w, err
	}
	merged := map[string]json.RawMessage{}
	if err := json.Unmarshal(base, &merged); err != nil {
		return w, err
	}
	var given map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &given); err != nil {
		return w, fmt.Errorf("%s: %w", flag, err)
	}
	maps.Copy(merged, given)
	b, err := json.Marshal(merged)
	if err != nil {
		return w, err
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return w, fmt.Errorf("%s: %w", flag, err)
	}
	if err := w.Validate(); err != nil {
		return w, fmt.Errorf("%s: %w", flag, err)
	}
	return w, nil
}

// storyMeasure prints the story precision of n sampled events.
func storyMeasure(ctx context.Context, e *search.Engine, n int, seed uint64, w related.Weights, stdout io.Writer) error {
	sample, err := sampleStories(ctx, e, n, seed)
	if err != nil {
		return err
	}
	configs := []config{
		{"text-only more-like-this (baseline)", related.TextOnly, false},
		{"newsdesk ranking", w, false},
		{"newsdesk ranking, tags given", w, true},
	}
	fmt.Fprintf(stdout, "%d events sampled from stories of 5 or more events (seed %d); top 5 of each list\n\n", len(sample), seed)
	fmt.Fprintf(stdout, "%-40s %12s %12s %14s %10s\n", "ranking", "story P@5", "lists ≥3/5", "distinct days", "median Δ")
	for _, c := range configs {
		s, err := score(ctx, e, sample, c)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-40s %12.3f %12.3f %14.2f %9.0fd\n", c.name, s.precision, s.atLeast3, s.days, s.medianDays)
	}
	return nil
}

// sampleStories draws events of stories (topics at least 5 events share):
// a story at random, then one of its events at random, so that a few
// stories with thousands of events do not make up the sample.
func sampleStories(ctx context.Context, e *search.Engine, n int, seed uint64) ([]newsdesk.Event, error) {
	var topics []string
	for _, nm := range e.Names().All(search.FieldTopic) {
		if nm.Count >= 5 {
			topics = append(topics, nm.Value)
		}
	}
	sort.Strings(topics)
	if len(topics) == 0 {
		return nil, errors.New("the index has no topic shared by 5 events")
	}
	rng := rand.New(rand.NewPCG(seed, 5))
	seen := map[string]bool{}
	var out []newsdesk.Event
	for tries := 0; len(out) < n && tries < 20*n; tries++ {
		topic := topics[rng.IntN(len(topics))]
		// By date, so that the sample does not depend on how the index
		// happens to number its events.
		res, err := e.Search(ctx, search.Request{Topics: []string{topic}, Size: 100, Sort: query.SortDate})
		if err != nil {
			return nil, err
		}
		if len(res.Hits) == 0 {
			continue
		}
		h := res.Hits[rng.IntN(len(res.Hits))]
		if seen[h.ID] {
			continue
		}
		seen[h.ID] = true
		out = append(out, h.Event)
	}
	return out, nil
}

type scores struct {
	precision, atLeast3, days, medianDays float64
}

func score(ctx context.Context, e *search.Engine, sample []newsdesk.Event, c config) (scores, error) {
	var s scores
	var gaps []float64
	for _, ev := range sample {
		d := &related.Draft{ID: ev.ID, Text: ev.Text, Date: ev.Date}
		if c.withTags {
			d.Topic, d.Context = ev.Topic, ev.Context
		}
		w := c.weights
		items, err := e.Related(ctx, related.Request{Draft: d, Size: 5, Weights: &w})
		if err != nil {
			return s, fmt.Errorf("%s: %w", ev.ID, err)
		}
		hits := 0
		days := map[string]bool{}
		for _, it := range items {
			if it.Topic == ev.Topic || contains(it.Context, ev.Topic) {
				hits++
			}
			days[it.Date] = true
			if it.DaysApart != nil {
				gaps = append(gaps, math.Abs(float64(*it.DaysApart)))
			}
		}
		s.precision += float64(hits) / 5
		if hits >= 3 {
			s.atLeast3++
		}
		s.days += float64(len(days))
	}
	k := float64(len(sample))
	s.precision, s.atLeast3, s.days = s.precision/k, s.atLeast3/k, s.days/k
	if len(gaps) > 0 {
		sort.Float64s(gaps)
		s.medianDays = gaps[len(gaps)/2]
	}
	return s, nil
}

var goldLink = regexp.MustCompile(`^\d+\.\s+\[(.*?)\]\(/news/(\d{4})/(\d{2})/(\d{2})/([a-z0-9-]+)\.md\)`)

// compareGold prints the page's event's related list beside the page's own.
func compareGold(ctx context.Context, e *search.Engine, path string, w related.Weights, stdout io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var (
		date, text string
		golds      []string // date/slug of each Related link
		inRelated  bool
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "### ["):
			date = strings.TrimSuffix(strings.TrimPrefix(strings.SplitN(line, "]", 2)[0], "### ["), "]")
		case strings.HasPrefix(line, "# ") && text == "":
			text = strings.TrimSpace(line[2:])
		case strings.HasPrefix(line, "### Related"):
			inRelated = true
		case strings.HasPrefix(line, "### "):
			inRelated = false
		case inRelated:
			if m := goldLink.FindStringSubmatch(line); m != nil {
				golds = append(golds, m[2]+"-"+m[3]+"-"+m[4]+"/"+m[5])
			}
		}
	}
	id := newsdesk.NewID(date, text)
	items, err := e.Related(ctx, related.Request{ID: id, Size: 5, Weights: &w})
	if err != nil {
		return fmt.Errorf("related of %s: %w", id, err)
	}
	// The site's slugs run past the ids' 128 characters: compare prefixes.
	same := func(itemID, gold string) bool {
		return strings.HasPrefix(gold, itemID) || strings.HasPrefix(itemID, gold)
	}
	found := 0
	fmt.Fprintf(stdout, "\n%s\n\nnewsdesk top 5:\n", id)
	for i, it := range items {
		mark := " "
		for _, g := range golds {
			if same(it.ID, g) {
				mark = "*"
				found++
			}
		}
		fmt.Fprintf(stdout, "%s %d. %s %s\n     %s\n", mark, i+1, it.Date, clip(it.Text, 110), it.Reason)
	}
	fmt.Fprintf(stdout, "\nthe page's Related list (%d of %d in newsdesk's top 5, marked *):\n", found, len(golds))
	for i, g := range golds {
		fmt.Fprintf(stdout, "  %d. %s\n", i+1, clip(g, 120))
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func clip(s string, n int) string { return newsdesk.Clip(s, n) }
