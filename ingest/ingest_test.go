package ingest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk"
)

// collect is a Sink that keeps everything.
type collect struct {
	events   []newsdesk.Event
	problems []Problem
}

func (c *collect) Event(e newsdesk.Event) error { c.events = append(c.events, e); return nil }
func (c *collect) Problem(p Problem)            { c.problems = append(c.problems, p) }

func good(id string) string {
	return `{"id": "2019-03-04/` + id + `", "date": "2019-03-04", "category": "", "topic": "", "context": [], "text": "Event ` + id + `.", "sources": []}`
}

// TestReadJSONL_BadLines plants bad lines of every kind among good ones:
// each bad line must be reported with its number and reason, and each
// good line (including the quirky but valid ones) read.
func TestReadJSONL_BadLines(t *testing.T) {
	lines := []struct {
		text       string
		wantReason string // "" for a good line; "-" for a line skipped silently
		wantID     string
	}{
		{"\xef\xbb\xbf" + good("bom-first-line"), "", "2019-03-04/bom-first-line"},
		{good("plain"), "", "2019-03-04/plain"},
		{`{"id": "2019-03-04/truncated", "date": "2019-03-04", "text": "cut`, "truncated JSON", ""},
		{good("crlf") + "\r", "", "2019-03-04/crlf"},
		{`{"id": "2019-03-04/bad-utf8", "date": "2019-03-04", "text": "caf` + "\xe9" + `"}`, "invalid UTF-8 at byte 65", ""},
		{`{"id": "2019-03-04/long", "date": "2019-03-04", "text": "` + strings.Repeat("x", 2<<20) + `"}`, "longer than the 1048576-byte limit", ""},
		// Its length without its CRLF, as for a short line.
		{strings.Repeat("y", 1<<20+10) + "\r", "line is 1048586 bytes", ""},
		{`{"date": "2019-03-04", "text": "No id."}`, `missing field "id"`, ""},
		{`{"id": "2019-03-04/bad-date", "date": "04/03/2019", "text": "Bad date."}`, `date "04/03/2019" is not a real YYYY-MM-DD day`, ""},
		{`{"id": "2019-02-30/no-such-day", "date": "2019-02-30", "text": "No such day."}`, "is not a real YYYY-MM-DD day", ""},
		{`{"id": "0001-01-01/null-date", "date": "0001-01-01", "text": "A null date as Go writes it."}`, "date 0001-01-01 is outside the accepted range 1800-01-01 to 2199-12-31", ""},
		{`{"id": "9999-12-31/sentinel", "date": "9999-12-31", "text": "A sentinel date."}`, "date 9999-12-31 is outside the accepted range", ""},
		{`{"id": "1800-01-01/first-day", "date": "1800-01-01", "text": "The first day accepted."}`, "", "1800-01-01/first-day"},
		{`{"id": "../../etc/passwd", "date": "2019-03-04", "text": "Climbing up."}`, `id "../../etc/passwd" does not start with the event's date 2019-03-04`, ""},
		{`{"id": "2019-03-04/x/related", "date": "2019-03-04", "text": "A reserved suffix."}`, "not '/'", ""},
		{`{"id": "2019-03-05/other-day", "date": "2019-03-04", "text": "Id of another day."}`, "does not start with the event's date 2019-03-04", ""},
		{`{"id": "2019-03-04/` + strings.Repeat("a", 129) + `", "date": "2019-03-04", "text": "Slug too long."}`, "slug of 129 characters, more than 128", ""},
		// A word of a megabyte went through every walk of the index's
		// dictionary; one of 1,024 bytes is the longest accepted.
		{`{"id": "2019-03-04/long-word", "date": "2019-03-04", "text": "A ` + strings.Repeat("y", 1025) + ` word."}`, `text has a word of 1025 bytes, more than 1024: "yyyyyyyyyyyyyyyyyyyy"…`, ""},
		{`{"id": "2019-03-04/longest-word", "date": "2019-03-04", "text": "A ` + strings.Repeat("y", 1024) + ` word."}`, "", "2019-03-04/longest-word"},
		{`{"id": "2019-03-04/wrong-type", "date": "2019-03-04", "text": 42}`, `field "text": want a string, got number`, ""},
		{`{"id": "2019-03-04/wrong-context", "date": "2019-03-04", "text": "x", "context": "Not a list"}`, `field "context": want a list of strings, got string`, ""},
		// What a field takes, in JSON's words: not Go's []newsdesk.Source.
		{`{"id": "2019-03-04/wrong-sources", "date": "2019-03-04", "text": "x", "sources": "Reuters"}`, `field "sources": want a list of objects {"name", "url"}, got string`, ""},
		{`{"id": "2019-03-04/wrong-source-name", "date": "2019-03-04", "text": "x", "sources": [{"name": 1}]}`, `field "sources[].name": want a string, got number`, ""},
		// An element of the wrong type: the list's, not the element's,
		// is what is wanted (it read "want a string" for a list).
		{`{"id": "2019-03-04/wrong-context-tag", "date": "2019-03-04", "text": "x", "context": ["Syria", 5]}`, `field "context": want a list of strings, got a list holding a number`, ""},
		{`{"id": "2019-03-04/a-source-not-an-object", "date": "2019-03-04", "text": "x", "sources": ["Reuters"]}`, `field "sources": want a list of objects {"name", "url"}, got a list holding a string`, ""},
		// Control characters other than tab and line breaks are junk,
		// not text (since 2026-12-02: a NUL was indexed and shown).
		{`{"id": "2019-03-04/nul", "date": "2019-03-04", "text": "A NUL\u0000 here."}`, "text holds the control character U+0000 at byte 6", ""},
		{`{"id": "2019-03-04/escape-in-tag", "date": "2019-03-04", "text": "x", "context": ["Syria", "\u001b[31mRed"]}`, "context[1] holds the control character U+001B at byte 1", ""},
		// The input's place: before empty tags are dropped and text is
		// trimmed.
		{`{"id": "2019-03-04/bell-in-third-tag", "date": "2019-03-04", "text": "x", "context": ["", "A", "B\u0007"]}`, "context[2] holds the control character U+0007 at byte 2", ""},
		{`{"id": "2019-03-04/nul-after-spaces", "date": "2019-03-04", "text": "  \u0000 leading"}`, "text holds the control character U+0000 at byte 3", ""},
		{`{"id": "2019-03-04/nul-in-url", "date": "2019-03-04", "text": "x", "sources": [{"name": "A", "url": "http://a/\u0000"}]}`, "sources[0].url holds the control character U+0000 at byte 10", ""},
		{`{"id": "2019-03-04/c1-in-source", "date": "2019-03-04", "text": "x", "sources": [{"name": "A\u0085B"}]}`, "sources[0].name holds the control character U+0085 at byte 2", ""},
		{`{"id": "2019-03-04/tab-and-newline", "date": "2019-03-04", "text": "A tab\tand a\nline break."}`, "", "2019-03-04/tab-and-newline"},
		{"", "-", ""},
		{"   \t", "-", ""},
		{good("trailing") + ` garbage`, "trailing garbage", ""},
		{`["an", "array"]`, "want a JSON object, got array", ""},
		{` null `, "want a JSON object, got null", ""},
		{`{"id": "", "date": "2019-03-04", "text": "Empty id."}`, "missing id", ""},
		{`{"id": "2019-03-04/empty-text", "date": "2019-03-04", "text": "  "}`, "missing text", ""},
		{"not json at all", "invalid JSON at byte", ""},
		// encoding/json would keep the last, in any case: filed as "Second."
		{`{"id": "2019-03-04/twice", "date": "2019-03-04", "text": "First.", "text": "Second."}`, `field "text" is given more than once`, ""},
		{`{"id": "2019-03-04/twice-case", "date": "2019-03-04", "text": "First.", "Text": "Second."}`, `field "text" is given more than once`, ""},
		{`{"id": "2019-03-04/nested-twice", "date": "2019-03-04", "text": "A {\"text\": tag}", "sources": [{"name": "A", "name": "B"}]}`, "", "2019-03-04/nested-twice"},
		// encoding/json folds ſ to s: the second sources would be filed.
		{`{"id": "2019-03-04/long-s", "date": "2019-03-04", "text": "x", "sources": [{"name": "Good"}], "ſources": [{"name": "Evil"}]}`, `field "sources" is given more than once`, ""},
		// A file's own fields are never read: repeating them is its business.
		{`{"id": "2019-03-04/own-fields", "date": "2019-03-04", "text": "x", "url": "a", "URL": "b", "note": "c", "note": "d"}`, "", "2019-03-04/own-fields"},
		{good("last-without-newline"), "", "2019-03-04/last-without-newline"},
	}
	var buf bytes.Buffer
	for i, l := range lines {
		buf.WriteString(l.text)
		if i < len(lines)-1 {
			buf.WriteString("\n")
		}
	}
	var c collect
	if err := ReadJSONL("bad.jsonl", &buf, &c); err != nil {
		t.Fatalf("ReadJSONL: %v", err)
	}
	var wantIDs []string
	wantProblems := map[int]string{}
	for i, l := range lines {
		switch l.wantReason {
		case "":
			wantIDs = append(wantIDs, l.wantID)
		case "-":
		default:
			wantProblems[i+1] = l.wantReason
		}
	}
	var gotIDs []string
	for _, e := range c.events {
		gotIDs = append(gotIDs, e.ID)
	}
	if !reflect.DeepEqual(gotIDs, wantIDs) {
		t.Errorf("good events = %v\nwant %v", gotIDs, wantIDs)
	}
	if len(c.problems) != len(wantProblems) {
		t.Errorf("got %d problems, want %d: %+v", len(c.problems), len(wantProblems), c.problems)
	}
	for _, p := range c.problems {
		want, ok := wantProblems[p.Line]
		if !ok {
			t.Errorf("unexpected problem on line %d: %s", p.Line, p.Reason)
			continue
		}
		if !strings.Contains(p.Reason, want) {
			t.Errorf("line %d: reason %q, want it to contain %q", p.Line, p.Reason, want)
		}
		if p.File != "bad.jsonl" || len(p.Excerpt) > ExcerptLen+3*ExcerptLen || p.Excerpt == "" {
			t.Errorf("line %d: file %q excerpt %q", p.Line, p.File, p.Excerpt)
		}
	}
}

