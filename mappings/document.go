package mappings

import (
	"fmt"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/document"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/english"
	"github.com/newsdesk/newsdesk/entities"
)

// Analyser turns events into analysed Bleve documents, the form Bleve's
// mapping gives a Doc (same fields, options, terms, positions and
// offsets), without Bleve's generic path: no reflection over the Doc,
// and each English word form analysed once per Analyser rather than once
// per occurrence (the filters act on one token at a time, so a form's
// term is remembered). The build's segment writers use one each.
//
// An Analyser is not safe for concurrent use.
type Analyser struct {
	docs    *Docs
	fields  map[string]fieldSpec
	keyword analysis.Analyzer
	words   *Words // the English analyser's
	forms   *Words // the forms analyser's (english.Form)
	// formsField is the forms field sentence made, and formsToks its
	// words, for Document to add after the lead.
	formsField *analysedField
	formsToks  []token
	toks       []token // scratch, of english
	slab       slab
	keys       map[string][]entities.Key // of each tag seen: tags repeat, and normalising them is costly
}

type fieldSpec struct {
	opts bindex.FieldIndexingOptions
}

// NewAnalyser returns an Analyser for the mapping New returns.
func (d *Docs) NewAnalyser() (*Analyser, error) {
	m := New()
	a := &Analyser{docs: d, fields: map[string]fieldSpec{}, keys: map[string][]entities.Key{}}
	for name, p := range m.TypeMapping[DocType].Properties {
		for _, f := range p.Fields {
			a.fields[name] = fieldSpec{opts: f.Options()}
		}
	}
	a.keyword = m.AnalyzerNamed("keyword")
	if a.keyword == nil {
		return nil, fmt.Errorf("mappings: the keyword analyser is missing")
	}
	words, err := NewWords(m.AnalyzerNamed(en.AnalyzerName))
	if err != nil {
		return nil, err
	}
	a.words = words
	if a.forms, err = NewWords(m.AnalyzerNamed(english.FormsAnalyzerName)); err != nil {
		return nil, err
	}
	return a, nil
}

// Document returns e's document, analysed, its _id field included, ready
// for a segment; stub flags it as a stub whatever its text (see
// IsHeadingList). textLen is Doc.TextLength of its Doc.
func (a *Analyser) Document(e *newsdesk.Event, stub bool) (doc *document.Document, textLen int, err error) {
	d, err := a.docs.doc(e, a.tagKeys)
	if err != nil {
		return nil, 0, err
	}
	if stub {
		d.Flags = append(d.Flags, FlagStub)
	}
	doc = document.NewDocument(e.ID)
	doc.Fields = make([]document.Field, 0, 8+len(d.Text)+len(d.Context)+len(d.Keys))
	// In the order of Doc's fields, as Bleve's mapping walks them.
	for i, t := range d.Text {
		if i == 0 && t == d.Forms {
			a.sentence(doc, t) // the text field's and the forms field's, in one pass
			continue
		}
		a.english(doc, newsdesk.FieldText, []uint64{uint64(i)}, t)
	}
	a.exact(doc, newsdesk.FieldTopic, nil, d.Topic)
	a.exact(doc, newsdesk.FieldCategory, nil, d.Category)
	for i, c := range d.Context {
		a.exact(doc, newsdesk.FieldContext, []uint64{uint64(i)}, c)
	}
	a.exact(doc, newsdesk.FieldDate, nil, d.Date)
	a.exact(doc, newsdesk.FieldSources, nil, d.Sources)
	for i, k := range d.Keys {
		a.exact(doc, newsdesk.FieldKeys, []uint64{uint64(i)}, k)
	}
	for i, f := range d.Flags {
		a.exact(doc, newsdesk.FieldFlags, []uint64{uint64(i)}, f)
	}
	a.english(doc, newsdesk.FieldLead, nil, d.Lead)
	if len(d.Text) == 0 || d.Text[0] != d.Forms {
		a.english(doc, newsdesk.FieldForms, nil, d.Forms)
	} else {
		doc.AddField(a.formsField)
	}
	doc.AddIDField()
	for _, f := range doc.Fields {
		if f.Options().IsIndexed() {
			f.Analyze()
		}
	}
	return doc, d.TextLength(), nil
}

// tagKeys returns the entity keys of tag, remembered.
func (a *Analyser) tagKeys(tag string) []entities.Key {
	k, ok := a.keys[tag]
	if !ok {
		k = a.docs.ents.Keys(tag)
		if len(a.keys) >= maxKeysMemo {
			clear(a.keys) // a corpus of endless distinct tags must not grow it without bound
		}
		a.keys[tag] = k
	}
	return k
}

// maxKeysMemo bounds the tags an Analyser remembers the keys of: the real
// corpus has about 30,000 distinct ones.
const maxKeysMemo = 1 << 17

// exact adds a field Bleve analyses itself: keywords (one term each) and
// the stored-only sources.
func (a *Analyser) exact(doc *document.Document, name string, pos []uint64, value string) {
	doc.AddField(document.NewTextFieldCustom(name, pos, []byte(value), a.fields[name].opts, a.keyword))
}

