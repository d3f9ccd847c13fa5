package query

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	bquery "github.com/blevesearch/bleve/v2/search/query"

	"github.com/newsdesk/newsdesk"
)

// Analyzer analyses text the way the index does; *mapping.IndexMappingImpl
// implements it.
type Analyzer interface {
	AnalyzeText(analyzerName string, text []byte) (analysis.TokenStream, error)
}

// Sort orders keyword results.
type Sort string

// Sort orders.
const (
	SortRelevance Sort = "relevance" // BM25 score, newest first on ties
	SortDate      Sort = "date"      // oldest first
	SortDateDesc  Sort = "-date"     // newest first
)

// Params is a keyword search, as chosen by a user.
type Params struct {
	Query Parsed
	// From and To limit the event dates, both inclusive; zero means open.
	From, To time.Time
	// DateFilter, when not nil, is the query that applies From and To, in
	// place of DateRange(From, To): a caller that knows a faster way to
	// find the events of a date range (the search engine keeps a column
	// of dates) supplies it.
	DateFilter bquery.Query
	// Topics, Categories and Contexts filter on exact values: any of the
	// values of one kind, and every kind given.
	Topics, Categories, Contexts []string
	Sort                         Sort
	// Size is the page size; Offset the hits to skip.
	Size, Offset int
	// After holds the sort values of the last hit of the previous page
	// (search-after), for the date sorts; when set, Offset is ignored.
	After []string
	// AnyWord relaxes "every word must match" to "any word may match".
	AnyWord bool
	// Variants, if set, gives the other forms of a word's term, which
	// match it too (and, excluded, are excluded with it), boosted by
	// VariantWeight: a place's adjectives and demonyms (syrian for
	// syria), as the ranked search matches them.
	Variants      func(term string) []string
	VariantWeight float64
	// Spellings, if set, gives the other spellings of a word's term the
	// index may hold, with or without accents (erdoğan for erdogan),
	// which match as the word itself.
	Spellings func(term string) []string
}

// Fields returned with every hit.
var hitFields = []string{newsdesk.FieldText, newsdesk.FieldTopic, newsdesk.FieldCategory,
	newsdesk.FieldContext, newsdesk.FieldDate, newsdesk.FieldSources}

// ErrNothingToMatch is returned when q has words but none that can match:
// only stop words or punctuation. Such a search finds nothing; it is not
// a mistake of the user's.
var ErrNothingToMatch = errors.New("query has nothing that can match")

// Keyword builds the search request for p. It fails with an *InvalidError
// when p holds nothing to search for.
func Keyword(a Analyzer, p Params) (*bleve.SearchRequest, error) {
	q, err := KeywordQuery(a, p)
	if err != nil {
		return nil, err
	}
	req := bleve.NewSearchRequestOptions(q, p.Size, p.Offset, false)
	req.Fields = hitFields
	switch p.Sort {
	case SortDate:
		req.SortBy([]string{newsdesk.FieldDate, "_id"})
	case SortDateDesc:
		req.SortBy([]string{"-" + newsdesk.FieldDate, "_id"})
	default:
		// Score only: a tie-breaking sort key would load a value for every
		// matching event (measured: p99 from 1 ms to 3-11 ms).
		req.SortBy([]string{"-_score"})
	}
	if len(p.After) > 0 && p.Sort != SortRelevance && p.Sort != "" {
		req.From = 0
		req.SearchAfter = p.After
	}
	return req, nil
}