func TestReadFile_Fixtures(t *testing.T) {
	tests := []struct {
		file string
		want []newsdesk.Event
	}{
		{"testdata/event-page.md", []newsdesk.Event{{
			ID:   "2019-03-05/rebel-forces-of-the-flf-shell-the-harbour-of-port-elba-freedonia",
			Date: "2019-03-05", Topic: "Siege of Port Elba",
			Text:    "Rebel forces of the FLF shell the harbour of Port Elba, Freedonia.",
			Sources: []newsdesk.Source{{Name: "Example News", URL: "https://news.example.org/elba-shelling"}, {Name: "Wire Service"}},
		}}},
		{"testdata/portal.wiki", []newsdesk.Event{
			{
				ID:       "2019-03-05/rebel-forces-of-the-flf-shell-the-harbour-of-port-elba-freedonia",
				Date:     "2019-03-05",
				Category: "Armed conflicts and attacks",
				Topic:    "Siege of Port Elba",
				Context:  []string{"Freedonian Civil War", "Siege of Port Elba", "Freedonian Liberation Front", "Port Elba", "Freedonia"},
				Text:     "Rebel forces of the FLF shell the harbour of Port Elba, Freedonia.",
				Sources: []newsdesk.Source{{Name: "Example News", URL: "https://news.example.org/elba-shelling"},
					{Name: "Wire Service", URL: "https://wire.example.com/a/1"}},
			},
			{
				ID:       "2019-03-05/government-troops-retake-the-village-of-marsh-end",
				Date:     "2019-03-05",
				Category: "Armed conflicts and attacks",
				Topic:    "Freedonian Civil War",
				Context:  []string{"Freedonian Civil War", "Marsh End"},
				Text:     "Government troops retake the village of Marsh End.",
				Sources:  []newsdesk.Source{{Name: "Wire Service via Daily Example", URL: "https://wire.example.com/a/2"}},
			},
			{
				ID:       "2019-03-05/the-central-bank-of-sylvania-raises-its-key-rate-to-4-5-percent",
				Date:     "2019-03-05",
				Category: "Business and economy",
				Context:  []string{"Central Bank of Sylvania"},
				Text:     "The Central Bank of Sylvania raises its key rate to 4.5 percent.",
				Sources:  []newsdesk.Source{{Name: "Money Example", URL: "https://money.example.net/rates"}},
			},
			{
				ID:       "2019-03-05/sylvania-suspends-grain-exports-to-its-neighbour-in-the-2019-dispute",
				Date:     "2019-03-05",
				Category: "Business and economy",
				Topic:    "Sylvania–Freedonia relations",
				Context:  []string{"Sylvania–Freedonia relations", "Trade war", "Sylvania", "Freedonia"},
				Text:     "Sylvania suspends grain exports to its neighbour in the 2019 dispute.",
				Sources:  []newsdesk.Source{{Name: "news.example.org", URL: "https://news.example.org/grain"}},
			},
			{
				ID:       "2019-03-05/port-elba-fc-beat-marsh-end-united-21-in-the-final",
				Date:     "2019-03-05",
				Category: "Sports",
				Topic:    "2019 Example Cup",
				Context:  []string{"2019 Example Cup", "Association football", "Port Elba FC", "Marsh End United"},
				Text:     "Port Elba FC beat Marsh End United 2–1 in the final.",
				Sources:  []newsdesk.Source{{Name: "Sport Example", URL: "https://sport.example.org/final"}},
			},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			var c collect
			if err := ReadFile(tc.file, &c, nil); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.events, tc.want) {
				t.Errorf("events:\n got %+v\nwant %+v", c.events, tc.want)
			}
			// The file picture ends in a bullet that is only an image: a bad record.
			if tc.file == "testdata/portal.wiki" {
				if len(c.problems) != 1 || c.problems[0].Line != 17 {
					t.Errorf("problems = %+v, want one on line 17 (the image-only bullet)", c.problems)
				}
			} else if len(c.problems) != 0 {
				t.Errorf("problems = %+v, want none", c.problems)
			}
		})
	}
}

