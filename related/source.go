package related

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/analysis/lang/en"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/entities"
	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/snapshot"
)

// source is the event or draft related events are found for, prepared
// for the search.
type source struct {
	id      string
	num     uint64 // its document number, when indexed
	indexed bool   // num is set: the source's own event, left out
	event   bool   // the source is the indexed event num (not a draft)
	day     int32  // snapshot.NoDay when unknown
	topic   string
	context []string
	text    string
	cat     uint32 // category id; 0 for drafts

	textWords []analysed // the analysed words of text, in order
	raw       []string   // the analysed words of text and topic, in order
	words     []word     // its distinct words the index holds, normalised
	length    int        // normalised words, for BM25
	self      float64    // its own BM25, which text scores are divided by
	tags      []tag      // its tags (not years), most specific first
	topics    []string   // the keys of its topic
	// classic is the classic more-like-this query (a re-ranking feature).
	classic classic
}

// word is a normalised word of the source: a stem, with the other forms
// of a place (syria: syrian).
type word struct {
	stem    string
	surface string // as the source first wrote it
	qtf     int
	post    []*snapshot.Postings // the stem's, then its variants'
	idf     float64              // BM25's
	q       float64              // its weight in the search; 0 when not searched
	// lower is true when the source writes the word in lower case at
	// least once: a common word (what happened), not only a name.
	lower bool
}

// tag is a tag of the source, or of its neighbours.
type tag struct {
	key   string // the normal form; in generations without keys, the exact tag
	kind  entities.Kind
	spec  float64 // specificity, ln(N/df)
	topic bool    // one of the source's topic keys
	vote  float64 // for the neighbours' tags: the share of them that have it
	post  []*snapshot.Postings
}

// BM25's parameters, Lucene's defaults.
const (
	k1 = 1.2
	b  = 0.75
)

// avgLengthUnknown is the average text length assumed for a generation
// built before the build counted it (the 114k-event corpus has 20.1).
const avgLengthUnknown = 20

// minMaxDF is the least document frequency MaxDFShare allows: a share
// alone would leave a small index no word at all.
const minMaxDF = 50

// load reads the request's event, or checks its draft.
func (rk *run) load(ctx context.Context, r Request) (*source, error) {
	if r.ID != "" {
		num, err := rk.snap.Number(r.ID)
		if err != nil {
			return nil, err
		}
		ev, err := rk.snap.EventAt(ctx, num)
		if err != nil {
			return nil, err
		}
		src := &source{id: ev.ID, num: num, indexed: true, event: true, day: rk.snap.Day(num), topic: ev.Topic,
			context: ev.Context, text: ev.Text, cat: rk.snap.Category(num)}
		return src, nil
	}
	d := r.Draft
	if d == nil || strings.TrimSpace(d.Text) == "" {
		return nil, invalid("text", "is required: the draft's text")
	}
	if len(d.Text) > MaxDraftText {
		return nil, invalid("text", "is %d bytes; at most %d are accepted", len(d.Text), MaxDraftText)
	}
	if len(d.Topic) > MaxDraftTag {
		return nil, invalid("topic", "is %d bytes; at most %d are accepted", len(d.Topic), MaxDraftTag)
	}
	if len(d.Category) > MaxDraftTag {
		return nil, invalid("category", "is %d bytes; at most %d are accepted", len(d.Category), MaxDraftTag)
	}
	if len(d.Context) > MaxDraftTags {
		return nil, invalid("context", "has %d tags; at most %d are accepted", len(d.Context), MaxDraftTags)
	}
	for i, c := range d.Context {
		if len(c) > MaxDraftTag {
			return nil, invalid(fmt.Sprintf("context[%d]", i), "is %d bytes; at most %d are accepted", len(c), MaxDraftTag)
		}
	}
	// Composed, as queries are (query.Compose): a copy-paste may
	// decompose accents ("Co\u0302te d'Ivoire") or bring a PDF's
	// ligatures ("ﬁre"), whose words and tags would otherwise meet
	// nothing.
	tags := make([]string, len(d.Context))
	for i, c := range d.Context {
		tags[i] = query.Compose(c)
	}
	src := &source{id: d.ID, day: snapshot.NoDay, topic: query.Compose(strings.TrimSpace(d.Topic)), context: tags, text: query.Compose(d.Text)}
	src.cat = rk.categoryID(query.Compose(strings.TrimSpace(d.Category)))
	if d.Date != "" {
		t, err := newsdesk.ParseDate(d.Date)
		if err != nil {
			return nil, invalid("date", "%s", query.DateMessage(d.Date))
		}
		src.day = snapshot.DayNumber(t)
	}
	if d.ID != "" {
		// Its own event, if indexed, is left out as the source is.
		if num, err := rk.snap.Number(d.ID); err == nil {
			src.num, src.indexed = num, true
		}
	}
	return src, nil
}

