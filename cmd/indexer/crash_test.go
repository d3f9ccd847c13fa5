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
	"syscall"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/mappings"
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
// moments of a build, over and over; after each kill the current
// generation must open and answer with every event.
func TestCrash_KillDuringBuild(t *testing.T) {
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
	check := func(i int) string {
		t.Helper()
		idx, err := d.Open(mappings.New())
		if err != nil {
			t.Fatalf("kill %d: current generation does not open: %v", i, err)
		}
		defer idx.Close()
		n, err := idx.DocCount()
		if err != nil || n != events {
			t.Fatalf("kill %d: current generation holds %d events (%v), want %d", i, n, err, events)
		}
		res, err := idx.SearchInContext(context.Background(), bleve.NewSearchRequest(bleve.NewMatchQuery("marker")))
		if err != nil || res.Total != events {
			t.Fatalf("kill %d: search answered %v (%v), want %d hits", i, res, err, events)
		}
		return idx.Generation
	}
	before := check(-1)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	published := 0
	for i := range crashKills {
		cmd := indexer()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Uniform over the whole build, a little past its usual end, so
		// some kills land in the publish steps.
		time.Sleep(time.Duration(rng.Int64N(int64(full) * 12 / 10)))
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
