package mappings

import (
	"fmt"
	"hash/maphash"
	"sync"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/segment"
)

// Words analyses text as an English analyser of a mapping does (Bleve's
// unicode tokenizer, then the analyser's token filters), without its
// generic path: ASCII text is segmented by asciiWords, and each word
// form goes through the filters once, its term remembered, since the
// filters act on one token at a time. It gives the same terms, byte
// ranges and positions (TestWords_SameAsBleve). The build's Analyser
// uses one per worker; related lists share a SharedWords.
//
// A Words is not safe for concurrent use.
type Words struct {
	filters []analysis.TokenFilter
	memo    map[string]memoTerm // raw token → its term
}

// memoTerm is what the filters make of a raw token: a term, or nothing
// (a stop word).
type memoTerm struct {
	term []byte // shared by every caller given it; never modified
	keep bool
}

// maxTermMemo bounds the word forms a Words remembers the terms of: the
// real corpus has about 110,000.
const maxTermMemo = 1 << 20

// NewWords returns a Words for an, which must be an analyser of Bleve's
// unicode tokenizer without char filters (the English analyser of New and
// Legacy is).
func NewWords(an analysis.Analyzer) (*Words, error) {
	filters, err := tokenFilters(an)
	if err != nil {
		return nil, err
	}
	return &Words{filters: filters, memo: make(map[string]memoTerm, 1<<14)}, nil
}

// tokenFilters returns the token filters of an, an analyser of Bleve's
// unicode tokenizer without char filters, which Words and SharedWords
// stand in for.
func tokenFilters(an analysis.Analyzer) ([]analysis.TokenFilter, error) {
	da, ok := an.(*analysis.DefaultAnalyzer)
	if !ok {
		return nil, fmt.Errorf("mappings: analyser %T is not a tokenizer and filters", an)
	}
	if _, ok := da.Tokenizer.(*unicode.UnicodeTokenizer); !ok {
		return nil, fmt.Errorf("mappings: the analyser's tokenizer is %T, not Bleve's unicode tokenizer", da.Tokenizer)
	}
	if len(da.CharFilters) > 0 {
		return nil, fmt.Errorf("mappings: the analyser has char filters, which Words does not apply")
	}
	return da.TokenFilters, nil
}

// Each calls fn for each word of text the filters keep, in order: its
// term (shared: never modify it), its byte range in text, and its
// position, counting from 1 every word the tokenizer found (a stop word
// takes its place, as in Bleve's token streams).
func (w *Words) Each(text []byte, fn func(term []byte, start, end, pos int)) {
	eachWord(text, w.term, fn)
}

// term returns what the filters make of the raw token b.
func (w *Words) term(b []byte) memoTerm {
	if t, ok := w.memo[string(b)]; ok {
		return t
	}
	t := filter(w.filters, b)
	if len(w.memo) >= maxTermMemo {
		clear(w.memo) // bounded, whatever the input's vocabulary
	}
	w.memo[string(b)] = t
	return t
}

// SharedWords is a Words safe for concurrent use: the terms of the word
// forms are remembered in one table for every caller (a searchd's
// related lists analyse their candidates' texts with one). It is bounded
// whatever drafts send: a form longer than maxSharedForm bytes is
// analysed at each use, not remembered, and each of the table's shards
// is cleared when it holds maxSharedForms/sharedShards forms, as Words
// clears its memo, so that it goes on remembering the forms in use:
// at most about 15 MB, about 7 MB for the real corpus's forms.
type SharedWords struct {
	filters []analysis.TokenFilter
	seed    maphash.Seed
	shards  [sharedShards]struct {
		mu   sync.RWMutex
		memo map[string]memoTerm
	}
}

const (
	sharedShards = 16
	// maxSharedForms is a little more than the real corpus's forms
	// (about 110,000).
	maxSharedForms = 1 << 17
	// maxSharedForm is the longest form remembered, in bytes: longer
	// ones are rare (a URL, a chemical name) and would weigh most.
	maxSharedForm = 32
)

// NewSharedWords returns a SharedWords for an, as NewWords does.
func NewSharedWords(an analysis.Analyzer) (*SharedWords, error) {
	filters, err := tokenFilters(an)
	if err != nil {
		return nil, err
	}
	sw := &SharedWords{filters: filters, seed: maphash.MakeSeed()}
	for i := range sw.shards {
		sw.shards[i].memo = map[string]memoTerm{}
	}
	return sw, nil
}