func TestReadFile_GzipAndSniffing(t *testing.T) {
	raw, err := os.ReadFile("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(raw)
	w.Close()
	// Two members, as gzip writes files concatenated (cat a.gz b.gz).
	var members bytes.Buffer
	half := bytes.IndexByte(raw, '\n') + 1
	for _, part := range [][]byte{raw[:half], raw[half:]} {
		w := gzip.NewWriter(&members)
		w.Write(part)
		w.Close()
	}
	files := map[string][]byte{
		"events.jsonl.gz":  gz.Bytes(),
		"events.data":      gz.Bytes(), // gzip found by magic bytes, JSONL by content
		"events.txt":       raw,
		"members.jsonl.gz": members.Bytes(),
		// Padded with zeros to a block, as tape and some copy tools
		// leave an archive: gzip -d reads it whole, the build failed.
		"padded.jsonl.gz":         append(bytes.Clone(gz.Bytes()), make([]byte, 1024)...),
		"members-padded.jsonl.gz": append(bytes.Clone(members.Bytes()), make([]byte, 100_000)...),
	}
	for name, content := range files {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, content, 0o644); err != nil {
				t.Fatal(err)
			}
			var c collect
			var read int64
			if err := ReadFile(p, &c, func(n int64) { read = n }); err != nil {
				t.Fatal(err)
			}
			if len(c.events) != 3 || len(c.problems) != 0 {
				t.Errorf("got %d events, %d problems; want 3 and 0", len(c.events), len(c.problems))
			}
			if read != int64(len(content)) {
				t.Errorf("progress reported %d bytes, want %d", read, len(content))
			}
		})
	}
	t.Run("bytes after the padding", func(t *testing.T) {
		p := filepath.Join(dir, "garbage.jsonl.gz")
		os.WriteFile(p, append(append(bytes.Clone(gz.Bytes()), make([]byte, 10)...), "more"...), 0o644)
		if err := ReadFile(p, &collect{}, nil); err == nil || !strings.Contains(err.Error(), "gzip: invalid header") {
			t.Errorf("ReadFile = %v, want gzip's invalid header", err)
		}
	})
	t.Run("unknown format", func(t *testing.T) {
		p := filepath.Join(dir, "notes.txt")
		os.WriteFile(p, []byte("just some notes"), 0o644)
		err := ReadFile(p, &collect{}, nil)
		if err == nil || !strings.Contains(err.Error(), "unknown format") {
			t.Errorf("ReadFile = %v, want an unknown format error", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		if err := ReadFile(filepath.Join(dir, "nope.jsonl"), &collect{}, nil); err == nil {
			t.Error("ReadFile of a missing file = nil, want an error")
		}
	})
}

func TestReadWikitext_NoDate(t *testing.T) {
	var c collect
	err := ReadWikitext("undated.wiki", strings.NewReader("*Something happens. [https://x.example (X)]\n"), &c)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.events) != 0 || len(c.problems) != 1 || !strings.Contains(c.problems[0].Reason, "Current events") {
		t.Errorf("events %v problems %+v: want no events and one problem about the missing template", c.events, c.problems)
	}
}

