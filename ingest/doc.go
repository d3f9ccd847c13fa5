// Package ingest reads input files into newsdesk Events.
//
// Three formats are understood: JSON Lines in the events.jsonl schema
// (ReadJSONL), the raw MediaWiki wikitext of a daily "Current events"
// portal page (ReadWikitext), and the Markdown of a site's event page
// (ReadMarkdown). ReadFile picks the format from the file name or, failing
// that, from the content, and reads gzip-compressed files transparently.
//
// A reader never stops at a bad record: it reports each one to the
// caller's Sink as a Problem (file, line, reason, excerpt) and goes on.
// Only I/O errors, and errors the Sink returns, end a read early.
package ingest

import (
	"unicode/utf8"

	"github.com/newsdesk/newsdesk"
)

// Problem is one input record that could not become an event.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"` // 1-based; 0 when the problem is the whole file
	Reason  string `json:"reason"`
	Excerpt string `json:"excerpt"` // the start of the record, valid UTF-8, at most ExcerptLen bytes
}

// ExcerptLen is the longest excerpt a Problem carries.
const ExcerptLen = 80

// Sink receives what a reader finds. Event is called for each good event
// in input order; a non-nil error from it stops the read and is returned.
// Problem is called for each bad record.
type Sink interface {
	Event(e newsdesk.Event) error
	Problem(p Problem)
}

// excerpt returns the start of b as a short, printable, valid UTF-8 string.
func excerpt(b []byte) string {
	if len(b) > ExcerptLen {
		// At a character's start: a cut through one would end the
		// excerpt of a valid line with U+FFFD.
		cut := ExcerptLen
		for cut > ExcerptLen-utf8.UTFMax && !utf8.RuneStart(b[cut]) {
			cut--
		}
		b = b[:cut]
	}
	out := make([]rune, 0, len(b))
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		switch {
		case r == utf8.RuneError && size == 1:
			out = append(out, '\uFFFD')
		case r < 0x20 || r == 0x7f:
			out = append(out, ' ')
		default:
			out = append(out, r)
		}
	}
	return string(out)
}
