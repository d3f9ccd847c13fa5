package mappings_test

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/document"
	bmapping "github.com/blevesearch/bleve/v2/mapping"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/entities"
	"github.com/newsdesk/newsdesk/ingest"
	"github.com/newsdesk/newsdesk/mappings"
)

var corpus = flag.String("corpus", "", "also compare the documents of every event of this input `file` (the real corpus)")

// TestAnalyser_SameAsBleve checks that Analyser.Document makes, for every
// event of the fixtures (and of -corpus), the document Bleve's mapping
// makes of its Doc: the same fields in the same order, with the same
// names, array positions, options, values, lengths and terms, each with
// its frequency and locations.
func TestAnalyser_SameAsBleve(t *testing.T) {
	ents, err := entities.New()
	if err != nil {
		t.Fatal(err)
	}
	docs, err := mappings.NewDocs(ents)
	if err != nil {
		t.Fatal(err)
	}
	a, err := docs.NewAnalyser()
	if err != nil {
		t.Fatal(err)
	}
	m := mappings.New()
	events := sameEvents(t)
	for _, e := range events {
		for _, stub := range []bool{false, true} {
			got, gotLen, err := a.Document(&e, stub)
			if err != nil {
				t.Fatal(err)
			}
			d, err := docs.Doc(&e)
			if err != nil {
				t.Fatal(err)
			}
			if stub {
				d.Flags = append(d.Flags, mappings.FlagStub)
			}
			want := document.NewDocument(e.ID)
			if err := m.MapDocument(want, d); err != nil {
				t.Fatal(err)
			}
			want.AddIDField()
			for _, f := range want.Fields {
				if f.Options().IsIndexed() {
					f.Analyze()
				}
			}
			if g, w := describe(got), describe(want); g != w {
				t.Fatalf("event %s (stub %v): %s", e.ID, stub, firstDiff(g, w))
			}
			if gotLen != d.TextLength() {
				t.Errorf("event %s: text length %d, want %d", e.ID, gotLen, d.TextLength())
			}
		}
	}
}