func TestReadMarkdown_NotAnEventPage(t *testing.T) {
	var c collect
	if err := ReadMarkdown("readme.md", strings.NewReader("# Hello\n\nSome text.\n"), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.events) != 0 || len(c.problems) != 1 || !strings.Contains(c.problems[0].Reason, "not an event page") {
		t.Errorf("events %v problems %+v: want one 'not an event page' problem", c.events, c.problems)
	}
}

// TestReadFile_DateAndIDRules reads pages whose dates or texts break the
// rules every reader shares (newsdesk.Event.Validate): each bad record is
// reported with its line and a reason saying what is wrong.
func TestReadFile_DateAndIDRules(t *testing.T) {
	tests := []struct {
		file        string
		wantIDs     []string
		wantLine    int
		wantProblem string
	}{
		{"testdata/date-out-of-range.wiki", nil, 1, "date 1799-12-31 is outside the accepted range 1800-01-01 to 2199-12-31"},
		{"testdata/date-zero.md", nil, 3, "date 0001-01-01 is outside the accepted range 1800-01-01 to 2199-12-31"},
		// A text without an ASCII letter or digit gives no slug, so no id.
		{"testdata/non-latin.wiki", []string{"2019-03-06/an-earthquake-strikes-tokyo"}, 3, `id "2019-03-06/" has an empty slug`},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got, c := readIDs(t, tc.file)
			if !reflect.DeepEqual(got, tc.wantIDs) {
				t.Errorf("events %v, want %v", got, tc.wantIDs)
			}
			if len(c.problems) != 1 || c.problems[0].Line != tc.wantLine || !strings.Contains(c.problems[0].Reason, tc.wantProblem) {
				t.Errorf("problems = %+v, want one on line %d containing %q", c.problems, tc.wantLine, tc.wantProblem)
			}
		})
	}
}