// KeywordQuery builds the query of p, without paging, sorting or facets.
func KeywordQuery(a Analyzer, p Params) (bquery.Query, error) {
	var must, mustNot, should []bquery.Query
	for _, c := range p.Query.Clauses {
		q, err := clauseQuery(a, c, p)
		if err != nil {
			return nil, err
		}
		switch {
		case q == nil:
			// a stop word or punctuation: nothing to match
		case c.Negated:
			mustNot = append(mustNot, q)
		case p.AnyWord:
			should = append(should, q)
		default:
			must = append(must, q)
		}
	}
	filters := filterQueries(p, len(must)+len(should) > 0)
	if len(must) == 0 && len(should) == 0 && len(filters) == 0 && len(mustNot) > 0 {
		// Only exclusions: every event without them, as with a filter
		// they are the filter's events without them ("-war" found nothing,
		// and every event but war's with a date range of every day).
		filters = append(filters, bleve.NewMatchAllQuery())
	}
	if len(must) == 0 && len(should) == 0 && len(filters) == 0 {
		if len(p.Query.Clauses) == 0 {
			return nil, invalid("q", "is empty; give words to search for, or a filter (from, to, topic, category, context)")
		}
		return nil, ErrNothingToMatch
	}
	if len(p.Query.Clauses) > 0 && len(must) == 0 && len(should) == 0 && len(mustNot) == 0 {
		// Words that cannot match (stop words alone: "the") find nothing,
		// with a filter too; they never stand for the filter's events.
		return nil, ErrNothingToMatch
	}
	// Any word is one required disjunction, not should clauses beside the
	// filters: Bleve, not scoring (the date orders, facets), makes such
	// clauses optional, and the filters alone would match.
	if len(should) > 0 {
		must = append(must, bleve.NewDisjunctionQuery(should...))
	}
	must = append(must, filters...)
	b := bleve.NewBooleanQuery()
	if len(must) > 0 {
		b.AddMust(must...)
	}
	if len(mustNot) > 0 {
		b.AddMustNot(mustNot...)
	}
	return b, nil
}

// PrefixForms returns the prefixes a prefix clause (text, without its
// star) matches terms of the text field by: the prefix typed, lower
// case. The index holds stems, some shorter than the prefix or not
// starting with it (talk for talks*, invas for invasi*, happi for
// happy*): a clause's Values, if set, are such terms it matches too
// (PrefixStems), as terms.
func PrefixForms(text string) []string {
	return []string{strings.ToLower(text)}
}

// PrefixStems returns the stems that words starting with text may be
// kept as, which no term starting with it holds: text's own stem, when
// it is not text (talk for talks*, bomb for bombe*, happi for happy*),
// and the stems of text completed with an English ending it has begun
// (invasi+on, presiden+t, governm+ent, internationa+l: invas, presid,
// govern, intern). A guess may be another word's stem (asta, for
// astan+ess) or a stem of words that do not start with text: they are
// to be checked against the index's events. They match as terms, not
// prefixes: governm* finds govern, not governor; bombe* bomb, not
// Bombay.
func PrefixStems(a Analyzer, text string) []string {
	lower := strings.ToLower(text)
	var stems []string
	if toks, err := Tokens(a, lower); err == nil && len(toks) == 1 && toks[0] != lower && !strings.HasPrefix(toks[0], lower) {
		stems = append(stems, toks[0])
	}
	for _, ending := range endings {
		for k := 1; k < len(ending); k++ {
			if !strings.HasSuffix(lower, ending[:k]) {
				continue
			}
			toks, err := Tokens(a, lower+ending[k:])
			if err != nil || len(toks) != 1 {
				continue
			}
			t := toks[0]
			if utf8.RuneCountInString(t) < MinPrefixLen || len(t) >= len(lower) || !strings.HasPrefix(lower, t) || slices.Contains(stems, t) {
				continue
			}
			stems = append(stems, t)
		}
	}
	return stems
}

// endings are the English endings a stemmer takes off (and a few it
// replaces), for PrefixForms to complete a prefix with: inflections,
// then derivations.
var endings = []string{
	"s", "es", "ed", "ing", "e", "y", "ies", "ied", "ly",
	"ion", "ions", "ation", "ations", "ational", "ent", "ents", "ence", "ency",
	"ment", "ments", "al", "ally", "ial", "ian", "ians", "ive", "ives", "ity", "ities",
	"ism", "ist", "ists", "ize", "ized", "ise", "ised", "ness", "ful", "ous", "ously",
	"ate", "ated", "ates", "ating", "ator", "ators", "er", "ers", "ance", "ant", "ants",
	"able", "ible", "ic", "ical", "ics",
}

