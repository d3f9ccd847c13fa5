package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/api"
	"github.com/newsdesk/newsdesk/build"
	"github.com/newsdesk/newsdesk/cli"
	"github.com/newsdesk/newsdesk/client"
	"github.com/newsdesk/newsdesk/ingest"
)

// pushBatch is the most events sent per bulk request, pushBytes the
// most bytes of them: a request of 500 large events (a line may hold up
// to 1 MiB) would pass searchd's limit of a bulk body and be refused.
const (
	pushBatch = 500
	pushBytes = api.MaxBulkBytes / 2
)

// pushSummary is what push prints.
type pushSummary struct {
	Sent    int `json:"sent"`
	Created int `json:"created"`
	Updated int `json:"updated"`
	// Accepted: journaled by searchd but not yet searchable (202): kept,
	// and served once searchd has reopened its copy or restarted.
	Accepted int     `json:"accepted"`
	Failed   int     `json:"failed"` // refused by searchd
	Bad      int     `json:"bad"`    // bad records in the files, not sent
	Seconds  float64 `json:"seconds"`
}

// runPush sends the events of FILEs to a running searchd as bulk upserts.
func runPush(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("indexer push", flag.ContinueOnError)
	defer func() { err = cli.FromEnv(fs, args, err) }()
	base := fs.String("url", "http://127.0.0.1:8080", "searchd base `URL`")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: NEWSDESK_ADMIN_KEY=... indexer push [-url URL] FILE...")
		fmt.Fprintln(fs.Output(), "Upserts the events of FILEs into a running searchd's index (POST /admin/events/_bulk).")
		fmt.Fprintln(fs.Output(), "The admin key is read from NEWSDESK_ADMIN_KEY, never from a flag.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	key := strings.TrimSpace(os.Getenv("NEWSDESK_ADMIN_KEY"))
	switch {
	case fs.NArg() == 0:
		return cli.Usagef("push: no input files")
	case key == "":
		return cli.Usagef("push: set NEWSDESK_ADMIN_KEY to searchd's admin key")
	}
	c, err := client.New(client.Config{URL: *base, Key: key})
	if err != nil {
		return cli.Usagef("push: -url: %w", err)
	}
	start := time.Now()
	log := newLogger(stderr)
	p := &pusher{ctx: ctx, client: c}
	// The summary is printed whatever happens: a push that stops says
	// what was applied before.
	summary := func() {
		p.sum.Seconds = time.Since(start).Seconds()
		out, _ := json.Marshal(p.sum)
		fmt.Fprintln(stdout, string(out))
		for _, e := range p.errs {
			log.Warn().Msg(e)
		}
	}
	files, err := build.Expand(fs.Args()) // a directory of portal pages, as build takes it
	if err != nil {
		return err
	}
	for _, f := range files {
		p.file, p.read = f, 0
		err := ingest.ReadFile(f, p, nil)
		if err == nil {
			err = p.flush() // a batch never spans two files: errors name one
		}
		if err != nil {
			summary()
			return &exitError{code: exitFailed, err: err}
		}
	}
	summary()
	if p.sum.Failed > 0 || p.sum.Bad > 0 {
		return &exitError{code: exitTooBad, err: fmt.Errorf("push: %d events refused by searchd, %d bad records in the files", p.sum.Failed, p.sum.Bad)}
	}
	return nil
}

// pusher is an ingest.Sink that sends events in bulk requests.
type pusher struct {
	ctx     context.Context
	client  *client.Client
	pending []api.Update
	bytes   int // the pending events' JSON
	file    string
	read    int // events read from file
	sum     pushSummary
	errs    []string
}

func (p *pusher) Event(e newsdesk.Event) error {
	u := api.Update{Upsert: &e}
	b, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("push: %s: event %s: %w", p.file, e.ID, err)
	}
	if len(p.pending) > 0 && p.bytes+len(b)+1 > pushBytes {
		if err := p.flush(); err != nil {
			return err
		}
	}
	p.read++
	p.pending = append(p.pending, u)
	p.bytes += len(b) + 1
	if len(p.pending) >= pushBatch {
		return p.flush()
	}
	return nil
}

func (p *pusher) Problem(pr ingest.Problem) {
	p.sum.Bad++
	p.errs = append(p.errs, fmt.Sprintf("%s line %d: %s", pr.File, pr.Line, pr.Reason))
}

// flush sends the pending events. A refused request (a wrong key, a full
// disk) ends the push; the client retries an overloaded or unavailable
// searchd as it asks. Refused events are counted and listed.
func (p *pusher) flush() error {
	if len(p.pending) == 0 {
		return nil
	}
	res, err := p.client.Bulk(p.ctx, p.pending)
	if err != nil {
		first := p.read - len(p.pending) + 1
		return fmt.Errorf("push: searchd refused the batch of events %d to %d of %s (the events before were sent; see the summary): %w",
			first, p.read, p.file, err)
	}
	p.sum.Sent += len(p.pending)
	for _, it := range res.Items {
		switch it.Result {
		case "created":
			p.sum.Created++
		case "updated":
			p.sum.Updated++
		case "accepted":
			p.sum.Accepted++
		default:
			// Named by its file, its place there and the id sent: an
			// answer of a searchd before 2026-12-02 left the id off.
			p.sum.Failed++
			at, id := p.read-len(p.pending)+it.Line, it.ID
			if i := it.Line - 1; i >= 0 && i < len(p.pending) && p.pending[i].Upsert != nil {
				id = p.pending[i].Upsert.ID
			}
			p.errs = append(p.errs, fmt.Sprintf("%s, event %d (%s): refused: %s", p.file, at, id, it.Error))
		}
	}
	p.pending, p.bytes = p.pending[:0], 0
	return nil
}
