package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsdesk/newsdesk/index"
)

// Message is one message of the update stream: the updates of one bulk
// request, or of part of one too large for a single message, in order.
// Its body is their journal form (index.Update), one per line.
type Message struct {
	// Seq is the message's sequence number in the stream.
	Seq uint64
	// Pending is how many messages followed it in the stream when it was
	// delivered.
	Pending uint64
	// Updates are its updates, in order; nil when Bad is set.
	Updates []index.Update
	// Bad, when set, says why the message holds no valid updates: a
	// reader skips it whole.
	Bad error
}

// ErrTooLarge is wrapped by Append's error when one update is larger than
// the largest message the NATS server takes (its max_payload).
var ErrTooLarge = errors.New("update larger than the largest NATS message")

// headroom is what a message needs besides its body: subject and headers.
const headroom = 1 << 10

// Append publishes updates to the stream, in order, and returns the
// sequence number of the last message: once it returns, the stream holds
// them (on a majority of its servers, in a cluster), and every replica
// applies them after the messages before. They go in as few messages as
// the server's max_payload allows, each acknowledged before the next is
// sent, so a bulk request's updates keep their order. An error means some
// or none of the messages were stored: sending the same updates again is
// safe, they are idempotent (an upsert replaces, a delete deletes).
func (c *Conn) Append(ctx context.Context, updates []index.Update) (uint64, error) {
	bodies, err := encode(updates, int(c.nc.MaxPayload())-headroom)
	if err != nil {
		return 0, err
	}
	var last uint64
	for _, body := range bodies {
		m := nats.NewMsg(Subject)
		m.Data = body
		id := make([]byte, 12)
		_, _ = rand.Read(id)
		// Deduplicates the retries of one publish (JetStream's duplicate
		// window), such as those the client makes during a leader election.
		ack, err := c.js.PublishMsg(ctx, m, jetstream.WithMsgID(hex.EncodeToString(id)), jetstream.WithExpectStream(StreamName),
			jetstream.WithRetryAttempts(20), jetstream.WithRetryWait(250*time.Millisecond))
		if errors.Is(err, nats.ErrReconnectBufExceeded) || (err != nil && !c.nc.IsConnected()) {
			// With no reconnect buffer, a publish while disconnected
			// fails at once, in words about a buffer.
			return last, fmt.Errorf("cluster: append %d updates to the stream: not connected to NATS (nothing was sent): %w", len(updates), err)
		}
		if err != nil {
			return last, fmt.Errorf("cluster: append %d updates to the stream: %w", len(updates), err)
		}
		last = ack.Sequence
	}
	// Followers read at once rather than at their next poll; a notice
	// lost costs that much.
	_ = c.nc.Publish(NoticeSubject, []byte(strconv.FormatUint(last, 10)))
	return last, nil
}

// encode returns the updates' journal lines, packed into bodies of at most
// limit bytes.
func encode(updates []index.Update, limit int) ([][]byte, error) {
	var bodies [][]byte
	var cur bytes.Buffer
	for _, u := range updates {
		line, err := json.Marshal(u)
		if err != nil {
			return nil, fmt.Errorf("cluster: encode update %s: %w", u.ID(), err)
		}
		line = append(line, '\n')
		if len(line) > limit {
			return nil, fmt.Errorf("cluster: update %.80s is %d bytes: %w (%d bytes; raise the servers' max_payload)", u.ID(), len(line), ErrTooLarge, limit)
		}
		if cur.Len()+len(line) > limit {
			bodies = append(bodies, bytes.Clone(cur.Bytes()))
			cur.Reset()
		}
		cur.Write(line)
	}
	if cur.Len() > 0 {
		bodies = append(bodies, cur.Bytes())
	}
	return bodies, nil
}

