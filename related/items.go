package related

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/blevesearch/bleve/v2/analysis/lang/en"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/entities"
	"github.com/newsdesk/newsdesk/mappings"
	"github.com/newsdesk/newsdesk/snapshot"
)

// list turns the ranked candidates into the answer: no near-duplicates of
// the source or of an item listed before (the same event filed twice,
// wire copies), at most MaxPerDay items of one day while others remain.
func (rk *run) list(ctx context.Context, src *source, cands []cand, size int) ([]Item, error) {
	srcText := listed{words: make(map[string]bool, len(src.textWords)), day: src.day,
		stub: mappings.IsStub(&newsdesk.Event{Text: src.text})}
	for _, w := range src.textWords {
		srcText.words[w.stem] = true
	}
	var (
		items    []Item
		texts    []listed
		perDay   = map[int32]int{}
		deferred []Item // held back by MaxPerDay, used if nothing else is left
		defTexts []listed
	)
	// The searched words, most telling first, for the reasons.
	searched := make([]word, 0, len(src.words))
	for _, w := range src.words {
		if w.q > 0 {
			searched = append(searched, w)
		}
	}
	slices.SortStableFunc(searched, func(a, b word) int { return cmpFloat(b.q, a.q) })
	ex := rk.explainer(src)
	for _, c := range cands {
		if len(items) == size {
			break
		}
		ev, err := rk.snap.EventAt(ctx, c.num)
		if err != nil {
			return nil, err
		}
		if ev.ID == src.id {
			continue
		}
		raw, err := rk.analyze(ev.Text)
		if err != nil {
			return nil, err
		}
		ct := listed{words: wordSet(raw), day: rk.snap.Day(c.num), stub: mappings.IsStub(&ev)}
		if rk.duplicate(ct, srcText) || slices.ContainsFunc(texts, func(o listed) bool { return rk.duplicate(ct, o) }) {
			continue
		}
		it := rk.item(ev, c, src, ex, searched, ct.words)
		if perDay[ct.day] >= rk.w.MaxPerDay {
			deferred, defTexts = append(deferred, it), append(defTexts, ct)
			continue
		}
		perDay[ct.day]++
		items = append(items, it)
		texts = append(texts, ct)
	}
	for i, it := range deferred {
		if len(items) == size {
			break
		}
		// Two wire copies of one day can both have been held back: the
		// second is a near-duplicate of the first once that is listed.
		if slices.ContainsFunc(texts, func(o listed) bool { return rk.duplicate(defTexts[i], o) }) {
			continue
		}
		items = append(items, it)
		texts = append(texts, defTexts[i])
	}
	if items == nil {
		items = []Item{}
	}
	return items, nil
}

// listed is the source or an event of the list, as near-duplicates are
// told: its set of words, and its day.
type listed struct {
	words map[string]bool
	day   int32
	stub  bool // a heading-only stub (mappings.IsStub): "Somali Civil War"
}

// duplicateDays is how many days apart two events may be to be
// near-duplicates: the same event filed twice, or wire copies, are filed
// within days. Alike texts further apart are a story's recurring events
// (a daily count, an annual report, a storm of the next season), which
// editors list.
const duplicateDays = 3

// duplicate reports whether a and b are near-duplicates: their word sets
// alike beyond DuplicateSimilarity, within duplicateDays (when both dates
// are known); or two heading-only stubs of the same words, at any
// distance: the portal files a story's heading alone on many days (227
// "War in Afghanistan"), and seven of them made a list.
func (rk *run) duplicate(a, b listed) bool {
	if a.stub && b.stub && len(a.words) == len(b.words) && jaccard(a.words, b.words) == 1 {
		return true
	}
	if a.day != snapshot.NoDay && b.day != snapshot.NoDay && max(a.day-b.day, b.day-a.day) > duplicateDays {
		return false
	}
	return jaccard(a.words, b.words) >= rk.w.DuplicateSimilarity
}

// explainer holds what the reasons of a source's items compare with:
// the words of its topic, and the full keys of its own tags.
type explainer struct {
	topicWords map[string]bool // normalised (run.word)
	// yearless holds the keys without the year of the source's tags that
	// have one: the ranking counts another year's story as kin, the
	// reasons never call it shared.
	yearless map[string]bool
}

func (rk *run) explainer(src *source) explainer {
	ex := explainer{topicWords: map[string]bool{}, yearless: map[string]bool{}}
	for _, s := range src.raw[min(len(src.textWords), len(src.raw)):] { // raw: the text's words, then the topic's
		ex.topicWords[rk.word(s)] = true
	}
	var own []entities.Key
	for _, name := range append([]string{src.topic}, src.context...) {
		own = append(own, rk.entKeys(name)...)
	}
	for _, k := range own {
		if k.Yearless != "" && k.Yearless != k.Full {
			ex.yearless[k.Yearless] = true
		}
	}
	// A tag the source has itself is shared, though another of its tags
	// is that tag's year (2004 U.S. presidential election beside U.S.
	// presidential election).
	for _, k := range own {
		delete(ex.yearless, k.Full)
	}
	return ex
}

// tagWords returns the normalised words of a tag of the index, cached.
func (rk *run) tagWords(name string) map[string]bool {
	if v, ok := rk.tagWordSets.Load(name); ok {
		return v.(map[string]bool)
	}
	words := map[string]bool{}
	if raw, err := rk.analyze(name); err == nil {
		for _, s := range raw {
			words[rk.word(s)] = true
		}
	}
	rk.tagWordSets.Store(name, words)
	return words
}

