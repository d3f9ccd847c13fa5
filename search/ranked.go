package search

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"math"
	bits64 "math/bits"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/english"
	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/snapshot"
)

// The ranking of plain words, on a generation built with the ranking
// fields (the legacy ranking, Bleve's BM25 over the text alone, is
// fast.go's):
//
//   - Each word typed is a clause: its term in the text (the sentence, the
//     topic and the context tags), and the other one-word forms of a
//     place's name (Syrian for Syria, package entities) at a lower
//     weight. Its frequency in an event is normalised by the event's
//     length against the average the build counted, saturated (k1), and
//     weighed by the term's idf (BM25); the clauses' sum is divided by
//     its maximum, so a score runs from 0 to 1.
//   - Events with every word come first. Only when fewer than
//     MinAllWords have them all does the search relax: events with the
//     query's rarest word, scored by the share of words they have (to the
//     power Coord); and with fewer than MinAllWords of those, any word.
//   - A year typed (with a month before it, or not) is not a word to
//     match: the events of that year (and month) get a boost; the answer
//     says how the query was read (Result.DateBoost).
//   - Heading-only stubs lose Stub; the first events of a story of ten or
//     more gain up to Onset.
//   - The events the walk keeps for the page are re-ranked: those whose
//     sentence holds none of the words (only their tags do) lose
//     TagsOnly (tagwords.go); those close to the page's last gain up to
//     Early when their sentence's first words name the query's.
//
// The weights were fitted on readers' judgments of 30 newsroom queries
// with cross-validation (cmd/searcheval); the README gives the figures.

// Ranking holds the weights of the plain-words ranking.
type Ranking struct {
	K1, B   float64 // BM25's saturation and length normalisation
	Variant float64 // another form of a place's name, against the form typed
	Coord   float64 // power of the share of words a relaxed match has
	Stub    float64 // taken from a heading-only stub
	Onset   float64 // given to the first event of a story, halving every two days after
	Year    float64 // given to events of the year typed
	Month   float64 // given besides to events of the month typed with it
	Day     float64 // given besides to events of the day typed with them
	// (Year and Month were 0.1 and 0.05 until 2026-12-02, less than the
	// words' scores of other years' events differ by: coup 2013 listed
	// no event of 2013 in its top 10. No judged query names a year: they
	// are set so that a year's events come first unless their words match
	// far less well, as a reader naming a year expects.)
	// AllWords is the number of events with every word under which a
	// search relaxes to events with some of them.
	AllWords float64
	// Early is given to an event whose sentence names the query's words
	// in its first words (times the share of words named there). Only
	// the events close enough to the page's last to change places are
	// re-ranked by it.
	Early float64
	// TagsOnly is taken from an event whose sentence holds none of the
	// query's words: they are only in its topic or context tags (an
	// appointment filed under the president-elect's transition; a day's
	// events filed under its main story by mistake). The events the walk
	// keeps for the page are re-ranked by it.
	TagsOnly float64
	// Form is given to an event whose sentence writes the query's words
	// in the form typed (times the share of words it does): Porter's stem
	// makes generation general and experiment experience; a word's
	// inflections are one form (english.Form).
	Form float64
}

// DefaultRanking is the fitted ranking.
var DefaultRanking = Ranking{K1: 0.9, B: 0.75, Variant: 0.25, Coord: 2, Stub: 0.1, Onset: 0.05, Year: 0.3, Month: 0.3,
	Day: 0.3, AllWords: MinAllWords, Early: 0.02, TagsOnly: 0.1, Form: 0.2}

// MinAllWords is the default Ranking.AllWords.
const MinAllWords = 10

// DateBoost is a date the query named, read as a boost of the events of
// that year (and month), not as words to match nor a filter.
type DateBoost struct {
	Year  int    `json:"year"`
	Month int    `json:"month,omitempty"`
	Day   int    `json:"day,omitempty"`
	Words string `json:"words"` // as typed: "2011", "march 2011", "2011-03-11"
}

var (
	yearWord = regexp.MustCompile(`^\d{4}$`)
	// isoDate is a date written as the events' ids and the API write it
	// (2011-03-11), or a month (2011-03).
	isoDate = regexp.MustCompile(`^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$`)
	// dayWord is a day of the month as typed beside a month: 11, 11th,
	// "11," (march 11, 2011).
	dayWord = regexp.MustCompile(`^(\d{1,2})(?:st|nd|rd|th)?,?$`)
)

// dayOf returns the day of the month w writes, if a valid one of year's
// month.
func dayOf(w string, year, month int) (int, bool) {
	m := dayWord.FindStringSubmatch(strings.ToLower(w))
	if m == nil {
		return 0, false
	}
	d, _ := strconv.Atoi(m[1])
	return d, validDay(year, month, d)
}

// validDay tells whether day is a day of year's month.
func validDay(year, month, day int) bool {
	return day >= 1 && time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC).Day() == day
}

