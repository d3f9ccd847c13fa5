package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/search"
	"github.com/newsdesk/newsdesk/serving"
)

// crashKills is how many builds the crash test kills.
const crashKills = 24

// writeCorpus writes n synthetic events; every event's text has the word
// "marker" so a search can check the whole index answers.
func writeCorpus(t *testing.T, path string, n int) {
	t.Helper()
	words := strings.Fields("talks ceasefire election storm court ruling market strike vote summit protest " +
		"treaty rebels flood earthquake minister parliament trade league final record launch vaccine")
	rng := rand.New(rand.NewPCG(1, 2))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for i := range n {
		var text []string
		for range 12 + rng.IntN(20) {
			text = append(text, words[rng.IntN(len(words))])
		}
		date := time.Date(2002, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%8000).Format(newsdesk.DateLayout)
		e := newsdesk.Event{Date: date, Text: fmt.Sprintf("Event %d marker %s.", i, strings.Join(text, " ")),
			Topic: "Story " + words[i%len(words)], Context: []string{words[rng.IntN(len(words))]}}
		e.ID = newsdesk.NewID(e.Date, e.Text)
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestCrash_KillDuringBuild kills the indexer with SIGKILL at random
// moments of a build, over and over, while a server serves the directory
// and is searched without pause: after each kill the current generation
// must be served and answer with every event, and no search may fail or
// see a partial generation.
func TestCrash_KillDuringBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the crash test takes 15 s to 5 min (24 builds killed while a server is searched; the longest under -race); go test without -short runs it")
	}
	const events = 8000
	tmp := t.TempDir()
	corpus := filepath.Join(tmp, "corpus.jsonl")
	writeCorpus(t, corpus, events)
	idxDir := filepath.Join(tmp, "index")
	indexer := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "build", "-index", idxDir, "-progress", "none", corpus)
		cmd.Env = append(os.Environ(), "NEWSDESK_TEST_AS_INDEXER=1")
		return cmd
	}
	start := time.Now()
	if out, err := indexer().CombinedOutput(); err != nil {
		t.Fatalf("first build: %v\n%s", err, out)
	}
	full := time.Since(start)
	d, err := index.NewDir(idxDir)
	if err != nil {
		t.Fatal(err)
	}
	// Meanwhile a searchd-like server serves the directory, swapping in
	// whatever is published, and is searched without pause: it must never
	// serve a broken or partial generation, nor fail a search.
	srv := serving.New(serving.Config{Dir: d, Grace: 2 * time.Second})
	defer srv.Close()
	if _, err := srv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	// check waits until the server serves the current generation (it
	// opened and passed its checks), and searches it.
	check := func(i int) string {
		t.Helper()
		name, err := d.Current()
		if err != nil {
			t.Fatalf("kill %d: %v", i, err)
		}
		for deadline := time.Now().Add(30 * time.Second); srv.Generation() != name; time.Sleep(20 * time.Millisecond) {
			if f := srv.Failed(); f != "" || time.Now().After(deadline) {
				t.Fatalf("kill %d: the current generation %s is not served (%q)", i, name, f)
			}
		}
		res, err := srv.Engine().Search(context.Background(), search.Request{Q: "marker"})
		if err != nil || res.Total != events {
			t.Fatalf("kill %d: search answered %v (%v), want %d hits", i, res, err, events)
		}
		return name
	}
	before := check(-1)
	watchCtx, stopWatch := context.WithCancel(context.Background())
	go srv.Watch(watchCtx, 50*time.Millisecond, nil)
	var searches, failures atomic.Int64
	var firstFailure atomic.Value
	searchersDone := make(chan struct{})
	go func() {
		defer close(searchersDone)
		for watchCtx.Err() == nil {
			res, err := srv.Engine().Search(context.Background(), search.Request{Q: "marker", Size: 3})
			searches.Add(1)
			if err != nil || res.Total != events {
				failures.Add(1)
				firstFailure.CompareAndSwap(nil, fmt.Sprintf("%v, %v", res, err))
			}
		}
	}()
	defer func() {
		stopWatch()
		<-searchersDone
		if failures.Load() > 0 {
			t.Errorf("%d of %d searches during the kills failed or saw a partial index; first: %v", failures.Load(), searches.Load(), firstFailure.Load())
		}
		t.Logf("%d searches while the indexer was killed, served generations swapped as published", searches.Load())
	}()

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	published := 0
	for i := range crashKills {
		cmd := indexer()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Uniform over twice a build (a served directory slows builds), so
		// some kills land in the publish steps.
		time.Sleep(time.Duration(rng.Int64N(int64(full) * 2)))
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		gen := check(i)
		if gen != before {
			published++
			before = gen
		}
	}
	t.Logf("%d kills over a %v build; %d builds published before their kill", crashKills, full.Round(time.Millisecond), published)
}
