package ingest

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/newsdesk/newsdesk"
)

// ReadMarkdown reads one event page in the news site's Markdown: the date
// from its "### [YYYY-MM-DD](...)" line, the topic from the "#####"
// heading, the text from the "#" heading, the sources from the numbered
// list under "### Sources:". The id is made from date and text with
// newsdesk.NewID, as in the JSONL, and not taken from the page's links:
// the site's URL slugs run longer than the ids' 128 characters, and the
// same event must get the same id from every format. The page's Related
// and Changes lists describe other events and are not read.
func ReadMarkdown(name string, r io.Reader, sink Sink) error {
	lines, err := readAllLines(name, r, sink)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	var (
		e       newsdesk.Event
		section string
		textAt  int
		dateAt  int
	)
	for i, line := range lines {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "### ["):
			if m := pageDateRe.FindStringSubmatch(line); m != nil && e.Date == "" {
				e.Date, dateAt = m[1], i+1
			}
		case strings.HasPrefix(line, "##### "):
			e.Topic = strings.TrimSpace(strings.TrimPrefix(line, "##### "))
		case strings.HasPrefix(line, "# ") && e.Text == "":
			e.Text = strings.TrimSpace(strings.TrimPrefix(line, "# "))
			textAt = i + 1
		case strings.HasPrefix(line, "### "):
			section = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(line, "### "), ":"))
		case section == "sources":
			if m := mdSourceRe.FindStringSubmatch(line); m != nil {
				e.Sources = append(e.Sources, newsdesk.Source{Name: strings.TrimSpace(m[1]), URL: strings.TrimSpace(m[2])})
			} else if m := mdPlainSourceRe.FindStringSubmatch(line); m != nil {
				e.Sources = append(e.Sources, newsdesk.Source{Name: strings.TrimSpace(m[1])})
			}
		}
	}
	normalise(&e)
	switch {
	case e.Date == "":
		err = errors.New(`missing date: no "### [YYYY-MM-DD](…)" line`)
	case e.Text == "":
		err = errors.New(`missing text: no "# " line`)
	default:
		e.ID = newsdesk.NewID(e.Date, e.Text)
		if err = e.Validate(); err == nil {
			err = checkLimits(&e) // new input, as a JSONL file's: the limits apply
		}
	}
	if err != nil {
		line := textAt
		if _, derr := newsdesk.ParseDate(e.Date); derr != nil && dateAt > 0 {
			line = dateAt // the page's date is what is wrong
		}
		if line == 0 {
			line = 1
		}
		reason := strings.TrimPrefix(err.Error(), newsdesk.ErrInvalidEvent.Error()+": ")
		if e.Text == "" || e.Date == "" {
			reason = "not an event page: " + reason
		}
		sink.Problem(Problem{File: name, Line: line, Excerpt: excerpt([]byte(e.Text)), Reason: reason})
		return nil
	}
	return sink.Event(e)
}

var (
	pageDateRe = regexp.MustCompile(`^### \[(\d{4}-\d{2}-\d{2})\]`)
	// A URL may hold parentheses, in pairs (Wikipedia's
	// Mercury_(planet)).
	mdSourceRe      = regexp.MustCompile(`^\d+\.\s+\[([^\]]+)\]\(((?:[^()\s]|\([^()\s]*\))+)\)`)
	mdPlainSourceRe = regexp.MustCompile(`^\d+\.\s+(.+)$`)
)