// Each is Words.Each.
func (w *SharedWords) Each(text []byte, fn func(term []byte, start, end, pos int)) {
	eachWord(text, w.term, fn)
}

func (w *SharedWords) term(b []byte) memoTerm {
	if len(b) > maxSharedForm {
		return filter(w.filters, b)
	}
	sh := &w.shards[maphash.Bytes(w.seed, b)%sharedShards]
	sh.mu.RLock()
	t, ok := sh.memo[string(b)]
	sh.mu.RUnlock()
	if ok {
		return t
	}
	t = filter(w.filters, b)
	sh.mu.Lock()
	if len(sh.memo) >= maxSharedForms/sharedShards {
		clear(sh.memo)
	}
	sh.memo[string(b)] = t
	sh.mu.Unlock()
	return t
}

// eachWord segments text as Bleve's unicode tokenizer does and calls fn
// for each word term keeps (see Words.Each).
func eachWord(text []byte, term func([]byte) memoTerm, fn func(term []byte, start, end, pos int)) {
	position := 1
	word := func(start, end int) {
		if t := term(text[start:end]); t.keep {
			fn(t.term, start, end, position)
		}
		position++
	}
	wordRanges(text, word)
}

// wordRanges calls fn with the byte range of each word of text, as the
// analysers cut words: by asciiWords for ASCII, else by the library's
// segmenter (Unicode's word boundaries, UAX #29).
func wordRanges(text []byte, fn func(start, end int)) {
	if asciiWords(text, fn) {
		return
	}
	seg := segment.NewWordSegmenterDirect(text)
	start := 0
	for seg.Segment() {
		end := start + len(seg.Bytes())
		if seg.Type() != segment.None {
			fn(start, end)
		}
		start = end
	}
}

// LongestWord returns the length in bytes of the longest word of text as
// the analysers cut it, before their filters (the segments eachWord
// reads), and where it starts: what newsdesk.MaxWordBytes bounds. Thai
// or Khmer without spaces, which the segmenter makes no word of, has none;
// "1,1,1…", one word of digits, is one.
func LongestWord(text string) (n, at int) {
	b := []byte(text)
	measure := func(start, end int) {
		if end-start > n {
			n, at = end-start, start
		}
	}
	wordRanges(b, measure)
	return n, at
}

// filter returns what filters make of the raw token b: the analyser's
// filters act on one token at a time.
func filter(filters []analysis.TokenFilter, b []byte) memoTerm {
	ts := analysis.TokenStream{&analysis.Token{Term: append([]byte(nil), b...), Position: 1, End: len(b)}}
	for _, f := range filters {
		ts = f.Filter(ts)
	}
	if len(ts) == 1 {
		return memoTerm{term: ts[0].Term, keep: true}
	}
	return memoTerm{}
}

// asciiWords calls fn with the byte range of each word of s, where s is
// ASCII: the segments github.com/blevesearch/segment's word segmenter
// gives a type other than None, by the same rules (Unicode's word
// boundaries, UAX #29, which for ASCII are: letters and digits run
// together; one '.', '\” or ':' joins two letters; one '.', '\”, ','
// or ';' joins two digits). It reports false, having called nothing, for
// text it does not cover (any byte above 0x7f, or '_', which joins
// words by rules of its own): the caller segments that with the
// library. The segmenter was 6% of a build's CPU, most of it on ASCII
// text; TestAnalyser_SameAsBleve compares the two on every event of the
// fixtures (and, with -corpus, of the real corpus).
func asciiWords(s []byte, fn func(start, end int)) bool {
	for _, c := range s {
		if c >= 0x80 || c == '_' {
			return false
		}
	}
	for i := 0; i < len(s); {
		if kind(s[i]) == other {
			i++
			continue
		}
		start := i
		for {
			for i < len(s) && kind(s[i]) != other {
				i++
			}
			if i+1 >= len(s) {
				break
			}
			prev, mid, next := kind(s[i-1]), s[i], kind(s[i+1])
			if prev == letter && next == letter && (mid == '.' || mid == '\'' || mid == ':') ||
				prev == digit && next == digit && (mid == '.' || mid == '\'' || mid == ',' || mid == ';') {
				i++
				continue
			}
			break
		}
		fn(start, i)
	}
	return true
}

// The word-boundary classes of ASCII bytes that asciiWords tells apart.
const (
	other = iota
	letter
	digit
)

func kind(c byte) int {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		return letter
	case '0' <= c && c <= '9':
		return digit
	}
	return other
}