// Tokens returns the index terms text analyses to in the text field.
func Tokens(a Analyzer, text string) ([]string, error) {
	ts, err := a.AnalyzeText(en.AnalyzerName, []byte(text))
	if err != nil {
		return nil, fmt.Errorf("analyze %q: %w", text, err)
	}
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, string(t.Term))
	}
	return out, nil
}

func clauseQuery(a Analyzer, c Clause, p Params) (bquery.Query, error) {
	switch c.Kind {
	case Word:
		if len(c.Values) > 0 {
			// A code: its parts in a row (g 20), or written joined.
			parts := bleve.NewMatchPhraseQuery(c.Text)
			parts.SetField(newsdesk.FieldText)
			any := []bquery.Query{parts}
			for _, v := range c.Values {
				any = append(any, TextTerm(v))
			}
			return Interruptible(bleve.NewDisjunctionQuery(any...)), nil
		}
		toks, err := Tokens(a, c.Text)
		if err != nil || len(toks) == 0 {
			return nil, err
		}
		parts := make([]bquery.Query, 0, len(toks))
		for _, t := range toks {
			var vs, spelt []string
			if p.Variants != nil {
				vs = p.Variants(t)
			}
			if p.Spellings != nil {
				spelt = p.Spellings(t)
			}
			if len(vs) == 0 && len(spelt) == 0 {
				parts = append(parts, TextTerm(t))
				continue
			}
			forms := []bquery.Query{TextTerm(t)}
			for _, s := range spelt {
				forms = append(forms, TextTerm(s))
			}
			for _, v := range vs {
				q := bleve.NewTermQuery(v)
				q.SetField(newsdesk.FieldText)
				q.SetBoost(p.VariantWeight)
				forms = append(forms, q)
			}
			parts = append(parts, bleve.NewDisjunctionQuery(forms...))
		}
		if len(parts) == 1 {
			return parts[0], nil
		}
		return bleve.NewConjunctionQuery(parts...), nil
	case Phrase:
		toks, err := Tokens(a, c.Text)
		if err != nil || len(toks) == 0 {
			return nil, err
		}
		if q, err := spelledPhrase(a, c.Text, p.Spellings); q != nil || err != nil {
			return Interruptible(q), err
		}
		text := bleve.NewMatchPhraseQuery(c.Text)
		text.SetField(newsdesk.FieldText)
		return Interruptible(text), nil
	case Prefix:
		forms := PrefixForms(c.Text)
		any := make([]bquery.Query, 0, len(forms)+len(c.Values))
		for _, f := range forms {
			q := bleve.NewPrefixQuery(f)
			q.SetField(newsdesk.FieldText)
			if len(c.Popular) > 0 {
				// The rarer terms rank after the popular ones, whose own
				// clauses below carry the score.
				q.SetBoost(PrefixRestBoost)
			}
			any = append(any, q)
		}
		for _, t := range c.Values {
			any = append(any, TextTerm(t))
		}
		for _, b := range c.Popular {
			q := bleve.NewTermQuery(b.Term)
			q.SetField(newsdesk.FieldText)
			q.SetBoost(b.Boost)
			any = append(any, q)
		}
		if len(any) == 1 {
			return Interruptible(any[0]), nil
		}
		return Interruptible(bleve.NewDisjunctionQuery(any...)), nil
	case Field:
		if len(c.Values) > 1 {
			any := make([]bquery.Query, 0, len(c.Values))
			for _, v := range c.Values {
				any = append(any, exact(fieldIndexName(c.Field), v))
			}
			return bleve.NewDisjunctionQuery(any...), nil
		}
		if len(c.Values) == 1 {
			return exact(fieldIndexName(c.Field), c.Values[0]), nil
		}
		return exact(fieldIndexName(c.Field), c.Text), nil
	}
	return nil, fmt.Errorf("unknown clause kind %d", c.Kind)
}

