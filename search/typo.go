package search

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	bmapping "github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"

	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/english"
	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/snapshot"
)

// Fuzziness returns the edit distance allowed for a word of n characters:
// none up to 2, one up to 5, two beyond.
func Fuzziness(n int) int {
	switch {
	case n <= 2:
		return 0
	case n <= 5:
		return 1
	}
	return 2
}

// correct replaces each positive word the index does not have, as typed,
// by the indexed term likeliest meant: within Fuzziness edits, where a
// transposition of two letters counts one (Damerau), the commonest, each
// edit costing a factor editOdds. The correction shows the word as events write it
// ("ukraine"), never the index's stem ("ukrain"). Words the index has
// are never touched, so a real name ("Iran") is never turned into
// another one ("Iraq").
func (e *Engine) correct(ctx context.Context, snap *snapshot.Snapshot, names *Names, p query.Params) (query.Params, []Correction, error) {
	r := snap.Reader()
	fuzzy, ok := r.(bindex.IndexReaderFuzzy)
	if !ok {
		return p, nil, nil // this index kind cannot enumerate near terms
	}
	dateWords := dateWordsOf(p, names)
	fixed := p
	fixed.Query.Clauses = append([]query.Clause(nil), p.Query.Clauses...)
	// The words to correct: positive words of one term that the index
	// has in no spelling, long enough to be corrected.
	type toCorrect struct {
		clause  int
		tok     string
		fuzz    int
		written string // the word as written, for its slips
		// span, for a word of a phrase of several, is where it is in the
		// phrase's text: the correction replaces it there alone.
		span [2]int
	}
	var words []toCorrect
	var corrCodes []Correction
	var fixes []phraseFix // of words in phrases, applied at the end
	codes := 0
	for i, c := range fixed.Query.Clauses {
		if c.Kind == query.Phrase && !c.Negated && len(strings.Fields(c.Text)) > 1 {
			// A phrase of several words: each word the index does not
			// know is corrected in its place, the others and the stop
			// words kept ("the pandmic": the pandemic). Until 2026-12-02
			// a phrase was left as typed ("huricane katrina" found
			// nothing), since its one term had replaced the whole phrase.
			ts, err := e.m.AnalyzeText(en.AnalyzerName, []byte(c.Text))
			if err != nil {
				continue
			}
			for _, t := range ts {
				tok := string(t.Term)
				if t.Start < 0 || t.End > len(c.Text) {
					continue
				}
				if strings.ContainsFunc(tok, unicode.IsDigit) {
					// A code as in a word ("covid19 vaccine" quoted: the
					// events write COVID-19), within maxCodes.
					if codes >= maxCodes {
						continue
					}
					codes++
					written := c.Text[t.Start:t.End]
					if runs, ok, err := e.codeRuns(ctx, snap, written, tok); err != nil {
						return p, nil, fmt.Errorf("correct: %w", err)
					} else if ok {
						fixes = append(fixes, phraseFix{clause: i, span: [2]int{t.Start, t.End}, word: strings.Join(runs, " ")})
						corrCodes = append(corrCodes, Correction{From: written, To: strings.Join(runs, "-")})
					}
					continue
				}
				if unknown, err := e.unknown(snap, names, tok); err != nil {
					return p, nil, fmt.Errorf("correct: %w", err)
				} else if fuzz := Fuzziness(utf8.RuneCountInString(tok)); unknown && fuzz > 0 {
					words = append(words, toCorrect{clause: i, tok: tok, fuzz: fuzz, written: c.Text[t.Start:t.End], span: [2]int{t.Start, t.End}})
				}
			}
			continue
		}
		// A quoted word is a word too: “pandmic” (a phone's quotes) was
		// corrected as a word, and is a phrase of one word since curly
		// quotes are quotes.
		if c.Kind != query.Word && (c.Kind != query.Phrase || len(strings.Fields(c.Text)) != 1) || c.Negated ||
			slices.Contains(dateWords, strings.ToLower(c.Text)) {
			continue
		}
		toks, err := query.Tokens(e.m, c.Text)
		if err != nil || len(toks) != 1 {
			continue // a stop word, or a word of several terms: leave it
		}
		tok := toks[0]
		if strings.ContainsFunc(tok, unicode.IsDigit) {
			// A number or a code is meant as typed: 2099 is no 2019, w10
			// no 10. But a code the index does not know may be one the
			// events write with a dash (covid19: COVID-19's 8,478 events,
			// where it found none; f35, F-35): the phrase of its letters
			// and its digits, as "covid-19" quoted is searched. A phrase,
			// not words: words relaxed to any of them (su57 found the
			// events of 57 killed), and a year among them was read as a
			// date (euro2024). At most maxCodes a query: each reads events.
			if codes >= maxCodes {
				continue
			}
			codes++
			if runs, ok, err := e.codeRuns(ctx, snap, c.Text, tok); err != nil {
				return p, nil, fmt.Errorf("correct: %w", err)
			} else if ok {
				fixed.Query.Clauses[i] = query.Clause{Kind: query.Phrase, Text: strings.Join(runs, " ")}
				corrCodes = append(corrCodes, Correction{From: c.Text, To: strings.Join(runs, "-")})
			}
			continue
		}
		if unknown, err := e.unknown(snap, names, tok); err != nil {
			return p, nil, fmt.Errorf("correct: %w", err)
		} else if !unknown {
			continue
		}
		fuzz := Fuzziness(utf8.RuneCountInString(tok))
		if fuzz == 0 {
			continue
		}
		// The word as written, without what the tokenizer leaves out
		// around it ("presidnet," pasted from a sentence).
		w := strings.TrimFunc(c.Text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		words = append(words, toCorrect{clause: i, tok: tok, fuzz: fuzz, written: w})
	}
	written := make([]string, len(words))
	for j, w := range words {
		written[j] = w.written
	}
	slipsTried := slipAllowed(written, maxSlipLetters)
	corr := corrCodes
	// fix replaces w by word: a word as a clause; in a phrase, in its
	// place, below.
	fix := func(w toCorrect, word string) {
		if w.span == [2]int{} {
			corr = append(corr, Correction{From: fixed.Query.Clauses[w.clause].Text, To: word})
			fixed.Query.Clauses[w.clause].Text = word
			return
		}
		fixes = append(fixes, phraseFix{clause: w.clause, span: w.span, word: word})
		corr = append(corr, Correction{From: w.written, To: word})
	}
	// done keeps each word's correction: a word typed many times (a
	// phrase of 32 "statse") is looked up once; each lookup builds a
	// Levenshtein automaton, some milliseconds, and 32 of them overran
	// a 200 ms deadline on a loaded machine.
	type typed struct {
		written string
		slips   bool
	}
	done := map[typed]string{}
	for j, w := range words {
		if err := ctx.Err(); err != nil {
			return p, nil, fmt.Errorf("correct: %w", err)
		}
		tok, fuzz := w.tok, w.fuzz
		if word, ok := done[typed{w.written, slipsTried[j]}]; ok {
			if word != "" {
				fix(w, word)
			}
			continue
		}
		if sw, ok := nearStopWord(w.written); ok {
			// A slip from a stop word ("teh"): the stop word, not
			// searched for, rather than the likeliest term ("ten", which
			// made "teh huricane katrina" quoted find nothing).
			fix(w, sw)
			continue
		}
		best, ps, slips, err := e.nearest(snap, fuzzy, tok, w.written, fuzz, slipsTried[j])
		if err != nil {
			return p, nil, err
		}
		if ps == nil {
			done[typed{w.written, slipsTried[j]}] = ""
			continue
		}
		word, err := e.surface(ctx, snap, best.term, w.written, slips, ps)
		if err != nil {
			return p, nil, fmt.Errorf("correct: %w", err)
		}
		done[typed{w.written, slipsTried[j]}] = word
		fix(w, word)
	}
	// A phrase's last words first, so that each span is still where its
	// word is.
	slices.SortStableFunc(fixes, func(a, b phraseFix) int {
		return cmp.Or(cmp.Compare(a.clause, b.clause), cmp.Compare(a.span[0], b.span[0]))
	})
	for _, f := range slices.Backward(fixes) {
		t := fixed.Query.Clauses[f.clause].Text
		fixed.Query.Clauses[f.clause].Text = t[:f.span[0]] + f.word + t[f.span[1]:]
	}
	return fixed, corr, nil
}

// dateWordsOf returns the words of a date in p ("march 2019"), lower
// case: they boost their events, and are no words to match, so never
// corrected ("march" is no "marsh").
func dateWordsOf(p query.Params, names *Names) []string {
	if b, _ := dateBoost(p, names); b != nil {
		return strings.Fields(strings.ToLower(b.Words))
	}
	return nil
}

// correctKnown replaces each positive word of p the index knows but in
// at most rareKnown events by the term of a word one slip from it as
// written in knownOdds times as many: for a query no event has whole, whose answer
// relaxed to the events of its rarest word (barak obama listed Ehud
// Barak's 22 events, none of Barack Obama's 746; hilary clinton Hurricane
// Hilary's; presidental, in one event, made presidental election relax
// to any election). Search keeps the corrected query only when events
// have every word of it, in a good share of the other words' events
// (knownFixed).
func (e *Engine) correctKnown(ctx context.Context, snap *snapshot.Snapshot, names *Names, p query.Params) (query.Params, []Correction, error) {
	fuzzy, ok := snap.Reader().(bindex.IndexReaderFuzzy)
	if !ok {
		return p, nil, nil
	}
	dateWords := dateWordsOf(p, names)
	fixed := p
	fixed.Query.Clauses = append([]query.Clause(nil), p.Query.Clauses...)
	var corr []Correction
	for i, c := range fixed.Query.Clauses {
		if c.Kind != query.Word || c.Negated || len(c.Values) > 0 || slices.Contains(dateWords, strings.ToLower(c.Text)) {
			continue
		}
		toks, err := query.Tokens(e.m, c.Text)
		if err != nil || len(toks) != 1 || strings.ContainsFunc(toks[0], unicode.IsDigit) {
			continue
		}
		tok := toks[0]
		if Fuzziness(utf8.RuneCountInString(tok)) == 0 {
			continue
		}
		ps, err := snap.Postings(newsdesk.FieldText, []byte(tok))
		if err != nil {
			return p, nil, fmt.Errorf("correct: %w", err)
		}
		df := ps.DF()
		if df == 0 || df > rareKnown {
			continue
		}
		w := strings.TrimFunc(c.Text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		// One slip from the word as written, and only that: stems one
		// edit apart are far apart as written (addis and addition, julia
		// and july: a review's findings).
		best, bps, slips, err := e.nearest(snap, fuzzy, tok, w, 0, utf8.RuneCountInString(w) <= maxSlipWord)
		if err != nil {
			return p, nil, err
		}
		if bps == nil || best.df < knownOdds*df {
			continue
		}
		word, err := e.surface(ctx, snap, best.term, w, slips, bps)
		if err != nil {
			return p, nil, fmt.Errorf("correct: %w", err)
		}
		if damerau(strings.ToLower(w), word) > 1 {
			// A slip that is no word but has another's stem (dale: ale,
			// stem al; germain: germani, Germany's): not a slip of a word
			// the events write (a second review's finding).
			continue
		}
		corr = append(corr, Correction{From: c.Text, To: word})
		fixed.Query.Clauses[i].Text = word
	}
	return fixed, corr, nil
}

// rareKnown is the most events a word the index knows may be in for
// correctKnown to correct it, and knownOdds how many times as many a near
// term must be in (barak 22, barack 746; iran and iraq are never; diet
// and stroke, in more, are not turned into died and strike).
const (
	rareKnown = 30
	knownOdds = 10
	// knownShare is the least share of each other word's events that
	// have the words corrected (knownFixed).
	knownShare = 0.1
)

// nearest returns the indexed term likeliest meant by tok (a stem; the
// word as written), within fuzz edits between stems where a
// transposition counts one (Damerau), or one slip in the word as written
// when slips (slipTerms), by likeliest, and its postings; nil postings
// when no such term has events. The term tok itself is no candidate.
func (e *Engine) nearest(snap *snapshot.Snapshot, fuzzy bindex.IndexReaderFuzzy, tok, written string, fuzz int, slips bool) (nearTerm, *snapshot.Postings, []string, error) {
	// A transposition is two Levenshtein edits: ask the dictionary for
	// one more than allowed (at most its 2), then count them as one. No
	// edits allowed: the slips alone.
	var near []string
	if fuzz > 0 {
		dict, err := fuzzy.FieldDictFuzzy(newsdesk.FieldText, tok, min(fuzz+1, 2), "")
		if err != nil {
			return nearTerm{}, nil, nil, fmt.Errorf("correct: %w", err)
		}
		for entry, err := dict.Next(); err == nil && entry != nil; entry, err = dict.Next() {
			near = append(near, entry.Term)
		}
		dict.Close()
	}
	// Each term's fewest edits: between stems, or one slip in the word as
	// written (slipTerms).
	dist := map[string]int{}
	var slipWords map[string][]string
	for _, term := range near {
		if d := damerau(tok, term); d <= fuzz && term != tok {
			dist[term] = d
		}
	}
	if slips {
		var terms []string
		var err error
		terms, slipWords, err = slipsOf(e.m, written)
		if err != nil {
			return nearTerm{}, nil, nil, fmt.Errorf("correct: %w", err)
		}
		// Every word one slip from the word as written is among them: a
		// term the stems alone put one edit away is two as written (polcy
		// is a swap from police's stem, polci and polic, and one letter
		// from policy: it became police, the commoner, a review found).
		for term, d := range dist {
			dist[term] = min(d+1, 2)
		}
		for _, term := range terms {
			if term != tok {
				dist[term] = 1
			}
		}
	}
	var cands []nearTerm
	posts := map[string]*snapshot.Postings{}
	for term, d := range dist {
		ps, err := snap.Postings(newsdesk.FieldText, []byte(term))
		if err != nil {
			return nearTerm{}, nil, nil, fmt.Errorf("correct: %w", err)
		}
		if ps.DF() == 0 {
			continue
		}
		cands = append(cands, nearTerm{term: term, dist: d, df: ps.DF()})
		posts[term] = ps
	}
	best, ok := likeliest(cands)
	if !ok {
		return nearTerm{}, nil, nil, nil
	}
	return best, posts[best.term], slipWords[best.term], nil
}

// nearStopWord returns the English stop word one slip (Damerau edit)
// from word, of 3 letters or more, lower case, if there is one: "teh",
// "adn", "fro". The index has no stop word, so that a typo of one was
// corrected to a term ("ten"); the stop word is what was meant, and,
// read as a stop word, it is not searched for.
func nearStopWord(word string) (string, bool) {
	w := strings.ToLower(word)
	if utf8.RuneCountInString(w) < 3 {
		return "", false
	}
	for _, sw := range stopWords() {
		if utf8.RuneCountInString(sw) >= 3 && damerau(w, sw) == 1 {
			return sw, true
		}
	}
	return "", false
}

// stopWords are the English analyser's stop words, sorted (the same
// answer for a word one slip from two).
var stopWords = sync.OnceValue(func() []string {
	m, err := registry.NewCache().TokenMapNamed(en.StopName)
	if err != nil {
		return nil
	}
	var out []string
	for w := range m {
		out = append(out, w)
	}
	slices.Sort(out)
	return out
})

// phraseFix is a correction of a word in a phrase: the word at span of
// clause's text replaced by word.
type phraseFix struct {
	clause int
	span   [2]int
	word   string
}

// unknown reports whether the index has term tok in no spelling: not as
// typed (only the form typed counts: a legacy generation's search does
// not match a place's other forms, syria finds no Syrian there), nor
// with accents or without (cote: côte).
func (e *Engine) unknown(snap *snapshot.Snapshot, names *Names, tok string) (bool, error) {
	if ps, err := snap.Postings(newsdesk.FieldText, []byte(tok)); err != nil || ps.DF() > 0 {
		return false, err
	}
	var spellings []string
	if !e.legacy {
		spellings = names.Spellings(tok)
	}
	spelt, err := anySpelling(snap, spellings)
	return !spelt, err
}

// codeRuns returns, for a word of letters and digits that the index does
// not have (tok, its term), its runs of letters and of digits, lower case
// (covid and 19 for covid19; shown as covid-19, as the events write such
// codes); ok is false when the index has the word, when it is not such a
// code, or when a run is no word of its own (a stop word: a999's a).
func (e *Engine) codeRuns(ctx context.Context, snap *snapshot.Snapshot, written, tok string) (runs []string, ok bool, err error) {
	ps, err := snap.Postings(newsdesk.FieldText, []byte(tok))
	if err != nil || ps.DF() > 0 {
		return nil, false, err
	}
	runs, dashed := codeParts(written)
	if runs == nil || dashed {
		return nil, false, nil
	}
	lists, terms, err := e.partLists(snap, runs)
	if err != nil || lists == nil {
		return nil, false, err
	}
	// Some event must write the code, its parts side by side: any event
	// with them all let w10 find George W. Bush's events that say 10.
	writes, err := e.writesCode(ctx, snap, lists, terms)
	return runs, writes && err == nil, err
}

// isDash reports whether r joins a code's parts: a hyphen-minus, and the
// dashes typed or pasted for it (a hyphen, a non-breaking hyphen, an en
// dash, a minus sign, a small hyphen-minus; g‐20 found only G-20's
// events, not G20's).
func isDash(r rune) bool {
	switch r {
	case '-', '\u2010', '\u2011', '\u2013', '\u2212', '\ufe63':
		return true
	}
	return false
}

// codeParts returns the runs of letters and of digits of a code as
// written, lower case (g and 20 for G20 or G-20), and whether a dash
// joined them; nil when written is no code: one run, no letter or no
// digit, or another character (o'brien2).
func codeParts(written string) (runs []string, dashed bool) {
	w := strings.ToLower(strings.TrimFunc(written, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }))
	start, digit, letters, digits := 0, false, false, false
	for i, r := range w {
		if isDash(r) {
			if i == start {
				return nil, false // two dashes in a row
			}
			runs, dashed = append(runs, w[start:i]), true
			start = i + utf8.RuneLen(r)
			continue
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return nil, false
		}
		if d := unicode.IsDigit(r); i > start && d != digit {
			runs = append(runs, w[start:i])
			start = i
		}
		digit = unicode.IsDigit(r)
		letters, digits = letters || !digit, digits || digit
	}
	runs = append(runs, w[start:])
	if len(runs) < 2 || !letters || !digits {
		return nil, false
	}
	return runs, dashed
}

// partLists returns the postings and terms of a code's parts; nil when a
// part is no word of its own (a stop word: a999's a).
func (e *Engine) partLists(snap *snapshot.Snapshot, runs []string) ([]*snapshot.Postings, []string, error) {
	var lists []*snapshot.Postings
	var terms []string
	for _, run := range runs {
		toks, err := query.Tokens(e.m, run)
		if err != nil || len(toks) != 1 {
			return nil, nil, err
		}
		ps, err := snap.Postings(newsdesk.FieldText, []byte(toks[0]))
		if err != nil {
			return nil, nil, err
		}
		lists, terms = append(lists, ps), append(terms, toks[0])
	}
	return lists, terms, nil
}

// codeWritings returns the clause c stands for when it is a code of
// letters and digits the index has written joined (G20, MH17: one term):
// events write such codes with a dash as well (G-20: the terms g and 20
// in a row), and a reader typing either means both. Typed joined, it
// becomes one word matching the joined term or its parts in a row
// (query.Clause.Values; codeTerms in the walk), when an event writes the
// parts side by side (as codeRuns checks: 16 events read at most); typed
// with a dash, the same word, or the joined term alone when some part is
// in no event. ok is false when c is left as it is: no code, or one the
// index does not have joined (a code typed joined is then for correct;
// one with a dash matches its words). Before 2026-12-02, g20 found 52
// events and g-20 25, of 77; ak47 1 of 20; mh-17 relaxed to the 1,036
// events of 17.
func (e *Engine) codeWritings(ctx context.Context, snap *snapshot.Snapshot, c query.Clause) (query.Clause, bool, error) {
	if c.Kind != query.Word {
		return c, false, nil
	}
	runs, dashed := codeParts(c.Text)
	if runs == nil {
		return c, false, nil
	}
	jt, err := query.Tokens(e.m, strings.Join(runs, ""))
	if err != nil || len(jt) != 1 {
		return c, false, err
	}
	ps, err := snap.Postings(newsdesk.FieldText, []byte(jt[0]))
	if err != nil || ps.DF() == 0 {
		return c, false, err
	}
	joined := query.Clause{Kind: query.Word, Text: jt[0], Negated: c.Negated}
	lists, terms, err := e.partLists(snap, runs)
	if err != nil {
		return c, false, err
	}
	if lists == nil || slices.ContainsFunc(lists, func(ps *snapshot.Postings) bool { return ps.DF() == 0 }) {
		// A part no event has alone, or a stop word the index drops (s
		// of S-400): the joined writing is the one events are found by.
		return joined, dashed, nil
	}
	if !dashed {
		if writes, err := e.writesCode(ctx, snap, lists, terms); err != nil || !writes {
			return c, false, err
		}
	}
	return query.Clause{Kind: query.Word, Text: strings.Join(runs, " "), Negated: c.Negated, Values: jt}, true, nil
}

// codeReads is how many events holding every part of a code codeRuns
// reads, at most, for one that writes them side by side; maxCodes how
// many codes of one query it tries (32 took 0.1-0.3 s).
const (
	codeReads = 16
	maxCodes  = 4
)

// writesCode reports whether a live event holding every one of the terms
// writes them in a row, joined by a dash, a space or nothing (COVID-19),
// in its text or tags; it reads codeReads events at most.
func (e *Engine) writesCode(ctx context.Context, snap *snapshot.Snapshot, lists []*snapshot.Postings, terms []string) (bool, error) {
	read := 0
	for seg := range snap.Segments() {
		var ls []*snapshot.List
		for _, ps := range lists {
			l, err := ps.List(seg)
			if err != nil {
				return false, err
			}
			if l == nil {
				break
			}
			ls = append(ls, l)
		}
		if len(ls) < len(lists) {
			continue
		}
		slices.SortFunc(ls, func(a, b *snapshot.List) int { return len(a.Docs) - len(b.Docs) }) // the rarest leads
	docs:
		for _, d := range ls[0].Docs {
			for _, l := range ls[1:] {
				if _, found := slices.BinarySearch(l.Docs, d); !found {
					continue docs
				}
			}
			if !snap.LiveIn(seg, uint64(d)) {
				continue
			}
			if read++; read > codeReads {
				return false, nil
			}
			ev, err := snap.EventAt(ctx, snap.SegmentStart(seg)+uint64(d))
			if err != nil {
				return false, err
			}
			for _, text := range append([]string{ev.Text, ev.Topic}, ev.Context...) {
				toks, err := e.m.AnalyzeText(en.AnalyzerName, []byte(text))
				if err != nil {
					return false, err
				}
				if inARow(text, toks, terms) {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// inARow reports whether toks, analysed from text, hold terms one after
// the other, joined by a dash, a space or nothing.
func inARow(text string, toks analysis.TokenStream, terms []string) bool {
	for i := 0; i+len(terms) <= len(toks); i++ {
		ok := true
		for j, t := range terms {
			k := toks[i+j]
			if string(k.Term) != t {
				ok = false
				break
			}
			if j > 0 {
				prev := toks[i+j-1]
				if prev.End > k.Start || k.Start > len(text) {
					ok = false
					break
				}
				if gap := text[prev.End:k.Start]; gap != "" && gap != " " && (utf8.RuneCountInString(gap) != 1 || !isDash([]rune(gap)[0])) {
					ok = false
					break
				}
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// slipTerms returns the index terms of the words one slip (Damerau
// edit) from word as written: a letter left out, added, changed, or two
// swapped. A slip is made in the word, not in its stem, and the two can
// be far apart: presidnet is one swap from president (stem presid) but
// three edits from presid and two from presidenti (presidential); pandmic
// one letter from pandemic (pandem), two from panic. The letters tried
// are a to z and the word's own.
func slipTerms(a query.Analyzer, word string) ([]string, error) {
	terms, _, err := slipsOf(a, word)
	return terms, err
}

// slipsOf returns slipTerms's terms, and by term the slips of word that
// analyse to it.
func slipsOf(a query.Analyzer, word string) ([]string, map[string][]string, error) {
	w := []rune(strings.ToLower(word))
	if len(w) > maxSlipWord {
		return nil, nil, nil
	}
	// A word of one token stays one when a letter changes: its slips go
	// through the analyser's filters alone (possessive, case, stop words,
	// stem), without the tokenizer and the registry: 0.7 -> 0.2 ms for
	// an 11-letter word.
	analyse := func(s string) ([]string, error) { return query.Tokens(a, s) }
	if m, ok := a.(*bmapping.IndexMappingImpl); ok {
		if da, ok := m.AnalyzerNamed(en.AnalyzerName).(*analysis.DefaultAnalyzer); ok {
			analyse = func(s string) ([]string, error) {
				ts := analysis.TokenStream{{Term: []byte(s), Start: 0, End: len(s), Position: 1, Type: analysis.AlphaNumeric}}
				for _, f := range da.TokenFilters {
					ts = f.Filter(ts)
				}
				out := make([]string, len(ts))
				for i, t := range ts {
					out[i] = string(t.Term)
				}
				return out, nil
			}
		}
	}
	letters := []rune("abcdefghijklmnopqrstuvwxyz")
	for _, r := range w {
		if !slices.Contains(letters, r) {
			letters = append(letters, r)
		}
	}
	seen := map[string]bool{}
	var out []string
	words := map[string][]string{}
	try := func(cand []rune) error {
		s := string(cand)
		if seen[s] {
			return nil
		}
		seen[s] = true
		toks, err := analyse(s)
		if err != nil {
			return err
		}
		if len(toks) == 1 {
			if _, ok := words[toks[0]]; !ok {
				out = append(out, toks[0])
			}
			words[toks[0]] = append(words[toks[0]], s)
		}
		return nil
	}
	edit := make([]rune, 0, len(w)+1)
	for i := 0; i <= len(w); i++ {
		for _, l := range letters {
			if err := try(append(append(append(edit[:0], w[:i]...), l), w[i:]...)); err != nil { // added
				return nil, nil, err
			}
			if i < len(w) && l != w[i] {
				if err := try(append(append(append(edit[:0], w[:i]...), l), w[i+1:]...)); err != nil { // changed
					return nil, nil, err
				}
			}
		}
		if i < len(w) {
			if err := try(append(append(edit[:0], w[:i]...), w[i+1:]...)); err != nil { // left out
				return nil, nil, err
			}
		}
		if i+1 < len(w) && w[i] != w[i+1] {
			if err := try(append(append(append(edit[:0], w[:i]...), w[i+1], w[i]), w[i+2:]...)); err != nil { // swapped
				return nil, nil, err
			}
		}
	}
	return out, words, nil
}

// slipAllowed returns, for each of a query's words to correct, as
// written, whether its slips are tried: the shortest words first, while
// their letters fit in budget (the words the index knows take none of it). Each letter
// costs about 52 slips analysed and looked up: 16 unknown words of 30
// letters took 75-93 ms of a search slot, against 11-15 ms without slips.
// A typo is most often in a short word.
func slipAllowed(words []string, budget int) []bool {
	order := make([]int, 0, len(words))
	for i, w := range words {
		if n := utf8.RuneCountInString(w); n > 0 && n <= maxSlipWord {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return utf8.RuneCountInString(words[a]) - utf8.RuneCountInString(words[b])
	})
	ok := make([]bool, len(words))
	for _, i := range order {
		n := utf8.RuneCountInString(words[i])
		if n > budget {
			break
		}
		ok[i], budget = true, budget-n
	}
	return ok
}

// maxSlipLetters is the most letters of a query's words whose slips are
// tried (slipAllowed): six words of ten letters, or two of thirty.
const maxSlipLetters = 64

// maxSlipWord is the longest word, in characters, whose slips
// slipTerms tries: about 52 a character, each analysed (a 512-letter
// word took 3 s); the corpus's longest words have 20-odd letters.
const maxSlipWord = 30

// nearTerm is an indexed term near a word typed: the edits between them,
// and the events that have it.
type nearTerm struct {
	term string
	dist int
	df   uint64
}

// editOdds is how many times commoner a term one edit farther from the
// word typed must be to be the likelier meant (a noisy channel: a slip
// of one edit is about that rare). Ranking by commonness alone turned
// brexti (Brexit, 165 events, one transposition) into treaty (about
// 3,000 events, two edits).
const editOdds = 1000

// likeliest returns the term of ts most likely meant: the greatest events
// × editOdds^-edits, then the fewest edits, then the first in order; ok
// is false when no term has events. The products are compared as whole
// numbers (events × editOdds^(2-edits): Fuzziness allows 2 at most), so
// that ties are ties.
func likeliest(ts []nearTerm) (best nearTerm, ok bool) {
	var bestWeight uint64
	for _, t := range ts {
		if t.df == 0 || t.dist > 2 {
			continue
		}
		w := t.df
		for range 2 - t.dist {
			w *= editOdds
		}
		if !ok || w > bestWeight || (w == bestWeight && (t.dist < best.dist || (t.dist == best.dist && t.term < best.term))) {
			best, bestWeight, ok = t, w, true
		}
	}
	return best, ok
}

// surface returns the word events write for the index term that typed
// (a word as written) most likely meant: of the lower-cased forms,
// without a possessive, among the words that analyse to it in
// surfaceEvents live events spread over those having it, the fewest
// edits from typed, then the commonest (German rather than Germans for
// germna; tsunami, not the first events' tsunamis, for tsunmai), the
// shortest on a tie; or the term itself when no text has it. The slips
// of typed that analyse to the term (nearest) are forms too, which the
// sample may lack (vaccination, for vaccinatoin, among vaccine's). Porter's
// stem is many words' (commun: community, communication): the commonest
// alone showed community for communicaton, general for generaton (a
// review's finding), and the search ranks first the form shown (Form).
func (e *Engine) surface(ctx context.Context, snap *snapshot.Snapshot, term, typed string, slips []string, ps *snapshot.Postings) (string, error) {
	forms, err := e.forms(ctx, snap, term, ps, surfaceEvents)
	if err != nil {
		return "", err
	}
	// The slips the sample lacks are forms too when events write them,
	// which the forms field tells for a word that is not its stem
	// (vaccination, of vaccin; not ukrain, a slip of ukrian that is its
	// own stem). Each form's events are the forms field's, for such a
	// word (generation 176, generator 18: a sample of 8 events of gener
	// may hold one generator and no generation), else none: the
	// sample's count decides between the others.
	events := func(f string) (uint64, error) {
		form := english.Form(f)
		if form == term {
			return 0, nil
		}
		ps, err := snap.Postings(newsdesk.FieldForms, []byte(form))
		if err != nil {
			return 0, fmt.Errorf("correct: %w", err)
		}
		return ps.DF(), nil
	}
	type cand struct {
		form          string
		edits, sample int
		events        uint64
	}
	var cands []cand
	typed = strings.ToLower(typed)
	for f, c := range forms {
		n, err := events(f)
		if err != nil {
			return "", err
		}
		cands = append(cands, cand{f, damerau(typed, f), c, n})
	}
	for _, w := range slips {
		if _, ok := forms[w]; ok {
			continue
		}
		if n, err := events(w); err != nil {
			return "", err
		} else if n > 0 {
			cands = append(cands, cand{w, damerau(typed, w), 0, n})
		}
	}
	if len(cands) == 0 {
		return term, nil
	}
	best := slices.MinFunc(cands, func(a, b cand) int {
		return cmp.Or(cmp.Compare(a.edits, b.edits), cmp.Compare(b.events, a.events), cmp.Compare(b.sample, a.sample),
			cmp.Compare(len(a.form), len(b.form)), cmp.Compare(a.form, b.form))
	})
	return best.form, nil
}

// forms counts the words, lower-cased and without a possessive, that
// analyse to the index term in n live events spread over those having it
// (ps).
func (e *Engine) forms(ctx context.Context, snap *snapshot.Snapshot, term string, ps *snapshot.Postings, n int) (map[string]int, error) {
	return writtenForms(ctx, snap, func(text string) (analysis.TokenStream, error) {
		return e.m.AnalyzeText(en.AnalyzerName, []byte(text))
	}, term, ps, n)
}

// writtenForms is forms with the text field's analyser given.
func writtenForms(ctx context.Context, snap *snapshot.Snapshot, analyse func(string) (analysis.TokenStream, error), term string, ps *snapshot.Postings, n int) (map[string]int, error) {
	forms := map[string]int{}
	err := sampleEvents(snap, ps, n, func(num uint64) (bool, error) {
		ev, err := snap.EventAt(ctx, num)
		if err != nil {
			return false, err
		}
		for _, text := range append([]string{ev.Text, ev.Topic}, ev.Context...) {
			toks, err := analyse(text)
			if err != nil {
				return false, err
			}
			for _, t := range toks {
				if string(t.Term) == term && t.Start >= 0 && t.End <= len(text) {
					forms[plain(text[t.Start:t.End])]++
				}
			}
		}
		return false, nil
	})
	return forms, err
}

// sample calls fn with the numbers of up to n live events spread over
// those having ps, until fn says done or fails.
func sampleEvents(snap *snapshot.Snapshot, ps *snapshot.Postings, n int, fn func(num uint64) (done bool, err error)) error {
	// The postings of every segment, deleted events included, as one
	// run: the events read are spread over it, each the first live one
	// from its place, without collecting the term's events.
	type run struct {
		seg  int
		docs []uint32
	}
	var runs []run
	total := 0
	for seg := range snap.Segments() {
		l, err := ps.List(seg)
		if err != nil {
			return err
		}
		if l != nil && len(l.Docs) > 0 {
			runs = append(runs, run{seg, l.Docs})
			total += len(l.Docs)
		}
	}
	// live returns the first live event among count postings of the run
	// from posting p.
	live := func(p, count int) (uint64, bool) {
		for _, r := range runs {
			if p >= len(r.docs) {
				p -= len(r.docs)
				continue
			}
			for ; p < len(r.docs) && count > 0; p, count = p+1, count-1 {
				if snap.LiveIn(r.seg, uint64(r.docs[p])) {
					return snap.SegmentStart(r.seg) + uint64(r.docs[p]), true
				}
			}
			p = 0
		}
		return 0, false
	}
	n = min(total, n)
	for i := range n {
		from, to := i*total/n, (i+1)*total/n
		num, ok := live(from, to-from)
		if !ok {
			continue
		}
		done, err := fn(num)
		if err != nil || done {
			return err
		}
	}
	return nil
}

// surfaceEvents is how many events surface reads: enough to find the
// commonest form of a word, few enough for a typo's answer to stay
// within a millisecond.
const surfaceEvents = 8

// plain returns a word as typed in a search box: lower case, without a
// possessive ("Ukraine's" is ukraine), which the index drops too.
func plain(word string) string {
	w := strings.ToLower(word)
	for _, pos := range []string{"'s", "’s"} {
		if base, ok := strings.CutSuffix(w, pos); ok && base != "" {
			return base
		}
	}
	return w
}

// damerau returns the optimal string alignment distance of a and b: the
// edits (insertion, deletion, substitution, transposition of two
// neighbouring letters) that turn one into the other.
func damerau(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// prefixStems returns the index's terms that words starting with prefix
// are kept as and that no term starting with it holds: its own stem
// (talk for talks*, bomb for bombe*) and stems shorter than it (invas for
// invasi*: invasion), each checked against the events having it, up to
// prefixEvents of them: one of them writes a word that starts with the
// prefix. query.PrefixStems guesses them, and a guess can be another
// word: astan*, as asta+n(ess), guesses asta, a name whose events never
// write astan. They match as terms, never as prefixes: bombe* finds no
// Bombay, killing* no Killarney.
func (e *Engine) prefixStems(ctx context.Context, snap *snapshot.Snapshot, prefix string, budget *int) ([]string, error) {
	lower := strings.ToLower(prefix)
	var out []string
	for _, t := range query.PrefixStems(e.m, prefix) {
		if *budget <= 0 {
			break // a query of many prefixes: the rest match as typed
		}
		ps, err := snap.Postings(newsdesk.FieldText, []byte(t))
		if err != nil {
			return nil, fmt.Errorf("prefix %s*: %w", prefix, err)
		}
		if ps.DF() == 0 {
			continue
		}
		n := min(prefixEvents, *budget)
		*budget -= n
		found := false
		err = sampleEvents(snap, ps, n, func(num uint64) (bool, error) {
			ev, err := snap.EventAt(ctx, num)
			if err != nil {
				return false, err
			}
			found = slices.ContainsFunc(append([]string{ev.Text, ev.Topic}, ev.Context...), func(s string) bool { return beginsWord(s, lower) })
			return found, nil
		})
		if err != nil {
			return nil, fmt.Errorf("prefix %s*: %w", prefix, err)
		}
		if found {
			out = append(out, t)
		}
	}
	return out, nil
}

// beginsWord reports whether a word of text, lower-cased, starts with
// prefix (lower case): at text's start or after a character that is not
// a letter or digit.
func beginsWord(text, prefix string) bool {
	lower := strings.ToLower(text)
	for i := 0; ; {
		j := strings.Index(lower[i:], prefix)
		if j < 0 {
			return false
		}
		at := i + j
		if at == 0 {
			return true
		}
		r, _ := utf8.DecodeLastRuneInString(lower[:at])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return true
		}
		i = at + 1
	}
}

// prefixEvents is how many events of a guessed stem prefixStems reads
// at most to find a word the prefix begins: a minority form needs many
// (killing among the events of kill: with 8, killi* found 4 events;
// arresting among arrest's, with 64, none; electing among elect's is
// rarer still). prefixBudget bounds them for a query of many prefixes:
// each read costs about 10 µs.
const (
	prefixEvents = 512
	prefixBudget = 2048
)

// anySpelling reports whether the index has events with one of terms.
func anySpelling(snap *snapshot.Snapshot, terms []string) (bool, error) {
	for _, t := range terms {
		ps, err := snap.Postings(newsdesk.FieldText, []byte(t))
		if err != nil {
			return false, err
		}
		if ps.DF() > 0 {
			return true, nil
		}
	}
	return false, nil
}

// popularTerms returns the commonest terms (at most popularCount) a
// prefix matches, starting with it or among its stems, each boosted by
// popularBoost times its events over the commonest's: a prefix is
// matched by many terms, and BM25 ranked the rarest first (sanctuary and
// Sancti Spíritus before sanctions for sanct*, Kabui before Kabul for
// kabu*), where a reader most likely means the commonest.
func popularTerms(snap *snapshot.Snapshot, prefix string, stems []string) ([]query.Boosted, error) {
	lower := strings.ToLower(prefix)
	d, err := snap.Reader().FieldDictPrefix(newsdesk.FieldText, []byte(lower))
	if err != nil {
		return nil, fmt.Errorf("prefix %s*: %w", prefix, err)
	}
	type counted struct {
		term string
		n    uint64
	}
	var all []counted
	for e, err := d.Next(); err == nil && e != nil; e, err = d.Next() {
		all = append(all, counted{e.Term, e.Count})
	}
	d.Close()
	for _, t := range stems {
		ps, err := snap.Postings(newsdesk.FieldText, []byte(t))
		if err != nil {
			return nil, fmt.Errorf("prefix %s*: %w", prefix, err)
		}
		all = append(all, counted{t, ps.DF()})
	}
	if len(all) < 2 {
		return nil, nil // one term: nothing to rank it against
	}
	slices.SortFunc(all, func(a, b counted) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.term, b.term)) })
	out := make([]query.Boosted, 0, min(len(all), popularCount))
	for _, c := range all[:min(len(all), popularCount)] {
		if c.n > 0 {
			out = append(out, query.Boosted{Term: c.term, Boost: popularBoost * float64(c.n) / float64(all[0].n)})
		}
	}
	return out, nil
}

// popularCount and popularBoost: see popularTerms.
const (
	popularCount = 8
	popularBoost = 4.0
)