// item shapes a related event with its reason.
func (rk *run) item(ev newsdesk.Event, c cand, src *source, ex explainer, searched []word, words map[string]bool) Item {
	it := Item{ID: ev.ID, Date: ev.Date, Text: ev.Text, Topic: ev.Topic, Context: ev.Context, Score: c.score,
		SharedContext: []string{}, SharedTerms: []string{}}
	if it.Context == nil {
		it.Context = []string{}
	}
	// A tag is shared when it names one of the source's in any spelling,
	// never another year's of it.
	shared := func(tagName string) bool {
		keys := rk.keysOf(tagName, true)
		if rk.keyed {
			keys = rk.fullKeysOf(tagName)
		}
		for _, k := range keys {
			if !ex.yearless[k] && slices.ContainsFunc(src.tags, func(t tag) bool { return t.key == k }) {
				return true
			}
		}
		return false
	}
	for _, t := range ev.Context {
		if shared(t) && !slices.Contains(it.SharedContext, t) {
			it.SharedContext = append(it.SharedContext, t)
		}
	}
	if src.topic != "" && ev.Topic != "" {
		// The same story in any spelling, not another year's of it (which
		// the ranking counts as kin by their keys without the year).
		srcKeys := rk.fullKeysOf(src.topic)
		for _, k := range rk.fullKeysOf(ev.Topic) {
			if slices.Contains(srcKeys, k) {
				it.SameTopic = true
			}
		}
	}
	// The searched words it holds, in any of their forms (in its text or
	// its tags, which the index searches too: "Minsk" of its tag Minsk
	// II), beyond those of the shared tags and, when it is on the
	// source's story, of its topic (Libor, in an item filed under another
	// spelling of the story, is worth saying).
	norm := map[string]bool{}
	for w := range words {
		norm[rk.word(w)] = true
		for _, s := range rk.spellings(w) { // Erdoğan for the source's Erdogan
			norm[rk.word(s)] = true
		}
	}
	for _, t := range append([]string{ev.Topic}, ev.Context...) {
		if t != "" {
			for w := range rk.tagWords(t) {
				// Not the source's topic words from another story's
				// tag: "Civil War" of Somali Civil War, for a source
				// on the Syrian one.
				if !ex.topicWords[w] {
					norm[w] = true
				}
			}
		}
	}
	inTags := func(stem string) bool {
		// In any spelling: the source's Cote is the shared tag Côte
		// d'Ivoire's Côte.
		for _, form := range append([]string{stem}, rk.spellings(stem)...) {
			form = rk.word(form)
			if it.SameTopic && ex.topicWords[form] {
				return true
			}
			for _, t := range it.SharedContext {
				if rk.tagWords(t)[form] {
					return true
				}
			}
		}
		return false
	}
	for _, w := range searched {
		if len(it.SharedTerms) == 4 {
			break
		}
		if norm[w.stem] && !inTags(w.stem) {
			it.SharedTerms = append(it.SharedTerms, w.surface)
		}
	}
	if d := dayOf(ev.Date); d != snapshot.NoDay && src.day != snapshot.NoDay {
		days := int(d - src.day)
		it.DaysApart = &days
	}
	it.Reason = reason(it, src)
	return it
}

func reason(it Item, src *source) string {
	var parts []string
	if it.SameTopic {
		parts = append(parts, "same story ("+src.topic+")")
	}
	if len(it.SharedContext) > 0 {
		parts = append(parts, "shares "+strings.Join(it.SharedContext, ", "))
	}
	if len(it.SharedTerms) > 0 {
		parts = append(parts, "also mentions "+strings.Join(it.SharedTerms, ", "))
	}
	if it.DaysApart != nil {
		switch d := *it.DaysApart; {
		case d == 0:
			parts = append(parts, "same day")
		case d == -1:
			parts = append(parts, "1 day before")
		case d == 1:
			parts = append(parts, "1 day after")
		case d < 0:
			parts = append(parts, fmt.Sprintf("%s before", span(-d)))
		default:
			parts = append(parts, fmt.Sprintf("%s after", span(d)))
		}
	}
	if len(parts) == 0 {
		return "Similar wording"
	}
	s := strings.Join(parts, "; ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// span says a number of days the way an editor would.
func span(days int) string {
	if days < 60 {
		return fmt.Sprintf("%d days", days)
	}
	// Months of the calendar's average length: months of 30 days made
	// 406 days "14 months" and 715 "24 months" (a review's finding).
	if months := int(math.Round(float64(days) / daysPerMonth)); months < 24 {
		return fmt.Sprintf("%d months", months)
	}
	return fmt.Sprintf("%d years", (days+182)/365)
}

// daysPerMonth is a Gregorian month's average length.
const daysPerMonth = 365.2425 / 12

// analyze returns the analysed words of text, in order.
func (rk *run) analyze(text string) ([]string, error) {
	if rk.words != nil {
		var out []string
		rk.words.Each([]byte(text), func(term []byte, _, _, _ int) { out = append(out, string(term)) })
		return out, nil
	}
	toks, err := rk.an.AnalyzeText(en.AnalyzerName, []byte(text))
	if err != nil {
		return nil, fmt.Errorf("related: analyze: %w", err)
	}
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = string(t.Term)
	}
	return out, nil
}

func wordSet(words []string) map[string]bool {
	out := make(map[string]bool, len(words))
	for _, w := range words {
		out[w] = true
	}
	return out
}

func jaccard(a, b map[string]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	inter := 0
	for w := range a {
		if b[w] {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}
