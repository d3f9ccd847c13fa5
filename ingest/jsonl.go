package ingest

import (
	"bufio"
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/mappings"
)

// MaxLineLen is the longest JSONL line read; a longer line is reported as
// a Problem and skipped, never fatal.
const MaxLineLen = 1 << 20

var bom = []byte("\xef\xbb\xbf")

// ReadJSONL reads events in the events.jsonl schema, one JSON object per
// line. A UTF-8 byte order mark and CRLF line endings are accepted, blank
// lines are skipped; every other line that is not a valid event is
// reported to sink with its line number and the reason.
func ReadJSONL(name string, r io.Reader, sink Sink) error {
	lines := NewLines(r)
	for lineNo := 1; ; lineNo++ {
		line, n, err := lines.Next()
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read %s line %d: %w", name, lineNo, err)
		}
		if n > MaxLineLen {
			sink.Problem(Problem{File: name, Line: lineNo, Excerpt: excerpt(line),
				Reason: fmt.Sprintf("line is %d bytes, longer than the %d-byte limit", n, MaxLineLen)})
		} else if n > 0 || err == nil {
			if err := decodeLine(name, lineNo, line, sink); err != nil {
				return err
			}
		}
		if err != nil { // io.EOF
			return nil
		}
	}
}

// Lines reads a stream line by line, each of any length, keeping at most
// MaxLineLen bytes of one in memory: a longer line is consumed whole and
// its length reported, so that one bad line costs one bad record, never
// the rest of the stream (bufio.Scanner stops at it). ReadJSONL and the
// bulk API read with it.
type Lines struct {
	br *bufio.Reader
}

// NewLines returns a Lines reading r.
func NewLines(r io.Reader) *Lines { return &Lines{br: bufio.NewReaderSize(r, 64<<10)} }

// Next returns the next line without its line ending, and its length n.
// When n exceeds MaxLineLen the line is consumed but only its first bytes
// are returned. At the end of input it returns io.EOF together with the
// last, unterminated line, if any. The line is valid until the next call.
func (l *Lines) Next() (line []byte, n int, err error) {
	br := l.br
	prevCR := false // the read before ended with a CR: a CRLF split between two
	for {
		chunk, err := br.ReadSlice('\n')
		n += len(chunk)
		switch {
		case n <= MaxLineLen+2 && line == nil && !errors.Is(err, bufio.ErrBufferFull):
			line = chunk // the common case: the whole line fit the buffer
		case n <= MaxLineLen+2:
			line = append(line, chunk...) // +2 leaves room for a CRLF
		case len(line) < ExcerptLen:
			line = append(line, chunk[:min(len(chunk), ExcerptLen-len(line))]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			prevCR = bytes.HasSuffix(chunk, []byte("\r"))
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, 0, err
		}
		if n <= MaxLineLen+2 {
			line = bytes.TrimSuffix(line, []byte("\n"))
			line = bytes.TrimSuffix(line, []byte("\r"))
			n = len(line)
		} else if bytes.HasSuffix(chunk, []byte("\r\n")) || (prevCR && string(chunk) == "\n") {
			n -= 2 // the line's length, as without CRLF
		} else if bytes.HasSuffix(chunk, []byte("\n")) {
			n--
		}
		return line, n, err
	}
}

// jsonEvent mirrors newsdesk.Event with every field optional, so that a
// missing field and a wrongly typed one get reasons of their own.
type jsonEvent struct {
	ID       *string           `json:"id"`
	Date     *string           `json:"date"`
	Category string            `json:"category"`
	Topic    string            `json:"topic"`
	Context  []string          `json:"context"`
	Text     *string           `json:"text"`
	Sources  []newsdesk.Source `json:"sources"`
}

func decodeLine(name string, lineNo int, line []byte, sink Sink) error {
	line = bytes.TrimPrefix(line, bom)
	if len(bytes.TrimSpace(line)) == 0 {
		return nil // blank lines separate nothing in JSONL; skip them quietly
	}
	e, err := DecodeEvent(line)
	if err != nil {
		sink.Problem(Problem{File: name, Line: lineNo, Reason: err.Error(), Excerpt: excerpt(line)})
		return nil
	}
	return sink.Event(e)
}

// DecodeEvent decodes and validates one event in the events.jsonl schema.
// Its error says what is wrong in words for the person who wrote it.
func DecodeEvent(b []byte) (newsdesk.Event, error) {
	if !utf8.Valid(b) {
		return newsdesk.Event{}, fmt.Errorf("invalid UTF-8 at byte %d", InvalidUTF8At(b)+1)
	}
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) { // decodes as an object with no field
		return newsdesk.Event{}, errors.New("want a JSON object, got null")
	}
	var je jsonEvent
	if err := json.Unmarshal(b, &je); err != nil {
		return newsdesk.Event{}, errors.New(jsonReason(err))
	}
	if k, ok := repeatedKey(b, foldedEventFields, eventFields); ok {
		return newsdesk.Event{}, fmt.Errorf("field %q is given more than once", k)
	}
	switch {
	case je.ID == nil:
		return newsdesk.Event{}, errors.New("missing field \"id\"")
	case je.Date == nil:
		return newsdesk.Event{}, errors.New("missing field \"date\"")
	case je.Text == nil:
		return newsdesk.Event{}, errors.New("missing field \"text\"")
	}
	// Text is composed (NFC), as the corpus and the queries are (an
	// editor's copy-paste may decompose accents: "Blorbe\u0301" could
	// never be found as Blorbé); tags are trimmed, the empty dropped.
	e := newsdesk.Event{
		ID: strings.TrimSpace(*je.ID), Date: strings.TrimSpace(*je.Date), Text: *je.Text,
		Category: je.Category, Topic: je.Topic, Context: je.Context, Sources: je.Sources,
	}
	// Before normalise, which trims, composes and drops empty tags: the
	// place named is the input's (a hunt found context[1] said of the
	// input's third tag, and bytes counted in the trimmed text).
	if err := checkControls(&e); err != nil {
		return newsdesk.Event{}, errors.New(strings.TrimPrefix(err.Error(), newsdesk.ErrInvalidEvent.Error()+": "))
	}
	normalise(&e)
	err := e.Validate()
	if err == nil {
		err = checkLimits(&e) // new input: the limits apply
	}
	if err != nil {
		return newsdesk.Event{}, errors.New(strings.TrimPrefix(err.Error(), newsdesk.ErrInvalidEvent.Error()+": "))
	}
	return e, nil
}