// Decode reads a message body: one update per line, each in its journal
// form, upserts valid events (newsdesk.Event.Validate), deletes an id.
func Decode(body []byte) ([]index.Update, error) {
	var updates []index.Update
	for n := 1; len(body) > 0; n++ {
		line, rest, _ := bytes.Cut(body, []byte{'\n'})
		body = rest
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		u, err := index.ParseUpdate(line)
		if err == nil && u.Upsert != nil {
			err = u.Upsert.Validate()
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		updates = append(updates, u)
	}
	if len(updates) == 0 {
		return nil, errors.New("no update in the message")
	}
	return updates, nil
}

// Last returns the sequence number of the stream's last message (0 while
// it has none) and how many messages it holds.
// JetStream's errors are retried while ctx allows, for 30 s at most.
func (c *Conn) Last(ctx context.Context) (last, count uint64, err error) {
	st, err := c.State(ctx)
	return st.Last, st.Count, err
}

// StreamState is the update stream's state.
type StreamState struct {
	// Last is the sequence number of its last message (0 while it has
	// none), Count how many messages it holds.
	Last, Count uint64
	// ID tells this stream from another of the same name: the time
	// JetStream created it. Sequence numbers are those of one stream: a
	// stream deleted and made again (a NATS server whose storage was
	// wiped, an operator's nats stream rm) numbers its messages from 1
	// again, so a position of the old one means nothing in the new.
	ID string
}

// State returns the update stream's state. JetStream's errors are retried
// while ctx allows, for 30 s at most.
func (c *Conn) State(ctx context.Context) (StreamState, error) {
	var st StreamState
	err := c.retry(ctx, "read the update stream's state", func() error {
		ictx, cancel := context.WithTimeout(ctx, stepTimeout)
		defer cancel()
		info, err := c.stream.Info(ictx)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			// Lost (NATS's storage wiped, nats stream rm): made again, as
			// a process that connects makes it, so that a running
			// replica, which reads the state every second, takes updates
			// again; until 2026-12-02 it answered them 503 until a build
			// or a replica's start made it. The stream's handle names it:
			// it serves the new one.
			if _, err = c.js.CreateStream(ictx, c.streamConfig()); err == nil {
				info, err = c.stream.Info(ictx)
			}
		}
		if err != nil {
			return fmt.Errorf("cluster: update stream: %w", err)
		}
		st = StreamState{Last: info.State.LastSeq, Count: info.State.Msgs, ID: streamID(info.Created)}
		return nil
	})
	return st, err
}

// StreamID returns the update stream's ID (StreamState.ID): what a build
// records beside the position it holds (build.UpdateLog).
func (c *Conn) StreamID(ctx context.Context) (string, error) {
	st, err := c.State(ctx)
	return st.ID, err
}

func streamID(created time.Time) string { return created.UTC().Format(time.RFC3339Nano) }

// How the stream is read. A reader is an ephemeral consumer of the stream
// (in memory, on one server, acknowledging nothing) from a given message
// on, pulling with a heartbeat each readHeartbeat. When it fails (its
// server lost: two heartbeats missed; a delivery missed; any error), the
// messages are read one by one with JetStream's direct get, which any
// server holding the stream answers, with no consumer and no leader, and
// a new reader is made from the message after the last read. Each step is
// bounded by stepTimeout, and tried again after retryWait.
//
// Measured in TestCluster: nats.go's ordered consumer, which recreates
// itself backing off from 1 s to 10 s with 10 s timeouts, delivered
// again 5 to 15 s after the server holding it was killed; and while the
// killed server led JetStream's meta group, no consumer could be made for
// 4 to 9 s (Raft's election timeout), though the stream took updates.
const (
	readExpiry    = 2 * time.Second
	readHeartbeat = 500 * time.Millisecond
	stepTimeout   = time.Second
	retryWait     = 250 * time.Millisecond
	// readRetries bounds how long Read goes on retrying.
	readRetries = 30 * time.Second
)

// errGap: a reader's deliveries skipped one.
var errGap = errors.New("a delivery was missed")

// fnError is an error of a reader's caller, not to be retried.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// reader reads the stream for fn, from the message after after on, until
// fn says stop (or returns an error: a fnError), ctx ends, or with atEnd
// the end of the stream is reached. It returns the last message passed to
// fn (after, if none).
type reader struct {
	c     *Conn
	atEnd bool
	fn    func(Message) (stop bool, err error)
}

