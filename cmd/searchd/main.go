// Searchd serves newsdesk's search API over an index built by indexer.
//
// Usage:
//
//	searchd [flags] [-bootstrap FILE...]
//
// It opens the current generation of the index directory, compacts it,
// and serves the HTTP API (see package api and the README). When the
// directory has no generation yet and -bootstrap is given, it first
// builds one from FILE... with the indexer's progress display.
//
// Every flag has an environment twin (shown in -h); a flag given on the
// command line beats its environment variable, which beats the default.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/rs/zerolog/diode"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/api"
	"github.com/newsdesk/newsdesk/build"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/metrics"
	"github.com/newsdesk/newsdesk/progress"
	"github.com/newsdesk/newsdesk/search"
	"github.com/newsdesk/newsdesk/serving"
	"github.com/newsdesk/newsdesk/web"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

// The engine must satisfy what the API serves.
var _ api.Searcher = (*search.Engine)(nil)

// Memory settings: a search allocates briefly and the live heap is small
// (tens of MiB), so the collector may let it grow 4x, under a soft cap
// that keeps the process well inside its memory budget.
const (
	serveGCPercent   = 400
	serveMemoryLimit = 128 << 20
	shutdownTimeout  = 10 * time.Second
	// defaultShutdownDelay gives load balancers that probe /readyz every
	// second or two the time to see the 503 and stop sending.
	defaultShutdownDelay = 2 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "searchd:", err)
		os.Exit(1)
	}
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
	admin     bool
	adminKey  string
	// metricsAuth puts /metrics behind the admin key.
	metricsAuth bool
	watch       time.Duration
	drain       time.Duration // how long /readyz says 503 before the listener closes
	minFree     int64         // bytes of disk that must stay free
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

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("searchd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	c := &config{}
	var err error
	envDuration := func(name string, def time.Duration) time.Duration {
		v := getenv(name)
		if v == "" {
			return def
		}
		d, perr := time.ParseDuration(v)
		if perr != nil && err == nil {
			err = fmt.Errorf("%s=%q is not a duration such as 2s", name, v)
		}
		return d
	}
	envInt := func(name string, def int) int {
		v := getenv(name)
		if v == "" {
			return def
		}
		n, perr := strconv.Atoi(v)
		if perr != nil && err == nil {
			err = fmt.Errorf("%s=%q is not a whole number", name, v)
		}
		return n
	}
	envBool := func(name string) bool {
		b, _ := strconv.ParseBool(getenv(name))
		return b
	}
	fs.StringVar(&c.index, "index", env("NEWSDESK_INDEX", "data/index"), "index `directory` (env NEWSDESK_INDEX)")
	fs.StringVar(&c.listen, "listen", env("NEWSDESK_LISTEN", "127.0.0.1:8080"), "`address` to listen on (env NEWSDESK_LISTEN)")
	fs.BoolVar(&c.bootstrap, "bootstrap", envBool("NEWSDESK_BOOTSTRAP"), "when the index directory has no generation, build one from the FILE arguments first (env NEWSDESK_BOOTSTRAP=1, files in NEWSDESK_BOOTSTRAP_FILES)")
	fs.DurationVar(&c.timeout, "timeout", envDuration("NEWSDESK_TIMEOUT", api.DefaultTimeout), "per-request deadline (env NEWSDESK_TIMEOUT)")
	fs.IntVar(&c.inFlight, "in-flight", envInt("NEWSDESK_IN_FLIGHT", cpus), "API requests served at once (default: one per CPU); up to -queue more wait at most 100 ms, the rest get 429 at once (env NEWSDESK_IN_FLIGHT)")
	fs.IntVar(&c.queue, "queue", envInt("NEWSDESK_QUEUE", 0), "API requests that may wait for a slot (at most 100 ms); beyond, 429 at once; 0 means twice -in-flight (env NEWSDESK_QUEUE)")
	fs.StringVar(&c.logLevel, "log-level", env("NEWSDESK_LOG_LEVEL", "info"), "log level: debug, info, warn or error (env NEWSDESK_LOG_LEVEL)")
	fs.BoolVar(&c.probe, "probe", false, "check that the searchd listening on -listen is alive (GET /livez) and exit 0 if so, 1 if not: a container HEALTHCHECK")
	fs.BoolVar(&c.admin, "admin", envBool("NEWSDESK_ADMIN"), "enable the /admin/ routes (env NEWSDESK_ADMIN=1); they need a key, from the environment variable NEWSDESK_ADMIN_KEY or the file -admin-key-file, never a flag value")
	fs.BoolVar(&c.metricsAuth, "metrics-auth", envBool("NEWSDESK_METRICS_AUTH"), "make /metrics answer 401 without the admin key, Authorization: Bearer KEY (env NEWSDESK_METRICS_AUTH=1); it needs the key -admin takes, with or without -admin")
	keyFile := fs.String("admin-key-file", getenv("NEWSDESK_ADMIN_KEY_FILE"), "`file` holding the admin bearer key (env NEWSDESK_ADMIN_KEY_FILE)")
	fs.DurationVar(&c.watch, "watch", envDuration("NEWSDESK_WATCH", time.Second), "how often to look for a newly published generation (env NEWSDESK_WATCH)")
	fs.DurationVar(&c.drain, "shutdown-delay", envDuration("NEWSDESK_SHUTDOWN_DELAY", defaultShutdownDelay), "on SIGTERM, how long /readyz answers 503 (so that load balancers stop sending) before the listener closes; requests in flight then finish (env NEWSDESK_SHUTDOWN_DELAY)")
	minFreeMiB := fs.Int64("min-free-mib", int64(envInt("NEWSDESK_MIN_FREE_MIB", serving.DefaultMinFree>>20)), "MiB of disk that must stay free in the index directory's filesystem: bulk updates that would leave less get 507, and /readyz says 503 (env NEWSDESK_MIN_FREE_MIB)")
	var origins string
	fs.StringVar(&origins, "cors-origins", getenv("NEWSDESK_CORS_ORIGINS"), "comma-separated web `origins` whose pages may call the API, e.g. for the widget: https://news.example (env NEWSDESK_CORS_ORIGINS)")
	fs.StringVar(&c.pprof, "pprof", getenv("NEWSDESK_PPROF"), "if set, serve Go's profiler (net/http/pprof) on this separate `address`, e.g. 127.0.0.1:6060 (env NEWSDESK_PPROF)")
	fs.StringVar(&c.progress, "progress", env("NEWSDESK_PROGRESS", "auto"), "bootstrap progress display: auto, bar, log or none (env NEWSDESK_PROGRESS)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: searchd [flags] [-bootstrap FILE...]")
		fmt.Fprintln(stderr, "Serves the newsdesk search API over the current generation of the index directory.")
		fs.PrintDefaults()
	}
	if perr := fs.Parse(args); perr != nil {
		return nil, perr
	}
	if err != nil {
		return nil, err
	}
	c.files = fs.Args()
	if c.admin || c.metricsAuth {
		c.adminKey = strings.TrimSpace(getenv("NEWSDESK_ADMIN_KEY"))
		if *keyFile != "" {
			b, err := os.ReadFile(*keyFile)
			if err != nil {
				return nil, fmt.Errorf("-admin-key-file: %w", err)
			}
			c.adminKey = strings.TrimSpace(string(b))
		}
		if len(c.adminKey) < 16 {
			flag := "-admin"
			if !c.admin {
				flag = "-metrics-auth"
			}
			return nil, errors.New(flag + " needs the admin key, of at least 16 characters: set NEWSDESK_ADMIN_KEY or -admin-key-file")
		}
	}
	if c.watch <= 0 {
		return nil, fmt.Errorf("-watch must be positive, got %v", c.watch)
	}
	if c.drain < 0 {
		return nil, fmt.Errorf("-shutdown-delay must not be negative, got %v", c.drain)
	}
	if *minFreeMiB < 1 {
		return nil, fmt.Errorf("-min-free-mib must be at least 1, got %d", *minFreeMiB)
	}
	c.minFree = *minFreeMiB << 20
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			if !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
				return nil, fmt.Errorf("-cors-origins: %q is not an origin such as https://news.example", o)
			}
			c.origins = append(c.origins, o)
		}
	}
	if len(c.files) == 0 && c.bootstrap {
		c.files = strings.Fields(getenv("NEWSDESK_BOOTSTRAP_FILES"))
	}
	switch {
	case len(c.files) > 0 && !c.bootstrap:
		return nil, fmt.Errorf("files given without -bootstrap: %q", c.files)
	case c.bootstrap && len(c.files) == 0:
		return nil, errors.New("-bootstrap needs the files to build from")
	case c.timeout <= 0:
		return nil, fmt.Errorf("-timeout must be positive, got %v", c.timeout)
	case c.inFlight < 1:
		return nil, fmt.Errorf("-in-flight must be at least 1, got %d", c.inFlight)
	case c.queue < 0:
		return nil, fmt.Errorf("-queue must be 0 (twice -in-flight) or more, got %d", c.queue)
	}
	if c.queue == 0 {
		c.queue = api.DefaultQueueFactor * c.inFlight
	}
	if _, perr := zerolog.ParseLevel(c.logLevel); perr != nil || c.logLevel == "" {
		return nil, fmt.Errorf("-log-level must be debug, info, warn or error, got %q", c.logLevel)
	}
	return c, nil
}

