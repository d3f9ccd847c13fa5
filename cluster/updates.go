package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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
		if err != nil {
			return last, fmt.Errorf("cluster: append %d updates to the stream: %w", len(updates), err)
		}
		last = ack.Sequence
	}
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
func (c *Conn) Last(ctx context.Context) (last, count uint64, err error) {
	info, err := c.stream.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("cluster: update stream: %w", err)
	}
	return info.State.LastSeq, info.State.Msgs, nil
}

// consumer returns an ordered consumer of the stream from the message
// after seq on: ephemeral, in memory, recreated by the client when a
// server is lost or a message missed.
func (c *Conn) consumer(ctx context.Context, after uint64) (jetstream.Consumer, error) {
	cons, err := c.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: after + 1,
		InactiveThreshold: time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: read the update stream after %d: %w", after, err)
	}
	return cons, nil
}

// Consumer settings: a pull that lasts at most pullExpiry, with a
// heartbeat each pullHeartbeat, so that a consumer whose server was lost
// is noticed (two heartbeats missed) and recreated within a second or so.
const (
	pullExpiry    = 5 * time.Second
	pullHeartbeat = 500 * time.Millisecond
)

// Read calls fn with each message after seq after, in order, up to
// message through, or to the end of the stream if it ends before. A
// message that does not decode reaches fn with Bad set.
func (c *Conn) Read(ctx context.Context, after, through uint64, fn func(Message) error) error {
	if through <= after {
		return nil
	}
	info, err := c.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("cluster: update stream: %w", err)
	}
	if info.State.Msgs == 0 || info.State.LastSeq <= after || info.State.FirstSeq > through {
		return nil // nothing there: purged, or not written yet
	}
	cons, err := c.consumer(ctx, after)
	if err != nil {
		return err
	}
	it, err := cons.Messages(jetstream.PullExpiry(pullExpiry), jetstream.PullHeartbeat(pullHeartbeat))
	if err != nil {
		return fmt.Errorf("cluster: read the update stream: %w", err)
	}
	defer it.Stop()
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return fmt.Errorf("cluster: read the update stream after %d: %w", after, err)
		}
		m, err := message(msg)
		if err != nil {
			return err
		}
		if m.Seq > through {
			return nil
		}
		if err := fn(m); err != nil {
			return err
		}
		after = m.Seq
		if m.Seq >= through || m.Pending == 0 {
			return nil
		}
	}
}

// message decodes a delivered message.
func message(msg jetstream.Msg) (Message, error) {
	meta, err := msg.Metadata()
	if err != nil {
		return Message{}, fmt.Errorf("cluster: update stream message: %w", err)
	}
	m := Message{Seq: meta.Sequence.Stream, Pending: meta.NumPending}
	m.Updates, m.Bad = Decode(msg.Data())
	return m, nil
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

// Drop removes every message of the stream up to its last, and returns
// that message's sequence number (indexer build -drop-updates). The
// sequence numbers go on from there.
func (c *Conn) Drop(ctx context.Context) (uint64, error) {
	last, _, err := c.Last(ctx)
	if err != nil {
		return 0, err
	}
	if err := c.stream.Purge(ctx, jetstream.WithPurgeSequence(last+1)); err != nil {
		return 0, fmt.Errorf("cluster: drop the updates up to %d: %w", last, err)
	}
	return last, nil
}

// Follow calls fn, from a goroutine of its own, with each message of the
// stream after seq after, in order, as they come, until stop is called. A
// message that does not decode reaches fn with Bad set. The consumer
// survives the loss of a server: the client recreates it from the
// message after the last one delivered.
func (c *Conn) Follow(ctx context.Context, after uint64, fn func(Message)) (stop func(), err error) {
	cons, err := c.consumer(ctx, after)
	if err != nil {
		return nil, err
	}
	log := c.cfg.Logger
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		m, err := message(msg)
		if err != nil {
			log.Error().Err(err).Msg("update stream message without metadata")
			return
		}
		fn(m)
	}, jetstream.PullExpiry(pullExpiry), jetstream.PullHeartbeat(pullHeartbeat),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			log.Debug().Err(err).Msg("update stream consumer")
		}))
	if err != nil {
		return nil, fmt.Errorf("cluster: follow the update stream after %d: %w", after, err)
	}
	return cc.Stop, nil
}
