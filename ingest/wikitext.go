package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"net/url"
	"regexp"
	"strings"

	"github.com/newsdesk/newsdesk"
)

// ReadWikitext reads one daily "Portal:Current events" page in raw
// MediaWiki wikitext. The date comes from the page's
// {{Current events|year=|month=|day=}} template; the category from the
// ";Heading" or "”'Heading”'" lines; the topic chain from bullet
// nesting: a bullet with deeper bullets under it is a story heading, a
// bullet without is an event. An event's topic is its nearest heading's
// story (the target of the heading's first link, else its text); its
// context is the link targets of every heading above it and of its own
// text; its sources come from "[url (Name)]" citations.
func ReadWikitext(name string, r io.Reader, sink Sink) error {
	lines, err := readAllLines(name, r, sink)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	stripCommentLines(lines)
	stripRefLines(lines)
	date, at, reason := wikiDate(lines)
	if reason != "" {
		p := Problem{File: name, Line: at, Reason: reason}
		if at <= len(lines) {
			p.Excerpt = excerpt([]byte(lines[at-1]))
		}
		sink.Problem(p)
		return nil
	}
	var (
		category string
		headings []wikiHeading // the open story headings, by depth
	)
	for i, raw := range lines {
		line := strings.TrimSpace(stripComments(raw))
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, ";"):
			category = canonicalCategory(plainText(strings.TrimPrefix(line, ";"), nil))
			headings = headings[:0]
			continue
		case strings.HasPrefix(line, "'''") && strings.HasSuffix(line, "'''") && !strings.HasPrefix(line, "*"):
			category = canonicalCategory(plainText(strings.Trim(line, "'"), nil))
			headings = headings[:0]
			continue
		case !strings.HasPrefix(line, "*"):
			continue // templates, the closing line, stray prose
		}
		depth := len(line) - len(strings.TrimLeft(line, "*"))
		body := strings.TrimSpace(line[depth:])
		for len(headings) > 0 && headings[len(headings)-1].depth >= depth {
			headings = headings[:len(headings)-1]
		}
		if nextBulletDepth(lines[i+1:]) > depth {
			headings = append(headings, newHeading(depth, body))
			continue
		}
		e, err := wikiEvent(date, category, headings, body)
		if err != nil {
			sink.Problem(Problem{File: name, Line: i + 1, Reason: err.Error(), Excerpt: excerpt([]byte(raw))})
			continue
		}
		if err := sink.Event(e); err != nil {
			return err
		}
	}
	return nil
}

type wikiHeading struct {
	depth int
	story string   // the story this heading names
	links []string // its link targets
}

func newHeading(depth int, body string) wikiHeading {
	var links []string
	text := plainText(stripCitations(body, nil), &links)
	story := text
	if len(links) > 0 {
		story = links[0]
	}
	return wikiHeading{depth: depth, story: story, links: links}
}

func wikiEvent(date, category string, headings []wikiHeading, body string) (newsdesk.Event, error) {
	var sources []newsdesk.Source
	var links []string
	text := plainText(stripCitations(body, &sources), &links)
	if text == "" {
		return newsdesk.Event{}, fmt.Errorf("bullet has no text once links and citations are removed")
	}
	e := newsdesk.Event{ID: newsdesk.NewID(date, text), Date: date, Category: category, Text: text, Sources: sources}
	seen := map[string]bool{}
	add := func(tag string) {
		if tag != "" && !seen[tag] {
			seen[tag] = true
			e.Context = append(e.Context, tag)
		}
	}
	for _, h := range headings {
		for _, l := range h.links {
			add(l)
		}
		if len(h.links) == 0 {
			add(h.story)
		}
	}
	for _, l := range links {
		add(l)
	}
	if len(headings) > 0 {
		e.Topic = headings[len(headings)-1].story
	}
	normalise(&e)
	err := e.Validate()
	if err == nil {
		err = checkLimits(&e) // new input, as a JSONL file's: the limits apply
	}
	if err != nil {
		return newsdesk.Event{}, errors.New(strings.TrimPrefix(err.Error(), newsdesk.ErrInvalidEvent.Error()+": "))
	}
	return e, nil
}

var (
	// MediaWiki reads a template name's first letter in either case.
	templateDateRe = regexp.MustCompile(`\{\{\s*[Cc]urrent events\s*\|([^}]*)`)
	templateArgRe  = regexp.MustCompile(`\|\s*(year|month|day)\s*=\s*(\d+)`)
)