// consume reads with one consumer until it fails.
func (r reader) consume(ctx context.Context, after uint64) (uint64, error) {
	cctx, cancel := context.WithTimeout(ctx, stepTimeout)
	cons, err := r.c.stream.CreateOrUpdateConsumer(cctx, jetstream.ConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: after + 1,
		AckPolicy: jetstream.AckNonePolicy, MemoryStorage: true, Replicas: 1,
		InactiveThreshold: 30 * time.Second,
	})
	cancel()
	if err != nil {
		return after, fmt.Errorf("cluster: read the update stream after %d: %w", after, err)
	}
	defer func() {
		go func() { // one left behind goes after InactiveThreshold anyway
			dctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
			_ = r.c.stream.DeleteConsumer(dctx, cons.CachedInfo().Name)
			cancel()
		}()
	}()
	if r.atEnd && cons.CachedInfo().NumPending == 0 {
		return after, nil
	}
	it, err := cons.Messages(jetstream.PullExpiry(readExpiry), jetstream.PullHeartbeat(readHeartbeat))
	if err != nil {
		return after, fmt.Errorf("cluster: read the update stream after %d: %w", after, err)
	}
	defer it.Stop()
	var delivered uint64
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return after, fmt.Errorf("cluster: read the update stream after %d: %w", after, err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return after, fmt.Errorf("cluster: update stream message: %w", err)
		}
		if meta.Sequence.Consumer != delivered+1 {
			return after, fmt.Errorf("cluster: read the update stream after %d: %w", after, errGap)
		}
		delivered = meta.Sequence.Consumer
		m := Message{Seq: meta.Sequence.Stream, Pending: meta.NumPending}
		m.Updates, m.Bad = Decode(msg.Data())
		stop, err := r.fn(m)
		if err != nil {
			return after, fnError{err}
		}
		after = m.Seq
		if stop || r.atEnd && m.Pending == 0 {
			return after, nil
		}
	}
}

// direct reads the messages one by one, each the first of the subject at
// or after a sequence number, until none is left (on the server that
// answers: a follower may lag its leader a little).
func (r reader) direct(ctx context.Context, after uint64) (uint64, error) {
	for {
		gctx, cancel := context.WithTimeout(ctx, stepTimeout)
		raw, err := r.c.stream.GetMsg(gctx, after+1, jetstream.WithGetMsgSubject(Subject))
		cancel()
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return after, nil
		}
		if err != nil {
			return after, fmt.Errorf("cluster: get update stream message after %d: %w", after, err)
		}
		m := Message{Seq: raw.Sequence}
		m.Updates, m.Bad = Decode(raw.Data)
		stop, err := r.fn(m)
		if err != nil {
			return after, fnError{err}
		}
		after = m.Seq
		if stop {
			return after, nil
		}
	}
}