// TestReadPages_Edges: what the page readers make of an over-long line, a
// comment across lines, a year of five digits and a URL with parentheses.
func TestReadPages_Edges(t *testing.T) {
	long := "*A very long event " + strings.Repeat("word ", MaxLineLen/5) + "ends."
	tests := []struct {
		name, file, page string
		wantIDs          []string
		wantProblemLine  int    // 0: no problem
		wantProblem      string // a part of its reason
		wantURL          string // the first event's first source's, if not ""
	}{
		{"a line over the limit is one bad record", "long.wiki",
			"{{Current events|year=2019|month=3|day=5|content=\n;Sport\n" + long + "\n*Team A beats Team B in the final of the cup.\n}}\n",
			[]string{"2019-03-05/team-a-beats-team-b-in-the-final-of-the-cup"}, 3, "longer than the", ""},
		{"a comment across lines holds no event", "comment.wiki",
			"{{Current events|year=2019|month=3|day=5|content=\n;Sport\n*Team A beats Team B in the final of the cup. <!-- editors: check\nthe score -->\n<!--\n*Draft: Team C is rumoured to sign a player.\n-->\n}}\n",
			[]string{"2019-03-05/team-a-beats-team-b-in-the-final-of-the-cup"}, 0, "", ""},
		{"a reference across lines is left out", "ref.wiki",
			"{{Current events|year=2019|month=3|day=5|content=\n;Sport\n*Team A beats Team B in the final of the cup.<ref name=\"a\">{{cite web\n|title=The final\n}}</ref> [https://news.example/final (News)]\n*Team C wins.<ref name=\"a\" />\n}}\n",
			[]string{"2019-03-05/team-a-beats-team-b-in-the-final-of-the-cup", "2019-03-05/team-c-wins"}, 0, "", "https://news.example/final"},
		{"the template's arguments on the lines after its name", "args.wiki",
			"{{Current events\n|year=2019\n|month=3\n|day=5\n|content=\n;Sport\n*Team A beats Team B on the birthday=9 of its coach.\n}}\n",
			[]string{"2019-03-05/team-a-beats-team-b-on-the-birthday-9-of-its-coach"}, 0, "", ""},
		{"a year of five digits is refused, not cut", "year.wiki",
			"{{Current events|year=20191|month=3|day=5|content=\n;Sport\n*Team A beats Team B.\n}}\n",
			nil, 1, "20191-03-05", ""},
		{"a day with a leading zero", "zero.wiki",
			"{{Current events|year=2019|month=03|day=005|content=\n;Sport\n*Team A beats Team B.\n}}\n",
			[]string{"2019-03-05/team-a-beats-team-b"}, 0, "", ""},
		{"an unclosed reference ends with its line", "unclosedref.wiki",
			"{{Current events|year=2019|month=3|day=8|content=\n*Event before an unclosed ref.<ref>oops\n*Event after the unclosed ref.\n}}\n",
			[]string{"2019-03-08/event-before-an-unclosed-ref", "2019-03-08/event-after-the-unclosed-ref"}, 0, "", ""},
		{"an unclosed comment ends with its line", "unclosedcomment.wiki",
			"{{Current events|year=2019|month=3|day=8|content=\n*Event before an unclosed comment. <!-- oops\n*Event after the unclosed comment.\n*And one more.\n}}\n",
			[]string{"2019-03-08/event-before-an-unclosed-comment", "2019-03-08/event-after-the-unclosed-comment", "2019-03-08/and-one-more"}, 0, "", ""},
		{"a template name in lower case", "lower.wiki",
			"{{current events|year=2019|month=3|day=5|content=\n*Team A wins.\n}}\n",
			[]string{"2019-03-05/team-a-wins"}, 0, "", ""},
		{"a markdown page without a date", "nodate.md",
			"##### Science\n\n# Astronomers observe a transit of Mercury across the Sun.\n",
			nil, 3, "missing date", ""},
		{"a markdown page without a title", "notext.md",
			"### [2019-03-05](https://news.example/2019-03-05)\n\n##### Science\n",
			nil, 1, "missing text", ""},
		{"a source URL with parentheses", "paren.md",
			"### [2019-03-05](https://news.example/2019-03-05)\n\n##### Science\n\n# Astronomers observe a transit of Mercury across the Sun.\n\n### Sources:\n\n1. [Wikipedia](https://en.wikipedia.org/wiki/Mercury_(planet))\n",
			[]string{"2019-03-05/astronomers-observe-a-transit-of-mercury-across-the-sun"}, 0, "", "https://en.wikipedia.org/wiki/Mercury_(planet)"},
		// The limits of tags apply to every format's new events, as to a
		// JSONL file's (a build accepted what a push refused).
		{"a story heading over 256 bytes", "longtopic.wiki",
			"{{Current events|year=2019|month=5|day=4|content=\n;Politics\n*[[" + strings.Repeat("L", 300) + "]]\n**A minister visits the capital.\n*Team C wins.\n}}\n",
			[]string{"2019-05-04/team-c-wins"}, 4, "more than 256", ""},
		{"more than 50 linked tags", "links.wiki",
			"{{Current events|year=2019|month=5|day=4|content=\n;Politics\n*A minister visits " + links(51) + " today.\n*Team C wins.\n}}\n",
			[]string{"2019-05-04/team-c-wins"}, 3, "more than 50", ""},
		{"a markdown topic over 256 bytes", "longtopic.md",
			"### [2019-03-05](https://news.example/2019-03-05)\n\n##### " + strings.Repeat("T", 300) + "\n\n# Astronomers observe a transit of Mercury across the Sun.\n",
			nil, 5, "more than 256", ""},
		{"a markdown line over the limit", "long.md",
			"### [2019-03-05](https://news.example/2019-03-05)\n\n##### Science\n\n# Astronomers observe a transit of Mercury across the Sun.\n\n" + strings.Repeat("x", MaxLineLen+1) + "\n",
			[]string{"2019-03-05/astronomers-observe-a-transit-of-mercury-across-the-sun"}, 7, "longer than the", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.file)
			if err := os.WriteFile(path, []byte(tc.page), 0o644); err != nil {
				t.Fatal(err)
			}
			got, c := readIDs(t, path)
			if !reflect.DeepEqual(got, tc.wantIDs) {
				t.Errorf("events %v, want %v", got, tc.wantIDs)
			}
			switch {
			case tc.wantProblemLine == 0 && len(c.problems) != 0:
				t.Errorf("problems %+v, want none", c.problems)
			case tc.wantProblemLine != 0 && (len(c.problems) != 1 || c.problems[0].Line != tc.wantProblemLine || !strings.Contains(c.problems[0].Reason, tc.wantProblem)):
				t.Errorf("problems %+v, want one on line %d containing %q", c.problems, tc.wantProblemLine, tc.wantProblem)
			}
			if tc.wantURL != "" && (len(c.events) == 0 || len(c.events[0].Sources) == 0 || c.events[0].Sources[0].URL != tc.wantURL) {
				t.Errorf("sources %+v, want the first's URL %s", c.events, tc.wantURL)
			}
		})
	}
}