// run runs searchd until ctx is done. If ready is not nil, it receives the
// listening address once the API serves.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- string) error {
	c, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	if c.probe {
		return probe(ctx, c.listen)
	}
	procs := spareProc(getenv)
	level, _ := zerolog.ParseLevel(c.logLevel)
	var logOut io.Writer = stderr
	if progress.IsTerminal(stderr) {
		logOut = zerolog.ConsoleWriter{Out: stderr, TimeFormat: time.TimeOnly}
	}
	// Lines are handed to a writer goroutine through a ring buffer, so a
	// request never waits on a write to stderr (one syscall per access
	// line cost a few percent of the CPU under load). If the buffer fills,
	// lines are dropped and the drop is reported.
	logs := diode.NewWriter(logOut, 10000, 10*time.Millisecond, func(missed int) {
		fmt.Fprintf(stderr, "searchd: %d log lines dropped\n", missed)
	})
	defer logs.Close()
	log := zerolog.New(logs).Level(level).With().Timestamp().Logger()

	dir, err := index.NewDir(c.index)
	if err != nil {
		return err
	}
	// Before anything reads the journal: a tail torn by a crash or a power
	// cut is cut (and kept aside), never a reason not to start.
	if err := repairJournal(dir, log); err != nil {
		return err
	}
	if _, err := dir.Current(); errors.Is(err, newsdesk.ErrNoGeneration) {
		if !c.bootstrap {
			return fmt.Errorf("%w; build one with indexer build, or start searchd with -bootstrap FILE...", err)
		}
		if err := bootstrap(ctx, c, dir, log, stdout, stderr); err != nil {
			return err
		}
	}

	var met *metrics.Metrics
	srv := serving.New(serving.Config{Dir: dir, Logger: log, Grace: c.timeout + 20*time.Second, MinFree: uint64(c.minFree),
		OnSwap:       func(g string, err error) { met.Swap(g, err) },
		OnIndexError: func(string, error) { met.IndexError() }})
	met = metrics.New(srv)
	var shuttingDown atomic.Bool
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
			case srv.Engine() == nil:
				return errors.New("the index is not open yet")
			case srv.Failed() != "":
				return errors.New(srv.Failed() + "; still serving " + srv.Generation())
			}
			if err := srv.Health(); err != nil {
				return fmt.Errorf("searches are answered, updates are not safe: %w", err)
			}
			return nil
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
				if errors.Is(err, serving.ErrJournaled) {
					err = fmt.Errorf("%w: %w", api.ErrAccepted, err)
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
			_ = hs.Close()
			return err
		}
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	log.Info().Str("addr", ln.Addr().String()).Msg("listening; ready once the index is open")

	defer debug.SetGCPercent(debug.SetGCPercent(serveGCPercent))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(serveMemoryLimit))
	if _, err := srv.Load(ctx); err != nil {
		_ = hs.Close()
		return err
	}
	log.Info().Str("generation", srv.Generation()).Str("addr", ln.Addr().String()).Str("version", version).
		Int("gomaxprocs", procs).Int("in_flight", c.inFlight).Int("queue", c.queue).Msg("serving")
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()
	go srv.Watch(ctx, c.watch, reload)
	if ready != nil {
		ready <- ln.Addr().String()
	}

	select {
	case err = <-serveErr:
	case <-ctx.Done():
		// Not ready first, for load balancers to notice; then no new
		// connections, and the requests in flight run to completion.
		log.Info().Dur("delay", c.drain).Msg("shutting down: not ready, then draining")
		shuttingDown.Store(true)
		select {
		case <-time.After(c.drain):
		case err = <-serveErr:
		}
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		if serr := hs.Shutdown(sctx); err == nil {
			err = serr
		}
		cancel()
	}
	if cerr := srv.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func bootstrap(ctx context.Context, c *config, dir *index.Dir, log zerolog.Logger, stdout, stderr io.Writer) error {
	log.Info().Int("files", len(c.files)).Str("index", c.index).Msg("no index yet: building one")
	show, every := progress.New(c.progress, stderr, log)
	sum, err := build.Run(ctx, build.Config{Dir: dir, Files: c.files, OnProgress: show, ProgressEvery: every, Logger: log})
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
