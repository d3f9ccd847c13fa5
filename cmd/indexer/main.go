// Indexer builds newsdesk's search index from event files.
//
// Usage:
//
//	indexer build -index DIR [-nats URL] [flags] FILE...
//	indexer bench [flags] FILE...
//	indexer get -index DIR ID...
//	indexer rollback -index DIR
//	indexer push [-url URL] FILE...
//
// "build" reads every FILE (events JSONL, daily portal wikitext or event
// page Markdown, gzipped or not, in any mix), indexes the good events into
// a new generation under DIR and publishes it atomically; a searchd
// serving DIR keeps answering from the previous generation until then.
// With -nats URL it replays the update stream replicas share instead of
// DIR's journal, and publishes the generation to NATS JetStream for them
// (package cluster). Bad records are reported to a file and never stop
// the build. It prints a one-line JSON summary on stdout.
//
// "bench" times a full build of FILE... against a plain Bleve loop
// (default mapping, batches of 1,000) over the same input, and prints
// both with their ratio and the build's peak memory.
//
// "get" prints the stored events with the given ids, as JSON lines.
// "rollback" publishes the generation before the current one again (a
// build keeps it); a running searchd swaps back to it. "publish" publishes
// the current generation to NATS, for replicas: after a build whose
// publish failed (exit 4).
//
// Exit codes:
//
//	0  all good
//	1  I/O or index error: nothing was published
//	2  usage error
//	3  more bad records than -max-bad: the good events were still published
//	4  (build -nats) the generation is built and current in -index, but
//	   its publish to NATS failed: replicas keep the previous one;
//	   "indexer publish" publishes it once NATS can take it
//
// Run "indexer build -h" for the flags. Every flag has an environment
// twin, named after it: -max-bad is NEWSDESK_MAX_BAD, -index
// NEWSDESK_INDEX; a flag given beats its variable, which beats the default.
// "indexer -version" prints the version.
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

	"github.com/newsdesk/newsdesk/cli"
	"github.com/newsdesk/newsdesk/version"
)

// Exit codes; see the command documentation.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = cli.ExitUsage
	exitTooBad = 3
	// exitUnpublished: the generation is built and current in the index
	// directory, but the NATS publish failed: replicas still serve the
	// previous one.
	exitUnpublished = 4
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "indexer:", err)
		var ue *cli.UsageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, `Run "indexer -h", or "indexer COMMAND -h" for a command's flags.`)
		}
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
	var ue *cli.UsageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		return exitUsage
	}
	return exitFailed
}

// parseFlags parses a subcommand's flags and their environment twins
// (package cli): -h prints the usage on stdout and gives flag.ErrHelp
// (exit 0), any other mistake is a usage error (exit 2).
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	fs.VisitAll(func(f *flag.Flag) { f.Usage += " (env " + cli.EnvName(f.Name) + ")" })
	return cli.Parse(fs, args, stdout)
}

const usage = `usage:
  indexer build -index DIR [flags] FILE...   build and publish a new index generation (-nats URL: to replicas too)
  indexer bench [flags] FILE...              time builds beside Sphinx's indexer on the same files
  indexer scale -times N -out FILE FILE...   write FILEs' events N times, dates shifted, ids distinct
  indexer tsv FILE...                        write FILEs' events as Sphinx's TSV pipe source
  indexer get -index DIR ID...               print stored events of the current generation
  indexer rollback -index DIR                publish the previous generation again
  indexer publish -index DIR -nats URL       publish the current generation to replicas (after exit 4)
  indexer push [-url URL] FILE...            upsert FILEs' events into a running searchd
  indexer -version                           print the version
Run "indexer COMMAND -h" for a command's flags. Every flag has an environment
twin, named after it: -max-bad is NEWSDESK_MAX_BAD; a flag given beats its
variable, which beats the default.`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return cli.Usagef("no command")
	}
	switch args[0] {
	case "build":
		return runBuild(ctx, args[1:], stdout, stderr)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	case "tsv":
		return runTSV(args[1:], stdout, stderr)
	case "scale":
		return runScale(ctx, args[1:], stdout, stderr)
	case "get":
		return runGet(ctx, args[1:], stdout, stderr)
	case "rollback":
		return runRollback(args[1:], stdout, stderr)
	case "publish":
		return runPublish(ctx, args[1:], stdout, stderr)
	case "push":
		return runPush(ctx, args[1:], stdout, stderr)
	case "-version", "--version", "version":
		fmt.Fprintln(stdout, "indexer", version.String())
		return nil
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return cli.Usagef("unknown command %q", args[0])
}
