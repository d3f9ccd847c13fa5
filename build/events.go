package build

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
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
// The offsets are keyed by a hash of the id, so that the collector has
// no pointer to follow in them; the record read back tells whether it is
// the id's, and an id whose hash another id has goes to a map of its own.
//
// Records are appended, never rewritten: a later record of an id
// supersedes the earlier one.
type eventStore struct {
	f      *os.File
	w      *bufio.Writer
	end    int64 // the file's length, buffered bytes included
	hash   func(string) uint64
	at     map[uint64]int64 // each live id's latest record, by the id's hash
	others map[string]int64 // live ids whose hash at holds for another id
	buf    []byte
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
	seed := maphash.MakeSeed()
	return &eventStore{f: f, w: bufio.NewWriterSize(f, 1<<20), hash: func(s string) uint64 { return maphash.String(seed, s) },
		at: make(map[uint64]int64, 1<<17), others: map[string]int64{}}, nil
}

func (s *eventStore) close() error { return s.f.Close() }

// len returns the number of live ids.
func (s *eventStore) len() int { return len(s.at) + len(s.others) }

// offset returns where the record of id is, if live.
func (s *eventStore) offset(id string) (int64, bool, error) {
	if off, ok := s.others[id]; ok {
		return off, true, nil
	}
	off, ok := s.at[s.hash(id)]
	if !ok {
		return 0, false, nil
	}
	body, err := s.record(off)
	if err != nil {
		return 0, false, err
	}
	d := decoder{b: body}
	return off, d.string() == id, d.err
}

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
	off := s.end
	s.end += int64(n + len(b))
	if _, ok := s.others[e.ID]; ok {
		s.others[e.ID] = off
		return nil
	}
	h := s.hash(e.ID)
	if _, taken := s.at[h]; taken {
		// The id's earlier record, or another id's.
		if _, mine, err := s.offset(e.ID); err != nil {
			return err
		} else if !mine {
			s.others[e.ID] = off
			return nil
		}
	}
	s.at[h] = off
	return nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// remove forgets id.
func (s *eventStore) remove(id string) error {
	if _, ok := s.others[id]; ok {
		delete(s.others, id)
		return nil
	}
	if _, mine, err := s.offset(id); err != nil || !mine {
		return err
	}
	delete(s.at, s.hash(id))
	return nil
}

// get returns the event of id, if live.
func (s *eventStore) get(id string) (newsdesk.Event, bool, error) {
	off, ok, err := s.offset(id)
	if err != nil || !ok {
		return newsdesk.Event{}, false, err
	}
	body, err := s.record(off)
	if err != nil {
		return newsdesk.Event{}, false, err
	}
	e, err := decodeEvent(body)
	return e, err == nil, err
}

// record returns the body of the record at off.
func (s *eventStore) record(off int64) ([]byte, error) {
	if err := s.w.Flush(); err != nil {
		return nil, fmt.Errorf("event store: %w", err)
	}
	var head [binary.MaxVarintLen64]byte
	n, err := s.f.ReadAt(head[:], off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("event store: %w", err)
	}
	size, w := binary.Uvarint(head[:n])
	if w <= 0 {
		return nil, errors.New("event store: corrupt record length")
	}
	body := make([]byte, size)
	if _, err := s.f.ReadAt(body, off+int64(w)); err != nil {
		return nil, fmt.Errorf("event store: %w", err)
	}
	return body, nil
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