// prepare analyses the source's text and topic, picks the words to
// search for, and gathers its tags.
func (rk *run) prepare(src *source) error {
	if err := rk.prepareWords(src); err != nil {
		return err
	}
	if err := rk.prepareTags(src); err != nil {
		return err
	}
	return rk.prepareClassic(src)
}

// prepareWords analyses the source as the index does (text, then topic),
// normalises the words (places' other names to the place) and weighs
// them: (1 + ln tf) × idf² for the search, best MaxTerms within the
// document-frequency bounds.
func (rk *run) prepareWords(src *source) error {
	if src.textWords == nil {
		// The text is analysed once, though a source that adopts a topic
		// is prepared twice.
		ws, err := rk.analyzeSurface(src.text)
		if err != nil {
			return err
		}
		src.textWords = ws
	}
	all := src.textWords
	if src.topic != "" {
		ws, err := rk.analyzeSurface(src.topic)
		if err != nil {
			return err
		}
		all = append(slices.Clip(all), ws...)
	}
	src.raw = src.raw[:0]
	tf := map[string]int{}
	surface := map[string]string{}
	lower := map[string]bool{}
	var order []string
	src.length = 0
	for _, t := range all {
		src.raw = append(src.raw, t.stem)
		n := rk.word(t.stem)
		src.length++
		if tf[n] == 0 {
			order = append(order, n)
			surface[n] = t.surface
		}
		tf[n]++
		if lowerWord(t.surface) {
			lower[n] = true
		}
	}
	maxDF := max(rk.w.MaxDFShare*rk.docs, minMaxDF)
	src.words = src.words[:0]
	src.self = 0
	for _, n := range order {
		w := word{stem: n, surface: surface[n], qtf: tf[n], lower: lower[n]}
		df := 0.0
		for _, s := range append(append([]string{n}, rk.spellings(n)...), rk.ents.Variants(n)...) {
			p, err := rk.postings(newsdesk.FieldText, s)
			if err != nil {
				return err
			}
			if p.DF() > 0 {
				w.post = append(w.post, p)
				df += float64(p.DF())
			}
		}
		if df == 0 {
			continue // the index does not know it
		}
		// The df of a word with variants is the sum of theirs: events
		// writing both forms are counted twice, a few percent more.
		df = min(df, rk.docs)
		w.idf = math.Log(1 + (rk.docs-df+0.5)/(df+0.5))
		ltf := 1 + math.Log(float64(w.qtf))
		src.self += ltf * w.idf * rk.bm25tf(float64(w.qtf), float64(src.length))
		if len(n) >= 2 && df >= float64(rk.w.MinDF) && df <= maxDF {
			w.q = ltf * w.idf * w.idf
		}
		src.words = append(src.words, w)
	}
	// The best MaxTerms words are searched for; the others still count in
	// re-ranking.
	searched := make([]int, 0, len(src.words))
	for i, w := range src.words {
		if w.q > 0 {
			searched = append(searched, i)
		}
	}
	sort.SliceStable(searched, func(a, b int) bool { return src.words[searched[a]].q > src.words[searched[b]].q })
	for _, i := range searched[min(len(searched), rk.w.MaxTerms):] {
		src.words[i].q = 0
	}
	// Within MaxPostings: a word whose postings would take the searched
	// words' past it is not searched (a rarer one after it may be).
	total := 0
	for k, i := range searched[:min(len(searched), rk.w.MaxTerms)] {
		n := 0
		for _, p := range src.words[i].post {
			n += int(p.DF())
		}
		if k >= minSearched && total+n > rk.w.MaxPostings {
			src.words[i].q = 0
			continue
		}
		total += n
	}
	if rk.w.Text == 0 {
		for i := range src.words {
			src.words[i].q = 0
		}
	}
	return nil
}

// minSearched is how many of a source's best words are searched for
// whatever Weights.MaxPostings says.
const minSearched = 5

// analysed is a word of a text, as the index analyses it.
type analysed struct {
	stem, surface string // surface: as written
}

// analyzeSurface returns the analysed words of text, with how each was
// written.
func (rk *run) analyzeSurface(text string) ([]analysed, error) {
	if rk.words != nil {
		out := []analysed{} // not nil: prepareWords tells analysed from not
		rk.words.Each([]byte(text), func(term []byte, start, end, _ int) {
			out = append(out, analysed{stem: string(term), surface: text[start:end]})
		})
		return out, nil
	}
	toks, err := rk.an.AnalyzeText(en.AnalyzerName, []byte(text))
	if err != nil {
		return nil, fmt.Errorf("related: analyze: %w", err)
	}
	out := make([]analysed, 0, len(toks))
	for _, t := range toks {
		a := analysed{stem: string(t.Term)}
		if t.Start >= 0 && t.End <= len(text) && t.Start <= t.End {
			a.surface = text[t.Start:t.End]
		}
		out = append(out, a)
	}
	return out, nil
}

