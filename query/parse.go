// Package query turns what a user typed and chose into Bleve search
// requests. It is pure: it parses the search box language (Parse), and
// builds requests for keyword search with filters, facets and
// highlighting (Keyword), but never touches an index, HTTP or a logger.
//
// The search box language:
//
//	peace talks          every word must match (text or topic), BM25-ranked
//	"peace talks"        a phrase
//	-ceasefire           a word (or "phrase", or field term) that must not match
//	topic:"Syrian peace process"  category:Sports  context:Astana
//	                     exact topic, category or context tag (quote values with spaces)
//	astan*               a prefix of at least MinPrefixLen characters
//
// Anything else is taken literally: stray quotes close at the end of the
// input, lone operators are ignored, and there are no regular expressions
// or leading wildcards.
package query

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the search box language.
const (
	MaxQueryBytes = 512 // longest q accepted
	MaxTerms      = 32  // most words in a q: each word, each word of a phrase or field term
	MinPrefixLen  = 3   // shortest prefix before a trailing *
)

// ErrInvalid is wrapped by every error about a query a user wrote or chose.
var ErrInvalid = errors.New("invalid query")

// InvalidError is an invalid query parameter: Param names it, the message
// says what it accepts.
type InvalidError struct {
	Param string
	Msg   string
}

func (e *InvalidError) Error() string { return e.Param + ": " + e.Msg }
func (e *InvalidError) Unwrap() error { return ErrInvalid }

func invalid(param, format string, args ...any) error {
	return &InvalidError{Param: param, Msg: fmt.Sprintf(format, args...)}
}

// Kind is the kind of a clause.
type Kind int

// Clause kinds.
const (
	Word   Kind = iota // a single word
	Phrase             // a quoted phrase
	Prefix             // a word ending in *
	Field              // field:value
)

// Fields that q may name, and the index field each matches exactly.
var fieldNames = map[string]bool{"topic": true, "category": true, "context": true}

// notFields are names a reader may type before a colon, as other search
// boxes take them, that are no field here: each is a 400 saying what to
// do instead. text:brexit found nothing, without a word why (a review's
// finding). Other words with a colon (re:invent) are words.
var notFields = map[string]string{
	"text":     "words are searched in the text already: leave out text:",
	"title":    "events have no title: words are searched in their text",
	"headline": "events have no headline: words are searched in their text",
	"body":     "words are searched in the text already: leave out body:",
	"tag":      "a context tag is context:",
	"tags":     "a context tag is context:",
	"date":     "dates are the from and to parameters",
	"year":     "a year typed as a word boosts its events; from and to filter by date",
	"source":   "sources are not searched",
	"sources":  "sources are not searched",
	"id":       "an event by id is GET /v1/events/{id}",
}

// Clause is one part of a parsed q.
type Clause struct {
	Kind    Kind
	Field   string // topic, category or context, for Kind Field
	Text    string // the word, phrase, prefix (without *) or value
	Negated bool
	// Values, for Kind Field, if set, are the values matched in place of
	// Text: its spellings in the index (any of them). For Kind Prefix,
	// they are terms matched besides the prefix: the stems shorter than
	// it of words it begins (PrefixStems), as the index has them. For
	// Kind Word, a code's writing as one term (g20), which it matches
	// besides Text, its parts in a row ("g 20"): the events that write
	// G20 and G-20, as one word.
	Values []string
	// Popular, for Kind Prefix, are the commonest terms it matches, each
	// with a boost by how common: the word a reader typing a prefix most
	// likely means (sanctions for sanct*, not sanctuary).
	Popular []Boosted
	// Named, for Kind Word, marks a word that begins a name with the
	// word after it (Theresa of Theresa May): that word is then a word
	// to match, not a month read as a date.
	Named bool
}

// Boosted is a term with a boost.
type Boosted struct {
	Term  string
	Boost float64
}

// Parsed is a parsed q.
type Parsed struct {
	Clauses []Clause
}

// Words returns the texts of the positive Word clauses, in order.
func (p Parsed) Words() []string {
	var out []string
	for _, c := range p.Clauses {
		if c.Kind == Word && !c.Negated {
			out = append(out, c.Text)
		}
	}
	return out
}

// Empty reports whether the query has no clause that can match.
func (p Parsed) Empty() bool {
	for _, c := range p.Clauses {
		if !c.Negated {
			return false
		}
	}
	return true
}

