// Indexer builds newsdesk's search index from event files.
//
// Usage:
//
//	indexer build -index DIR [flags] FILE...
//	indexer bench [flags] FILE...
//	indexer get -index DIR ID...
//	indexer rollback -index DIR
//	indexer push [-url URL] FILE...
//
// "build" reads every FILE (events JSONL, daily portal wikitext or event
// page Markdown, gzipped or not, in any mix), indexes the good events into
// a new generation under DIR and publishes it atomically; a searchd
// serving DIR keeps answering from the previous generation until then.
// Bad records are reported to a file and never stop the build. It prints
// a one-line JSON summary on stdout.
//
// "bench" times a full build of FILE... against a plain Bleve loop
// (default mapping, batches of 1,000) over the same input, and prints
// both with their ratio and the build's peak memory.
//
// "get" prints the stored events with the given ids, as JSON lines.
// "rollback" publishes the generation before the current one again (a
// build keeps it); a running searchd swaps back to it.
//
// Exit codes:
//
//	0  all good
//	1  I/O or index error: nothing was published
//	2  usage error
//	3  more bad records than -max-bad: the good events were still published
//
// Run "indexer build -h" for the flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes; see the command documentation.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitTooBad  = 3
	envIndexDir = "NEWSDESK_INDEX"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "indexer:", err)
	}
	os.Exit(exitCode(err))
}

// exitError carries a process exit code with its error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	}
	return exitFailed
}

// parseFlags parses a subcommand's flags: -h gives flag.ErrHelp (exit 0),
// any other flag error is a usage error (exit 2).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError("%v", err)
	}
	return nil
}

func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

const usage = `usage:
  indexer build -index DIR [flags] FILE...   build and publish a new index generation
  indexer bench [flags] FILE...              time a build against a plain Bleve loop
  indexer get -index DIR ID...               print stored events of the current generation
  indexer rollback -index DIR                publish the previous generation again
  indexer push [-url URL] FILE...            upsert FILEs' events into a running searchd
Run "indexer COMMAND -h" for a command's flags.`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return usageError("no command")
	}
	switch args[0] {
	case "build":
		return runBuild(ctx, args[1:], getenv, stdout, stderr)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	case "get":
		return runGet(ctx, args[1:], getenv, stdout, stderr)
	case "rollback":
		return runRollback(args[1:], getenv, stdout, stderr)
	case "push":
		return runPush(ctx, args[1:], getenv, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return usageError("unknown command %q", args[0])
}