// bm25tf is BM25's term-frequency part for a term found tf times in a
// text of length words.
func (rk *run) bm25tf(tf, length float64) float64 {
	return tf * (k1 + 1) / (tf + k1*(1-b+b*length/rk.avgLen))
}

// prepareTags gathers the source's tags: the normal forms of its topic and
// context tags, and of the index's tags its text names ("… the Syrian
// civil war …" names Syrian Civil War), without years; in a generation
// without normal forms, its exact tags. Each gets its specificity.
func (rk *run) prepareTags(src *source) error {
	src.tags = src.tags[:0]
	src.topics = src.topics[:0]
	seen := map[string]bool{}
	add := func(key string, topic bool) error {
		if key == "" {
			return nil
		}
		if topic && !slices.Contains(src.topics, key) {
			src.topics = append(src.topics, key)
		}
		if seen[key] {
			if topic {
				for i := range src.tags {
					if src.tags[i].key == key {
						src.tags[i].topic = true
					}
				}
			}
			return nil
		}
		seen[key] = true
		t, ok, err := rk.tag(key)
		if err != nil || !ok {
			return err
		}
		t.topic = topic
		src.tags = append(src.tags, t)
		return nil
	}
	if !rk.keyed {
		if err := add(src.topic, true); err != nil {
			return err
		}
		for _, c := range src.context {
			if err := add(c, false); err != nil {
				return err
			}
		}
	} else {
		for _, k := range rk.keysOf(src.topic, false) {
			if err := add(k, true); err != nil {
				return err
			}
		}
		for _, c := range src.context {
			for _, k := range rk.keysOf(c, false) {
				if err := add(k, false); err != nil {
					return err
				}
			}
		}
		if src.event {
			// The keys the index holds: the same as above, unless the
			// index was built with another place list.
			for _, id := range rk.snap.KeysOf(src.num) {
				if err := add(rk.snap.Keys[id], false); err != nil {
					return err
				}
			}
		}
		d := rk.dict()
		var norm []string
		for _, s := range src.raw {
			if p := rk.ents.Place(s); p != nil {
				norm = append(norm, p...)
			} else {
				norm = append(norm, s)
			}
		}
		for _, k := range d.find(norm) {
			if err := add(k, false); err != nil {
				return err
			}
		}
	}
	sort.SliceStable(src.tags, func(i, j int) bool { return src.tags[i].spec > src.tags[j].spec })
	return nil
}

// tag returns the tag of a key (an exact tag in generations without
// keys), with its postings and specificity; ok is false for years and
// tags no event has.
func (rk *run) tag(key string) (tag, bool, error) {
	t := tag{key: key}
	if rk.keyed {
		t.kind = rk.ents.KindOf(key)
	} else {
		t.kind = entities.Story
		if ks := rk.ents.Keys(key); len(ks) > 0 {
			t.kind = ks[0].Kind
		}
	}
	if t.kind == entities.Year {
		return t, false, nil
	}
	fields := []string{newsdesk.FieldKeys}
	if !rk.keyed {
		// The exact tag is a topic for some events, a context tag for others.
		fields = []string{newsdesk.FieldTopic, newsdesk.FieldContext}
	}
	df := 0.0
	for _, f := range fields {
		p, err := rk.postings(f, key)
		if err != nil {
			return t, false, err
		}
		if p.DF() > 0 {
			t.post = append(t.post, p)
			df += float64(p.DF())
		}
	}
	if df == 0 {
		return t, false, nil
	}
	t.spec = math.Log(rk.docs / min(df, rk.docs))
	return t, true, nil
}

// keysOf returns the keys of a tag (Full and Yearless), or the tag itself
// in generations without keys. cache keeps the answer for tags of the
// index, whose number is bounded; a draft's own tags are not kept.
// word returns the word stem counts as, for a source's words and the
// items' alike: a one-word place's other names count as it (syrian:
// syria). A place of several words is no word of its own: american as
// unit and state matched any state's or unit's event, and called it
// American.
func (rk *run) word(stem string) string {
	if p := rk.ents.Place(stem); len(p) == 1 {
		return p[0]
	}
	return stem
}

