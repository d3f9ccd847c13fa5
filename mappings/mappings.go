// Package mappings builds the Bleve index mapping for newsdesk events.
//
// The mapping is explicit and static: only the fields listed here are
// indexed, nothing dynamic, no _all field. A copy of its JSON lives in
// testdata/mapping.golden.json so that every change to it shows up as a
// diff; a changed mapping needs a rebuilt index (index.Open refuses a
// stored mapping that differs from New's, or from Legacy's: generations
// built before the ranking fields were added are still served, ranked
// as they were).
package mappings

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	bmapping "github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/english"
	"github.com/newsdesk/newsdesk/entities"
)

// DocType is the only document type in the index.
const DocType = "event"

// Doc is the shape an Event takes in the index. Build it with NewDoc.
type Doc struct {
	// Text holds the event's sentence and, when it has one, its topic: the
	// words of a story's name then match its events even when their
	// sentence does not repeat them, at the cost of one field, where a
	// second analysed field for the topic doubled the cost of each query.
	// The sentence comes first; phrases do not span the two.
	Text     []string `json:"text"`
	Topic    string   `json:"topic"`
	Category string   `json:"category"`
	Context  []string `json:"context"`
	// Date is the exact YYYY-MM-DD: sortable as text, and filtered by
	// range through the search engine's date bitmaps. A Bleve datetime
	// field indexes 16 terms per value and cost a fifth of the build time.
	Date    string `json:"date"`
	Sources string `json:"sources"`
	// Keys holds the normal forms of the topic and context tags (see
	// package entities): related stories compare tags by them.
	Keys []string `json:"keys"`
	// Flags holds what rankings know of an event beyond its fields:
	// FlagStub for a heading-only stub.
	Flags []string `json:"flags"`
	// Lead holds the sentence's first LeadWords words, English-analysed:
	// what an event names first is what it is about, and the search box
	// ranks a query word there higher (without reading positions).
	Lead string `json:"lead"`
	// Forms holds the sentence, analysed into its words' forms
	// (english.Form): Porter's stem makes generation general and
	// experiment experience; the search box ranks first the events that
	// write the form typed.
	Forms string `json:"forms"`

	textLen int // about how many words the text field indexes
}

// TextLength returns about how many words the text field indexes: what a
// build averages for the search engine's length normalisation.
func (d Doc) TextLength() int { return d.textLen }

// LeadWords is how many of the sentence's first words Doc.Lead holds.
const LeadWords = 12

// FlagStub marks a heading-only stub: a text that is only story headings
// or a few words without a sentence's end, such as "Coalition of the
// willing". Stubs rank below real events, and stay findable.
const FlagStub = "stub"

// BleveType tells Bleve which document mapping Doc uses.
func (Doc) BleveType() string { return DocType }

// Docs turns events into their indexed form. It is immutable and safe
// for concurrent use.
type Docs struct {
	ents *entities.Table
	stop analysis.TokenMap
}

// NewDocs returns the converter of events into documents, normalising
// tags with ents.
func NewDocs(ents *entities.Table) (*Docs, error) {
	stop, err := registry.NewCache().TokenMapNamed(en.StopName)
	if err != nil {
		return nil, fmt.Errorf("mappings: %w", err)
	}
	return &Docs{ents: ents, stop: stop}, nil
}

// words counts the words of s the English analyser indexes, about: runs
// of letters and digits, stop words left out. Exact counts would analyse
// each text twice.
func (d *Docs) words(texts ...string) int {
	n := 0
	for _, s := range texts {
		for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if !d.stop[strings.ToLower(w)] {
				n++
			}
		}
	}
	return n
}

// Doc converts a valid Event into its indexed form.
func (d *Docs) Doc(e *newsdesk.Event) (Doc, error) {
	return d.doc(e, d.ents.Keys)
}