// spelledPhrase returns the phrase text matching, at each of its words,
// the word's other spellings too (Erdoğan for erdogan, O’Brien for
// O'Brien), as a word of the search box does; nil when no word of it
// has another spelling, where Bleve's own phrase query serves. Its
// words are at their positions as Bleve's analyser gives them, a stop
// word leaving its place empty (any word), as Bleve's phrase does.
func spelledPhrase(a Analyzer, text string, spellings func(string) []string) (bquery.Query, error) {
	if spellings == nil {
		return nil, nil
	}
	ts, err := a.AnalyzeText(en.AnalyzerName, []byte(text))
	if err != nil || len(ts) == 0 {
		return nil, err
	}
	first, last := ts[0].Position, ts[0].Position
	for _, t := range ts {
		first, last = min(first, t.Position), max(last, t.Position)
	}
	terms := make([][]string, last-first+1)
	spelt := false
	for _, t := range ts {
		at := t.Position - first
		terms[at] = append(terms[at], string(t.Term))
		for _, s := range spellings(string(t.Term)) {
			if !slices.Contains(terms[at], s) {
				terms[at] = append(terms[at], s)
				spelt = true
			}
		}
	}
	if !spelt {
		return nil, nil
	}
	return bquery.NewMultiPhraseQuery(terms, newsdesk.FieldText), nil
}

// TextTerm matches an analysed term in the text. Words are matched in the
// text only: its sentence nearly always names the story, and a second
// clause per word on the topic doubled the cost of every query.
func TextTerm(term string) bquery.Query {
	text := bleve.NewTermQuery(term)
	text.SetField(newsdesk.FieldText)
	return text
}

func fieldIndexName(field string) string {
	switch field {
	case "topic":
		return newsdesk.FieldTopic
	case "category":
		return newsdesk.FieldCategory
	}
	return newsdesk.FieldContext
}

func exact(field, value string) *bquery.TermQuery {
	q := bleve.NewTermQuery(value)
	q.SetField(field)
	return q
}

// filterQueries returns the date range (first, when there is one) and the
// exact-value filters of p. When the query has words to score, the filters
// get boost 0: a filter selects and must not change the ranking (a filter
// alone keeps its boost, as Bleve cannot normalise a query of weight 0).
func filterQueries(p Params, scored bool) []bquery.Query {
	var out []bquery.Query
	switch {
	case p.DateFilter != nil:
		out = append(out, p.DateFilter)
	case !p.From.IsZero() || !p.To.IsZero():
		q := DateRange(p.From, p.To)
		if !scored {
			q.SetBoost(1)
		}
		out = append(out, q)
	}
	for _, f := range []struct {
		field  string
		values []string
	}{{newsdesk.FieldTopic, p.Topics}, {newsdesk.FieldCategory, p.Categories}, {newsdesk.FieldContext, p.Contexts}} {
		if len(f.values) == 0 {
			continue
		}
		any := make([]bquery.Query, 0, len(f.values))
		for _, v := range f.values {
			q := exact(f.field, v)
			if scored {
				q.SetBoost(0)
			}
			any = append(any, q)
		}
		if len(any) == 1 {
			out = append(out, any[0])
		} else {
			out = append(out, bleve.NewDisjunctionQuery(any...))
		}
	}
	return out
}

// Open ends of a date range are closed at the first and last days
// newsdesk accepts (newsdesk.MinDate, newsdesk.MaxDate): no event is dated
// outside them.
var (
	FirstDay = mustDay(newsdesk.MinDate)
	LastDay  = mustDay(newsdesk.MaxDate)
)