// wikiDate finds the page's date in its {{Current events}} template, and
// the template's line. When the page has none, or its date is not a real
// day within newsdesk's range, reason says so: the page's events cannot
// be dated, and are reported once, for the page.
func wikiDate(lines []string) (date string, line int, reason string) {
	// The whole page: the template's arguments may stand on the lines
	// after its name.
	page := strings.Join(lines, "\n")
	if loc := templateDateRe.FindStringSubmatchIndex(page); loc != nil {
		i := strings.Count(page[:loc[0]], "\n")
		m := []string{page[loc[0]:loc[1]], page[loc[2]:loc[3]]}
		// The digits as written, padded: year=20191 is refused as
		// 20191-03-05, never read as 2019.
		parts := map[string]string{"year": "0000", "month": "00", "day": "00"}
		args, _, _ := strings.Cut(m[1], "content=") // the page's text follows
		for _, a := range templateArgRe.FindAllStringSubmatch("|"+args, -1) {
			v := strings.TrimLeft(a[2], "0")
			parts[a[1]] = strings.Repeat("0", max(0, len(parts[a[1]])-len(v))) + v
		}
		date = parts["year"] + "-" + parts["month"] + "-" + parts["day"]
		if _, err := newsdesk.ParseDate(date); err != nil {
			return "", i + 1, "the {{Current events}} template's date " + err.Error() + "; the page's events cannot be dated"
		}
		return date, i + 1, ""
	}
	return "", 1, "no {{Current events|year=...|month=...|day=...}} template with a valid date; the page's events cannot be dated"
}

// categories are the portal's ten sections; pages spell some of them in
// other ways over the years.
var categories = map[string]string{
	"armed conflicts and attacks": "Armed conflicts and attacks",
	"armed conflict and attacks":  "Armed conflicts and attacks",
	"arts and culture":            "Arts and culture",
	"business and economy":        "Business and economy",
	"business and economics":      "Business and economy",
	"disasters and accidents":     "Disasters and accidents",
	"health and environment":      "Health and environment",
	"health and medicine":         "Health and environment",
	"international relations":     "International relations",
	"law and crime":               "Law and crime",
	"politics and elections":      "Politics and elections",
	"science and technology":      "Science and technology",
	"sports":                      "Sports",
	"sport":                       "Sports",
}

func canonicalCategory(s string) string {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), ":"))
	if c, ok := categories[strings.ToLower(s)]; ok {
		return c
	}
	return s
}

func nextBulletDepth(rest []string) int {
	for _, l := range rest {
		l = strings.TrimSpace(stripComments(l))
		if l == "" {
			continue
		}
		if !strings.HasPrefix(l, "*") {
			return 0
		}
		return len(l) - len(strings.TrimLeft(l, "*"))
	}
	return 0
}

var (
	commentRe  = regexp.MustCompile(`(?s)<!--.*?-->`)
	refRe      = regexp.MustCompile(`(?s)<ref[^>/]*/>|<ref[^>]*>.*?</ref>`)
	citationRe = regexp.MustCompile(`\[(https?://[^\s\]]+)(?:\s+([^\]]*))?\]`)
	linkRe     = regexp.MustCompile(`\[\[([^\[\]|]*)(?:\|([^\[\]]*))?\]\]`)
	templateRe = regexp.MustCompile(`\{\{([^{}]*)\}\}`)
	tagRe      = regexp.MustCompile(`</?[a-zA-Z][^>]*>`)
	spaceRe    = regexp.MustCompile(`\s+`)
	spacePunct = regexp.MustCompile(`\s+([,.;:!?)])`)
	trailingRe = regexp.MustCompile(`[\s,;]+$`)
)

func hostName(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Hostname(), "www.")
}

func stripComments(s string) string { return commentRe.ReplaceAllString(s, "") }

// stripCitations removes "[url (Name)]" citations from s, appending each
// as a Source to *sources when sources is not nil.
func stripCitations(s string, sources *[]newsdesk.Source) string {
	s = refRe.ReplaceAllString(s, "")
	return citationRe.ReplaceAllStringFunc(s, func(m string) string {
		sub := citationRe.FindStringSubmatch(m)
		name := strings.TrimSpace(plainText(sub[2], nil))
		name = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(name, "("), ")"))
		if name == "" {
			name = hostName(sub[1]) // a bare [url] citation: name the outlet by its site
		}
		if sources != nil {
			*sources = append(*sources, newsdesk.Source{Name: name, URL: sub[1]})
		}
		return ""
	})
}

// plainText turns wikitext into plain text: links become their display
// text (their targets are appended to *links when links is not nil),
// templates, tags and bold/italic quotes vanish, entities are decoded and
// spaces collapsed.
func plainText(s string, links *[]string) string {
	s = linkRe.ReplaceAllStringFunc(s, func(m string) string {
		sub := linkRe.FindStringSubmatch(m)
		target, display := sub[1], sub[2]
		if strings.Contains(m, "|") && display == "" {
			display = target // the pipe trick; close enough
		}
		if display == "" {
			display = target
		}
		target = linkTarget(target)
		if target == "" {
			return "" // files, categories, interwiki links
		}
		if links != nil {
			*links = append(*links, target)
		}
		return strings.TrimPrefix(display, ":")
	})
	for templateRe.MatchString(s) { // innermost first, for nested templates
		s = templateRe.ReplaceAllStringFunc(s, templateText)
	}
	s = tagRe.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "'''", "")
	s = strings.ReplaceAll(s, "''", "")
	s = html.UnescapeString(s)
	s = strings.ReplaceAll(s, "\u00a0", " ")
	s = spaceRe.ReplaceAllString(s, " ")
	s = spacePunct.ReplaceAllString(s, "$1")
	s = trailingRe.ReplaceAllString(s, "")
	return strings.TrimSpace(s)
}

