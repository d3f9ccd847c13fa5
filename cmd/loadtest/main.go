// Loadtest replays a mix of realistic queries against a running searchd
// and prints latency percentiles and throughput.
//
// Usage:
//
//	loadtest -corpus FILE [-url http://127.0.0.1:8080] [-c 4] [-duration 20s] [-n 0]
//	loadtest -corpus FILE -updates 1000 [-duration 10s]   (admin key in NEWSDESK_ADMIN_KEY)
//
// The queries come from the corpus itself: 1 to 3 consecutive words of the
// topic and context names of its events, some with a date range, some
// asking for facets and highlighting, some name suggestions. Requests go
// only to loopback addresses, and the run stops after -duration or -n
// requests, whichever comes first. It prints one JSON line on stdout.
//
// With -updates N it measures live updates instead: one client's searches
// for -duration, then N one-event bulk upserts of corpus events moved to
// another date (their latency), then one client's searches again. Run it
// against a copy of an index: the updates stay in its journal.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/client"
	"github.com/newsdesk/newsdesk/ingest"
	"github.com/newsdesk/newsdesk/search"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// Result is what loadtest prints.
type Result struct {
	Requests      int            `json:"requests"`
	Seconds       float64        `json:"seconds"`
	Concurrency   int            `json:"concurrency"`
	RequestsPerS  float64        `json:"requests_per_second"`
	P50MS         float64        `json:"p50_ms"`
	P95MS         float64        `json:"p95_ms"`
	P99MS         float64        `json:"p99_ms"`
	MaxMS         float64        `json:"max_ms"`
	Statuses      map[string]int `json:"statuses"`
	Errors        int            `json:"errors"`
	DistinctPaths int            `json:"distinct_queries"`
	LivezProbes   int            `json:"livez_probes,omitempty"`
	LivezP99MS    float64        `json:"livez_p99_ms,omitempty"`
	LivezMaxMS    float64        `json:"livez_max_ms,omitempty"`
	LivezFailed   int            `json:"livez_failed,omitempty"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://127.0.0.1:8080", "searchd base `URL` (loopback only)")
	corpus := fs.String("corpus", "", "events `file` to draw queries from (JSONL, .gz or not); required")
	conc := fs.Int("c", 4, "concurrent clients")
	duration := fs.Duration("duration", 20*time.Second, "how long to run")
	limit := fs.Int("n", 0, "stop after this many requests (0: no limit but -duration)")
	seed := fs.Uint64("seed", 1, "random seed for the query mix")
	livez := fs.Duration("livez", 0, "if set, also probe /livez at this interval and report its latency (with -c 0, only probe: a health checker in its own process)")
	updates := fs.Int("updates", 0, "if set, measure this many one-event bulk updates between two one-client search runs of -duration each (admin key in NEWSDESK_ADMIN_KEY)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*base)
	if err != nil || u.Host == "" {
		return fmt.Errorf("-url %q is not a URL", *base)
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-url %q: loadtest only targets loopback addresses", *base)
	}
	probeOnly := *conc == 0 && *livez > 0 // a health checker apart from the load
	if (*corpus == "" && !probeOnly) || *conc < 0 || (*conc == 0 && !probeOnly) || *duration <= 0 || *limit < 0 {
		return errors.New("need -corpus FILE, -c ≥ 1 (or -c 0 with -livez, to probe only), -duration > 0 and -n ≥ 0")
	}
	if *updates > 0 {
		return runUpdates(ctx, *base, *corpus, *updates, *duration, *seed, os.Getenv("NEWSDESK_ADMIN_KEY"), stdout, stderr)
	}
	var calls []call
	if !probeOnly {
		names, err := readNames(*corpus)
		if err != nil {
			return err
		}
		calls = mix(names, 5000, *seed)
	}

	ctx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()
	// No retries: a 429 is a result to count, not to hide.
	c, err := client.New(client.Config{URL: *base, Retries: -1,
		HTTPClient: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: max(*conc, 1)}}})
	if err != nil {
		return err
	}
	var (
		mu       sync.Mutex
		lat      []time.Duration
		statuses = map[string]int{}
		errs     int
		next     int
		wg       sync.WaitGroup
	)
	take := func() (call, bool) {
		mu.Lock()
		defer mu.Unlock()
		if *limit > 0 && next >= *limit {
			return call{}, false
		}
		p := calls[next%len(calls)]
		next++
		return p, true
	}
	var livezLat []time.Duration
	livezFailed := 0
	if *livez > 0 {
		// Its own client and connection, so that the probe never waits for
		// the load's connections.
		probe, err := client.New(client.Config{URL: *base, Retries: -1,
			HTTPClient: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}})
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(*livez)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				t0 := time.Now()
				err := probe.Live(ctx)
				d := time.Since(t0)
				mu.Lock()
				if err == nil {
					livezLat = append(livezLat, d)
				} else if ctx.Err() == nil {
					livezFailed++
				}
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	for range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				p, ok := take()
				if !ok {
					return
				}
				t0 := time.Now()
				code, err := p.do(ctx, c)
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					if ctx.Err() == nil {
						errs++
					}
				} else {
					lat = append(lat, d)
					statuses[fmt.Sprint(code)]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if probeOnly {
		lat = livezLat
	}
	if len(lat) == 0 {
		return fmt.Errorf("no request succeeded (%d errors); is searchd running at %s?", errs, *base)
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	pct := func(p int) float64 { return ms(lat[min(len(lat)-1, len(lat)*p/100)]) }
	res := Result{Requests: len(lat), Seconds: elapsed.Seconds(), Concurrency: *conc,
		RequestsPerS: float64(len(lat)) / elapsed.Seconds(), P50MS: pct(50), P95MS: pct(95), P99MS: pct(99),
		MaxMS: ms(lat[len(lat)-1]), Statuses: statuses, Errors: errs, DistinctPaths: len(calls)}
	if len(livezLat) > 0 {
		slices.Sort(livezLat)
		res.LivezProbes, res.LivezFailed = len(livezLat), livezFailed
		res.LivezP99MS = ms(livezLat[min(len(livezLat)-1, len(livezLat)*99/100)])
		res.LivezMaxMS = ms(livezLat[len(livezLat)-1])
		fmt.Fprintf(stderr, "/livez: %d probes, p99 %.2f ms, max %.2f ms, %d failed\n", res.LivezProbes, res.LivezP99MS, res.LivezMaxMS, livezFailed)
	}
	fmt.Fprintf(stderr, "%d requests in %.1fs at concurrency %d: %.0f req/s, p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, statuses %v, errors %d\n",
		res.Requests, res.Seconds, res.Concurrency, res.RequestsPerS, res.P50MS, res.P95MS, res.P99MS, res.Statuses, res.Errors)
	return json.NewEncoder(stdout).Encode(res)
}

// call is one request of the mix: a search, or name suggestions for a
// prefix.
type call struct {
	search  *search.Request
	suggest string
}

// do sends the call and returns the status it was answered with: 200, or
// the status of the API's error (429 when overloaded). Other errors (no
// answer) are returned.
func (c call) do(ctx context.Context, cl *client.Client) (int, error) {
	var err error
	if c.search != nil {
		_, err = cl.Search(ctx, *c.search)
	} else {
		_, err = cl.Suggest(ctx, c.suggest, 0)
	}
	var ae *client.Error
	switch {
	case err == nil:
		return http.StatusOK, nil
	case errors.As(err, &ae):
		return ae.Status, nil
	}
	return 0, err
}

// nameSink collects the topic and context names of a corpus, with dates.
type nameSink struct {
	names []string
	dates []string
}

func (s *nameSink) Event(e newsdesk.Event) error {
	if e.Topic != "" {
		s.names = append(s.names, e.Topic)
		s.dates = append(s.dates, e.Date)
	}
	for _, c := range e.Context {
		s.names = append(s.names, c)
		s.dates = append(s.dates, e.Date)
	}
	return nil
}
func (s *nameSink) Problem(ingest.Problem) {}

func readNames(path string) (*nameSink, error) {
	s := &nameSink{}
	if err := ingest.ReadFile(path, s, nil); err != nil {
		return nil, err
	}
	if len(s.names) == 0 {
		return nil, fmt.Errorf("%s has no topic or context names to draw queries from", path)
	}
	return s, nil
}

// mix draws n calls: each picks a name as events use it (so popular
// stories come up more often) and 1-3 consecutive words of it. 60% are
// plain searches, 20% add a date range around the name's use, 10% ask for
// facets and highlighting, 10% are suggestions of a prefix.
func mix(s *nameSink, n int, seed uint64) []call {
	rng := rand.New(rand.NewPCG(seed, 99))
	out := make([]call, 0, n)
	for len(out) < n {
		i := rng.IntN(len(s.names))
		var words []string
		for _, w := range strings.Fields(s.names[i]) {
			if w = strings.Trim(w, "()[],.\"'"); len(w) >= 3 {
				words = append(words, w)
			}
		}
		if len(words) == 0 {
			continue
		}
		k := min(1+rng.IntN(3), len(words))
		st := rng.IntN(len(words) - k + 1)
		r := search.Request{Q: strings.Join(words[st:st+k], " ")}
		switch x := rng.IntN(10); {
		case x < 6:
		case x < 8:
			if d, err := time.Parse(newsdesk.DateLayout, s.dates[i]); err == nil {
				r.From, r.To = d.AddDate(0, -6, 0), d.AddDate(0, 6, 0)
			}
		case x < 9:
			r.Facets, r.Highlight = 10, true
		default:
			prefix := []rune(words[0])
			prefix = prefix[:min(len(prefix), 3+rng.IntN(3))]
			out = append(out, call{suggest: string(prefix)})
			continue
		}
		out = append(out, call{search: &r})
	}
	return out
}