// checkLimits checks what new input must hold to (newsdesk.Event's
// CheckTags) and the words of its text (newsdesk.MaxWordBytes): an
// event of one word of a megabyte made every walk of the index's
// dictionary go through it.
func checkLimits(e *newsdesk.Event) error {
	if err := e.CheckTags(); err != nil {
		return err
	}
	if err := checkControls(e); err != nil {
		return err
	}
	if n, at := mappings.LongestWord(e.Text); n > newsdesk.MaxWordBytes {
		return fmt.Errorf("%w: text has a word of %d bytes, more than %d: %q…", newsdesk.ErrInvalidEvent, n, newsdesk.MaxWordBytes, clipWord(e.Text[at:]))
	}
	return nil
}

// checkControls refuses control characters other than tab and line
// breaks in what an event shows (its text, tags, source names and
// links): a NUL
// or an escape is the mark of binary junk or a broken export, not of a
// sentence, and was indexed and shown as it came.
func checkControls(e *newsdesk.Event) error {
	fields := [][2]string{{"text", e.Text}, {"topic", e.Topic}, {"category", e.Category}}
	for i, c := range e.Context {
		fields = append(fields, [2]string{fmt.Sprintf("context[%d]", i), c})
	}
	for i, src := range e.Sources {
		fields = append(fields, [2]string{fmt.Sprintf("sources[%d].name", i), src.Name}, [2]string{fmt.Sprintf("sources[%d].url", i), src.URL})
	}
	for _, f := range fields {
		for at, r := range f[1] {
			if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || (r >= 0x7f && r < 0xa0) {
				// Bytes counted from 1, as invalid UTF-8's are.
				return fmt.Errorf("%w: %s holds the control character U+%04X at byte %d", newsdesk.ErrInvalidEvent, f[0], r, at+1)
			}
		}
	}
	return nil
}

// clipWord returns the first 20 bytes of s, whole characters.
func clipWord(s string) string { return newsdesk.CutAt(s, 20) }

// normalise composes (NFC) and trims the event's text, category, topic,
// context tags and source names, and drops empty and repeated tags: what
// every reader does, whatever the format.
func normalise(e *newsdesk.Event) {
	e.Text, e.Category, e.Topic = composed(e.Text), composed(e.Category), composed(e.Topic)
	e.Context = tags(e.Context)
	for i := range e.Sources {
		e.Sources[i].Name = composed(e.Sources[i].Name)
	}
}

// composed returns s trimmed and composed (NFC).
func composed(s string) string { return norm.NFC.String(strings.TrimSpace(s)) }

// tags returns the tags trimmed and composed, without the empty ones.
func tags(in []string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, 0, len(in))
	for _, t := range in {
		if t = composed(t); t != "" && !slices.Contains(out, t) { // " India " repeats India
			out = append(out, t)
		}
	}
	return out
}

