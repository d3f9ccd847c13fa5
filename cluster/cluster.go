// Package cluster keeps what the machines of a newsdesk deployment share,
// in NATS JetStream: the published generations of the index (an Object
// Store, one archive per generation, chunked, with its SHA-256 digest),
// the pointer to the current one (a key of a KV bucket, moved with
// compare-and-set), and the stream of incremental updates (a Stream: one
// message per bulk request, ordered, numbered, replicated by Raft in a
// cluster). The builder publishes generations (Publish) and replays the
// stream into them (Replay); replicas download them (Download), append
// updates (Append) and follow the stream (Follow). This package owns the
// names, the formats and the rules of all three; it does not serve.
//
// It runs against one nats-server (the one-box case, tests) as against a
// cluster of them: the stream and the buckets are created on first use,
// with three replicas when the server is part of a cluster.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// Names of what the package keeps in JetStream.
const (
	// StreamName is the stream of updates; Subject is its one subject.
	StreamName = "NEWSDESK_UPDATES"
	Subject    = "newsdesk.updates"
	// GenerationsBucket is the Object Store holding generation archives,
	// each under its generation's name.
	GenerationsBucket = "newsdesk_generations"
	// PointerBucket is the KV bucket whose key PointerKey names the
	// current generation (a Pointer, as JSON).
	PointerBucket = "newsdesk_current"
	PointerKey    = "generation"
)

// DefaultTimeout bounds each JetStream request without a deadline of its
// own.
const DefaultTimeout = 5 * time.Second

// Config configures Open.
type Config struct {
	// URL is the NATS server URL, or several, comma-separated: the client
	// connects to one and fails over to the others; required.
	URL string
	// Replicas is how many servers keep each message of the stream and the
	// buckets, when Open creates them. Zero means 3 when the server is part
	// of a cluster, else 1.
	Replicas int
	// Name is the client's name, as the server shows it.
	Name string
	// Logger receives connection events. The zero value logs nothing.
	Logger zerolog.Logger
}

// Conn is a connection to the shared state. It is safe for concurrent
// use.
type Conn struct {
	cfg     Config
	nc      *nats.Conn
	js      jetstream.JetStream
	stream  jetstream.Stream
	kv      jetstream.KeyValue
	objects jetstream.ObjectStore
}

// Open connects to NATS and makes sure the stream and the buckets exist.
// It fails if no server answers; once open, the connection reconnects on
// its own (to another server of the cluster, when one is lost).
func Open(ctx context.Context, cfg Config) (_ *Conn, err error) {
	if cfg.URL == "" {
		return nil, errors.New("cluster: no NATS URL")
	}
	log := cfg.Logger
	nc, err := nats.Connect(cfg.URL,
		nats.Name(cfg.Name),
		nats.Timeout(DefaultTimeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		// No reconnect buffer: a publish made while disconnected fails at
		// once. Buffered, an update answered 503 (its append timed out)
		// was stored whenever the connection came back, after updates
		// acknowledged since: a delete acknowledged meanwhile undone.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn().Err(err).Msg("nats: disconnected; reconnecting")
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info().Str("server", nc.ConnectedUrlRedacted()).Msg("nats: reconnected")
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("cluster: connect to %s: %w", redact(cfg.URL), err)
	}
	defer func() {
		if err != nil {
			nc.Close()
		}
	}()
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(DefaultTimeout))
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
		if nc.ConnectedClusterName() != "" {
			cfg.Replicas = 3
		}
	}
	c := &Conn{cfg: cfg, nc: nc, js: js}
	if err := c.ensure(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// ensure finds the stream and the buckets, creating those missing,
// retried as requests are (retry), each try within DefaultTimeout: a
// cluster just started elects its meta leader for a second or so, and
// a build that came meanwhile failed after 20 s. Two processes creating
// one at once both succeed: JetStream accepts the second creation of an
// identical configuration.
func (c *Conn) ensure(ctx context.Context) error {
	return c.retry(ctx, "cluster: finding the update stream and buckets", func() error {
		tctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
		err := c.ensureOnce(tctx)
		if notRecoverable(err) {
			return permanent{err}
		}
		return err
	})
}

// notRecoverable says err is not one waiting would clear: JetStream off
// (nothing answers its API), or a stream of the name with another
// configuration.
func notRecoverable(err error) bool {
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse)
}

func (c *Conn) ensureOnce(ctx context.Context) error {
	var err error
	c.stream, err = c.js.Stream(ctx, StreamName)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		c.stream, err = c.js.CreateStream(ctx, c.streamConfig())
	}
	if err != nil {
		return fmt.Errorf("cluster: update stream %s: %w", StreamName, err)
	}
	c.kv, err = c.js.KeyValue(ctx, PointerBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		c.kv, err = c.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: PointerBucket, Description: "newsdesk: the current generation",
			History: 16, Storage: jetstream.FileStorage, Replicas: c.cfg.Replicas,
		})
	}
	if err != nil {
		return fmt.Errorf("cluster: pointer bucket %s: %w", PointerBucket, err)
	}
	c.objects, err = c.js.ObjectStore(ctx, GenerationsBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		c.objects, err = c.js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket: GenerationsBucket, Description: "newsdesk: generation archives",
			Storage: jetstream.FileStorage, Replicas: c.cfg.Replicas,
		})
	}
	if err != nil {
		return fmt.Errorf("cluster: generations bucket %s: %w", GenerationsBucket, err)
	}
	return nil
}

// streamConfig is the update stream's configuration.
func (c *Conn) streamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name: StreamName, Subjects: []string{Subject},
		Description: "newsdesk: incremental updates, one bulk request (NDJSON) a message",
		Storage:     jetstream.FileStorage, Replicas: c.cfg.Replicas,
		// Publishers set Nats-Msg-Id: a publish retried within this
		// window is stored once.
		Duplicates: 2 * time.Minute,
		// Readers fall back on reading messages by sequence from any
		// server holding the stream (see reader).
		AllowDirect: true,
	}
}

// retryFor bounds how long a request is retried: a cluster that lost a
// server elects new leaders for its streams within seconds, meanwhile
// their requests fail or time out.
const retryFor = 30 * time.Second

// permanent marks an error retry must not retry.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// retry calls fn until it succeeds, fails with a permanent error, ctx ends
// or retryFor passes, and returns its last error.
func (c *Conn) retry(ctx context.Context, what string, fn func() error) error {
	deadline := time.Now().Add(retryFor)
	for {
		err := fn()
		var p permanent
		switch {
		case err == nil:
			return nil
		case errors.As(err, &p):
			return p.err
		case ctx.Err() != nil || time.Now().After(deadline):
			return err
		}
		c.cfg.Logger.Warn().Err(err).Msg(what + "; retrying")
		select {
		case <-ctx.Done():
			return err
		case <-time.After(retryWait):
		}
	}
}

// Close closes the connection.
func (c *Conn) Close() { c.nc.Close() }

// Connected reports whether the connection is up now.
func (c *Conn) Connected() bool { return c.nc.IsConnected() }

// Replicas returns how many servers keep each message of the stream.
func (c *Conn) Replicas() int { return c.cfg.Replicas }

// redact leaves the credentials out of URLs, for messages.
func redact(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			u.User = nil
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}
