package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/newsdesk/newsdesk/cli"
	"github.com/newsdesk/newsdesk/index"
)

// runRollback points the index directory back at the previous generation;
// a running searchd swaps to it within a second or two.
func runRollback(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("indexer rollback", flag.ContinueOnError)
	dirFlag := fs.String("index", "", "index `directory`")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: indexer rollback -index DIR")
		fmt.Fprintln(fs.Output(), `Publishes the generation before the current one again; prints {"from": ..., "to": ...}.`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *dirFlag == "" || fs.NArg() > 0 {
		return cli.Usagef("rollback: need -index DIR and no other argument")
	}
	dir, err := index.ExistingDir(*dirFlag)
	if err != nil {
		return err
	}
	from, to, err := dir.Rollback()
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(map[string]string{"from": from, "to": to})
}