// isoBoost reads w as a date written 2011-03-11 (or a month, 2011-03).
func isoBoost(w string) (*DateBoost, bool) {
	m := isoDate.FindStringSubmatch(w)
	if m == nil {
		return nil, false
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	if mo < 1 || mo > 12 {
		return nil, false
	}
	b := &DateBoost{Year: y, Month: mo, Words: w}
	if m[3] != "" {
		d, _ := strconv.Atoi(m[3])
		if !validDay(y, mo, d) {
			return nil, false
		}
		b.Day = d
	}
	return b, true
}

var months = map[string]int{"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
	"may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
	"october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12}

// dateBoost finds a date among the words of p (readDate: a year of the
// corpus's dates, with a month and a day or not), when other words, phrases or prefixes
// remain (beside the last two too since 2026-12-02, when they came to
// rank by the walk; "hurricane katrina" 2005 found the 4 events that say
// 2005); it returns the boost and p without those words.
func dateBoost(p query.Params, names *Names) (*DateBoost, query.Params) {
	b, drop := readDate(p.Query.Clauses, names)
	if b == nil {
		return nil, p
	}
	var rest []query.Clause
	for j, c := range p.Query.Clauses {
		if !slices.Contains(drop, j) {
			rest = append(rest, c)
		}
	}
	if !slices.ContainsFunc(rest, func(c query.Clause) bool { return !c.Negated && c.Kind != query.Field }) {
		return nil, p // the year is the query (with field terms alone): a word to match
	}
	p.Query.Clauses = rest
	return b, p
}

// dayAlone reads a query that is a day alone (2011-03-11, 11 march 2011,
// with field terms and exclusions or not) as the events of that day:
// it narrows p's date range to the day, drops the day's words and
// returns the day. As words, 2011-03-11 found the events that write
// 2011, 03 and 11 in a row (a marathon's 2:03:02 of 2011). A day outside
// the range given stays words (nil), as a year or a month alone does.
func dayAlone(p *query.Params, names *Names) *DateBoost {
	b, drop := readDate(p.Query.Clauses, names)
	if b == nil || b.Day == 0 {
		return nil
	}
	var rest []query.Clause
	for j, c := range p.Query.Clauses {
		if !slices.Contains(drop, j) {
			if !c.Negated && c.Kind != query.Field {
				return nil // other words: the day is a boost (dateBoost)
			}
			rest = append(rest, c)
		}
	}
	day := time.Date(b.Year, time.Month(b.Month), b.Day, 0, 0, 0, 0, time.UTC)
	if !p.From.IsZero() && day.Before(p.From) || !p.To.IsZero() && day.After(p.To) {
		return nil
	}
	p.From, p.To, p.Query.Clauses = day, day, rest
	return b
}

// readDate finds the first year of the corpus's dates among the words
// of cl, with the month and day typed beside it: 2011, march 2011,
// 11 march 2011, march 11, 2011, 2011-03-11, 2011-03. It returns the
// date and the indexes of its words in cl; nil for none.
func readDate(cl []query.Clause, names *Names) (*DateBoost, []int) {
	lo, hi := names.DateRange()
	if lo.IsZero() {
		return nil, nil
	}
	word := func(j int) bool { return j >= 0 && cl[j].Kind == query.Word && !cl[j].Negated }
	monthAt := func(j int) (int, bool) {
		if !word(j) {
			return 0, false
		}
		m, ok := months[strings.ToLower(cl[j].Text)]
		return m, ok
	}
	dayAt := func(j, year, month int) (int, bool) {
		if !word(j) {
			return 0, false
		}
		return dayOf(cl[j].Text, year, month)
	}
	for i, c := range cl {
		if !word(i) {
			continue
		}
		b, iso := isoBoost(c.Text)
		if !iso && !yearWord.MatchString(c.Text) {
			continue
		}
		if !iso {
			y, _ := strconv.Atoi(c.Text)
			b = &DateBoost{Year: y, Words: c.Text}
		}
		if b.Year < lo.Year() || b.Year > hi.Year() {
			continue
		}
		drop := []int{i}
		if iso {
			// Read whole: 2011-03-11 searched the events that write
			// 2011, 03 and 11 in a row (a marathon's 2:03:02 of 2011).
		} else if i > 1 && cl[i-2].Named {
			// The month is a name's (Theresa May 2019): a word.
		} else if m, ok := monthAt(i - 1); ok {
			// march 2011, and 11 march 2011 with a day before it.
			b.Month, b.Words = m, cl[i-1].Text+" "+c.Text
			drop = append(drop, i-1)
			if d, ok := dayAt(i-2, b.Year, m); ok {
				b.Day, b.Words = d, cl[i-2].Text+" "+b.Words
				drop = append(drop, i-2)
			}
		} else if m, ok := monthAt(i - 2); ok {
			// march 11, 2011: the day between (11 was a word to match).
			if d, ok := dayAt(i-1, b.Year, m); ok {
				b.Month, b.Day, b.Words = m, d, cl[i-2].Text+" "+cl[i-1].Text+" "+c.Text
				drop = append(drop, i-1, i-2)
			}
		}
		return b, drop
	}
	return nil, nil
}

// markNames marks the word before a month typed before a year (Named)
// when the two are a name the events write: side by side, both
// capitalised, in at least nameEvents of the first nameReads events that
// have them in a row, and in half of them at least. Read as a date,
// theresa may 2019 searched theresa (May being the month) and women's
// march 2017 the women of March 2017 (a review's findings). Capitalised
// both, for the words events write before may and march as a verb and
// a noun (the attack may, a protest march), and never after a stop word
// (floods in may 2019: "in may" analyses to may): those stay dates (a
// second review's findings).
func (e *Engine) markNames(ctx context.Context, snap *snapshot.Snapshot, cl []query.Clause) error {
	for i := 1; i+1 < len(cl); i++ {
		prev, month, year := cl[i-1], cl[i], cl[i+1]
		if _, ok := months[strings.ToLower(month.Text)]; !ok || month.Kind != query.Word || month.Negated ||
			year.Kind != query.Word || !yearWord.MatchString(year.Text) || prev.Kind != query.Word || prev.Negated ||
			dayWord.MatchString(prev.Text) {
			continue // (a day before a month is a date's: 11 March 2011)
		}
		if toks, err := query.Tokens(e.m, prev.Text); err != nil || len(toks) == 0 {
			continue // a stop word
		}
		q := bleve.NewMatchPhraseQuery(prev.Text + " " + month.Text)
		q.SetField(newsdesk.FieldText)
		set, n, err := e.matchSet(ctx, snap, q)
		if err != nil {
			return err
		}
		if n < nameEvents {
			continue
		}
		written := strings.ReplaceAll(regexp.QuoteMeta(capitalised(prev.Text)), "'", "['’]")
		if s, ok := strings.CutSuffix(written, "s"); ok && !strings.ContainsAny(prev.Text, "'’") {
			// womens as Women's (typed without the apostrophe, as
			// search boxes are: the phrase matched, the name did not).
			written = s + "['’]?s"
		}
		name, err := regexp.Compile(`(^|[^\pL])` + written + `[^\pL\pN]{1,3}` + regexp.QuoteMeta(capitalised(month.Text)) + `($|[^\pL])`)
		if err != nil {
			continue
		}
		read, named := 0, 0
		for w, bits := range set {
			for ; bits != 0 && read < nameReads; bits &= bits - 1 {
				num := uint64(w)*64 + uint64(bits64.TrailingZeros64(bits))
				if !snap.Live(num) {
					continue
				}
				ev, err := snap.EventAt(ctx, num)
				if err != nil {
					return err
				}
				read++
				// Where the text field has them: the sentence, the topic
				// and the context tags (2017 Women's March).
				if name.MatchString(ev.Text + "\n" + ev.Topic + "\n" + strings.Join(ev.Context, "\n")) {
					named++
				}
			}
			if read == nameReads {
				break
			}
		}
		if named >= nameEvents && 2*named >= read {
			cl[i-1].Named = true
		}
	}
	return nil
}

// capitalised returns w with its first letter in upper case.
func capitalised(w string) string {
	r, n := utf8.DecodeRuneInString(w)
	return string(unicode.ToUpper(r)) + strings.ToLower(w[n:])
}

// nameEvents is how many events must write a word and a month as a name
// for the month to be no date (Theresa May: 94 events on the corpus,
// Women's March 9, Long March 10; floods March and election November:
// none), and nameReads how many of those with them in a row are read.
const (
	nameEvents = 3
	nameReads  = 16
)

// rankedPlan is a plain-words search of a ranked generation.
type rankedPlan struct {
	snap    *snapshot.Snapshot
	r       Ranking
	names   *Names
	clauses []*clauseTerms // rarest first
	accept  func(uint64) bool
	// strict is set for a query with a phrase, a prefix, a field term or
	// an exclusion, which relaxes only when no event has every clause, to
	// events with any (README): the walk does not relax, and when it
	// finds none, Bleve's query answers. accept holds then what the
	// walk's words cannot tell: the events with the phrases' words in a
	// row and the field terms, without the excluded clauses
	// (constraints).
	strict  bool
	days    *snapshot.Days
	boost   *DateBoost
	docs    float64
	avgText float64
	tags    *tagWords // tells the sentence's words from its tags'
	// lead holds, by clause, the lead field's postings of its forms: for
	// the lead boost (own), when Early is not 0.
	lead [][]*snapshot.Postings
	// forms holds, by clause, the forms field's postings of the word's
	// form as typed: for the form boost (own), when Form is not 0 and the
	// generation has the field; nil for a word of one form (otherForms).
	forms     []*snapshot.Postings
	formShare []float64 // by clause, otherForms
	formMax   float64   // the most the form boost gives
	// owned holds, by segment, the decoded lists own reads: decoded once a
	// search, where decoding a short list at each event cost more than
	// the walk.
	owned []ownLists
}

// ownLists are the lists own reads in one segment, by clause: the lead
// field's of its forms, and its text lists (as clauseTerms.lists).
type ownLists struct {
	lead, text [][]*snapshot.List
	forms      []*snapshot.List // by clause, nil where pl.forms is
}

// clauseTerms is one word's postings: its term and variants, in the text
// and the context tags.
type clauseTerms struct {
	lists []weighted
	idf   float64
	df    uint64   // of the term in the text, or its commonest variant's
	forms []string // the term and its variants
	// typed is the word's term in the forms field: its form as typed
	// (english.Form), "" for none.
	typed string
}

type weighted struct {
	p      *snapshot.Postings
	weight float64
	term   string // the form p is the postings of
}

// rankedPlanFor returns the plan of p on snap, if p is words (codes
// among them), phrases, prefixes, field terms and exclusions of them
// (and filters) ranked by relevance on a generation with the ranking
// fields. A phrase's words rank as words, and the events must have the
// phrase; a prefix is one word of the terms it begins (prefixTerms), a
// code one of its writings (codeTerms); a field term's events are
// required; an excluded clause leaves its events out
// (rankedPlan.strict). Until 2026-12-02 all but words ranked by Bleve's
// BM25, without the ranking's length, priors and penalties: a quoted
// "hurricane katrina" listed second an event filed under Katrina that
// names neither word.
func (e *Engine) rankedPlanFor(ctx context.Context, snap *snapshot.Snapshot, names *Names, p query.Params) (*rankedPlan, bool, error) {
	if e.legacy || e.ents == nil || len(p.After) > 0 || p.Sort != query.SortRelevance || snap.Lengths.Text == 0 {
		return nil, false, nil
	}
	strict, constrained := false, false
	for _, c := range p.Query.Clauses {
		switch {
		case c.Kind == query.Prefix:
			// A prefix relaxes as a phrase does; its terms are the
			// walk's (prefixTerms), excluded it is Bleve's query's.
			strict, constrained = true, constrained || c.Negated
			continue
		case c.Kind == query.Word && !c.Negated:
			continue
		case c.Kind == query.Field:
			strict, constrained = true, true // an exact tag: events to require or leave out
			continue
		}
		strict = true
		// A phrase of one word is the word, as typed; an excluded stop
		// word excludes nothing: the walk's words tell their events.
		toks, err := query.Tokens(e.m, c.Text)
		if err != nil {
			return nil, false, err
		}
		if c.Negated && len(toks) > 0 || len(toks) > 1 {
			constrained = true
		}
	}
	if strict && p.AnyWord {
		// Relaxed to any clause (Search, when no event has them all): a
		// strict plan's walk does not relax, Bleve's query does, in the
		// relevance order and by date alike (a review found the date
		// orders finding none where relevance relaxed: tsunam* cricket).
		return nil, false, nil
	}
	boost, p := dateBoost(p, names)
	plan := &rankedPlan{snap: snap, r: e.ranking, names: names, boost: boost, accept: filterFunc(snap, p, true),
		docs: float64(max(snap.Docs(), 1)), avgText: snap.Lengths.Text, tags: e.tags}
	if lo, hi, ok := dayRange(p); ok {
		plan.days = snap.Days(lo, hi)
	}
	var words, plain, phrased []string
	var codes, prefixes []query.Clause // each one word of the walk (codeTerms, prefixTerms)
	for _, c := range p.Query.Clauses {
		switch {
		case c.Negated || c.Kind == query.Field:
			continue
		case c.Kind == query.Word && len(c.Values) > 0:
			codes = append(codes, c)
			continue
		case c.Kind == query.Prefix:
			prefixes = append(prefixes, c)
			continue
		case c.Kind == query.Phrase:
			phrased = append(phrased, c.Text)
		default:
			plain = append(plain, c.Text)
		}
		words = append(words, c.Text)
	}
	toks, err := e.m.AnalyzeText(en.AnalyzerName, []byte(strings.Join(words, " ")))
	if err != nil {
		return nil, false, err
	}
	var terms []string
	for _, t := range toks {
		if !slices.Contains(terms, string(t.Term)) {
			terms = append(terms, string(t.Term))
		}
	}
	if n := len(terms) + len(codes) + len(prefixes); n == 0 || n > maxFastTerms {
		return nil, false, nil
	}
	// A phrase's words match as written, in any spelling, not as a
	// place's other forms (Bleve's phrase never matched "syrian peace"
	// for "syria peace"), unless a word typed alone has them too.
	exact := map[string]bool{}
	if len(phrased) > 0 {
		alone, err := query.Tokens(e.m, strings.Join(plain, " "))
		if err != nil {
			return nil, false, err
		}
		pt, err := query.Tokens(e.m, strings.Join(phrased, " "))
		if err != nil {
			return nil, false, err
		}
		for _, t := range pt {
			exact[t] = !slices.Contains(alone, t)
		}
	}
	// A prefix of too many terms is Bleve's query's: known before the
	// constraints are read (a review found con* "united states" reading
	// them for nothing, 27 -> 45 ms).
	for _, c := range prefixes {
		ct, ok, err := prefixTerms(snap, c)
		if err != nil || !ok {
			return nil, false, err
		}
		ct.idf = idf(ct.df, plan.docs)
		plan.clauses = append(plan.clauses, ct)
	}
	if constrained {
		if plan.accept, err = e.constraints(ctx, snap, p, plan.accept); err != nil || plan.accept == nil {
			return nil, false, err
		}
	}
	plan.strict = strict
	// The form of each word as typed whose stem drops a derivational
	// ending, by its term: the forms analyser keeps those words, in the
	// places the en analyser gives them.
	typed := map[string]string{}
	if e.ranking.Form == 0 {
		// no form boost: nothing to read
	} else if ftoks, err := e.m.AnalyzeText(english.FormsAnalyzerName, []byte(strings.Join(words, " "))); err == nil {
		at := map[int]string{}
		for _, f := range ftoks {
			at[f.Position] = string(f.Term)
		}
		for _, t := range toks {
			f, ok := at[t.Position]
			if prev, seen := typed[string(t.Term)]; seen && prev != f || !ok && seen {
				// Two words of one stem, one clause (general generation):
				// no form is the one typed.
				typed[string(t.Term)] = ""
			} else if ok && !seen {
				typed[string(t.Term)] = f
			}
		}
	}
	for _, t := range terms {
		spelt := names.Spellings(t)
		var variants []string
		if !exact[t] {
			variants = e.ents.Variants(t)
		}
		ct := &clauseTerms{forms: append(append([]string{t}, spelt...), variants...)}
		ct.typed = typed[t]
		add := func(term string, w float64) error {
			ps, err := snap.Postings(newsdesk.FieldText, []byte(term))
			if err != nil || ps.DF() == 0 {
				return err
			}
			ct.df = max(ct.df, ps.DF())
			ct.lists = append(ct.lists, weighted{p: ps, weight: w, term: term})
			return nil
		}
		if err := add(t, 1); err != nil {
			return nil, false, err
		}
		for _, v := range spelt { // the same word (erdoğan for erdogan)
			if err := add(v, 1); err != nil {
				return nil, false, err
			}
		}
		own := ct.df
		for _, v := range variants {
			if err := add(v, plan.r.Variant); err != nil {
				return nil, false, err
			}
		}
		if own > 0 {
			ct.df = own // the word's own rarity, when the index has it
		}
		ct.idf = idf(ct.df, plan.docs)
		plan.clauses = append(plan.clauses, ct)
	}
	for _, c := range codes {
		ct, err := e.codeTerms(ctx, snap, c)
		if err != nil {
			return nil, false, err
		}
		ct.idf = idf(ct.df, plan.docs)
		plan.clauses = append(plan.clauses, ct)
	}
	slices.SortFunc(plan.clauses, func(a, b *clauseTerms) int { return cmp.Compare(a.df, b.df) })
	return plan, true, nil
}

// idf is BM25's idf of a word df events hold, of docs. A word's document
// frequency counts deleted events until a merge drops them, and can pass
// the live events' number: the idf stays at least 0.
func idf(n uint64, docs float64) float64 {
	df := min(float64(max(n, 1)), docs)
	return math.Log(1 + (docs-df+0.5)/(df+0.5))
}

// prefixTerms returns the walk's word of a prefix (astan*): every term it
// begins, and the terms of c.Values (the stems of words it begins that
// no term starting with it holds, and its other spellings), each weighed
// by its events against the commonest's, at least query.PrefixRestBoost:
// the word a reader typing a prefix most likely means first (sanctions
// for sanct*, not sanctuary), as the Popular boosts rank them in Bleve's
// query. ok is false for a prefix of more than maxPrefixTerms terms
// (con*: 2,000 lists to walk as one), which Bleve's query ranks.
func prefixTerms(snap *snapshot.Snapshot, c query.Clause) (*clauseTerms, bool, error) {
	type counted struct {
		term string
		n    uint64
	}
	var all []counted
	for _, form := range query.PrefixForms(c.Text) {
		d, err := snap.Reader().FieldDictPrefix(newsdesk.FieldText, []byte(form))
		if err != nil {
			return nil, false, fmt.Errorf("prefix %s*: %w", c.Text, err)
		}
		for {
			e, err := d.Next()
			if err != nil {
				d.Close()
				return nil, false, fmt.Errorf("prefix %s*: %w", c.Text, err)
			}
			if e == nil || len(all) > maxPrefixTerms {
				break
			}
			all = append(all, counted{e.Term, e.Count})
		}
		d.Close()
	}
	for _, t := range c.Values {
		if !slices.ContainsFunc(all, func(a counted) bool { return a.term == t }) {
			all = append(all, counted{t, 0})
		}
	}
	if len(all) > maxPrefixTerms {
		return nil, false, nil
	}
	ct := &clauseTerms{}
	var most uint64
	var posts []*snapshot.Postings
	for i, a := range all {
		ps, err := snap.Postings(newsdesk.FieldText, []byte(a.term))
		if err != nil {
			return nil, false, err
		}
		all[i].n = ps.DF()
		posts = append(posts, ps)
		most = max(most, ps.DF())
	}
	for i, a := range all {
		if a.n == 0 {
			continue
		}
		w := max(query.PrefixRestBoost, float64(a.n)/float64(most))
		ct.lists = append(ct.lists, weighted{p: posts[i], weight: w, term: a.term})
		ct.df = max(ct.df, a.n)
	}
	// The lead boost reads the commonest terms' lead lists only.
	slices.SortStableFunc(all, func(a, b counted) int { return cmp.Compare(b.n, a.n) })
	for _, a := range all[:min(len(all), popularCount)] {
		if a.n > 0 {
			ct.forms = append(ct.forms, a.term)
		}
	}
	return ct, true, nil
}

// maxPrefixTerms is the most terms a prefix the walk ranks may begin: a
// bound on a request's work for corpora larger than ours, whose largest
// prefix (mar*) begins 358. It was 256 until 2026-12-02, before the heap
// of a word's lists (formsUnion): the four prefixes of the corpus past
// it (mar*, con*, cha*, sha*) then ranked by Bleve's query, a year beside
// them a word to match (con* 2011 found the 380 events that say 2011,
// where elect* 2011 finds the 7,642 of elect*, 2011's boosted). Walked, they are
// faster too, the best of two with 5 facets: con* war 16.2 -> 6.0 ms,
// cha* war 19.0 -> 6.9, mar* 25.7 -> 17.6, con* 35.5 -> 31.9.
const maxPrefixTerms = 4096

// codeTerms returns the walk's word of a code (query.Clause.Values, from
// codeWritings): its writing as one term (G20), and, as a term's
// postings, the events that write its parts in a row (G-20, Bleve's
// phrase of Text), each with the least of its parts' frequencies and the
// text's length. One word, so that a code ranks, relaxes and leaves a year to
// boost as a word does: as a phrase of its parts, g20 2009 required the
// year and g20 london relaxed to any word.
func (e *Engine) codeTerms(ctx context.Context, snap *snapshot.Snapshot, c query.Clause) (*clauseTerms, error) {
	ct := &clauseTerms{}
	for _, v := range c.Values {
		ps, err := snap.Postings(newsdesk.FieldText, []byte(v))
		if err != nil {
			return nil, err
		}
		if ps.DF() > 0 {
			ct.lists = append(ct.lists, weighted{p: ps, weight: 1, term: v})
			ct.forms, ct.df = append(ct.forms, v), ct.df+ps.DF()
		}
	}
	parts, err := query.Tokens(e.m, c.Text)
	if err != nil || len(parts) == 0 {
		return ct, err
	}
	// Each event's count of the code is its parts' least (B-52 once and
	// B-21 twice is one B-52: the count of b made a B-21 event the first
	// of b52, a review found), and the tags-only check counts the rarest
	// part in its tags.
	var ps []*snapshot.Postings
	rarest := 0
	for i, t := range parts {
		p, err := snap.Postings(newsdesk.FieldText, []byte(t))
		if err != nil {
			return nil, err
		}
		if ps = append(ps, p); p.DF() < ps[rarest].DF() {
			rarest = i
		}
	}
	q := bleve.NewMatchPhraseQuery(c.Text)
	q.SetField(newsdesk.FieldText)
	in, _, err := e.matchSet(ctx, snap, q)
	if err != nil {
		return nil, err
	}
	lists := make([]*snapshot.List, snap.Segments())
	for seg := range lists {
		ls := make([]*snapshot.List, len(ps))
		for i, p := range ps {
			l, err := p.List(seg)
			if err != nil {
				return nil, err
			}
			ls[i] = l
		}
		if slices.Contains(ls, nil) {
			continue // a part the segment lacks: none of its events has the code
		}
		start := snap.SegmentStart(seg)
		var m snapshot.List
		for i, d := range ls[0].Docs {
			if !in.has(start + uint64(d)) {
				continue
			}
			f := ls[0].Freqs[i]
			for _, o := range ls[1:] {
				if j, ok := slices.BinarySearch(o.Docs, d); ok {
					f = min(f, o.Freqs[j])
				}
			}
			m.Docs, m.Freqs, m.Lens = append(m.Docs, d), append(m.Freqs, f), append(m.Lens, ls[0].Lens[i])
		}
		if len(m.Docs) > 0 {
			lists[seg] = &m
		}
	}
	if made := snap.MadePostings(lists); made.DF() > 0 {
		ct.lists = append(ct.lists, weighted{p: made, weight: 1, term: parts[rarest]})
		ct.forms, ct.df = append(ct.forms, parts[rarest]), ct.df+made.DF()
	}
	return ct, nil
}

// prepareOwn reads, for own, the lists it looks events up in: for the
// ranked page only (a date order's walk scores nothing).
func (pl *rankedPlan) prepareOwn() error {
	if pl.r.Form != 0 {
		held := false // a generation built before the field has none
		for _, ct := range pl.clauses {
			var ps *snapshot.Postings
			share := 0.0
			if ct.typed != "" && ct.df > 0 {
				var err error
				if ps, err = pl.snap.Postings(newsdesk.FieldForms, []byte(ct.typed)); err != nil {
					return err
				}
				if share = otherForms(ps.DF(), ct.df); share == 0 {
					ps = nil
				}
			}
			held = held || ps != nil && ps.DF() > 0
			pl.forms, pl.formShare = append(pl.forms, ps), append(pl.formShare, share)
		}
		if !held {
			pl.forms = nil
		} else {
			for _, sh := range pl.formShare {
				pl.formMax += max(pl.r.Form, 0) * sh / float64(len(pl.clauses))
			}
		}
	}
	if pl.r.Early != 0 {
		for _, ct := range pl.clauses {
			var forms []*snapshot.Postings
			for _, form := range ct.forms {
				ps, err := pl.snap.Postings(newsdesk.FieldLead, []byte(form))
				if err != nil {
					return err
				}
				forms = append(forms, ps)
			}
			pl.lead = append(pl.lead, forms)
		}
	}
	if pl.lead != nil || pl.forms != nil || (pl.r.TagsOnly != 0 && pl.tags != nil) {
		pl.owned = make([]ownLists, pl.snap.Segments())
		for seg := range pl.owned {
			o := &pl.owned[seg]
			for j, ct := range pl.clauses {
				var text, lead []*snapshot.List
				var forms *snapshot.List
				if pl.forms != nil && pl.forms[j] != nil {
					var err error
					if forms, err = pl.forms[j].List(seg); err != nil {
						return err
					}
				}
				o.forms = append(o.forms, forms)
				for _, w := range ct.lists {
					l, err := w.p.List(seg)
					if err != nil {
						return err
					}
					text = append(text, l)
				}
				if pl.lead != nil {
					for _, p := range pl.lead[j] {
						l, err := p.List(seg)
						if err != nil {
							return err
						}
						lead = append(lead, l)
					}
				}
				o.text, o.lead = append(o.text, text), append(o.lead, lead)
			}
		}
	}
	return nil
}

// clauseCursor walks one clause's lists in one segment, as their union.
type clauseCursor struct {
	subs    []subCursor
	cur     uint64 // the union's current document, once started
	started bool
	done    bool
}

type subCursor struct {
	// l is the list decoded (snapshot.List): a long list is decoded once
	// per segment and shared, and reading arrays costs a tenth of zap's
	// iterators, which held the popular stories' searches (10,000
	// matches each) above a millisecond.
	l      *snapshot.List
	weight float64
	pos    int // l's index of num
	num    uint64
	moved  bool
	done   bool
}

// advance moves the clause to its first document at or after target,
// and reports whether it has one.
func (c *clauseCursor) advance(target uint64) (bool, error) {
	best, any := uint64(math.MaxUint64), false
	for i := range c.subs {
		s := &c.subs[i]
		if s.done {
			continue
		}
		if !s.moved || s.num < target {
			from := s.pos
			if s.moved {
				from++
			}
			s.pos = seek(s.l.Docs, from, target)
			if s.pos == len(s.l.Docs) {
				s.done = true
				continue
			}
			s.moved = true
			s.num = uint64(s.l.Docs[s.pos])
		}
		any = true
		best = min(best, s.num)
	}
	c.cur, c.done, c.started = best, !any, true
	return any, nil
}

// seek returns the index of the first of docs[from:] at or after target
// (len(docs) if none), galloping: the walk's next target is most often a
// few postings on.
func seek(docs []uint32, from int, target uint64) int {
	if from >= len(docs) || uint64(docs[from]) >= target {
		return from
	}
	lo, step := from, 1
	hi := lo + step
	for hi < len(docs) && uint64(docs[hi]) < target {
		lo, step = hi, step*2
		hi = lo + step
	}
	hi = min(hi, len(docs))
	i, _ := slices.BinarySearch(docs[lo:hi], uint32(min(target, math.MaxUint32)))
	return lo + i
}

// score returns the clause's saturated, length-normalised frequency in
// document local (where the clause is), times its idf.
func (pl *rankedPlan) score(ct *clauseTerms, c *clauseCursor, local uint64) float64 {
	k1, b := pl.r.K1, pl.r.B
	tf := 0.0
	for i := range c.subs {
		s := &c.subs[i]
		if s.done || s.num != local {
			continue
		}
		length := float64(s.l.Lens[s.pos])
		tf += s.weight * float64(s.l.Freqs[s.pos]) / (1 - b + b*length/pl.avgText)
	}
	return ct.idf * tf * (k1 + 1) / (k1 + tf)
}

// prior returns what the date boost, stubs and story onsets add to
// document n's score; the date boost scaled by coord, as a relaxed
// match's score is for the share of words it has: at 0.3 and 0.3 more
// for a month, an event of March 2019 with astana alone ranked above
// the three with astana, peace and talks (a review's finding).
func (pl *rankedPlan) prior(n uint64, coord float64) float64 {
	s := 0.0
	if pl.snap.Stub(n) {
		s -= pl.r.Stub
	}
	day := pl.snap.Day(n)
	if pl.r.Onset > 0 {
		if first, ok := pl.names.storyStart(pl.snap.Topic(n)); ok && day >= first {
			s += pl.r.Onset / (1 + float64(day-first)/2)
		}
	}
	if pl.boost != nil && day != snapshot.NoDay {
		t := snapshot.DayTime(day)
		if t.Year() == pl.boost.Year {
			s += pl.r.Year * coord
			if int(t.Month()) == pl.boost.Month {
				s += pl.r.Month * coord
				if t.Day() == pl.boost.Day {
					s += pl.r.Day * coord
				}
			}
		}
	}
	return s
}

// walk mode: which clauses an event must have.
const (
	allWords = iota
	rarestWord
	anyWord
)

// modes returns the walk modes plan tries, in order: every word, then,
// for a query of several, its rarest (unless too rare to require) and any
// word. The last, or the first that finds AllWords events, answers.
func (pl *rankedPlan) modes() []int {
	if len(pl.clauses) < 2 || pl.strict {
		return []int{allWords}
	}
	if pl.clauses[0].df < MinAllWords {
		return []int{allWords, anyWord} // too rare a word to require
	}
	return []int{allWords, rarestWord, anyWord}
}

// ranked runs plan: every word first, relaxing when too few events have
// them all. It returns the matches' count, the best k, the mode it
// settled on, and how many events have every word (allWords' count).
// visit, if not nil, is called with every match.
func (e *Engine) ranked(ctx context.Context, plan *rankedPlan, k int, visit func(uint64)) (uint64, []scoredDoc, int, uint64, error) {
	modes := plan.modes()
	var whole uint64
	for i, mode := range modes {
		// The last mode, or one that finds enough, answers; a mode that
		// may be relaxed after it visits its matches only once it is
		// known to answer (facets walk them again then).
		final := i == len(modes)-1
		v := visit
		if !final {
			v = nil
		}
		total, top, err := e.rankedWalk(ctx, plan, mode, k, v)
		if err != nil {
			return 0, nil, mode, 0, err
		}
		if mode == allWords {
			whole = total
		}
		settles, err := plan.settles(mode, total, final)
		if err != nil {
			return 0, nil, mode, 0, err
		}
		if settles {
			if !final && visit != nil {
				if _, _, err := e.rankedWalk(ctx, plan, mode, 0, visit); err != nil {
					return 0, nil, mode, 0, err
				}
			}
			return total, top, mode, whole, nil
		}
	}
	return 0, nil, allWords, whole, nil
}

// settles reports whether a search settles on mode, having found total
// events in it: the last mode does, and so does one that AllWords events
// of the whole index match, the filters and the date range left out.
// Filters do not decide how far a search relaxes, so that a facet's count
// is what choosing it finds: facets count the events of the mode the
// search settled on, which a filter more does not change ("peace talks"
// counted 2 events of Arts and culture, and filtering on it found 13,
// relaxed to "talks" since fewer than 10 there had both words).
func (pl *rankedPlan) settles(mode int, total uint64, final bool) (bool, error) {
	if final || float64(total) >= pl.r.AllWords {
		return true, nil
	}
	if pl.accept == nil && pl.days == nil {
		return false, nil
	}
	return pl.atLeast(mode, pl.r.AllWords)
}

// atLeast reports whether n or more live events of the whole index, what
// the filters and the date range admit or not, have every clause
// (allWords) or the first, the rarest (rarestWord). It stops at the n-th.
func (pl *rankedPlan) atLeast(mode int, n float64) (bool, error) {
	found := 0.0
	forms := make([][]*snapshot.List, len(pl.clauses))
segments:
	for seg := range pl.snap.Segments() {
		for j, ct := range pl.clauses {
			forms[j] = forms[j][:0]
			for _, w := range ct.lists {
				l, err := w.p.List(seg)
				if err != nil {
					return false, err
				}
				if l != nil && len(l.Docs) > 0 {
					forms[j] = append(forms[j], l)
				}
			}
			if len(forms[j]) == 0 && (j == 0 || mode == allWords) {
				continue segments // a required word this segment lacks
			}
		}
		// The union of the first clause's forms, in document order.
		at := make([]int, len(forms[0]))
	events:
		for {
			d, any := uint32(math.MaxUint32), false
			for i, l := range forms[0] {
				if at[i] < len(l.Docs) {
					d, any = min(d, l.Docs[at[i]]), true
				}
			}
			if !any {
				break
			}
			for i, l := range forms[0] {
				if at[i] < len(l.Docs) && l.Docs[at[i]] == d {
					at[i]++
				}
			}
			if !pl.snap.LiveIn(seg, uint64(d)) {
				continue
			}
			if mode == allWords {
				for _, fs := range forms[1:] {
					if !slices.ContainsFunc(fs, func(l *snapshot.List) bool { _, ok := slices.BinarySearch(l.Docs, d); return ok }) {
						continue events
					}
				}
			}
			if found++; found >= n {
				return true, nil
			}
		}
	}
	return false, nil
}

// rankedWalk walks the events mode admits, in each segment in turn: it
// counts them, calls visit with each, and returns the best k.
func (e *Engine) rankedWalk(ctx context.Context, plan *rankedPlan, mode, k int, visit func(uint64)) (uint64, []scoredDoc, error) {
	snap := plan.snap
	maxScore := 0.0
	for _, ct := range plan.clauses {
		maxScore += ct.idf * (plan.r.K1 + 1)
	}
	n := float64(len(plan.clauses))
	maxPrior := plan.r.Onset + plan.ownMax() // the lead and form boosts are own's, added as a prior is
	if plan.boost != nil {
		maxPrior += plan.r.Year
		if plan.boost.Month != 0 {
			maxPrior += plan.r.Month
		}
		if plan.boost.Day != 0 {
			maxPrior += plan.r.Day
		}
	}
	var (
		total uint64
		best  = make(topDocs, 0, k+1)
	)
	curs := make([]clauseCursor, len(plan.clauses))
segments:
	for seg := range snap.Segments() {
		live := 0
		for j, ct := range plan.clauses {
			curs[j] = clauseCursor{}
			for _, l := range ct.lists {
				dl, err := l.p.List(seg)
				if err != nil {
					return 0, nil, err
				}
				if dl != nil && len(dl.Docs) > 0 {
					curs[j].subs = append(curs[j].subs, subCursor{l: dl, weight: l.weight})
				}
			}
			if len(curs[j].subs) == 0 {
				curs[j].done = true
				if mode == allWords || (mode == rarestWord && j == 0) {
					continue segments // a required word this segment lacks
				}
			} else {
				live++
			}
		}
		if live == 0 {
			continue
		}
		// The walk of the events of postings lo to hi-1 of a list that
		// leads, and how many it has.
		var walk walkFunc
		var size int
		lead := curs[0].subs
		switch {
		case listWalk && mode == allWords && plan.days == nil && visit == nil && k > 0 && len(lead) > 1 && len(curs) == 1:
			docs := longest(lead)
			walk = func(ctx context.Context, curs []clauseCursor, best *topDocs, lo, hi int) (uint64, error) {
				from, to := cut(docs, lo, hi)
				return plan.walkForms(ctx, seg, curs[0].subs, k, maxScore, maxPrior, best, from, to)
			}
			size = len(docs)
		case listWalk && mode == allWords && plan.days == nil && visit == nil && k > 0 && singleLists(curs):
			walk = func(ctx context.Context, curs []clauseCursor, best *topDocs, lo, hi int) (uint64, error) {
				return plan.walkLists(ctx, seg, curs, k, maxScore, maxPrior, best, lo, hi)
			}
			size = len(lead[0].l.Docs)
		default:
			// Parts of the longest list that leads: of the rarest word,
			// or of any word when any will do.
			docs := longest(lead)
			if mode == anyWord {
				for j := range curs {
					if d := longest(curs[j].subs); len(d) > len(docs) {
						docs = d
					}
				}
			}
			walk = func(ctx context.Context, curs []clauseCursor, best *topDocs, lo, hi int) (uint64, error) {
				from, to := cut(docs, lo, hi)
				return plan.walkCursors(ctx, seg, curs, mode, k, maxScore, maxPrior, n, best, visit, from, to)
			}
			size = len(docs)
		}
		var m uint64
		var err error
		if visit == nil && k > 0 {
			m, err = plan.split(ctx, seg, curs, k, &best, size, walk)
		} else {
			m, err = walk(ctx, curs, &best, 0, size)
		}
		if err != nil {
			return 0, nil, err
		}
		total += m
	}
	return total, sorted(best), nil
}

// walkCursors is rankedWalk's general loop over one segment's events from
// to to-1: it counts those mode admits, calls visit with each, and keeps
// the best k in best.
func (pl *rankedPlan) walkCursors(ctx context.Context, seg int, curs []clauseCursor, mode, k int, maxScore, maxPrior, n float64, best *topDocs, visit func(uint64), from, to uint64) (uint64, error) {
	snap, start, end := pl.snap, pl.snap.SegmentStart(seg), pl.snap.SegmentEnd(seg)
	var total uint64
	steps := 0
	target := from
	for {
		if steps++; steps%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		if pl.days != nil {
			n, ok := pl.days.Next(start + target)
			if !ok || n >= end {
				return total, nil
			}
			target = n - start
		}
		if target >= to {
			return total, nil
		}
		// Find the next candidate at or after target.
		var local uint64
		switch mode {
		case allWords:
			matched := true
			for j := range curs {
				c := &curs[j]
				if !c.started || c.cur < target {
					ok, err := c.advance(target)
					if err != nil {
						return 0, err
					}
					if !ok {
						return total, nil
					}
				}
				if c.cur > target {
					target, matched = c.cur, false
					break
				}
			}
			if !matched {
				continue
			}
			local = target
		case rarestWord:
			c := &curs[0]
			ok, err := c.advance(target)
			if err != nil {
				return 0, err
			}
			if !ok {
				return total, nil
			}
			local = c.cur
			for j := 1; j < len(curs); j++ {
				if !curs[j].done && (!curs[j].started || curs[j].cur < local) {
					if _, err := curs[j].advance(local); err != nil {
						return 0, err
					}
				}
			}
		default: // anyWord
			local = math.MaxUint64
			for j := range curs {
				c := &curs[j]
				if !c.done && (!c.started || c.cur < target) {
					if _, err := c.advance(target); err != nil {
						return 0, err
					}
				}
				if !c.done {
					local = min(local, c.cur)
				}
			}
			if local == math.MaxUint64 {
				return total, nil
			}
		}
		if local >= to {
			return total, nil
		}
		target = local + 1
		num := start + local
		if !snap.LiveIn(seg, local) || (pl.accept != nil && !pl.accept(num)) {
			continue
		}
		if pl.days != nil && !pl.days.Contains(num) {
			continue
		}
		total++
		if visit != nil {
			visit(num)
		}
		if k == 0 {
			continue
		}
		score, matched := 0.0, 0
		for j, ct := range pl.clauses {
			c := &curs[j]
			if c.done || c.cur != local {
				continue
			}
			matched++
			score += pl.score(ct, c, local)
		}
		score /= maxScore
		coord := 1.0
		if mode != allWords {
			coord = math.Pow(float64(matched)/n, pl.r.Coord)
			score *= coord
		}
		if len(*best) == k && score+maxPrior <= (*best)[0].score {
			continue // cannot make the page, whatever its prior
		}
		pl.place(best, num, score, coord, k)
	}
}

// listWalk turns on walkLists; tests turn it off to compare.
var listWalk = true

// singleLists reports whether each clause of curs has one list in the
// segment: no other form of its word.
func singleLists(curs []clauseCursor) bool {
	for i := range curs {
		if len(curs[i].subs) != 1 {
			return false
		}
	}
	return true
}

// walkLists is rankedWalk's loop for one segment of the commonest
// search: every word required, each with one list (singleLists), no day
// range, nothing to visit. It leapfrogs over the lists' arrays directly,
// the rarest list leading, passes over the events its pageBar rules out,
// and scores the others as score does, in the same order of operations:
// the same events, scores and order (TestWalkLists, and all 6,000
// answers of the benchmark's queries on the corpus and on ten times it).
// Over ten times the corpus, the general loop's cursors took 6 ms for
// "states" (184,000 matches), this loop 1.8 ms, and with its bar 0.9 ms;
// "united states" (114,000) 11 ms, 3.3 and 2.2.
//
// It walks the leading list's postings lo to hi-1 (walkListsSplit walks
// parts of a long list at once).
func (pl *rankedPlan) walkLists(ctx context.Context, seg int, curs []clauseCursor, k int, maxScore, maxPrior float64, best *topDocs, lo, hi int) (uint64, error) {
	snap, start := pl.snap, pl.snap.SegmentStart(seg)
	k1, b := pl.r.K1, pl.r.B
	lists := make([]*snapshot.List, len(curs))
	weights := make([]float64, len(curs))
	for j := range curs {
		lists[j], weights[j] = curs[j].subs[0].l, curs[j].subs[0].weight
	}
	lead := lists[0].Docs
	pos := make([]int, len(lists))
	if lo > 0 {
		for j := 1; j < len(lists); j++ {
			pos[j] = seek(lists[j].Docs, 0, uint64(lead[lo]))
		}
	}
	var total uint64
	steps := 0
	bar := pl.newPageBar(k, maxScore, maxPrior, weights[1:], lists[1:])
	bar.set(*best)
next:
	for i := lo; i < hi; i++ {
		if steps++; steps%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		d := lead[i]
		for j := 1; j < len(lists); j++ {
			docs := lists[j].Docs
			p := pos[j]
			// Most often the list's next posting is the one: no call.
			if p < len(docs) && docs[p] < d {
				if p+1 < len(docs) && docs[p+1] >= d {
					p++
				} else {
					p = seek(docs, p, uint64(d))
				}
			}
			if pos[j] = p; p == len(docs) {
				break next
			}
			if docs[p] != d {
				i = seek(lead, i+1, uint64(docs[p])) - 1
				continue next
			}
		}
		pos[0] = i
		local := uint64(d)
		num := start + local
		if !snap.LiveIn(seg, local) || (pl.accept != nil && !pl.accept(num)) {
			continue
		}
		total++
		// pageBar.out, written out: this test runs for every match.
		freq, norm := weights[0]*float64(lists[0].Freqs[i]), (1-b)+float64(lists[0].Lens[i])*bar.bAvg
		if freq < bar.all*norm || (freq < bar.others*norm && bar.outside(snap, num)) {
			continue
		}
		score := 0.0
		for j, l := range lists {
			p := pos[j]
			tf := 0.0
			tf += weights[j] * float64(l.Freqs[p]) / (1 - b + b*float64(l.Lens[p])/pl.avgText)
			score += pl.clauses[j].idf * tf * (k1 + 1) / (k1 + tf)
		}
		pl.offer(best, num, score/maxScore, k, maxPrior, &bar)
	}
	return total, nil
}

// Long walks are split (split): each core gets a part of at least
// walkChunk postings of the leading list, at most walkParts parts. Over ten times the corpus, "united states"
// (114,000 matches) took 2.4 ms on one core. Variables: tests split
// small lists.
var (
	walkChunk = 32768
	walkParts = func() int { return runtime.GOMAXPROCS(0) }
)

// walkFunc walks the events of a segment that postings lo to hi-1 of a
// list lead, keeping the best k in best.
type walkFunc func(ctx context.Context, curs []clauseCursor, best *topDocs, lo, hi int) (uint64, error)

// longest returns the longest list of subs.
func longest(subs []subCursor) []uint32 {
	var docs []uint32
	for _, s := range subs {
		if len(s.l.Docs) > len(docs) {
			docs = s.l.Docs
		}
	}
	return docs
}

// cut returns the events from which and to which (excluded) the postings
// lo to hi-1 of docs lead.
func cut(docs []uint32, lo, hi int) (from, to uint64) {
	if lo > 0 {
		from = uint64(docs[lo])
	}
	to = math.MaxUint64
	if hi < len(docs) {
		to = uint64(docs[hi])
	}
	return from, to
}

// split walks a segment whose leading list has size postings with walk, cut into
// parts walked at once when it is long, each with its own cursors, page
// and bar from the page so far. Their pages are then offered to best in
// document order, as one walk would have: the same events, scores and
// order.
func (pl *rankedPlan) split(ctx context.Context, seg int, curs []clauseCursor, k int, best *topDocs, size int, walk walkFunc) (uint64, error) {
	parts := min(walkParts(), size/max(walkChunk, 1))
	if parts < 2 {
		return walk(ctx, curs, best, 0, size)
	}
	type part struct {
		total uint64
		best  topDocs
		err   error
	}
	ps := make([]part, parts)
	var wg sync.WaitGroup
	for i := range ps {
		ps[i].best = append(make(topDocs, 0, k+1), *best...)
		own := make([]clauseCursor, len(curs))
		for j, c := range curs {
			own[j] = clauseCursor{done: c.done}
			for _, s := range c.subs {
				own[j].subs = append(own[j].subs, subCursor{l: s.l, weight: s.weight})
			}
		}
		wg.Add(1)
		go func(p *part, lo, hi int) {
			defer wg.Done()
			p.total, p.err = walk(ctx, own, &p.best, lo, hi)
		}(&ps[i], size*i/parts, size*(i+1)/parts)
	}
	wg.Wait()
	var total uint64
	var found []scoredDoc // of this segment, in the parts' pages
	start := pl.snap.SegmentStart(seg)
	for _, p := range ps {
		if p.err != nil {
			return 0, p.err
		}
		total += p.total
		for _, d := range p.best {
			if d.num >= start {
				found = append(found, d)
			}
		}
	}
	// A page keeps the first of equal scores: offered in document order,
	// ties go as in one walk.
	slices.SortFunc(found, func(a, b scoredDoc) int { return cmp.Compare(a.num, b.num) })
	for _, d := range found {
		best.push(d, k)
	}
	return total, nil
}

// push puts d on the page of k, if it has room or d beats its worst (a
// tie keeps the worst, offered first), and reports whether it did.
func (h *topDocs) push(d scoredDoc, k int) bool {
	switch {
	case len(*h) < k:
		heap.Push(h, d)
	case d.score > (*h)[0].score:
		(*h)[0] = d
		heap.Fix(h, 0)
	default:
		return false
	}
	return true
}

// walkForms is walkLists for one word with several lists (its other
// forms: Syrian for Syria), walked as their union.
func (pl *rankedPlan) walkForms(ctx context.Context, seg int, subs []subCursor, k int, maxScore, maxPrior float64, best *topDocs, from, to uint64) (uint64, error) {
	snap, start := pl.snap, pl.snap.SegmentStart(seg)
	k1, b := pl.r.K1, pl.r.B
	u := newFormsUnion(subs, from)
	var total uint64
	steps := 0
	bar := pl.newPageBar(k, maxScore, maxPrior, nil, nil)
	bar.set(*best)
	for {
		if steps++; steps%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		d, any := u.next()
		if !any || uint64(d) >= to {
			return total, nil
		}
		local := uint64(d)
		num := start + local
		live := snap.LiveIn(seg, local) && (pl.accept == nil || pl.accept(num))
		if live {
			total++
			freq, minLen := 0.0, uint16(math.MaxUint16)
			for _, s := range u.cur {
				p := u.at[s]
				freq += subs[s].weight * float64(subs[s].l.Freqs[p])
				minLen = min(minLen, subs[s].l.Lens[p])
			}
			if !bar.out(freq, minLen, snap, num) {
				tf := 0.0
				for _, s := range u.cur {
					p := u.at[s]
					tf += subs[s].weight * float64(subs[s].l.Freqs[p]) / (1 - b + b*float64(subs[s].l.Lens[p])/pl.avgText)
				}
				score := pl.clauses[0].idf * tf * (k1 + 1) / (k1 + tf)
				pl.offer(best, num, score/maxScore, k, maxPrior, &bar)
			}
		}
		u.advance()
	}
}

// formsUnion gives the events of a word's lists in order, each with the
// lists that hold it (cur, in list order, so that sums over them are
// the same whichever way they were found): by a scan of the lists at
// each event when they are few, by a heap of their next events when
// there are more than heapForms (a prefix's terms: a scan of sta*'s 188
// lists at each event made it 1.4 to 4 times as slow as Bleve's query,
// a review found).
type formsUnion struct {
	subs []subCursor
	at   []int // subs[s]'s index of its next document
	heap []formsEntry
	cur  []int
}

type formsEntry struct {
	doc uint32
	sub int
}

// heapForms is the most lists a formsUnion scans at each event (a
// variable for the tests, which make every union a heap).
var heapForms = 8

func newFormsUnion(subs []subCursor, from uint64) *formsUnion {
	u := &formsUnion{subs: subs, at: make([]int, len(subs)), cur: make([]int, 0, len(subs))}
	for s := range subs {
		u.at[s] = seek(subs[s].l.Docs, 0, from)
	}
	if len(subs) > heapForms {
		for s := range subs {
			if p := u.at[s]; p < len(subs[s].l.Docs) {
				u.heap = append(u.heap, formsEntry{subs[s].l.Docs[p], s})
			}
		}
		heap.Init(u)
	}
	return u
}

// next sets cur to the lists of the next event and returns it; any is
// false when none is left.
func (u *formsUnion) next() (d uint32, any bool) {
	u.cur = u.cur[:0]
	if u.heap == nil {
		d = math.MaxUint32
		for s := range u.subs {
			if p := u.at[s]; p < len(u.subs[s].l.Docs) {
				d, any = min(d, u.subs[s].l.Docs[p]), true
			}
		}
		for s := range u.subs {
			if p := u.at[s]; p < len(u.subs[s].l.Docs) && u.subs[s].l.Docs[p] == d {
				u.cur = append(u.cur, s)
			}
		}
		return d, any
	}
	if len(u.heap) == 0 {
		return 0, false
	}
	d = u.heap[0].doc
	for len(u.heap) > 0 && u.heap[0].doc == d { // in list order: the heap's order within an event
		u.cur = append(u.cur, heap.Pop(u).(formsEntry).sub)
	}
	return d, true
}

// advance moves the lists of cur past their event.
func (u *formsUnion) advance() {
	for _, s := range u.cur {
		u.at[s]++
		if u.heap != nil {
			if p := u.at[s]; p < len(u.subs[s].l.Docs) {
				heap.Push(u, formsEntry{u.subs[s].l.Docs[p], s})
			}
		}
	}
}

// The heap of the lists' next events (container/heap).
func (u *formsUnion) Len() int { return len(u.heap) }
func (u *formsUnion) Less(i, j int) bool {
	a, b := u.heap[i], u.heap[j]
	return a.doc < b.doc || a.doc == b.doc && a.sub < b.sub
}
func (u *formsUnion) Swap(i, j int) { u.heap[i], u.heap[j] = u.heap[j], u.heap[i] }
func (u *formsUnion) Push(x any)    { u.heap = append(u.heap, x.(formsEntry)) }
func (u *formsUnion) Pop() any {
	e := u.heap[len(u.heap)-1]
	u.heap = u.heap[:len(u.heap)-1]
	return e
}

// offer puts document num, of score (its words' share, normalised) on
// the page best when it makes it with its prior, as rankedWalk does, and
// raises bar to the new worst.
func (pl *rankedPlan) offer(best *topDocs, num uint64, score float64, k int, maxPrior float64, bar *pageBar) {
	if len(*best) == k && score+maxPrior <= (*best)[0].score {
		return // cannot make the page, whatever its prior
	}
	if pl.place(best, num, score, 1, k) {
		bar.set(*best)
	}
}

// place puts document num, of score (its words' share, normalised), on
// the page best with its prior and what it has of its own (own), when
// they make it, and reports whether it did. Own, which reads posting
// lists, is left out when even its most could not make the page. coord
// is what a relaxed match's score was scaled by for the share of words
// it has (1 with every word): its date boost is scaled alike.
func (pl *rankedPlan) place(best *topDocs, num uint64, score, coord float64, k int) bool {
	s := score + pl.prior(num, coord)
	if pl.owned != nil {
		worst := math.Inf(-1)
		if len(*best) == k {
			worst = (*best)[0].score
		}
		if s+pl.ownMax() <= worst {
			return false
		}
		s += pl.own(num, worst-s)
	}
	return best.push(scoredDoc{num, s}, k)
}

// otherForms returns the share of a stem's events (df, as the text field
// counts them) that do not write the form typed (formDF of them, in the
// forms field; general and organ for generation and organization): how
// many of the word's events may be about another word, which the form
// boost then counts by; 0 under minOtherForms. Read from the snapshot at
// each search, so that every server of the same events ranks alike (a
// review found a share kept from a word's first search ranking otherwise
// after updates and after a restart). The field's forms are without
// accents.
func otherForms(formDF, df uint64) float64 {
	if df == 0 || formDF >= df {
		return 0
	}
	if share := 1 - float64(formDF)/float64(df); share >= minOtherForms {
		return share
	}
	return 0
}

// minOtherForms is the share of a stem's events not of the form typed
// under which the word is taken to have one form: the text field counts
// the events that have the word only in their tags as well.
const minOtherForms = 0.2

// ownMax returns the most own may add: the lead and form boosts (the
// latter as its words' shares allow: none, for words of one form).
func (pl *rankedPlan) ownMax() float64 { return max(pl.r.Early, 0) + pl.formMax }

// own returns what event num's score gets of its own, as scored in the
// walk: the lead boost, Early times the share of the query's words its
// lead (its sentence's first words, mappings.LeadWords) names, less
// TagsOnly when its sentence holds none of them (only its tags do). Both
// are the event's alone, whatever the page asked for, so that pages
// asked one by one give the order of one page of them all; the walk
// scores them only for the events that could make the page.
//
// Past the lead boost, the penalty is left out when the event cannot
// make the page anyway: when what it has of its own cannot pass need.
func (pl *rankedPlan) own(num uint64, need float64) float64 {
	seg, local, ok := pl.snap.SegmentOf(num)
	if !ok || seg >= len(pl.owned) {
		return 0
	}
	lists := &pl.owned[seg]
	at := func(l *snapshot.List) int {
		if l == nil {
			return -1
		}
		if i, found := slices.BinarySearch(l.Docs, uint32(local)); found {
			return i
		}
		return -1
	}
	o, named := 0.0, 0
	if pl.forms != nil {
		written := 0.0
		for j, l := range lists.forms {
			// nil for a word of one form: every event of it writes it
			if l != nil && at(l) >= 0 {
				written += pl.formShare[j]
			}
		}
		o += pl.r.Form * written / float64(len(pl.clauses))
	}
	if pl.lead != nil {
		for _, forms := range lists.lead {
			for _, l := range forms {
				if at(l) >= 0 {
					named++
					break
				}
			}
		}
		o += pl.r.Early * float64(named) / float64(len(pl.clauses))
	}
	// A word in its lead is in its sentence.
	if pl.r.TagsOnly != 0 && pl.tags != nil && named == 0 && o > need {
		for j, ct := range pl.clauses {
			for i, w := range ct.lists {
				l := lists.text[j][i]
				if p := at(l); p >= 0 && int(l.Freqs[p]) > pl.tags.inTags(pl.snap, num, w.term) {
					return o // its sentence holds a word of the query
				}
			}
		}
		o -= pl.r.TagsOnly
	}
	return o
}

// pageBar passes over, without the score's divisions, an event whose
// leading word's frequency, against its length, cannot raise its score
// above the page's worst, less the most a prior adds, even were its other
// words' scores the most their lists hold (List.MaxNormFreq). The bound
// is that of the worst's score, loosened by a billionth: what passes is
// scored exactly, and the page is the same. A year typed boosts only its
// events: the others are held to the bound of the priors they can have.
type pageBar struct {
	pl                 *rankedPlan
	k                  int
	maxScore, rest     float64
	maxPrior, outPrior float64
	yearLo, yearHi     int32
	bAvg               float64
	all, others        float64 // the bounds of frequency over length: every event's, and those outside the year typed
}

func (pl *rankedPlan) newPageBar(k int, maxScore, maxPrior float64, weights []float64, lists []*snapshot.List) pageBar {
	k1, b := pl.r.K1, pl.r.B
	bar := pageBar{pl: pl, k: k, maxScore: maxScore, maxPrior: maxPrior, outPrior: maxPrior, bAvg: b / pl.avgText,
		all: math.Inf(-1), others: math.Inf(-1)}
	for j, l := range lists {
		tf := weights[j] * l.MaxNormFreq(b, pl.avgText)
		bar.rest += pl.clauses[j+1].idf * tf * (k1 + 1) / (k1 + tf)
	}
	bar.rest *= 1 + 1e-9 // above what rounding may make of any event's
	if pl.boost != nil {
		bar.outPrior = max(pl.r.Onset, 0) + pl.ownMax()
		bar.yearLo = snapshot.DayNumber(time.Date(pl.boost.Year, 1, 1, 0, 0, 0, 0, time.UTC))
		bar.yearHi = snapshot.DayNumber(time.Date(pl.boost.Year, 12, 31, 0, 0, 0, 0, time.UTC))
	}
	return bar
}

// set raises the bounds to the page's worst.
func (bar *pageBar) set(best topDocs) {
	if len(best) == bar.k && bar.maxScore > 0 {
		bar.all, bar.others = bar.bound(best[0].score-bar.maxPrior), bar.bound(best[0].score-bar.outPrior)
	}
}

// bound returns the frequency over length under which the leading word
// cannot raise an event's score (normalised) above worst.
func (bar *pageBar) bound(worst float64) float64 {
	k1 := bar.pl.r.K1
	cw := worst*bar.maxScore - bar.rest
	if cw <= 1e-6*bar.maxScore {
		return math.Inf(-1) // about any frequency may make the page
	}
	if a := bar.pl.clauses[0].idf*(k1+1) - cw; a > 0 {
		return cw * k1 / a * (1 - 1e-9)
	}
	return math.Inf(1) // no event can make the page
}

// out reports whether the event num, whose leading word's weighted
// frequency is freq and whose text has length words, cannot make the page.
func (bar *pageBar) out(freq float64, length uint16, snap *snapshot.Snapshot, num uint64) bool {
	norm := (1 - bar.pl.r.B) + float64(length)*bar.bAvg
	if freq < bar.all*norm {
		return true
	}
	return freq < bar.others*norm && bar.outside(snap, num)
}

// outside reports whether event num is outside the year typed.
func (bar *pageBar) outside(snap *snapshot.Snapshot, num uint64) bool {
	day := snap.Day(num)
	return day < bar.yearLo || day > bar.yearHi
}

// runRanked runs p by the ranked path; ok is false when p is not for it.
func (e *Engine) runRanked(ctx context.Context, snap *snapshot.Snapshot, names *Names, p query.Params, keep bool) (*found, bool, error) {
	plan, ok, err := e.rankedPlanFor(ctx, snap, names, p)
	if !ok || err != nil {
		return nil, ok, err
	}
	var kept []uint32
	var collect func(uint64)
	if keep {
		collect = func(n uint64) { kept = append(kept, uint32(n)) }
	}
	if err := plan.prepareOwn(); err != nil {
		return nil, true, err
	}
	total, top, mode, whole, err := e.ranked(ctx, plan, p.Offset+p.Size, collect)
	if err != nil {
		return nil, true, err
	}
	if total == 0 && plan.strict {
		return nil, false, nil // Bleve's query relaxes to any clause
	}
	f := &found{total: total, relaxed: mode != allWords, whole: whole, boost: plan.boost,
		visit: func(ctx context.Context, fn func(uint64)) error {
			if keep {
				for _, n := range kept {
					fn(uint64(n))
				}
				return nil
			}
			_, _, err := e.rankedWalk(ctx, plan, mode, 0, fn)
			return err
		}}
	if p.Offset < len(top) {
		f.hits = top[p.Offset:]
	}
	return f, true, nil
}