// Read calls fn with each message after seq after, in order, up to
// message through, or to the end of the stream if it ends before. A
// message that does not decode reaches fn with Bad set. JetStream's
// errors are retried, from the message after the last one read, for up to
// 30 s; an error of fn is returned at once.
func (c *Conn) Read(ctx context.Context, after, through uint64, fn func(Message) error) error {
	if through <= after {
		return nil
	}
	done := false
	r := reader{c: c, atEnd: true, fn: func(m Message) (bool, error) {
		if m.Seq > through {
			done = true
			return true, nil
		}
		if err := fn(m); err != nil {
			return true, err
		}
		done = m.Seq >= through
		return done, nil
	}}
	deadline := time.Now().Add(readRetries)
	for {
		var err error
		after, err = r.consume(ctx, after)
		var fe fnError
		switch {
		case errors.As(err, &fe):
			return fe.err
		case err == nil, done:
			return nil
		}
		c.cfg.Logger.Warn().Err(err).Uint64("after", after).Msg("reading the update stream; reading it by sequence meanwhile")
		cerr := err // the consumer's: direct ends without one at a lagging server's last message
		after, err = r.direct(ctx, after)
		if err == nil {
			err = cerr
		}
		switch {
		case errors.As(err, &fe):
			return fe.err
		case done:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case time.Now().After(deadline):
			return fmt.Errorf("cluster: read the update stream: gave up after %v at message %d: %w", readRetries, after, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(retryWait):
		}
	}
}

// Replay calls fn with each message of the stream up to its last when
// Replay began, and returns that message's sequence number. It is what a
// build replays (build.UpdateLog).
func (c *Conn) Replay(ctx context.Context, fn func(seq uint64, updates []index.Update, bad error) error) (uint64, error) {
	last, _, err := c.Last(ctx)
	if err != nil {
		return 0, err
	}
	err = c.Read(ctx, 0, last, func(m Message) error { return fn(m.Seq, m.Updates, m.Bad) })
	return last, err
}

// Position returns the sequence number of the stream's last message: what
// a build that drops the updates holds (indexer build -drop-updates), its
// messages up to there dropped by DropThrough once the generation is
// published.
func (c *Conn) Position(ctx context.Context) (uint64, error) {
	last, _, err := c.Last(ctx)
	return last, err
}

// DropThrough removes the stream's messages up to seq (those a published
// generation dropped), so that later builds do not replay them. The
// sequence numbers go on from there.
func (c *Conn) DropThrough(ctx context.Context, seq uint64) error {
	return c.retry(ctx, "drop the updates", func() error {
		if err := c.stream.Purge(ctx, jetstream.WithPurgeSequence(seq+1)); err != nil {
			return fmt.Errorf("cluster: drop the updates up to %d: %w", seq, err)
		}
		return nil
	})
}

// NoticeSubject carries, after each message Append stores, its sequence
// number as text: a core NATS message, not kept, which wakes the
// followers up at once (Follow).
const NoticeSubject = "newsdesk.appended"

// Following (Follow): idle, a follower looks for new messages each
// followPoll; told a message exists that it cannot read yet (a server
// lagging its leader by a beat), it looks again after noticeRetry; after
// followBurst messages read one by one, it reads the rest with a consumer.
const (
	followPoll  = 250 * time.Millisecond
	noticeRetry = 5 * time.Millisecond
	followBurst = 64
)

// Follow calls fn, from a goroutine of its own, with each message of the
// stream after seq after, in order, as they come, until stop is called or
// ctx ends; and known, if not nil, with the sequence number of each
// message another process says it appended. A message that does not
// decode reaches fn with Bad set.
//
// It reads the messages one by one with direct gets, which any server
// holding the stream answers, with no consumer and no leader: a follower
// goes on through the loss of any one server, once its connection moved
// to another (a consumer lives on one server; one lost with it can only
// be made again once JetStream's meta group has a leader, 4 to 9 s after
// the loss of its leader; measured in TestCluster). It reads when
// NoticeSubject says a message was appended, and every followPoll; a long
// run of messages (a replica far behind) it reads with a consumer.
func (c *Conn) Follow(ctx context.Context, after uint64, fn func(Message), known func(seq uint64)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	wake := make(chan struct{}, 1)
	var noticed atomic.Uint64
	sub, err := c.nc.Subscribe(NoticeSubject, func(m *nats.Msg) {
		if seq, err := strconv.ParseUint(string(m.Data), 10, 64); err == nil {
			for {
				n := noticed.Load()
				if seq <= n || noticed.CompareAndSwap(n, seq) {
					break
				}
			}
			if known != nil {
				known(seq)
			}
		}
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	if err != nil { // the connection is closed: nothing to follow
		c.cfg.Logger.Error().Err(err).Msg("follow the update stream")
	}
	go func() {
		defer func() {
			if sub != nil {
				_ = sub.Unsubscribe()
			}
		}()
		wait := noticeRetry
		for ctx.Err() == nil {
			n := 0
			r := reader{c: c, fn: func(m Message) (bool, error) {
				fn(m)
				n++
				return n >= followBurst, nil
			}}
			var err error
			after, err = r.direct(ctx, after)
			if err == nil && n >= followBurst {
				// Far behind: the rest with a consumer, faster.
				err = c.Read(ctx, after, math.MaxUint64, func(m Message) error {
					fn(m)
					after = m.Seq
					return nil
				})
			}
			if err != nil && ctx.Err() == nil {
				c.cfg.Logger.Warn().Err(err).Uint64("after", after).Msg("reading the update stream; retrying")
			}
			next := followPoll
			if noticed.Load() > after { // there, not readable yet
				next, wait = wait, min(2*wait, followPoll)
			} else {
				wait = noticeRetry
			}
			select {
			case <-ctx.Done():
			case <-wake:
			case <-time.After(next):
			}
		}
	}()
	return cancel
}
