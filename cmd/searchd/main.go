// Searchd serves newsdesk's search API over an index built by indexer.
//
// Usage:
//
//	searchd [flags] [-bootstrap FILE...]
//	searchd -nats URL [flags]
//	searchd -version
//
// It listens at once (/livez answers), then opens the current generation
// of the index directory and serves the HTTP API (see package api and the
// README). When the directory has no generation yet and -bootstrap is
// given, it first builds one from FILE... with the indexer's progress
// display, /readyz saying how far the build got; without -bootstrap it
// does not start.
//
// With -nats URL it is a replica (package replica): the index directory is
// its cache of the generations the builder (indexer build -nats)
// publishes to NATS JetStream; it downloads each, swaps it in, applies the
// shared update stream on top, and sends bulk updates to that stream.
//
// Every flag has an environment twin (package cli; shown in -h): a flag
// given on the command line beats its environment variable, which beats
// the default, and a value the flag would refuse is an error naming the
// variable. Start-up errors go to stderr; usage errors exit with code 2,
// other errors with 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"
	"github.com/rs/zerolog/diode"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/api"
	"github.com/newsdesk/newsdesk/build"
	"github.com/newsdesk/newsdesk/cli"
	"github.com/newsdesk/newsdesk/cluster"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/metrics"
	"github.com/newsdesk/newsdesk/progress"
	"github.com/newsdesk/newsdesk/replica"
	"github.com/newsdesk/newsdesk/search"
	"github.com/newsdesk/newsdesk/serving"
	"github.com/newsdesk/newsdesk/version"
	"github.com/newsdesk/newsdesk/web"
)

// The engine must satisfy what the API serves.
var _ api.Searcher = (*search.Engine)(nil)

// Memory settings: a search allocates briefly and the live heap is small
// (tens of MiB), so the collector may let it grow 4x, under a soft cap
// that keeps the process well inside its memory budget.
const (
	serveGCPercent   = 400
	serveMemoryLimit = 128 << 20
	followHeapEvery  = 5 * time.Second
	shutdownTimeout  = 10 * time.Second
	// defaultShutdownDelay gives load balancers that probe /readyz every
	// second or two the time to see the 503 and stop sending.
	defaultShutdownDelay = 2 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, notify{})
	stop()
	os.Exit(exit(err, os.Stderr))
}

// exit prints err, if any, on stderr (run has closed its log writer by
// then, leaving stderr open), and returns the process's exit code: 0, 2
// for a usage error, 1 for any other.
func exit(err error, stderr io.Writer) int {
	var ue *cli.UsageError
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "searchd:", err)
		fmt.Fprintln(stderr, "Run searchd -h for the flags.")
		return cli.ExitUsage
	}
	fmt.Fprintln(stderr, "searchd:", err)
	return 1
}

// config is searchd's configuration, from flags and their environment twins.
type config struct {
	index     string
	listen    string
	bootstrap bool
	files     []string
	timeout   time.Duration
	inFlight  int
	queue     int
	logLevel  string
	progress  string
	pprof     string
	origins   []string
	probe     bool
	version   bool
	admin     bool
	adminKey  string
	// metricsAuth puts /metrics behind the admin key.
	metricsAuth bool
	watch       time.Duration
	drain       time.Duration // how long /readyz says 503 before the listener closes
	minFree     int64         // bytes of disk that must stay free
	// nats, when set, makes searchd a replica following the builder
	// through NATS JetStream (package replica); index is then its cache.
	nats         string
	natsReplicas int
	maxLag       time.Duration
}

// serveMemory sets the collector for serving (serveGCPercent, under the
// soft limit serveMemoryLimit), each unless the operator set it through
// GOGC or GOMEMLIMIT, which Go has applied at start: a container sized
// for a larger index raises the limit that way. It returns the settings
// before, for restoreMemory.
func serveMemory(getenv func(string) string) (gcPercent int, limit int64) {
	gcPercent, limit = debug.SetGCPercent(-1), debug.SetMemoryLimit(-1)
	debug.SetGCPercent(gcPercent)
	if getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(serveMemoryLimit)
	}
	return gcPercent, limit
}

