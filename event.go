package newsdesk

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// DateLayout is the layout of Event.Date: the day the portal lists the
// event under.
const DateLayout = "2006-01-02"

// MinDate and MaxDate bound every date newsdesk accepts, both inclusive:
// event dates from every reader and from bulk updates, and the date
// filters of the API. Wide enough for any news archive (the corpus spans
// decades, and historical events reach back to the 19th century), narrow
// enough that a histogram of the whole range has at most 400 year buckets
// and that Go's zero time (0001-01-01, what null placeholders serialise
// to) and sentinel years such as 9999 are refused instead of being read
// as real days. Four-digit years also keep the dates' text order their
// time order, which the date keyword's term ranges rely on.
const (
	MinDate = "1800-01-01"
	MaxDate = "2199-12-31"
)

// MaxSlugLen is the longest slug an event id carries after its date, the
// same limit the news site's URLs use.
const MaxSlugLen = 128

// MaxTagBytes bounds an event's topic, its category and each of its
// context tags, and MaxTags its context tags: the corpus's longest tag is
// 203 bytes and its most tags on one event 10. A longer tag could never
// be filtered on (a filter value is at most 256 bytes), and related
// lists analyse every tag of an event.
const (
	MaxTagBytes = 256
	MaxTags     = 50
)

// MaxWordBytes bounds a word of an event's text, as the analyser cuts it
// (mappings.LongestWord). The corpus's longest is 80 bytes (a URL's slug
// in a text). An event made of one word
// of a megabyte was accepted, and every walk of the index's dictionary
// went through its megabyte: searchd took 3 s to start on 500 events
// instead of 0.24, and a prefix search of it 1.9 s.
const MaxWordBytes = 1024

// Event is one news event: a dated, one-sentence summary filed under a
// running story (Topic) and a portal section (Category), tagged with the
// linked entities and stories around it (Context) and citing Sources.
//
// The JSON form is the schema of the events.jsonl files.
type Event struct {
	// ID is stable and unique: the date, a slash and a slug of the text
	// (see NewID).
	ID string `json:"id"`
	// Date is the day the event is listed under, in DateLayout.
	Date string `json:"date"`
	// Category is one of the portal's sections, or "" when unknown.
	Category string `json:"category"`
	// Topic is the running story the event is filed under, or "".
	Topic string `json:"topic"`
	// Context holds story and entity names around the event; may be empty.
	Context []string `json:"context"`
	// Text is the event's summary, plain text without markup.
	Text string `json:"text"`
	// Sources are the cited outlets, in the order cited.
	Sources []Source `json:"sources"`
}

// Source is one cited outlet.
type Source struct {
	// Name is the outlet as cited ("Reuters", "AP via ESPN").
	Name string `json:"name"`
	// URL is the cited article, or "" when unknown.
	URL string `json:"url,omitempty"`
}

// ParseDate reads a YYYY-MM-DD day from MinDate to MaxDate as a UTC time
// at midnight. Its error says which of the two rules s breaks.
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a real YYYY-MM-DD day", clip(s))
	}
	if s < MinDate || s > MaxDate {
		return time.Time{}, fmt.Errorf("%s is outside the accepted range %s to %s", s, MinDate, MaxDate)
	}
	return t, nil
}

// Time returns the event's date as a UTC time at midnight; an error
// wrapping ErrInvalidEvent when it is not a day from MinDate to MaxDate.
func (e *Event) Time() (time.Time, error) {
	t, err := ParseDate(e.Date)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: date %w", ErrInvalidEvent, err)
	}
	return t, nil
}

// Validate reports the first reason the event cannot be indexed: a missing
// id or text, a date that is not a real YYYY-MM-DD day from MinDate to
// MaxDate, a string field that is not valid UTF-8, or an id that does not
// follow the scheme (see CheckID). Errors wrap ErrInvalidEvent.
func (e *Event) Validate() error {
	if strings.TrimSpace(e.ID) == "" {
		return fmt.Errorf("%w: missing id", ErrInvalidEvent)
	}
	if _, err := e.Time(); err != nil {
		return err
	}
	if strings.TrimSpace(e.Text) == "" {
		return fmt.Errorf("%w: missing text", ErrInvalidEvent)
	}
	check := func(field, s string) error {
		if !utf8.ValidString(s) {
			return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidEvent, field)
		}
		return nil
	}
	for _, f := range [][2]string{{"id", e.ID}, {"text", e.Text}, {"topic", e.Topic}, {"category", e.Category}} {
		if err := check(f[0], f[1]); err != nil {
			return err
		}
	}
	for i, c := range e.Context {
		if err := check(fmt.Sprintf("context[%d]", i), c); err != nil {
			return err
		}
	}
	for i, s := range e.Sources {
		if err := check(fmt.Sprintf("sources[%d].name", i), s.Name); err != nil {
			return err
		}
		if err := check(fmt.Sprintf("sources[%d].url", i), s.URL); err != nil {
			return err
		}
	}
	return e.checkID()
}