// indexTag reports whether some event of the index has tagName as its
// topic or a context tag: what the caches of tags may keep, their number
// bounded by the index's.
func (rk *run) indexTag(tagName string) bool {
	if _, ok := rk.snap.TopicID(tagName); ok {
		return true
	}
	_, ok := rk.snap.ContextID(tagName)
	return ok
}

// entKeys returns the entities' keys of tagName, kept for the index's
// tags: normalising a tag (its words, dashes, demonyms) was a twentieth
// of a related list's time, for the source's few tags and its reasons.
func (rk *run) entKeys(tagName string) []entities.Key {
	if v, ok := rk.tagEntKeys.Load(tagName); ok {
		return v.([]entities.Key)
	}
	ks := rk.ents.Keys(tagName)
	if rk.indexTag(tagName) {
		rk.tagEntKeys.Store(tagName, ks)
	}
	return ks
}

// fullKeysOf returns the full keys of tag (entities.Key.Full: the year
// kept), cached as keysOf's are.
func (rk *run) fullKeysOf(tagName string) []string {
	if v, ok := rk.fullKeys.Load(tagName); ok {
		return v.([]string)
	}
	var out []string
	for _, k := range rk.entKeys(tagName) {
		out = append(out, k.Full)
	}
	// A draft's own topic is kept no more than keysOf keeps it: each
	// draft's new one was kept for the life of the process.
	if rk.indexTag(tagName) {
		rk.fullKeys.Store(tagName, out)
	}
	return out
}

func (rk *run) keysOf(tagName string, cache bool) []string {
	if tagName == "" {
		return nil
	}
	if !rk.keyed {
		return []string{tagName}
	}
	// A source's own tags are the index's too, but for a draft's new
	// ones: those are not kept.
	cache = cache || rk.indexTag(tagName)
	if cache {
		if v, ok := rk.tagKeys.Load(tagName); ok {
			return v.([]string)
		}
	}
	var out []string
	for _, k := range rk.entKeys(tagName) {
		if !slices.Contains(out, k.Full) {
			out = append(out, k.Full)
		}
		if k.Yearless != "" && !slices.Contains(out, k.Yearless) {
			out = append(out, k.Yearless)
		}
	}
	if cache {
		rk.tagKeys.Store(tagName, out)
	}
	return out
}

// candTags returns the tags of document n as keys (or exact tags in
// generations without keys), appended to buf.
func (rk *run) candTags(n uint64, buf []string) []string {
	if rk.keyed {
		for _, id := range rk.snap.KeysOf(n) {
			buf = append(buf, rk.snap.Keys[id])
		}
		return buf
	}
	if t := rk.snap.Topic(n); t != 0 {
		buf = append(buf, rk.snap.Topics[t])
	}
	for _, id := range rk.snap.ContextsOf(n) {
		buf = append(buf, rk.snap.Contexts[id])
	}
	return buf
}

// postings returns the postings of a term, read once a request.
func (rk *run) postings(field, term string) (*snapshot.Postings, error) {
	k := field + "\x00" + term
	if p, ok := rk.posts[k]; ok {
		return p, nil
	}
	p, err := rk.snap.Postings(field, []byte(term))
	if err != nil {
		return nil, fmt.Errorf("related: %w", err)
	}
	rk.posts[k] = p
	return p, nil
}

// dayLimits turns a request's date limits and direction into days.
func dayLimits(src *source, r Request) (int32, int32, error) {
	lo, hi := snapshot.DayNumber(query.FirstDay), snapshot.DayNumber(query.LastDay)
	if !r.From.IsZero() {
		lo = snapshot.DayNumber(r.From)
	}
	if !r.To.IsZero() {
		hi = snapshot.DayNumber(r.To)
	}
	switch {
	case r.Direction != Before && r.Direction != After:
	case src.day == snapshot.NoDay:
		return 0, 0, invalid("direction", "needs the draft's date")
	case r.Direction == Before:
		hi = min(hi, src.day)
	default:
		lo = max(lo, src.day)
	}
	return lo, hi, nil
}

// dayOf returns the day number of a YYYY-MM-DD date, NoDay when it is not
// one.
func dayOf(date string) int32 {
	t, err := time.Parse(newsdesk.DateLayout, date)
	if err != nil {
		return snapshot.NoDay
	}
	return snapshot.DayNumber(t)
}

// categoryID returns the id of the index's category named c, in any
// case; 0 for none.
func (rk *run) categoryID(c string) uint32 {
	if c == "" {
		return 0
	}
	if id, ok := rk.snap.CategoryID(c); ok {
		return id
	}
	for id, v := range rk.snap.Categories {
		if id > 0 && strings.EqualFold(v, c) {
			return uint32(id)
		}
	}
	return 0
}