// Parse parses the search box language. It fails only on input it cannot
// take literally: more than MaxQueryBytes bytes or MaxTerms clauses,
// invalid UTF-8, or a prefix shorter than MinPrefixLen; the error is an
// *InvalidError for parameter "q".
//
// A clause repeated (the same kind, field, sign and text, in any case or
// spacing) is kept once. Repeating a clause changes nothing of what
// matches, a conjunction of X and X being X; it would only add X's score
// again and cost its whole walk again: 32 copies of the phrase "united
// states" cost 0.8 s of CPU. Deduplicating here rather than when the
// query is built means every path that reads the clauses (the fast path,
// Bleve's, typo corrections, relaxation, highlights) sees each once, and
// a repeated clause matches and scores exactly as one.
func Parse(q string) (Parsed, error) {
	if len(q) > MaxQueryBytes {
		return Parsed{}, invalid("q", "is %d bytes; at most %d are accepted", len(q), MaxQueryBytes)
	}
	if !utf8.ValidString(q) {
		return Parsed{}, invalid("q", "is not valid UTF-8")
	}
	// Composed, as the events are written: "Co\u0302te" (a Mac's
	// copy-paste) is Côte, which the index holds.
	if q = Compose(q); len(q) > MaxQueryBytes { // composing can lengthen a few characters
		return Parsed{}, invalid("q", "is %d bytes once composed (NFC); at most %d are accepted", len(q), MaxQueryBytes)
	}
	q = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Zs, r) {
			return ' '
		}
		return straight(r)
	}, q)
	var p Parsed
	seen := map[clauseKey]bool{}
	count := 0
	rest := q
	for {
		rest = strings.TrimLeft(rest, " ")
		if rest == "" {
			break
		}
		negated := false
		if rest[0] == '-' || rest[0] == '+' {
			negated = rest[0] == '-'
			rest = rest[1:]
			if rest == "" || rest[0] == ' ' {
				continue // a lone operator
			}
		}
		var c Clause
		var err error
		c, rest, err = clause(rest)
		if err != nil {
			return Parsed{}, err
		}
		if c.Text == "" {
			continue
		}
		c.Negated = negated
		if k := c.key(); !seen[k] { // a clause repeated counts once
			// A phrase counts its words: each is a list its walk reads
			// (one of 70 "states" cost 0.4 s of CPU, counted as one).
			if count += max(1, Words(c.Text)); count > MaxTerms {
				return Parsed{}, invalid("q", "has more than %d words, counting those of phrases and field terms", MaxTerms)
			}
			seen[k] = true
			p.Clauses = append(p.Clauses, c)
		}
	}
	return p, nil
}

// Words counts the words the analyser finds in text, at most: runs of
// letters and digits (it splits on hyphens, dots and commas too:
// "states-states" is two), and each Chinese or Japanese character,
// which it takes as a word of its own.
func Words(text string) int {
	n, in := 0, false
	for _, r := range text {
		switch {
		case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana):
			n, in = n+1, false
		case unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mn, r):
			if !in {
				n++
			}
			in = true
		default:
			in = false
		}
	}
	return n
}

// clauseKey identifies a clause for deduplication.
type clauseKey struct {
	kind    Kind
	field   string
	text    string // lower case, spaces collapsed
	negated bool
}

func (c Clause) key() clauseKey {
	return clauseKey{kind: c.Kind, field: c.Field, text: strings.Join(strings.Fields(strings.ToLower(c.Text)), " "), negated: c.Negated}
}

// clause reads one clause from the start of s.
func clause(s string) (Clause, string, error) {
	if s[0] == '"' {
		text, rest := quoted(s[1:])
		return Clause{Kind: Phrase, Text: text}, rest, nil
	}
	if i := strings.IndexByte(s, ':'); i > 0 && i+1 < len(s) && s[i+1] != ' ' {
		if hint, ok := notFields[strings.ToLower(s[:i])]; ok {
			return Clause{}, "", invalid("q", "%q is no field (fields are topic, category and context): %s", s[:i+1], hint)
		}
	}
	if i := strings.IndexByte(s, ':'); i > 0 && fieldNames[strings.ToLower(s[:i])] && !strings.ContainsAny(s[:i], " \"") {
		field, v := strings.ToLower(s[:i]), s[i+1:]
		var value, rest string
		if strings.HasPrefix(v, "\"") {
			value, rest = quoted(v[1:])
		} else {
			value, rest = bare(v)
		}
		return Clause{Kind: Field, Field: field, Text: strings.TrimSpace(value)}, rest, nil
	}
	word, rest := bare(s)
	if strings.HasSuffix(word, "*") {
		stem := strings.Trim(word, "*?")
		if stem == "" {
			return Clause{}, rest, nil // a lone wildcard: a stray operator
		}
		if utf8.RuneCountInString(stem) < MinPrefixLen {
			return Clause{}, "", invalid("q", "prefix %q needs at least %d characters before the *", word, MinPrefixLen)
		}
		return Clause{Kind: Prefix, Text: stem}, rest, nil
	}
	// Wildcards anywhere else are taken as punctuation: no leading or
	// inner wildcards from the public API.
	return Clause{Kind: Word, Text: strings.Trim(word, "*?")}, rest, nil
}

// quoted reads up to the closing quote; an unclosed quote runs to the end.
func quoted(s string) (text, rest string) {
	if i := strings.IndexByte(s, '"'); i >= 0 {
		return strings.TrimSpace(s[:i]), s[i+1:]
	}
	return strings.TrimSpace(s), ""
}

// bare reads up to the next space or quote.
func bare(s string) (word, rest string) {
	i := strings.IndexAny(s, " \"")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// Straight returns s with its typographic quotes and apostrophes
// straight (straight): what the search box reads a query as, and so how
// names are compared with what is typed.
func Straight(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return straight(r) != r }) {
		return s
	}
	return strings.Map(straight, s)
}

// straight returns the straight quote a typographic one stands for: the
// quotes and apostrophes that phones and Macs type by default ("smart
// punctuation"). “peace talks” is the phrase, as "peace talks" is (it
// matched the two words apart), and O’Brien the word O'Brien (the 31
// events that write it so; the search's spellings add the one that
// writes O’Brien).
func straight(r rune) rune {
	switch r {
	case '“', '”', '„', '‟':
		return '"'
	case '‘', '’', '‚', '‛', 'ʼ':
		return '\''
	}
	return r
}
