package build

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/newsdesk/newsdesk"
)

// eventStore keeps a build's events by id, in a temporary file, with only
// each id's offset in memory: merging a duplicate needs the earlier
// event, and flagging heading lists needs a few events again at the end,
// but holding every event cost a build a fifth of its memory (and the
// garbage collector's scanning of it), ten times that at ten times the
// corpus. The file is unlinked at once, so a crash leaves nothing behind.
//
// Records are appended, never rewritten: a later record of an id
// supersedes the earlier one.
type eventStore struct {
	f   *os.File
	w   *bufio.Writer
	end int64            // the file's length, buffered bytes included
	at  map[string]int64 // each live id's latest record
	buf []byte
}

func newEventStore(dir string) (*eventStore, error) {
	f, err := os.CreateTemp(dir, "events-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("event store: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("event store: %w", err)
	}
	return &eventStore{f: f, w: bufio.NewWriterSize(f, 1<<20), at: make(map[string]int64, 1<<17)}, nil
}

func (s *eventStore) close() error { return s.f.Close() }

// len returns the number of live ids.
func (s *eventStore) len() int { return len(s.at) }

// put stores e as the event of its id.
func (s *eventStore) put(e *newsdesk.Event) error {
	b := s.buf[:0]
	for _, str := range []string{e.ID, e.Date, e.Category, e.Topic, e.Text} {
		b = appendString(b, str)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Context)))
	for _, c := range e.Context {
		b = appendString(b, c)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Sources)))
	for _, src := range e.Sources {
		b = appendString(appendString(b, src.Name), src.URL)
	}
	s.buf = b
	var head [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(head[:], uint64(len(b)))
	if _, err := s.w.Write(head[:n]); err != nil {
		return fmt.Errorf("event store: %w", err)
	}
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("event store: %w", err)
	}
	s.at[e.ID] = s.end
	s.end += int64(n + len(b))
	return nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// remove forgets id.
func (s *eventStore) remove(id string) { delete(s.at, id) }

// get returns the event of id, if live.
func (s *eventStore) get(id string) (newsdesk.Event, bool, error) {
	off, ok := s.at[id]
	if !ok {
		return newsdesk.Event{}, false, nil
	}
	if err := s.w.Flush(); err != nil {
		return newsdesk.Event{}, false, fmt.Errorf("event store: %w", err)
	}
	var head [binary.MaxVarintLen64]byte
	n, err := s.f.ReadAt(head[:], off)
	if err != nil && !errors.Is(err, io.EOF) {
		return newsdesk.Event{}, false, fmt.Errorf("event store: %w", err)
	}
	size, w := binary.Uvarint(head[:n])
	if w <= 0 {
		return newsdesk.Event{}, false, errors.New("event store: corrupt record length")
	}
	body := make([]byte, size)
	if _, err := s.f.ReadAt(body, off+int64(w)); err != nil {
		return newsdesk.Event{}, false, fmt.Errorf("event store: %w", err)
	}
	e, err := decodeEvent(body)
	return e, err == nil, err
}

func decodeEvent(b []byte) (newsdesk.Event, error) {
	d := decoder{b: b}
	var e newsdesk.Event
	e.ID, e.Date, e.Category, e.Topic, e.Text = d.string(), d.string(), d.string(), d.string(), d.string()
	if n := d.uvarint(); n > 0 && d.err == nil {
		e.Context = make([]string, 0, min(n, uint64(len(b))))
		for range n {
			e.Context = append(e.Context, d.string())
		}
	}
	if n := d.uvarint(); n > 0 && d.err == nil {
		e.Sources = make([]newsdesk.Source, 0, min(n, uint64(len(b))))
		for range n {
			e.Sources = append(e.Sources, newsdesk.Source{Name: d.string(), URL: d.string()})
		}
	}
	return e, d.err
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errors.New("event store: corrupt record")
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = errors.New("event store: corrupt record")
		d.b = nil
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