func mustDay(s string) time.Time {
	t, err := time.Parse(newsdesk.DateLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

// CheckDates returns an *InvalidError naming from or to when it is set
// (not zero) and outside FirstDay..LastDay, or naming to when it is
// before from. Callers check, nothing
// clamps: a date outside the range is a mistake to report, not a bound
// to move silently.
func CheckDates(from, to time.Time) error {
	for _, d := range []struct {
		param string
		t     time.Time
	}{{"from", from}, {"to", to}} {
		if !d.t.IsZero() && (d.t.Before(FirstDay) || d.t.After(LastDay)) {
			return invalid(d.param, "%s", DateMessage(d.t.Format(newsdesk.DateLayout)))
		}
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return invalid("to", "%s is before from %s", to.Format(newsdesk.DateLayout), from.Format(newsdesk.DateLayout))
	}
	return nil
}

// DateMessage says what a date parameter accepts, quoting the value given,
// cut to its first 40 bytes: a 30,000-byte date is not echoed whole.
func DateMessage(got string) string {
	got = newsdesk.Clip(got, 40)
	return fmt.Sprintf("must be a date YYYY-MM-DD from %s to %s, got %q", newsdesk.MinDate, newsdesk.MaxDate, got)
}

// DateRange matches events dated from from to to, both inclusive days; a
// zero time leaves that end open (see FirstDay, LastDay). The dates must
// be within FirstDay..LastDay (see CheckDates). It is a term range over
// the exact dates: correct for any index, but it opens one posting list
// per day of the range, so the search engine uses its own column of
// dates instead (Params.DateFilter).
func DateRange(from, to time.Time) *bquery.TermRangeQuery {
	if from.IsZero() {
		from = FirstDay
	}
	if to.IsZero() {
		to = LastDay
	}
	yes := true
	q := bleve.NewTermRangeInclusiveQuery(from.Format(newsdesk.DateLayout), to.Format(newsdesk.DateLayout), &yes, &yes)
	q.SetField(newsdesk.FieldDate)
	q.SetBoost(0) // a filter selects; it must not change the ranking
	return q
}

// Unit is a histogram bucket size.
type Unit string

// Histogram units.
const (
	Day   Unit = "day"
	Month Unit = "month"
	Year  Unit = "year"
)

// Histogram asks for event counts per Unit between From and To.
type Histogram struct {
	From, To time.Time // inclusive days
	Unit     Unit
}

// NewHistogram picks the bucket size that fits the range: days up to two
// months, months up to five years, years beyond.
func NewHistogram(from, to time.Time) *Histogram {
	span := to.Sub(from)
	unit := Year
	switch {
	case span <= 62*24*time.Hour:
		unit = Day
	case span <= 5*366*24*time.Hour:
		unit = Month
	}
	return &Histogram{From: from, To: to, Unit: unit}
}

// Buckets returns the start of each bucket, in order: the first holds
// From.
func (h *Histogram) Buckets() []time.Time {
	var out []time.Time
	for t := h.start(); !t.After(h.To); t = h.next(t) {
		out = append(out, t)
	}
	return out
}

func (h *Histogram) start() time.Time {
	switch h.Unit {
	case Year:
		return time.Date(h.From.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	case Month:
		return time.Date(h.From.Year(), h.From.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return h.From
}

func (h *Histogram) next(t time.Time) time.Time {
	switch h.Unit {
	case Year:
		return t.AddDate(1, 0, 0)
	case Month:
		return t.AddDate(0, 1, 0)
	}
	return t.AddDate(0, 0, 1)
}

// BucketName is the facet range name of the bucket starting at t: the
// date in YYYY, YYYY-MM or YYYY-MM-DD form.
func (h *Histogram) BucketName(t time.Time) string {
	switch h.Unit {
	case Year:
		return t.Format("2006")
	case Month:
		return t.Format("2006-01")
	}
	return t.Format(newsdesk.DateLayout)
}

// PrefixRestBoost is the boost of a prefix clause's terms beyond its
// Popular ones.
const PrefixRestBoost = 0.25