// sameEvents returns the events Analyser and Words are compared with
// Bleve on: the fixtures', -corpus's, and one for each text of a list
// of tricky ones.
func sameEvents(t *testing.T) []newsdesk.Event {
	t.Helper()
	files := []string{
		"../build/testdata/same/tricky.jsonl", "../search/testdata/events.jsonl", "../search/testdata/ranking.jsonl",
		"../cmd/indexer/testdata/portal.wiki", "../build/testdata/page.md",
	}
	if *corpus != "" {
		files = append(files, *corpus)
	}
	var events []newsdesk.Event
	for _, f := range files {
		if err := ingest.ReadFile(f, eventList{&events}, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Texts the fixtures lack, each its own event.
	for i, text := range []string{
		"", "   ", "....", "a", "The", "it's", "’s", "'s", "ＡＢＣ　ｄｅｆ", "naïve café's façade", "1,000.5", "x_y_z", "a:b:c",
		"don't won’t ca n't", "ﬁne ﬂour", "İstanbul ıi", "ΣΊΣΥΦΟΣ", "日本語のテキスト", "한국어 텍스트", "emoji 👍🏽 👨‍👩‍👧",
		"zero\u200bwidth", "soft\u00adhyphen", "tab\tnew\nline", "Ünïcödé ÜBER straße STRASSE",
		// ASCII's word boundaries (asciiWords): what joins two letters, two digits, or neither.
		"U.S. troops", "3. .5 a.b. 1.a A.1 a..b 1..2", "x' 'x a''b 1''2 rock'n'roll", "9/11 1;2 a;b a,b 1,2, ,3", "1:2 a:1 b: :c",
		"e-mail 3rd 4x4 2019-20 $1.5bn 10% #1 @x", "end.\r\nNext\vline\fform \x00nul\x7f",
	} {
		events = append(events, newsdesk.Event{ID: fmt.Sprintf("2020-01-%02d/x", i%28+1), Date: fmt.Sprintf("2020-01-%02d", i%28+1), Text: text,
			Topic: text, Context: []string{text, "Syria"}})
	}
	if len(events) < 100 {
		t.Fatalf("read %d events from the fixtures, want more", len(events))
	}
	return events
}

// describe writes out everything a segment reads of doc's fields.
func describe(doc *document.Document) string {
	var b strings.Builder
	fmt.Fprintf(&b, "id=%s composite=%v\n", doc.ID(), doc.HasComposite())
	doc.VisitFields(func(f bindex.Field) {
		var value []byte
		if f.Options().IsStored() {
			// Bleve analyses a field it does not store in place: the
			// value then holds the lower-cased words, never read again.
			value = f.Value()
		}
		fmt.Fprintf(&b, "field %s %v opts=%d type=%c value=%q len=%d plain=%d\n", f.Name(), f.ArrayPositions(), f.Options(),
			f.EncodedFieldType(), value, f.AnalyzedLength(), f.NumPlainTextBytes())
		var terms []string
		for k, tf := range f.AnalyzedTokenFrequencies() {
			s := fmt.Sprintf("  %q=%q freq=%d", k, tf.Term, tf.Frequency())
			for _, l := range tf.Locations {
				s += fmt.Sprintf(" [%q %v %d %d-%d]", l.Field, l.ArrayPositions, l.Position, l.Start, l.End)
			}
			terms = append(terms, s)
		}
		slices.Sort(terms)
		b.WriteString(strings.Join(terms, "\n"))
		b.WriteString("\n")
	})
	return b.String()
}

// eventList is an ingest.Sink that keeps the events.
type eventList struct{ events *[]newsdesk.Event }

func (l eventList) Event(e newsdesk.Event) error { *l.events = append(*l.events, e); return nil }
func (l eventList) Problem(ingest.Problem)       {}

// firstDiff returns the first line where got and want differ.
func firstDiff(got, want string) string {
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(gl), len(wl)) {
		if gl[i] != wl[i] {
			return fmt.Sprintf("line %d:\ngot  %s\nwant %s", i+1, gl[i], wl[i])
		}
	}
	return fmt.Sprintf("got %d lines, want %d", len(gl), len(wl))
}

// TestWords_SameAsBleve checks that Words and SharedWords give, for the texts, topics and
// tags of sameEvents, the terms, byte ranges and positions of the English
// analyser it was made from, in the mappings of New and of Legacy, twice
// (the second time from its memory).
func TestWords_SameAsBleve(t *testing.T) {
	events := sameEvents(t)
	for name, m := range map[string]*bmapping.IndexMappingImpl{"new": mappings.New(), "legacy": mappings.Legacy()} {
		an := m.AnalyzerNamed(en.AnalyzerName)
		w, err := mappings.NewWords(an)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sw, err := mappings.NewSharedWords(an)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for round := range 2 {
			for _, e := range events {
				for _, text := range append([]string{e.Text, e.Topic}, e.Context...) {
					var want []string
					for _, tok := range an.Analyze([]byte(text)) {
						want = append(want, fmt.Sprintf("%q %d-%d @%d", tok.Term, tok.Start, tok.End, tok.Position))
					}
					for kind, each := range map[string]func([]byte, func([]byte, int, int, int)){"Words": w.Each, "SharedWords": sw.Each} {
						var got []string
						each([]byte(text), func(term []byte, start, end, pos int) {
							got = append(got, fmt.Sprintf("%q %d-%d @%d", term, start, end, pos))
						})
						if !slices.Equal(got, want) {
							t.Fatalf("%s %s, round %d, %q:\n%s", name, kind, round, text, firstDiff(strings.Join(got, "\n"), strings.Join(want, "\n")))
						}
					}
				}
			}
		}
	}
	if _, err := mappings.NewWords(mappings.New().AnalyzerNamed("keyword")); err == nil {
		t.Error("NewWords accepted the keyword analyser, whose tokenizer is not the unicode one")
	}
}

// TestSharedWords_Concurrent has several goroutines analyse the same texts
// with one SharedWords at once (run it with -race): each gets the terms
// one Words gives.
func TestSharedWords_Concurrent(t *testing.T) {
	an := mappings.New().AnalyzerNamed(en.AnalyzerName)
	w, err := mappings.NewWords(an)
	if err != nil {
		t.Fatal(err)
	}
	sw, err := mappings.NewSharedWords(an)
	if err != nil {
		t.Fatal(err)
	}
	var texts, want []string
	for _, e := range sameEvents(t) {
		var terms []string
		w.Each([]byte(e.Text), func(term []byte, _, _, _ int) { terms = append(terms, string(term)) })
		texts, want = append(texts, e.Text), append(want, strings.Join(terms, " "))
	}
	errs := make(chan string, 4)
	for g := range 4 {
		go func() {
			for i := range texts {
				i = (i + g*len(texts)/4) % len(texts) // each from another place
				var terms []string
				sw.Each([]byte(texts[i]), func(term []byte, _, _, _ int) { terms = append(terms, string(term)) })
				if got := strings.Join(terms, " "); got != want[i] {
					errs <- fmt.Sprintf("%q: %q, want %q", texts[i], got, want[i])
					return
				}
			}
			errs <- ""
		}()
	}
	for range 4 {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}