// The soft memory limit follows the live heap, times liveHeapNum /
// liveHeapDen (followHeap), serveMemoryLimit at least: one and a half
// times served as fast as twice at ten times the corpus (1,419 against
// 1,418 requests/s under load), with 190 MiB less resident.
const liveHeapNum, liveHeapDen = 3, 2

// followHeap sets the soft memory limit to one and a half times the live
// heap (what the last collection kept), at least serveMemoryLimit, now
// and every period until ctx ends, and closes done: an index ten times
// the corpus keeps about 270 MiB live, and under a limit of 128 MiB the
// collector ran again and again (402 collections in a minute's searches
// against 191), a quoted "united states" taking 0.92 s against 0.18. Not
// when the operator set GOMEMLIMIT.
func followHeap(ctx context.Context, period time.Duration, done chan<- struct{}) {
	defer close(done)
	live := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		rtmetrics.Read(live)
		if live[0].Value.Kind() == rtmetrics.KindUint64 {
			debug.SetMemoryLimit(memoryLimitFor(live[0].Value.Uint64()))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// memoryLimitFor returns the soft memory limit for a live heap of live
// bytes.
func memoryLimitFor(live uint64) int64 {
	return max(serveMemoryLimit, int64(min(live, math.MaxInt64/liveHeapNum))*liveHeapNum/liveHeapDen)
}

// restoreMemory puts back the collector's settings serveMemory returned.
func restoreMemory(gcPercent int, limit int64) {
	debug.SetGCPercent(gcPercent)
	debug.SetMemoryLimit(limit)
}

// cpus is the number of CPUs Go found for this process (its GOMAXPROCS
// before run changes it).
var cpus = runtime.GOMAXPROCS(0)

// spareProc gives the Go scheduler one more P than there are CPUs, unless
// GOMAXPROCS was set. Searches are capped at one per CPU (-in-flight), so
// under overload the spare P is the one that reads requests, answers
// /livez and sends the 429s instead of queueing them behind searches:
// measured on two cores at twice the served concurrency, /livez p99 went
// from 9-15 ms to 3-6 ms. It returns the GOMAXPROCS in effect.
func spareProc(getenv func(string) string) int {
	if getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(cpus + 1)
	}
	return runtime.GOMAXPROCS(0)
}

// parseConfig reads the flags and their environment twins (package cli):
// -h writes the usage to stdout; every mistake is a *cli.UsageError.
func parseConfig(args []string, stdout io.Writer) (_ *config, err error) {
	fs := flag.NewFlagSet("searchd", flag.ContinueOnError)
	// A refused value that came from a variable names the variable.
	defer func() { err = cli.FromEnv(fs, args, err) }()
	c := &config{}
	fs.StringVar(&c.index, "index", "data/index", "index `directory`")
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8080", "`address` to listen on")
	fs.BoolVar(&c.bootstrap, "bootstrap", false, "when the index directory has no generation, build one from the FILE arguments (or the files in NEWSDESK_BOOTSTRAP_FILES), serving /livez and /readyz meanwhile")
	fs.DurationVar(&c.timeout, "timeout", api.DefaultTimeout, "per-request deadline")
	fs.IntVar(&c.inFlight, "in-flight", cpus, "API requests served at once (default: one per CPU); up to -queue more wait at most 100 ms, the rest get 429 at once")
	fs.IntVar(&c.queue, "queue", 0, "API requests that may wait for a slot (at most 100 ms); beyond, 429 at once; 0 means twice -in-flight")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&c.probe, "probe", false, "check that the searchd listening on -listen is alive (GET /livez) and exit 0 if so, 1 if not: a container HEALTHCHECK")
	fs.BoolVar(&c.version, "version", false, "print the version and exit")
	fs.BoolVar(&c.admin, "admin", false, "enable the /admin/ routes; they need a key, from the environment variable NEWSDESK_ADMIN_KEY or the file -admin-key-file, never a flag value")
	fs.BoolVar(&c.metricsAuth, "metrics-auth", false, "make /metrics answer 401 without the admin key, Authorization: Bearer KEY; it needs the key -admin takes, with or without -admin")
	keyFile := fs.String("admin-key-file", "", "`file` holding the admin bearer key")
	fs.DurationVar(&c.watch, "watch", time.Second, "how often to look for a newly published generation")
	fs.DurationVar(&c.drain, "shutdown-delay", defaultShutdownDelay, "on SIGTERM, how long /readyz answers 503 (so that load balancers stop sending) before the listener closes; requests in flight then finish")
	minFreeMiB := fs.Int64("min-free-mib", serving.DefaultMinFree>>20, "MiB of disk that must stay free in the index directory's filesystem: bulk updates that would leave less get 507, and /readyz says 503")
	var origins string
	fs.StringVar(&origins, "cors-origins", "", "comma-separated web `origins` whose pages may call the API, e.g. for the widget: https://news.example")
	fs.StringVar(&c.pprof, "pprof", "", "if set, serve Go's profiler (net/http/pprof) on this separate `address`, e.g. 127.0.0.1:6060")
	fs.StringVar(&c.progress, "progress", "auto", "bootstrap progress display: auto, bar, log or none")
	fs.StringVar(&c.nats, "nats", "", "replica mode: follow the generations and updates published to NATS JetStream at this `URL` (several comma-separated: a cluster), with -index as the local cache; bulk updates go to the shared stream")
	fs.IntVar(&c.natsReplicas, "nats-replicas", 0, "with -nats: servers keeping each message of the stream and buckets, when searchd creates them (0: 3 in a NATS cluster, else 1)")
	fs.DurationVar(&c.maxLag, "max-lag", replica.DefaultMaxLag, "with -nats: /readyz answers 503 while the replica has known for longer than this of update stream messages it has not applied")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: searchd [flags] [-bootstrap FILE...]")
		fmt.Fprintln(w, "Serves the newsdesk search API over the current generation of the index directory.")
		fmt.Fprintln(w, "Every flag has an environment twin, named after it: -in-flight is NEWSDESK_IN_FLIGHT;")
		fmt.Fprintln(w, "a flag given beats its variable, which beats the default. Flags:")
		fs.PrintDefaults()
	}
	fs.VisitAll(func(f *flag.Flag) { f.Usage += " (env " + cli.EnvName(f.Name) + ")" })
	if err := cli.Parse(fs, args, stdout); err != nil {
		return nil, err
	}
	if c.version || c.probe {
		return c, nil
	}
	c.files = fs.Args()
	if c.admin || c.metricsAuth {
		c.adminKey = strings.TrimSpace(os.Getenv("NEWSDESK_ADMIN_KEY"))
		if *keyFile != "" {
			b, err := os.ReadFile(*keyFile)
			if err != nil {
				return nil, cli.Usagef("-admin-key-file: %w", err)
			}
			c.adminKey = strings.TrimSpace(string(b))
		}
		if n := utf8.RuneCountInString(c.adminKey); n < 16 { // characters, as the README counts them
			flag := "-admin"
			if !c.admin {
				flag = "-metrics-auth"
			}
			// Say where the key that is too short came from: a file
			// given was read, and is what to fix.
			switch {
			case *keyFile != "":
				return nil, cli.Usagef("%s needs the admin key, of at least 16 characters: -admin-key-file %s holds %d", flag, *keyFile, n)
			case n > 0:
				return nil, cli.Usagef("%s needs the admin key, of at least 16 characters: NEWSDESK_ADMIN_KEY holds %d", flag, n)
			}
			return nil, cli.Usagef("%s needs the admin key, of at least 16 characters: set NEWSDESK_ADMIN_KEY or -admin-key-file", flag)
		}
	}
	for _, a := range []struct{ flag, addr, example string }{{"-listen", c.listen, "127.0.0.1:8080"}, {"-pprof", c.pprof, "127.0.0.1:6060"}} {
		if a.addr == "" && a.flag == "-pprof" {
			continue // no profiler
		}
		if _, port, err := net.SplitHostPort(a.addr); err != nil {
			return nil, cli.Usagef("%s %q is not an address such as %s: %w", a.flag, a.addr, a.example, err)
		} else if n, err := strconv.ParseUint(port, 10, 64); err == nil && n > 65535 {
			return nil, cli.Usagef("%s %q: the port must be a number from 0 to 65535", a.flag, a.addr)
		}
	}
	if c.watch <= 0 {
		return nil, cli.Usagef("-watch must be positive, got %v", c.watch)
	}
	if c.drain < 0 {
		return nil, cli.Usagef("-shutdown-delay must not be negative, got %v", c.drain)
	}
	if *minFreeMiB < 1 {
		return nil, cli.Usagef("-min-free-mib must be at least 1, got %d", *minFreeMiB)
	}
	c.minFree = *minFreeMiB << 20
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			norm, ok := normalOrigin(o)
			if !ok {
				return nil, cli.Usagef("-cors-origins: %q is not an origin such as https://news.example (a scheme, a host, a port if not the default; no path)", o)
			}
			c.origins = append(c.origins, norm)
		}
	}
	if len(c.files) == 0 && c.bootstrap {
		c.files = strings.Fields(os.Getenv("NEWSDESK_BOOTSTRAP_FILES"))
	}
	if c.nats == "" {
		// A replica's settings on a server that is none: a forgotten
		// -nats, which would otherwise go unnoticed.
		var replicaOnly []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "max-lag" || f.Name == "nats-replicas" {
				replicaOnly = append(replicaOnly, "-"+f.Name)
			}
		})
		if len(replicaOnly) > 0 {
			what := "it"
			if len(replicaOnly) > 1 {
				what = "them"
			}
			return nil, cli.Usagef("%s set without -nats: only a replica (-nats URL) takes %s", strings.Join(replicaOnly, " and "), what)
		}
	}
	switch {
	case c.nats != "" && c.bootstrap:
		return nil, cli.Usagef("-bootstrap builds a local index; a replica (-nats) downloads its generations: use indexer build -nats")
	case c.maxLag <= 0:
		return nil, cli.Usagef("-max-lag must be positive, got %v", c.maxLag)
	case c.natsReplicas < 0:
		return nil, cli.Usagef("-nats-replicas must be 0 (automatic) or more, got %d", c.natsReplicas)
	case len(c.files) > 0 && !c.bootstrap:
		return nil, cli.Usagef("files given without -bootstrap: %q", c.files)
	case c.bootstrap && len(c.files) == 0:
		return nil, cli.Usagef("-bootstrap needs the files to build from")
	case c.timeout <= 0:
		return nil, cli.Usagef("-timeout must be positive, got %v", c.timeout)
	case c.inFlight < 1:
		return nil, cli.Usagef("-in-flight must be at least 1, got %d", c.inFlight)
	case c.queue < 0:
		return nil, cli.Usagef("-queue must be 0 (twice -in-flight) or more, got %d", c.queue)
	case progress.CheckMode(c.progress) != nil:
		return nil, cli.Usagef("%w", progress.CheckMode(c.progress))
	}
	if c.queue == 0 {
		c.queue = api.DefaultQueueFactor * c.inFlight
	}
	// zerolog knows more levels (trace, panic, disabled, numbers), which
	// would hide errors or flood the log: the four the flag names only.
	switch c.logLevel {
	case "debug", "info", "warn", "error":
	default:
		return nil, cli.Usagef("-log-level must be debug, info, warn or error, got %q", c.logLevel)
	}
	return c, nil
}