// templateText keeps the visible text of the few inline templates news
// items use ({{nowrap|x}}, {{lang|fr|x}}); other templates vanish.
func templateText(m string) string {
	args := strings.Split(strings.Trim(m, "{}"), "|")
	switch strings.ToLower(strings.TrimSpace(args[0])) {
	case "nowrap", "nobr", "small", "abbr":
		if len(args) > 1 {
			return args[1]
		}
	case "lang", "transl":
		if len(args) > 2 {
			return args[2]
		}
	}
	return ""
}

// linkTarget normalises a wiki link target as MediaWiki does: no section,
// underscores as spaces, first letter upper case. Namespaced targets
// (File:, Category:, interwiki) give "".
func linkTarget(t string) string {
	t = strings.TrimSpace(strings.ReplaceAll(t, "_", " "))
	if i := strings.IndexByte(t, '#'); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	if strings.HasPrefix(t, ":") || strings.Contains(t, ":") && isNamespace(t[:strings.IndexByte(t, ':')]) {
		return ""
	}
	if t == "" {
		return ""
	}
	r := []rune(t)
	r[0] = []rune(strings.ToUpper(string(r[0])))[0]
	return html.UnescapeString(string(r))
}

func isNamespace(prefix string) bool {
	switch strings.ToLower(strings.TrimSpace(prefix)) {
	case "file", "image", "category", "wikt", "wiktionary", "wikipedia", "w", "commons", "template", "portal", "help", "special", "media", "s", "n", "q", "d":
		return true
	}
	return len(prefix) == 2 || len(prefix) == 3 // language interwiki such as fr: or simple:
}

// readAllLines reads r's lines, without their line ends (and the first's
// byte-order mark). A line longer than MaxLineLen is a bad record of the
// page, as in JSONL, and reads as empty: the page's other lines, and
// their numbers, are kept.
func readAllLines(name string, r io.Reader, sink Sink) ([]string, error) {
	var out []string
	lines := NewLines(r)
	for {
		line, n, err := lines.Next()
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if errors.Is(err, io.EOF) && n == 0 {
			return out, nil
		}
		if n > MaxLineLen {
			sink.Problem(Problem{File: name, Line: len(out) + 1, Excerpt: excerpt(line),
				Reason: fmt.Sprintf("line is %d bytes, longer than the %d-byte limit", n, MaxLineLen)})
			line = nil
		}
		if len(out) == 0 {
			line = bytes.TrimPrefix(line, bom)
		}
		out = append(out, string(line))
		if err != nil {
			return out, nil
		}
	}
}

// refOpenRe finds a <ref> that opens a reference (not <ref name=x />),
// refCloseRe its end; commentOpenRe and commentCloseRe those of a
// comment.
var (
	refOpenRe      = regexp.MustCompile(`<ref(?:\s[^>]*[^/>])?\s*>`)
	refCloseRe     = regexp.MustCompile(`</ref\s*>`)
	commentOpenRe  = regexp.MustCompile(`<!--`)
	commentCloseRe = regexp.MustCompile(`-->`)
)

// stripCommentLines removes the page's HTML comments (<!-- ... -->) from
// lines in place, those that span lines too.
func stripCommentLines(lines []string) { stripSpans(lines, commentOpenRe, commentCloseRe) }

// stripRefLines removes the page's references (<ref>...</ref>), which
// citations read from no line, from lines in place, those that span lines
// too.
func stripRefLines(lines []string) { stripSpans(lines, refOpenRe, refCloseRe) }

// stripSpans removes from lines, in place, each span from a match of open
// to the next of close, across lines as MediaWiki reads them: what
// follows a span's end on a later line continues the line the span began
// on (a bullet's citation after its reference), and the lines the span
// took stay, empty, so that line numbers still point into the file. An
// unclosed span ends with its line: MediaWiki would hide the rest of the
// page behind a comment never closed (and show a reference never closed
// as text), and every event after it would be lost without a word.
func stripSpans(lines []string, open, close *regexp.Regexp) {
	// closeAfter[i]: a line after line i holds a close, so that a span
	// opened on line i and not closed on it can end later.
	closeAfter := make([]bool, len(lines))
	for i, later := len(lines)-1, false; i >= 0; i-- {
		closeAfter[i] = later
		later = later || close.MatchString(lines[i])
	}
	var b strings.Builder
	inSpan, into := false, 0
	for i, l := range lines {
		if inSpan {
			lines[i] = "" // the span's: what follows its end goes to lines[into]
		} else {
			b.Reset()
			into = i
		}
		for l != "" {
			if inSpan {
				m := close.FindStringIndex(l)
				if m == nil {
					break
				}
				l, inSpan = l[m[1]:], false
				continue
			}
			m := open.FindStringIndex(l)
			if m == nil {
				b.WriteString(l)
				break
			}
			b.WriteString(l[:m[0]])
			l = l[m[1]:]
			if !close.MatchString(l) && !closeAfter[i] {
				break // never closed: it ends with its line
			}
			inSpan = true
		}
		lines[into] = b.String()
	}
}