// doc is Doc with the tags' keys from keys.
func (d *Docs) doc(e *newsdesk.Event, keys func(tag string) []entities.Key) (Doc, error) {
	doc, err := NewDoc(e)
	if err != nil {
		return doc, err
	}
	// The context tags' words are searchable as the topic's are: in the
	// text field, after the sentence and the topic (a second analysed
	// field doubled the posting lists every search walks).
	doc.Text = append(doc.Text, e.Context...)
	doc.textLen = d.words(doc.Text...)
	doc.Forms = e.Text
	if words := strings.Fields(e.Text); len(words) > LeadWords {
		doc.Lead = strings.Join(words[:LeadWords], " ")
	} else {
		doc.Lead = e.Text
	}
	for _, tag := range append([]string{e.Topic}, e.Context...) {
		if tag == "" {
			continue
		}
		for _, k := range keys(tag) {
			doc.Keys = appendNew(doc.Keys, k.Full)
			if k.Yearless != "" && k.Yearless != k.Full {
				doc.Keys = appendNew(doc.Keys, k.Yearless)
			}
		}
	}
	if IsStub(e) {
		doc.Flags = append(doc.Flags, FlagStub)
	}
	return doc, nil
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// IsStub reports whether e is a heading-only stub (see FlagStub): its
// text has no sentence end, and is either a comma list of its own topic
// and context tags, or six words or fewer. A build also flags texts
// that list headings other events use (IsHeadingList).
func IsStub(e *newsdesk.Event) bool {
	if !noSentence(e.Text) {
		return false
	}
	if len(strings.Fields(e.Text)) <= 6 {
		return true
	}
	tags := map[string]bool{}
	for _, tag := range append([]string{e.Topic}, e.Context...) {
		tags[HeadingKey(tag)] = true
	}
	return IsHeadingList(e, tags)
}

// IsHeadingList reports whether e's text, without a sentence end, is
// only a comma list of headings known (by HeadingKey).
func IsHeadingList(e *newsdesk.Event, known map[string]bool) bool {
	if !noSentence(e.Text) {
		return false
	}
	for _, part := range strings.FieldsFunc(e.Text, func(r rune) bool { return r == ',' || r == ';' }) {
		if p := HeadingKey(part); p != "" && !known[p] {
			return false
		}
	}
	return true
}

// MayBeHeadingList reports whether IsHeadingList may hold for e, whatever
// the headings known: its text lacks a sentence end.
func MayBeHeadingList(e *newsdesk.Event) bool { return noSentence(e.Text) }

// noSentence reports whether t lacks a sentence's end.
func noSentence(t string) bool {
	t = strings.TrimSpace(t)
	return t != "" && !strings.ContainsAny(t[len(t)-1:], ".!?\"”)") && !strings.Contains(t, ". ")
}

// HeadingKey compares headings loosely: case and surrounding space.
func HeadingKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// NewDoc converts a valid Event into the indexed form the legacy mapping
// has: without the ranking fields (Keys, Flags) and the context tags in
// the text, which Docs.Doc adds.
func NewDoc(e *newsdesk.Event) (Doc, error) {
	if _, err := e.Time(); err != nil {
		return Doc{}, err
	}
	var src []byte
	if len(e.Sources) > 0 {
		var err error
		if src, err = json.Marshal(e.Sources); err != nil {
			return Doc{}, err
		}
	}
	text := []string{e.Text}
	if e.Topic != "" {
		text = append(text, e.Topic)
	}
	return Doc{
		Text:     text,
		Topic:    e.Topic,
		Category: e.Category,
		Context:  e.Context,
		Date:     e.Date,
		Sources:  string(src),
	}, nil
}

// New returns the index mapping for events. Each call returns a fresh
// value that the caller may keep; it is not modified afterwards.
func New() *bmapping.IndexMappingImpl {
	m := WithoutForms()
	doc := m.TypeMapping[DocType]
	forms := englishField(newsdesk.FieldForms, false, false)
	forms.Analyzer = english.FormsAnalyzerName
	doc.AddFieldMappingsAt("forms", forms)
	for _, p := range doc.Properties {
		p.Dynamic = false
	}
	return m
}

// WithoutForms returns the mapping of generations built before the forms
// field (2026-12-02): servers open them and rank them as New's, without
// the form boost, until a rebuild adds the field.
func WithoutForms() *bmapping.IndexMappingImpl {
	m := Legacy()
	doc := m.TypeMapping[DocType]
	doc.AddFieldMappingsAt("keys", exactField(newsdesk.FieldKeys, false))
	doc.AddFieldMappingsAt("flags", exactField(newsdesk.FieldFlags, false))
	doc.AddFieldMappingsAt("lead", englishField(newsdesk.FieldLead, false, false))
	for _, p := range doc.Properties {
		p.Dynamic = false
	}
	return m
}

// Older returns the mappings of the generations servers still open
// besides New's: WithoutForms, and Legacy, which they rank as they did.
func Older() []bmapping.IndexMapping {
	return []bmapping.IndexMapping{WithoutForms(), Legacy()}
}

func englishField(name string, store, vectors bool) *bmapping.FieldMapping {
	f := bleve.NewTextFieldMapping()
	f.Name = name
	f.Analyzer = en.AnalyzerName
	f.Store = store
	f.IncludeTermVectors = vectors
	f.IncludeInAll = false
	f.DocValues = false
	return f
}

func exactField(name string, store bool) *bmapping.FieldMapping {
	f := bleve.NewKeywordFieldMapping()
	f.Name = name
	f.Store = store
	f.IncludeTermVectors = false
	f.IncludeInAll = false
	f.DocValues = true
	return f
}

// Legacy returns the mapping of generations built before the ranking
// fields (keys, flags): servers still open them, and rank them as they
// did.
func Legacy() *bmapping.IndexMappingImpl {
	english, exact := englishField, exactField

	sources := bleve.NewTextFieldMapping()
	sources.Name = newsdesk.FieldSources
	sources.Index = false
	sources.Store = true
	sources.IncludeInAll = false
	sources.IncludeTermVectors = false
	sources.DocValues = false

	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt("text", english(newsdesk.FieldText, true, true))
	doc.AddFieldMappingsAt("topic", exact(newsdesk.FieldTopic, true))
	doc.AddFieldMappingsAt("category", exact(newsdesk.FieldCategory, true))
	// Context tags are matched exactly, not as English text: their words
	// nearly always appear in the text already, and a second analysed copy
	// cost a tenth of the build time for little recall.
	doc.AddFieldMappingsAt("context", exact(newsdesk.FieldContext, true))
	doc.AddFieldMappingsAt("date", exact(newsdesk.FieldDate, true))

	doc.AddFieldMappingsAt("sources", sources)
	doc.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	for _, p := range doc.Properties {
		p.Dynamic = false // static all the way down: unknown sub-fields are ignored
	}

	m := bleve.NewIndexMapping()
	m.AddDocumentMapping(DocType, doc)
	m.DefaultMapping = bleve.NewDocumentDisabledMapping()
	m.DefaultType = DocType
	m.DefaultAnalyzer = en.AnalyzerName
	m.DefaultField = newsdesk.FieldText
	m.IndexDynamic = false
	m.StoreDynamic = false
	m.DocValuesDynamic = false
	m.ScoringModel = bindex.BM25Scoring
	FixLowercase(m)
	return m
}

// JSON returns the canonical JSON of the mapping, the form Bleve stores in
// an index and the golden file holds.
func JSON() ([]byte, error) {
	return json.MarshalIndent(New(), "", "  ")
}
