package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/api"
	"github.com/newsdesk/newsdesk/client"
	"github.com/newsdesk/newsdesk/ingest"
)

// UpdatesResult is what loadtest -updates prints.
type UpdatesResult struct {
	Updates         int     `json:"updates"`
	BulkP50MS       float64 `json:"bulk_p50_ms"`
	BulkP99MS       float64 `json:"bulk_p99_ms"`
	BulkMaxMS       float64 `json:"bulk_max_ms"`
	SearchesBefore  float64 `json:"searches_per_second_before"`
	SearchesAfter   float64 `json:"searches_per_second_after"`
	AfterOverBefore float64 `json:"after_over_before"`
}

// eventSink keeps the events of a corpus.
type eventSink struct{ events []newsdesk.Event }

func (s *eventSink) Event(e newsdesk.Event) error { s.events = append(s.events, e); return nil }
func (s *eventSink) Problem(ingest.Problem)       {}

// runUpdates measures one client's searches, n one-event bulk upserts, and
// the searches again.
func runUpdates(ctx context.Context, base, corpus string, n int, d time.Duration, seed uint64, key string, stdout, stderr io.Writer) error {
	if key == "" {
		return errors.New("-updates needs the admin key in NEWSDESK_ADMIN_KEY (searchd started with -admin)")
	}
	names, err := readNames(corpus)
	if err != nil {
		return err
	}
	calls := mix(names, 5000, seed)
	var all eventSink
	if err := ingest.ReadFile(corpus, &all, nil); err != nil {
		return err
	}
	c, err := client.New(client.Config{URL: base, Key: key, Retries: -1, HTTPClient: &http.Client{Timeout: 30 * time.Second}})
	if err != nil {
		return err
	}
	searches := func() (float64, error) {
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		start, done := time.Now(), 0
		for i := 0; ctx.Err() == nil; i++ {
			code, err := calls[i%len(calls)].do(ctx, c)
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				return 0, err
			}
			if code != http.StatusOK {
				return 0, fmt.Errorf("search answered %d", code)
			}
			done++
		}
		return float64(done) / time.Since(start).Seconds(), nil
	}
	res := UpdatesResult{Updates: n}
	if res.SearchesBefore, err = searches(); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, 5))
	lat := make([]time.Duration, 0, n)
	for range n {
		// The text changes, not the date: an event's id starts with its
		// date, so an upsert dated otherwise is refused (a moved event is
		// a delete and an upsert of a new id).
		e := all.events[rng.IntN(len(all.events))]
		e.Text += " (Updated.)"
		t0 := time.Now()
		res, err := c.Bulk(ctx, []api.Update{{Upsert: &e}})
		lat = append(lat, time.Since(t0))
		if err != nil {
			return fmt.Errorf("bulk update: %w", err)
		}
		if res.Errors {
			return fmt.Errorf("bulk update refused: %+v", res.Items)
		}
	}
	if res.SearchesAfter, err = searches(); err != nil {
		return err
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	res.BulkP50MS, res.BulkP99MS, res.BulkMaxMS = ms(lat[len(lat)/2]), ms(lat[min(len(lat)-1, len(lat)*99/100)]), ms(lat[len(lat)-1])
	res.AfterOverBefore = res.SearchesAfter / res.SearchesBefore
	fmt.Fprintf(stderr, "%d one-event bulk updates: p50 %.2f ms, p99 %.2f ms; one client: %.0f searches/s before, %.0f after (%.2fx)\n",
		n, res.BulkP50MS, res.BulkP99MS, res.SearchesBefore, res.SearchesAfter, res.AfterOverBefore)
	return json.NewEncoder(stdout).Encode(res)
}
