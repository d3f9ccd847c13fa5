package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/newsdesk/newsdesk/cli"
	"github.com/newsdesk/newsdesk/cluster"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/mappings"
)

// runPublish publishes the current generation of an index directory to
// NATS: what a build whose publish failed (exit 4) left undone, without
// building again.
func runPublish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("indexer publish", flag.ContinueOnError)
	dirFlag := fs.String("index", "", "index `directory` whose current generation to publish")
	natsURL := fs.String("nats", "", "NATS server `URL`s, comma-separated")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: indexer publish -index DIR -nats URL")
		fmt.Fprintln(fs.Output(), `Publishes DIR's current generation (built with -nats) to replicas; prints the pointer, as JSON.`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *dirFlag == "" || *natsURL == "" || fs.NArg() > 0 {
		return cli.Usagef("publish: need -index DIR and -nats URL, and no other argument")
	}
	dir, err := index.ExistingDir(*dirFlag)
	if err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	name, err := dir.Current()
	if err != nil {
		return &exitError{code: exitFailed, err: fmt.Errorf("publish: %w", err)}
	}
	// A generation that does not open (a file cut short, another
	// mapping) is not uploaded: every replica would download it, refuse
	// it and try it again, and the upload replaced a good archive of the
	// same name. A build checks its generation; a directory may have been
	// damaged since.
	if err := dir.CheckGeneration(name, mappings.New(), mappings.Older()...); err != nil {
		return &exitError{code: exitFailed, err: fmt.Errorf("publish: generation %s of %s is not published: %w; rebuild it (indexer build -nats)", name, *dirFlag, err)}
	}
	conn, err := cluster.Open(ctx, cluster.Config{URL: *natsURL, Name: "indexer", Logger: newLogger(stderr)})
	if err != nil {
		// Exit 4, as for any other reason NATS does not take it: the
		// generation is built and current on disk; try again later.
		return &exitError{code: exitUnpublished, err: fmt.Errorf("publish: generation %s is current in %s, but not published to NATS: %w", name, *dirFlag, err)}
	}
	defer conn.Close()
	p, err := publish(ctx, conn, *dirFlag, name)
	if errors.Is(err, cluster.ErrNotForReplicas) {
		return &exitError{code: exitFailed, err: err} // no retry publishes it: not exit 4
	}
	if err != nil {
		return &exitError{code: exitUnpublished, err: err}
	}
	// What a -drop-updates build dropped, once its generation is published.
	if err := purgeDropped(ctx, conn, *dirFlag, name, newLogger(stderr)); err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	return json.NewEncoder(stdout).Encode(p)
}