// notify lets a caller (the tests) follow a run: each channel that is not
// nil receives searchd's address once.
type notify struct {
	listening chan<- string // the listener is open: /livez answers
	serving   chan<- string // the index is open: the API answers searches
}

// nopCloser keeps the log writer's Close from closing stderr, which
// main still needs to print the error run returns.
type nopCloser struct{ io.Writer }

// run runs searchd until ctx is done. It listens at once: /livez answers
// while it builds the index (with -bootstrap) and opens it, and /readyz
// says how far it got.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, n notify) error {
	c, err := parseConfig(args, stdout)
	if err != nil {
		return err
	}
	switch {
	case c.version:
		fmt.Fprintln(stdout, "searchd", version.String())
		return nil
	case c.probe:
		return probe(ctx, c.listen)
	}
	// SIGHUP reloads once the server serves. It is caught from here on:
	// its default ends the process, and one sent while starting (a
	// bootstrap build, an open) or to a replica (which follows NATS, not
	// the directory) did. One sent before serving reloads once serving.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	procs := spareProc(os.Getenv)
	level, _ := zerolog.ParseLevel(c.logLevel)
	var logOut io.Writer = stderr
	if progress.IsTerminal(stderr) {
		logOut = zerolog.ConsoleWriter{Out: stderr, TimeFormat: time.TimeOnly}
	}
	// Lines are handed to a writer goroutine through a ring buffer, so a
	// request never waits on a write to stderr (one syscall per access
	// line cost a few percent of the CPU under load). If the buffer fills,
	// lines are dropped and the drop is reported. Closing it flushes the
	// lines, and would close the writer under it: not stderr, which main
	// still needs.
	logs := diode.NewWriter(nopCloser{logOut}, 10000, 10*time.Millisecond, func(missed int) {
		fmt.Fprintf(stderr, "searchd: %d log lines dropped\n", missed)
	})
	defer logs.Close()
	log := zerolog.New(logs).Level(level).With().Timestamp().Logger()

	if !c.bootstrap && c.nats == "" {
		// Nothing to build here: a directory that is not there (a typo)
		// is said so, not created.
		if _, err := os.Stat(c.index); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w in %s (no such directory); build one with indexer build, or start searchd with -bootstrap FILE...",
				newsdesk.ErrNoGeneration, c.index)
		}
	}
	dir, err := index.NewDir(c.index)
	if err != nil {
		return err
	}
	// Before anything reads the journal: a tail torn by a crash or a power
	// cut is cut (and kept aside), never a reason not to start.
	if err := repairJournal(dir, log); err != nil {
		return err
	}
	building := false
	if c.nats == "" { // a replica waits for its first generation from NATS
		_, err = dir.Current()
		building = errors.Is(err, newsdesk.ErrNoGeneration)
		switch {
		case building && !c.bootstrap:
			return fmt.Errorf("%w; build one with indexer build, or start searchd with -bootstrap FILE...", err)
		case err != nil && !building:
			return err
		}
	}

	var met *metrics.Metrics
	scfg := serving.Config{Dir: dir, Logger: log, Grace: c.timeout + 20*time.Second, MinFree: uint64(c.minFree),
		OnSwap:       func(g string, err error) { met.Swap(g, err) },
		OnIndexError: func(string, error) { met.IndexError() },
		ApplyWait:    c.timeout}
	srv, rep := serving.New(scfg), (*replica.Replica)(nil)
	if c.nats != "" {
		rep = replica.New(replica.Config{NATS: cluster.Config{URL: c.nats, Replicas: c.natsReplicas, Name: "searchd", Logger: log},
			Serving: scfg, MaxLag: c.maxLag, Logger: log,
			OnInvalid: func() { met.InvalidMessage() }, OnDownload: func(g string, err error) { met.Download(g, err) }})
		srv = rep.Server()
	}
	met = metrics.New(srv)
	if rep != nil {
		met.FollowStream(func() (uint64, uint64, time.Duration) {
			st := rep.Status()
			return st.Applied, st.Last, st.Lag
		})
	}
	var shuttingDown atomic.Bool
	var starting atomic.Pointer[string] // what the start is doing, until the index is served
	pages, err := web.New(func() web.Source {
		if e := srv.Engine(); e != nil {
			return e
		}
		return nil
	})
	if err != nil {
		return err
	}
	cfg := api.Config{
		Pages: pages, AllowedOrigins: c.origins,
		Searcher: func() api.Searcher {
			if e := srv.Engine(); e != nil {
				return e
			}
			return nil
		},
		Ready: func() error {
			switch {
			case shuttingDown.Load():
				return errors.New("shutting down")
			case srv.Engine() == nil && rep != nil:
				return rep.Ready() // what it is doing
			case srv.Engine() == nil:
				if s := starting.Load(); s != nil {
					return errors.New(*s)
				}
				return errors.New("the index is not open yet")
			case srv.Failed() != "":
				return errors.New(srv.Failed() + "; still serving " + srv.Generation())
			}
			if rep != nil {
				if err := rep.Ready(); err != nil {
					return err
				}
			}
			if err := srv.Health(); err != nil {
				return fmt.Errorf("searches are answered, updates are not safe: %w", err)
			}
			return nil
		},
		Position: srv.Position,
		Derived: func() uint64 {
			if e := srv.Engine(); e != nil {
				return e.Derived()
			}
			return 0
		},
		Info: func() api.Info {
			i := srv.Info()
			info := api.Info{Generation: i.Generation, Events: i.Events,
				FirstDate: i.FirstDate, LastDate: i.LastDate, IndexBytes: i.DiskBytes, UpdateSeq: i.Applied}
			if rep != nil {
				st := rep.Status()
				info.Stream = &api.StreamInfo{Published: st.Published, LastSeq: st.Last, LagSeconds: st.Lag.Seconds(),
					Connected: st.Connected, InvalidMessages: st.Invalid}
			}
			return info
		},
		Logger: log, Timeout: c.timeout, InFlight: c.inFlight, Queue: c.queue,
		Metrics: met, MetricsHandler: met.Handler(),
	}
	if c.metricsAuth {
		cfg.MetricsKey = c.adminKey
	}
	if c.admin {
		cfg.Admin = &api.Admin{Key: c.adminKey,
			Reload: func(ctx context.Context) (any, error) { return srv.Load(ctx) },
			Bulk: func(ctx context.Context, us []api.Update) ([]string, error) {
				updates := make([]index.Update, len(us))
				for i, u := range us {
					updates[i] = index.Update{Upsert: u.Upsert, Delete: u.Delete}
				}
				results, err := srv.Update(ctx, updates)
				switch {
				case errors.Is(err, serving.ErrJournaled):
					err = fmt.Errorf("%w: %w", api.ErrAccepted, err)
				case errors.Is(err, cluster.ErrTooLarge): // a replica's update longer than a NATS message
					err = &api.Error{Status: http.StatusRequestEntityTooLarge, Code: "request_too_large", Message: err.Error() + "; nothing was applied"}
				}
				return results, err
			},
		}
	}
	handler := api.New(cfg)
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      c.timeout + 5*time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    api.ServerMaxHeaderBytes,
		// Not ctx: a SIGTERM must let requests in flight finish (Shutdown
		// waits for them), not cancel them.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if c.pprof != "" {
		if err := servePprof(ctx, c.pprof, log); err != nil {
			_ = ln.Close()
			return err
		}
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	addr := ln.Addr().String()
	switch {
	case rep != nil:
		starting.Store(ptr("following NATS")) // rep.Ready says more
	case building:
		starting.Store(ptr(fmt.Sprintf("no index yet: building one from %d files", len(c.files))))
	default:
		starting.Store(ptr("opening the index"))
	}
	log.Info().Str("addr", addr).Str("version", version.Get().Version).Bool("building", building).
		Msg("listening; /livez answers, /readyz says 503 until the index is open")
	if n.listening != nil {
		n.listening <- addr
	}

	if building {
		// Before the serving memory settings: a build's heap is several
		// times a server's.
		err = bootstrap(ctx, c, dir, log, stderr, func(p build.Progress) { starting.Store(ptr(buildStatus(p))) })
		starting.Store(ptr("index built: opening it"))
	}
	defer restoreMemory(serveMemory(os.Getenv))
	if os.Getenv("GOMEMLIMIT") == "" {
		hctx, stopHeap := context.WithCancel(ctx)
		heapDone := make(chan struct{})
		go followHeap(hctx, followHeapEvery, heapDone)
		defer func() { stopHeap(); <-heapDone }() // before restoreMemory
	}
	if rep != nil {
		return serveReplica(ctx, c, rep, hs, serveErr, &shuttingDown, log, addr, n)
	}
	if err == nil {
		_, err = srv.Load(ctx)
	}
	if err != nil {
		_ = hs.Close()
		if cerr := srv.Close(); cerr != nil {
			log.Warn().Err(cerr).Msg("close")
		}
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		return err
	}
	starting.Store(nil)
	log.Info().Str("generation", srv.Generation()).Str("addr", addr).Str("version", version.Get().Version).
		Int("gomaxprocs", procs).Int("in_flight", c.inFlight).Int("queue", c.queue).Msg("serving")
	reload := make(chan struct{}, 1)
	go func() { // ends with ctx: signal.Stop does not close hup
		for {
			select {
			case <-hup:
				select {
				case reload <- struct{}{}:
				default:
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	go srv.Watch(ctx, c.watch, reload)
	if n.serving != nil {
		n.serving <- addr
	}

	err = serveUntilDone(ctx, hs, serveErr, &shuttingDown, c.drain, c.timeout, log)
	if cerr := srv.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// serveReplica runs a replica (-nats) until ctx ends: it follows NATS
// while the HTTP server answers, notifies n.serving once a generation is
// served, then shuts down as run does, the replica applying the stream
// until the listener is closed.
func serveReplica(ctx context.Context, c *config, rep *replica.Replica, hs *http.Server, serveErr chan error,
	shuttingDown *atomic.Bool, log zerolog.Logger, addr string, n notify) error {
	srv := rep.Server()
	// Not ctx: it follows the stream while the requests in flight of a
	// shutdown finish.
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	followed := make(chan struct{})
	go func() { rep.Run(rctx); close(followed) }()
	// Not the URLs: they may hold credentials.
	log.Info().Str("cache", c.index).Dur("max_lag", c.maxLag).Msg("replica: following NATS")
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for srv.Generation() == "" {
			select {
			case <-rctx.Done():
				return
			case <-t.C:
			}
		}
		log.Info().Str("generation", srv.Generation()).Str("addr", addr).Str("version", version.Get().Version).
			Int("in_flight", c.inFlight).Int("queue", c.queue).Msg("serving")
		if n.serving != nil {
			n.serving <- addr
		}
	}()
	err := serveUntilDone(ctx, hs, serveErr, shuttingDown, c.drain, c.timeout, log)
	stop()
	<-followed
	if cerr := srv.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// serveUntilDone waits until the HTTP server fails or ctx ends; then it
// says not ready for drain, for load balancers to notice, closes the
// listener and lets the requests in flight run to completion: for
// shutdownTimeout, or their deadline (timeout) and a second if longer, so
// that no request still runs when the index closes under it.
func serveUntilDone(ctx context.Context, hs *http.Server, serveErr chan error, shuttingDown *atomic.Bool, drain, timeout time.Duration, log zerolog.Logger) error {
	var err error
	select {
	case err = <-serveErr:
	case <-ctx.Done():
		log.Info().Dur("delay", drain).Msg("shutting down: not ready, then draining")
		shuttingDown.Store(true)
		select {
		case <-time.After(drain):
		case err = <-serveErr:
		}
		sctx, cancel := context.WithTimeout(context.Background(), max(shutdownTimeout, timeout+time.Second))
		if serr := hs.Shutdown(sctx); err == nil {
			err = serr
		}
		cancel()
		// The operator's sign that no request was cut (or that some
		// were, past the timeout).
		ev := log.Info()
		if err != nil {
			ev = log.Warn().Err(err)
		}
		ev.Msg("drained: requests in flight answered, listener closed")
	}
	return err
}

func ptr(s string) *string { return &s }

// buildStatus says how far a bootstrap build is, for /readyz.
func buildStatus(p build.Progress) string {
	s := fmt.Sprintf("no index yet: building one: %.0f%% (%d events indexed, %d read", 100*p.Fraction(), p.Indexed, p.Read)
	if p.Bad > 0 {
		s += fmt.Sprintf(", %d bad", p.Bad)
	}
	s += fmt.Sprintf(") in %s", p.Elapsed.Round(100*time.Millisecond))
	if eta := p.ETA(); eta > 0 {
		s += fmt.Sprintf(", about %s left", eta.Round(time.Second))
	}
	return s
}

// bootstrap builds the first generation from c.files, as indexer build
// does, showing its progress (-progress) and passing it to onProgress.
func bootstrap(ctx context.Context, c *config, dir *index.Dir, log zerolog.Logger, stderr io.Writer, onProgress func(build.Progress)) error {
	log.Info().Int("files", len(c.files)).Str("index", c.index).Msg("no index yet: building one")
	show, every := progress.New(c.progress, stderr, log)
	if every == 0 {
		every = time.Second
	}
	sum, err := build.Run(ctx, build.Config{Dir: dir, Files: c.files, ProgressEvery: every, Logger: log,
		OnProgress: func(p build.Progress) {
			onProgress(p)
			if show != nil {
				show(p)
			}
		}})
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	ev := log.Info()
	if sum.Bad > 0 {
		ev = log.Warn()
	}
	ev.Int("indexed", sum.Indexed).Int("bad", sum.Bad).Int("duplicates", sum.Duplicates).
		Float64("seconds", sum.Seconds).Str("report", sum.Report).Msg("bootstrap index built")
	return nil
}

// repairJournal cuts a torn tail off the index directory's update journal
// and logs a warning saying what was cut and where it was kept.
func repairJournal(dir *index.Dir, log zerolog.Logger) error {
	j := dir.Journal()
	r, err := j.Repair()
	if err != nil {
		return err
	}
	if r.Cut > 0 {
		log.Warn().Str("journal", j.Path()).Int64("cut_bytes", r.Cut).Int64("at", r.At).Str("kept_in", r.KeptIn).
			Str("reason", r.Reason).Msg("torn journal tail cut: an update whose append a crash interrupted was never acknowledged; the bytes are kept aside")
	}
	return nil
}

// servePprof serves the profiler on its own listener, apart from the API,
// until ctx ends.
func servePprof(ctx context.Context, addr string, log zerolog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("pprof listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() { <-ctx.Done(); _ = srv.Close() }()
	log.Info().Str("addr", ln.Addr().String()).Msg("profiler listening")
	return nil
}

// probe asks the searchd listening on addr whether it is alive.
func probe(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("probe: -listen %q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/livez", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("probe: /livez answered %s", resp.Status)
	}
	return nil
}

// normalOrigin returns origin as browsers send it in Origin (RFC 6454):
// the scheme and host in lower case, without the scheme's default port or
// a trailing slash; ok is false for what is not an http(s) origin. An
// origin configured otherwise (https://News.Example, :443) would match no
// request, and the widget fail on the partner's pages without a word.
func normalOrigin(origin string) (string, bool) {
	u, err := url.Parse(strings.TrimSuffix(origin, "/"))
	if err != nil {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "http" && scheme != "https") || u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]" // an IPv6 address
	}
	return scheme + "://" + host, true
}