// jsonReason rewords encoding/json's errors for a person fixing the file.
func jsonReason(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "unexpected end of JSON input"):
		return "truncated JSON: the line ends inside the object"
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return fmt.Sprintf("want a JSON object, got %s", typeErr.Value)
		}
		path, declared := JSONPath(reflect.TypeFor[newsdesk.Event](), typeErr.Field)
		want, got := TypeMismatch(declared, typeErr)
		return fmt.Sprintf("field %q: want %s, got %s", path, want, got)
	case errors.As(err, &syntaxErr):
		if strings.Contains(syntaxErr.Error(), "after top-level value") {
			return fmt.Sprintf("trailing garbage after the JSON object at byte %d", syntaxErr.Offset)
		}
		return fmt.Sprintf("invalid JSON at byte %d: %s", syntaxErr.Offset, syntaxErr.Error())
	}
	return "invalid JSON: " + err.Error()
}

// JSONKind names what a field of Go type t takes, in JSON's words rather
// than Go's ("a list of strings", not []string; "a list of objects
// {"name", "url"}", not []newsdesk.Source; an object of more than four
// fields is "an object"), for the errors about a field
// of the wrong type, which a person fixing a file or a request reads.
func JSONKind(t reflect.Type) string {
	// A type that reads itself, from a JSON string (time.Time, as text)
	// or from JSON of its own form, is not named by its Go kind (a struct
	// that reads itself, as the related weights do, still takes an
	// object).
	switch pt := reflect.PointerTo(t); {
	case pt.Implements(textUnmarshaler):
		return "a string"
	case pt.Implements(jsonUnmarshaler) && t.Kind() != reflect.Struct:
		return "a value"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return JSONKind(t.Elem())
	case reflect.Interface:
		return "a value"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return "a string" // base64, as encoding/json reads []byte
		}
		return "a list of " + plural(JSONKind(t.Elem()))
	case reflect.Map:
		return "an object"
	case reflect.Struct:
		var names []string
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous && name == "" {
				return "an object" // its fields are the embedded one's too: not listed
			}
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			names = append(names, fmt.Sprintf("%q", name))
		}
		if len(names) == 0 || len(names) > 4 { // a long list says less than its name
			return "an object"
		}
		return "an object {" + strings.Join(names, ", ") + "}"
	}
	return "a " + t.Kind().String()
}

// JSONPath returns encoding/json's path of a field of root ("sources.name")
// as a person reads it, a list's elements marked ("sources[].name"), and
// the Go type declared at its end (nil when the path leaves root's
// fields). An embedded struct, which Go names in the path and JSON does
// not, is left out.
func JSONPath(root reflect.Type, field string) (string, reflect.Type) {
	var out []string
	t := root
	for _, seg := range strings.Split(field, ".") {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		list := false
		for t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && t.Elem().Kind() != reflect.Uint8 {
			t, list = t.Elem(), true
		}
		if list && len(out) > 0 {
			out[len(out)-1] += "[]"
		}
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			out, t = append(out, seg), nil
			continue
		}
		f, ok := jsonField(t, seg)
		if ok && f.Anonymous && f.Tag.Get("json") == "" {
			t = f.Type // an embedded struct: not in the JSON's path
			continue
		}
		out = append(out, seg)
		if t = nil; ok {
			t = f.Type
		}
	}
	return strings.Join(out, "."), t
}

// jsonField returns the field of struct t that JSON name name decodes
// into: by its tag, else its Go name, either in any case, as
// encoding/json matches them.
func jsonField(t reflect.Type, name string) (reflect.StructField, bool) {
	for f := range t.Fields() {
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" {
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		if strings.EqualFold(tag, name) || (f.Anonymous && f.Name == name) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// TypeMismatch says, in JSON's words, what a field of declared type
// takes and what it got, for encoding/json's type error te. An element
// of a list of the wrong type is named as such: encoding/json reports
// the element's type, which read "field "context": want a string" for
// "context": [5], as if the list should be a string.
func TypeMismatch(declared reflect.Type, te *json.UnmarshalTypeError) (want, got string) {
	for declared != nil && declared.Kind() == reflect.Pointer {
		declared = declared.Elem()
	}
	if declared != nil && (declared.Kind() == reflect.Slice || declared.Kind() == reflect.Array) && declared != te.Type {
		return JSONKind(declared), "a list holding " + article(te.Value)
	}
	return JSONKind(te.Type), te.Value
}

// article puts "a" or "an" before one of encoding/json's names of a
// value (number, string, object, array, bool).
func article(value string) string {
	if value == "" {
		return value
	}
	if strings.ContainsRune("aeiou", rune(value[0])) {
		return "an " + value
	}
	return "a " + value
}

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
)

// plural turns one of JSONKind's names into the plural.
func plural(kind string) string {
	switch {
	case kind == "true or false":
		return "true or false values"
	case strings.HasPrefix(kind, "a list of "):
		return "lists of " + strings.TrimPrefix(kind, "a list of ")
	case strings.HasPrefix(kind, "an object"):
		return "objects" + strings.TrimPrefix(kind, "an object")
	}
	return strings.TrimPrefix(strings.TrimPrefix(kind, "an "), "a ") + "s"
}

// InvalidUTF8At returns the offset of the first byte of b that is not
// UTF-8, or -1: what errors about bad bytes name.
func InvalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}