// CheckTags checks the limits of an event's tags (MaxTagBytes, MaxTags).
// It is not part of Validate: the readers of new input (files, bulk
// updates) apply it, with the words' limit (MaxWordBytes, package
// ingest), while updates journaled or streamed before the limits existed
// are replayed as they were acknowledged.
func (e *Event) CheckTags() error {
	for _, f := range [][2]string{{"topic", e.Topic}, {"category", e.Category}} {
		if len(f[1]) > MaxTagBytes {
			return fmt.Errorf("%w: %s is %d bytes, more than %d", ErrInvalidEvent, f[0], len(f[1]), MaxTagBytes)
		}
	}
	if len(e.Context) > MaxTags {
		return fmt.Errorf("%w: %d context tags, more than %d", ErrInvalidEvent, len(e.Context), MaxTags)
	}
	for i, c := range e.Context {
		if len(c) > MaxTagBytes {
			return fmt.Errorf("%w: context[%d] is %d bytes, more than %d", ErrInvalidEvent, i, len(c), MaxTagBytes)
		}
	}
	return nil
}

// checkID checks that the id is the event's date, a slash and a slug: the
// scheme of events.jsonl, which every id of the corpus follows. Ids are
// path segments of the API's and the pages' URLs, so anything else ("..",
// a second slash, a reserved suffix such as "/related", a 200,000-character
// id) would be stored yet unreachable.
func (e *Event) checkID() error {
	date, slug, ok := strings.Cut(e.ID, "/")
	switch {
	case !ok:
		return fmt.Errorf("%w: id %q is not YYYY-MM-DD/slug: it has no slash", ErrInvalidEvent, clip(e.ID))
	case date != e.Date:
		return fmt.Errorf("%w: id %q does not start with the event's date %s", ErrInvalidEvent, clip(e.ID), e.Date)
	case slug == "":
		return fmt.Errorf("%w: id %q has an empty slug after the date", ErrInvalidEvent, clip(e.ID))
	case len(slug) > MaxSlugLen:
		return fmt.Errorf("%w: id %q has a slug of %d characters, more than %d", ErrInvalidEvent, clip(e.ID), len(slug), MaxSlugLen)
	}
	for i, r := range slug {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case r == '-' && i > 0:
		default:
			return fmt.Errorf("%w: id %q: the slug may hold only lower-case ASCII letters, digits and hyphens, starting with a letter or digit; not %q (byte %d of the id)",
				ErrInvalidEvent, clip(e.ID), r, len(date)+2+i)
		}
	}
	return nil
}

// clip shortens a value quoted back in an error message.
func clip(s string) string { return Clip(s, 60) }

// Clip returns s cut to at most n bytes at a character's start, with "…"
// after it when it was cut: a value quoted back in a message is not
// echoed whole (a 30,000-byte date), nor cut through a character (which
// would end it with U+FFFD).
func Clip(s string, n int) string {
	if cut := CutAt(s, n); len(cut) < len(s) {
		return cut + "…"
	}
	return s
}

// CutAt returns the longest start of s of at most n bytes that ends at a
// character's start.
func CutAt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := max(n, 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// NewID returns the id of an event listed on date with the given text: the
// date, a slash, and Slug(text). It is the scheme of events.jsonl, so an
// event read from another format gets the id it has there.
func NewID(date, text string) string {
	return date + "/" + Slug(text)
}

// Slug turns text into the lower-case ASCII slug of the site's URLs:
// accents are dropped (Überlingen → uberlingen), other non-ASCII
// characters vanish (Army–Navy → armynavy), every run of other characters
// becomes one hyphen, and the result is cut to MaxSlugLen characters.
func Slug(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	pendingHyphen := false
	for _, r := range norm.NFKD.String(text) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case r >= 'A' && r <= 'Z':
			r = unicode.ToLower(r)
		case r >= utf8.RuneSelf:
			continue // accents and non-Latin letters vanish, as in the site's URLs
		default:
			pendingHyphen = b.Len() > 0
			continue
		}
		if pendingHyphen {
			b.WriteByte('-')
			pendingHyphen = false
		}
		b.WriteRune(r)
	}
	s := b.String()
	if len(s) > MaxSlugLen {
		s = strings.TrimRight(s[:MaxSlugLen], "-")
	}
	return s
}

// Merge folds an earlier record of the same event into e: e keeps every
// field it has, and takes the earlier value of each field it leaves empty
// (category, topic, context, sources, date). It is how a duplicate id is
// resolved: the last record wins, field by field, so a page that only
// knows an event's sources does not erase the context another file gave it.
func (e *Event) Merge(earlier *Event) {
	if e.Date == "" {
		e.Date = earlier.Date
	}
	if e.Category == "" {
		e.Category = earlier.Category
	}
	if e.Topic == "" {
		e.Topic = earlier.Topic
	}
	if e.Text == "" {
		e.Text = earlier.Text
	}
	if len(e.Context) == 0 {
		e.Context = earlier.Context
	}
	if len(e.Sources) == 0 {
		e.Sources = earlier.Sources
		return
	}
	// Keep a URL the earlier record knew for a source this one cites by
	// name only.
	for i := range e.Sources {
		if e.Sources[i].URL != "" {
			continue
		}
		for _, s := range earlier.Sources {
			if s.URL != "" && strings.EqualFold(s.Name, e.Sources[i].Name) {
				e.Sources[i].URL = s.URL
				break
			}
		}
	}
}