// sentence adds the text field's first value, the sentence, as english
// does, and keeps in a.formsField its forms field (english.Form), from
// the same words: segmenting the sentence again cost a tenth more build
// time. Bleve's mapping adds the forms field after the lead, which
// Document does with it.
func (a *Analyser) sentence(doc *document.Document, value string) {
	a.english(doc, newsdesk.FieldText, []uint64{0}, value)
	forms := a.formsToks[:0]
	f := &analysedField{name: newsdesk.FieldForms, value: []byte(value), opts: a.fields[newsdesk.FieldForms].opts}
	for _, t := range a.toks {
		if ft := a.forms.term([]byte(value[t.start:t.end])); ft.keep {
			forms = append(forms, token{term: ft.term, start: t.start, end: t.end, pos: t.pos})
		}
	}
	a.formsToks = forms
	f.length = len(forms)
	f.freqs = a.frequencies(forms)
	a.formsField = f
}

// english adds an English-analysed field: the words as Bleve's unicode
// tokenizer segments them, each through the English
// filters once per Analyser (Words). Its term frequencies and locations come from
// the Analyser's slabs, a few allocations per thousand fields rather than
// several per word: what a build allocates most.
func (a *Analyser) english(doc *document.Document, name string, pos []uint64, value string) {
	opts := a.fields[name].opts
	f := &analysedField{name: name, pos: pos, value: []byte(value), opts: opts}
	toks := a.toks[:0]
	words := a.words
	if name == newsdesk.FieldForms {
		words = a.forms
	}
	words.Each(f.value, func(term []byte, start, end, position int) {
		toks = append(toks, token{term: term, start: start, end: end, pos: position})
	})
	a.toks = toks
	f.length = len(toks)
	freqs := a.frequencies(toks)
	if opts.IncludeTermVectors() {
		locs := a.slab.locations(len(toks))
		for i, t := range toks {
			locs[i] = bindex.TokenLocation{ArrayPositions: pos, Start: t.start, End: t.end, Position: t.pos}
			if t.tf.Locations == nil {
				t.tf.Locations = a.slab.pointers(t.tf.Frequency())
			}
			t.tf.Locations = append(t.tf.Locations, &locs[i])
		}
	}
	f.freqs = freqs
	doc.AddField(f)
}

// frequencies counts the terms of toks, and points each at its count.
func (a *Analyser) frequencies(toks []token) bindex.TokenFrequencies {
	freqs := make(bindex.TokenFrequencies, len(toks))
	for i := range toks {
		tf := freqs[string(toks[i].term)]
		if tf == nil {
			tf = a.slab.freq()
			tf.Term = toks[i].term
			freqs[string(toks[i].term)] = tf
		}
		tf.SetFrequency(tf.Frequency() + 1)
		toks[i].tf = tf
	}
	return freqs
}

// token is a word of an English field, as kept.
type token struct {
	term            []byte
	start, end, pos int
	tf              *bindex.TokenFreq
}

// slab hands out term frequencies and locations from large blocks.
type slab struct {
	freqs []bindex.TokenFreq
	locs  []bindex.TokenLocation
	ptrs  []*bindex.TokenLocation
}

const slabSize = 8192

func (s *slab) freq() *bindex.TokenFreq {
	if len(s.freqs) == cap(s.freqs) {
		s.freqs = make([]bindex.TokenFreq, 0, slabSize)
	}
	s.freqs = s.freqs[:len(s.freqs)+1]
	return &s.freqs[len(s.freqs)-1]
}

// locations returns n locations.
func (s *slab) locations(n int) []bindex.TokenLocation {
	if cap(s.locs)-len(s.locs) < n {
		s.locs = make([]bindex.TokenLocation, 0, max(slabSize, n))
	}
	s.locs = s.locs[:len(s.locs)+n]
	return s.locs[len(s.locs)-n : len(s.locs) : len(s.locs)]
}

// pointers returns an empty slice with room for n location pointers.
func (s *slab) pointers(n int) []*bindex.TokenLocation {
	if cap(s.ptrs)-len(s.ptrs) < n {
		s.ptrs = make([]*bindex.TokenLocation, 0, max(slabSize, n))
	}
	s.ptrs = s.ptrs[:len(s.ptrs)+n]
	return s.ptrs[len(s.ptrs)-n : len(s.ptrs)-n : len(s.ptrs)]
}

// analysedField is an English-analysed field whose analysis is done when
// it is made: Analyze does nothing.
type analysedField struct {
	name   string
	pos    []uint64
	value  []byte
	opts   bindex.FieldIndexingOptions
	length int
	freqs  bindex.TokenFrequencies
}

func (f *analysedField) Name() string                                      { return f.name }
func (f *analysedField) ArrayPositions() []uint64                          { return f.pos }
func (f *analysedField) Options() bindex.FieldIndexingOptions              { return f.opts }
func (f *analysedField) Analyze()                                          {}
func (f *analysedField) Value() []byte                                     { return f.value }
func (f *analysedField) NumPlainTextBytes() uint64                         { return uint64(len(f.value)) }
func (f *analysedField) EncodedFieldType() byte                            { return 't' }
func (f *analysedField) AnalyzedLength() int                               { return f.length }
func (f *analysedField) AnalyzedTokenFrequencies() bindex.TokenFrequencies { return f.freqs }

// Size estimates the field's memory, as Bleve's fields report theirs.
func (f *analysedField) Size() int {
	return 64 + len(f.name) + len(f.value) + 8*len(f.pos) + f.freqs.Size()
}

// Compile-time check: an analysed field is a Bleve document field.
var _ document.Field = (*analysedField)(nil)
