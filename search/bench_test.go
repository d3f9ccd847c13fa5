package search

import (
	"context"
	"flag"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/mappings"
	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/related"
	"github.com/newsdesk/newsdesk/snapshot"
)

// Benchmarks over a real index: build one with the README's run command,
// then
//
//	go test ./search -run '^$' -bench . -index ../data/index
var benchIndex = flag.String("index", "", "index directory for the benchmarks (built by indexer build)")

func openBench(b *testing.B) (*Engine, *Names) {
	b.Helper()
	if *benchIndex == "" {
		b.Skip("no -index given; see the comment on benchIndex")
	}
	// The collector settings of searchd (cmd/searchd serveGCPercent).
	b.Cleanup(func(old int) func() { return func() { debug.SetGCPercent(old) } }(debug.SetGCPercent(400)))
	e := openIndex(b, *benchIndex)
	return e, e.Names()
}

// openIndex opens the current generation of the index directory dir as
// searchd does, until the test ends.
func openIndex(t testing.TB, dir string) *Engine {
	t.Helper()
	d, err := index.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	name, err := d.Current()
	if err != nil {
		t.Fatal(err)
	}
	m := mappings.New()
	idx, err := d.OpenWorking(name, m, nil, mappings.Older()...)
	if err != nil {
		t.Fatal(err)
	}
	src, err := snapshot.Open(context.Background(), idx, snapshot.Config{Warm: ListFields})
	if err != nil {
		idx.Close()
		t.Fatal(err)
	}
	if err := src.Warmed(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		src.Close()
		idx.Close()
	})
	e, err := New(src, m, idx.Legacy || os.Getenv("BENCH_LEGACY") != "")
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// benchQueries draws 1-3 consecutive words of topic and context names
// (stop words left out), the way users type a story or an entity into a
// search box. Each name used by at least 3 events is equally likely, so
// that one story with hundreds of sub-topics ("COVID-19 pandemic in ...")
// does not make up most of the mix.
func benchQueries(names *Names, n int) []string {
	var pool [][]string
	for _, nm := range names.all {
		if nm.Count < 3 {
			continue
		}
		var words []string
		for _, w := range strings.Fields(nm.Value) {
			if w = strings.ToLower(strings.Trim(w, "()[],.\"'")); len(w) >= 3 && !stop[w] {
				words = append(words, w)
			}
		}
		if len(words) > 0 {
			pool = append(pool, words)
		}
	}
	slices.SortFunc(pool, func(a, b []string) int { return strings.Compare(strings.Join(a, " "), strings.Join(b, " ")) })
	rng := rand.New(rand.NewPCG(42, 7))
	out := make([]string, n)
	for i := range out {
		words := pool[rng.IntN(len(pool))]
		k := min(1+rng.IntN(3), len(words))
		start := rng.IntN(len(words) - k + 1)
		out[i] = strings.Join(words[start:start+k], " ")
	}
	return out
}

// stop holds English stop words, which nobody types alone.
var stop = map[string]bool{"the": true, "and": true, "for": true, "from": true, "with": true, "against": true,
	"during": true, "over": true, "into": true, "between": true, "after": true, "before": true, "under": true}

// latencies runs each request once per b.N round and reports p50 and p99.
func latencies(b *testing.B, e *Engine, reqs []Request) {
	b.Helper()
	measure(b, func(i int) error {
		_, err := e.Search(context.Background(), reqs[i%len(reqs)])
		return err
	})
}

// measure times call(i) for i in 0..b.N and reports its p50 and p99.
func measure(b *testing.B, call func(i int) error) {
	b.Helper()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := call(i); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func BenchmarkKeyword(b *testing.B) {
	e, names := openBench(b)
	qs := benchQueries(names, 2000)
	// Date ranges as a search page offers them: the last month, a year, three
	// years or a decade, ending on a random day of the corpus.
	rng := rand.New(rand.NewPCG(3, 4))
	lo, hi := names.DateRange()
	spans := []int{30, 365, 3 * 365, 10 * 365}
	ranges := make([][2]time.Time, len(qs))
	for i := range ranges {
		to := lo.AddDate(0, 0, rng.IntN(int(hi.Sub(lo).Hours()/24)+1))
		ranges[i] = [2]time.Time{to.AddDate(0, 0, -spans[rng.IntN(len(spans))]), to}
	}
	b.Run("plain", func(b *testing.B) {
		reqs := make([]Request, len(qs))
		for i, q := range qs {
			reqs[i] = Request{Q: q}
		}
		latencies(b, e, reqs)
	})
	b.Run("date-range", func(b *testing.B) {
		reqs := make([]Request, len(qs))
		for i, q := range qs {
			reqs[i] = Request{Q: q, From: ranges[i][0], To: ranges[i][1]}
		}
		latencies(b, e, reqs)
	})
	b.Run("by-date", func(b *testing.B) {
		reqs := make([]Request, len(qs))
		for i, q := range qs {
			reqs[i] = Request{Q: q, Sort: query.SortDateDesc}
		}
		latencies(b, e, reqs)
	})
	// Everything in a date range, newest or oldest first: the ranges
	// above, and the whole corpus.
	b.Run("match-all-by-date", func(b *testing.B) {
		reqs := make([]Request, len(qs))
		for i := range qs {
			reqs[i] = Request{From: ranges[i][0], To: ranges[i][1], Sort: []query.Sort{query.SortDate, query.SortDateDesc}[i%2]}
			if i%4 == 0 {
				reqs[i].From, reqs[i].To = lo, hi
			}
		}
		latencies(b, e, reqs)
	})
	b.Run("facets-highlight", func(b *testing.B) {
		reqs := make([]Request, len(qs))
		for i, q := range qs {
			reqs[i] = Request{Q: q, Facets: 10, Highlight: true}
		}
		latencies(b, e, reqs)
	})
}

// BenchmarkRelated times related lists of 5: by id for events drawn at
// random, and for drafts of about 1,000 characters made of several events'
// texts.
func BenchmarkRelated(b *testing.B) {
	e, names := openBench(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(9, 9))
	var events []Hit
	topics := names.All(FieldTopic)
	for _, nm := range topics[:min(400, len(topics))] { // an index of fewer topics benchmarks too
		res, err := e.Search(ctx, Request{Topics: []string{nm.Value}, Size: 20})
		if err != nil {
			b.Fatal(err)
		}
		events = append(events, res.Hits...)
	}
	for _, nm := range names.All(FieldContext)[:400] {
		res, err := e.Search(ctx, Request{Contexts: []string{nm.Value}, Size: 5})
		if err != nil {
			b.Fatal(err)
		}
		events = append(events, res.Hits...)
	}
	rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	run := func(b *testing.B, req func(i int) related.Request) {
		measure(b, func(i int) error {
			_, err := e.Related(ctx, req(i))
			return err
		})
	}

	b.Run("by-id", func(b *testing.B) {
		run(b, func(i int) related.Request { return related.Request{ID: events[i%len(events)].ID, Size: 5} })
	})
	b.Run("draft-1000", func(b *testing.B) {
		drafts := make([]related.Draft, 500)
		for i := range drafts {
			var text strings.Builder
			for j := i; text.Len() < 1000; j++ {
				text.WriteString(events[j%len(events)].Text + " ")
			}
			drafts[i] = related.Draft{Text: text.String()[:1000], Date: events[i%len(events)].Date}
		}
		run(b, func(i int) related.Request { return related.Request{Draft: &drafts[i%len(drafts)], Size: 5} })
	})
}