// links returns n wiki links to distinct places.
func links(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "[[Place %d]] ", i)
	}
	return strings.TrimSpace(b.String())
}

// readIDs reads the file at path, and returns the ids of its events and
// everything it read.
func readIDs(t *testing.T, path string) ([]string, collect) {
	t.Helper()
	var c collect
	if err := ReadFile(path, &c, nil); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range c.events {
		ids = append(ids, e.ID)
	}
	return ids, c
}

// TestLines_LongLineLength: an over-long line's length leaves out its
// line ending, wherever the 64 KiB reads cut it: here a CRLF split
// between two reads (the CR last of one, the LF alone in the next).
func TestRepeatedKey(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "" for none
	}{
		{`{"a": 1, "b": 2}`, ""},
		{`{"a": 1, "a": 2}`, "a"},
		{`{"a": 1, "A": 2}`, "a"},
		{`{"s": 1, "\u017f": 2}`, "ſ"}, // ſ folds to s, as encoding/json matches
		{`{"\u0061": 1, "a": 2}`, "a"},
		{`{"a": "\"a\": 1", "b": {"a": 1, "a": 2}}`, ""},
		{`{"a": ["b", "b"], "c": [{"a": 1}]}`, ""},
		{`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"i":11}`, "i"},
		{`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"b":10}`, "b"},
		{`{}`, ""},
	} {
		got, ok := RepeatedKey([]byte(tc.in))
		if ok && tc.want != "" && foldName(got) == foldName(tc.want) {
			got = tc.want // either spelling names it
		}
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("RepeatedKey(%s) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}

func TestLines_LongLineLength(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want int
	}{
		{"LF", strings.Repeat("x", 17<<16) + "\n", 17 << 16},
		{"CRLF", strings.Repeat("x", 17<<16) + "\r\n", 17 << 16},
		{"CRLF split by a read", strings.Repeat("x", 17<<16-1) + "\r\n", 17<<16 - 1},
		{"CRLF after a read", strings.Repeat("x", 17<<16+1) + "\r\n", 17<<16 + 1},
	} {
		_, n, err := NewLines(strings.NewReader(tc.body + "next\n")).Next()
		if err != nil || n != tc.want {
			t.Errorf("%s: length %d, %v; want %d", tc.name, n, err, tc.want)
		}
	}
}

// TestDecodeEvent_Normalises: text and tags are composed (NFC), as the
// corpus and queries are, and tags trimmed, the empty ones dropped.
func TestDecodeEvent_Normalises(t *testing.T) {
	e, err := DecodeEvent([]byte(`{"id": "2019-06-01/the-blorbe-quarrel-ends", "date": "2019-06-01", "text": "The Blorbe\u0301 quarrel ends.",
		"topic": " Jo\u0308nko\u0308ping talks ", "context": ["India", " India ", "  ", ""], "sources": [{"name": "Le Monde Diplomatique\u0301"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if e.Text != "The Blorbé quarrel ends." || e.Topic != "Jönköping talks" {
		t.Errorf("text %q, topic %q: want them composed", e.Text, e.Topic)
	}
	if strings.Join(e.Context, "|") != "India" {
		t.Errorf("context %q, want the tags trimmed, the empty ones and repeats dropped", e.Context)
	}
	if e.Sources[0].Name != "Le Monde Diplomatiqué" {
		t.Errorf("source %q: want it composed", e.Sources[0].Name)
	}
}

// TestReadPages_Composed checks that the portal and Markdown readers
// compose decomposed accents (NFC), as the JSONL reader does: "Blorbe" and
// a combining accent could never be found as Blorbé.
func TestReadPages_Composed(t *testing.T) {
	for name, page := range map[string]string{
		"nfd.wiki": "{{Current events|year=2019|month=4|day=1|content=\n*[[Cafe\u0301 Blorbe\u0301]] opens in Paris.\n}}\n",
		"nfd.md":   "### [2019-04-01](https://news.example/2019-04-01)\n\n# Cafe\u0301 Blorbe\u0301 opens in Paris.\n",
	} {
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		_, c := readIDs(t, path)
		if len(c.events) != 1 || c.events[0].Text != "Caf\u00e9 Blorb\u00e9 opens in Paris." {
			t.Errorf("%s: events %+v, want the text composed", name, c.events)
		}
		if strings.HasSuffix(name, ".wiki") && (len(c.events) != 1 || len(c.events[0].Context) != 1 || c.events[0].Context[0] != "Caf\u00e9 Blorb\u00e9") {
			t.Errorf("%s: context %+v, want the link composed", name, c.events)
		}
	}
}

// TestExcerpt checks that an excerpt is cut at a character, never
// through one, and shows bad bytes and control characters plainly.
func TestExcerpt(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{strings.Repeat("é", 40), strings.Repeat("é", 40)},
		{"a" + strings.Repeat("é", 40), "a" + strings.Repeat("é", 39)},
		{"bad \xff byte\ttab", "bad \uFFFD byte tab"},
	} {
		if got := excerpt([]byte(tc.in)); got != tc.want {
			t.Errorf("excerpt(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
