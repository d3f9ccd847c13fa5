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

// MaxSlugLen is the longest slug an event id carries after its date, the
// same limit the news site's URLs use.
const MaxSlugLen = 128

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

// Time returns the event's date as a UTC time at midnight.
func (e *Event) Time() (time.Time, error) {
	t, err := time.Parse(DateLayout, e.Date)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: date %q is not YYYY-MM-DD", ErrInvalidEvent, e.Date)
	}
	return t, nil
}

// Validate reports the first reason the event cannot be indexed: a missing
// id or text, a date that is not a real YYYY-MM-DD day, or a string field
// that is not valid UTF-8. Errors wrap ErrInvalidEvent.
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
	return nil
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
