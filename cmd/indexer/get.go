package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/cli"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/mappings"
)

// runGet prints stored events of the current generation as JSON lines,
// to check what a build indexed.
func runGet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("indexer get", flag.ContinueOnError)
	dirFlag := fs.String("index", "", "index `directory`")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: indexer get -index DIR ID...")
		fmt.Fprintln(fs.Output(), "Prints the stored events with the given ids from the current generation, one JSON object per line.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *dirFlag == "" || fs.NArg() == 0 {
		return cli.Usagef("get: need -index DIR and at least one id")
	}
	dir, err := index.ExistingDir(*dirFlag)
	if err != nil {
		return err
	}
	idx, err := dir.Open(mappings.New(), mappings.Older()...)
	if err != nil {
		return err
	}
	defer idx.Close()
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	var missing []string
	for _, id := range fs.Args() {
		e, err := idx.Event(ctx, id)
		if errors.Is(err, newsdesk.ErrNotFound) {
			missing = append(missing, id)
			continue
		}
		if err != nil {
			return err
		}
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("get: %d of %d ids not in generation %s: %q", len(missing), fs.NArg(), idx.Generation, missing)
	}
	return nil
}
