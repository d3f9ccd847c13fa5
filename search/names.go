package search

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk/query"
	"github.com/newsdesk/newsdesk/snapshot"
)

// Field kinds that Names knows.
const (
	FieldTopic    = "topic"
	FieldCategory = "category"
	FieldContext  = "context"
)

// Names knows every topic, category and context name in an index: how
// many events use each and the latest date one did. It resolves exact
// values typed in another case and completes names as they are typed.
// It is immutable once built, so safe for concurrent use.
type Names struct {
	byKind   map[string]map[string]*Name // kind → lower-case name → Name
	suggest  []wordRef                   // every word of every topic and context name, sorted
	all      []*Name                     // topic and context names, indexed by wordRef.name
	from, to time.Time                   // date range of the events
	epoch    uint64                      // of the snapshot counted
	// counted holds, by kind, the length of the snapshot's table of
	// values counted: the values after it came since (canonical).
	counted map[string]int
	// unused holds, by kind and lower-case name, the table's spellings no
	// live event had when counted (canonical).
	unused map[string]map[string][]string
	// start holds, by topic id, the first day of the story of a topic
	// that 10 or more events share (its spellings in any case counted
	// together), or NoDay.
	start []int32
	// spell holds the text field's terms with accents by their plain
	// form (spelling.go).
	spell spellings
}

// Spellings returns the other spellings of an index term of the text
// field the index may hold, with and without accents (erdoğan for
// erdogan, and back); the caller looks them up.
func (n *Names) Spellings(term string) []string {
	if n == nil {
		return nil
	}
	return n.spell.of(term)
}

// storyStart returns the first day of the story of topic id, when 10 or
// more events share the topic.
func (n *Names) storyStart(topic uint32) (int32, bool) {
	if int(topic) >= len(n.start) || n.start[topic] == snapshot.NoDay {
		return 0, false
	}
	return n.start[topic], true
}

// minStory is the events a topic needs for its first ones to count as a
// story's onset.
const minStory = 10

// Name is one topic, category or context value.
type Name struct {
	Value string    `json:"value"`
	Kind  string    `json:"kind"`  // topic, category or context
	Count int       `json:"count"` // events that use it
	Last  time.Time `json:"-"`
	// LastDate is Last as YYYY-MM-DD, for JSON.
	LastDate string `json:"last_date"`

	lower string   // Value in lower case
	words []string // the words of lower, trimmed of punctuation
	// spellings are the exact values of this name in the index, the
	// commonest (Value) first: the same name in other cases.
	spellings []string
}

type wordRef struct {
	word string
	name int
}

// NamesFromSnapshot counts the names of the live events of a snapshot.
func NamesFromSnapshot(c *snapshot.Snapshot) *Names {
	n := &Names{byKind: map[string]map[string]*Name{FieldTopic: {}, FieldCategory: {}, FieldContext: {}}, epoch: c.Epoch,
		counted: map[string]int{FieldTopic: len(c.Topics), FieldCategory: len(c.Categories), FieldContext: len(c.Contexts)},
		unused:  map[string]map[string][]string{FieldTopic: {}, FieldCategory: {}, FieldContext: {}},
		spell:   spellingsOf(c)}
	tables := map[string][]string{FieldTopic: c.Topics, FieldCategory: c.Categories, FieldContext: c.Contexts}
	counts := map[string][]int{FieldTopic: make([]int, len(c.Topics)), FieldCategory: make([]int, len(c.Categories)), FieldContext: make([]int, len(c.Contexts))}
	last := map[string][]int32{FieldTopic: make([]int32, len(c.Topics)), FieldCategory: make([]int32, len(c.Categories)), FieldContext: make([]int32, len(c.Contexts))}
	lo, hi := int32(1<<31-1), snapshot.NoDay
	see := func(kind string, id uint32, day int32) {
		counts[kind][id]++
		if day > last[kind][id] {
			last[kind][id] = day
		}
	}
	first := make([]int32, len(c.Topics))
	for i := range first {
		first[i] = 1<<31 - 1
	}
	// An event tagged with two spellings of one name counts once for it.
	ctxFold := make([]uint32, len(c.Contexts))
	firstID := map[string]uint32{}
	for id, v := range c.Contexts {
		key := nameKey(v)
		if f, ok := firstID[key]; ok {
			ctxFold[id] = f
		} else {
			firstID[key], ctxFold[id] = uint32(id), uint32(id)
		}
	}
	c.EachLive(func(d uint64) {
		day := c.Day(d)
		if t := c.Topic(d); t != 0 && day != snapshot.NoDay {
			first[t] = min(first[t], day)
		}
		if day != snapshot.NoDay {
			lo, hi = min(lo, day), max(hi, day)
		}
		see(FieldCategory, c.Category(d), day)
		see(FieldTopic, c.Topic(d), day)
		ids := c.ContextsOf(d)
		for i, id := range ids {
			if !slices.ContainsFunc(ids[:i], func(prev uint32) bool { return ctxFold[prev] == ctxFold[id] }) {
				see(FieldContext, id, day)
			}
		}
	})
	if hi != snapshot.NoDay {
		n.from, n.to = snapshot.DayTime(lo), snapshot.DayTime(hi)
	}
	for kind, table := range tables {
		for id, v := range table {
			if v != "" && counts[kind][id] == 0 {
				// No live event has it now; one may again (an update), and
				// a filter must find that spelling before the next count.
				n.unused[kind][nameKey(v)] = append(n.unused[kind][nameKey(v)], v)
			}
			if v == "" || counts[kind][id] == 0 {
				continue
			}
			key := nameKey(v)
			// Another case of the same name: one Name, of the commoner
			// spelling, counting the events of both, last used when
			// either was (the last date was the commoner's alone).
			lastDay := snapshot.DayTime(last[kind][id])
			if old, ok := n.byKind[kind][key]; ok && old.Count >= counts[kind][id] {
				old.Count += counts[kind][id]
				old.spellings = append(old.spellings, v)
				if lastDay.After(old.Last) {
					old.Last, old.LastDate = lastDay, lastDay.Format("2006-01-02")
				}
				continue
			}
			nm := &Name{Value: v, Kind: kind, Count: counts[kind][id], Last: lastDay, LastDate: lastDay.Format("2006-01-02"), spellings: []string{v}}
			if old, ok := n.byKind[kind][key]; ok {
				nm.Count += old.Count
				nm.spellings = append(nm.spellings, old.spellings...)
				if old.Last.After(nm.Last) {
					nm.Last, nm.LastDate = old.Last, old.LastDate
				}
			}
			n.byKind[kind][key] = nm
		}
	}
	// A story's first day and size over the spellings of its topic.
	type story struct {
		first int32
		count int
	}
	stories := map[string]*story{}
	for id, v := range c.Topics {
		if id == 0 || counts[FieldTopic][id] == 0 {
			continue
		}
		st := stories[nameKey(v)]
		if st == nil {
			st = &story{first: first[id]}
			stories[nameKey(v)] = st
		}
		st.first, st.count = min(st.first, first[id]), st.count+counts[FieldTopic][id]
	}
	n.start = make([]int32, len(c.Topics))
	for id, v := range c.Topics {
		n.start[id] = snapshot.NoDay
		if st := stories[nameKey(v)]; id > 0 && st != nil && st.count >= minStory {
			n.start[id] = st.first
		}
	}
	for _, kind := range []string{FieldTopic, FieldContext} {
		for _, nm := range n.byKind[kind] {
			i := len(n.all)
			n.all = append(n.all, nm)
			nm.lower = strings.ToLower(nm.Value)
			for _, w := range strings.Fields(nm.lower) {
				w = suggestWord(w)
				nm.words = append(nm.words, w)
				n.suggest = append(n.suggest, wordRef{word: w, name: i})
				// A word after an elided article begins a word too, as
				// the search box finds it (ivoire: Côte d'Ivoire).
				if rest := elided(w); rest != "" {
					nm.words = append(nm.words, rest)
					n.suggest = append(n.suggest, wordRef{word: rest, name: i})
				}
			}
		}
	}
	sort.Slice(n.suggest, func(i, j int) bool {
		if n.suggest[i].word != n.suggest[j].word {
			return n.suggest[i].word < n.suggest[j].word
		}
		return n.suggest[i].name < n.suggest[j].name
	})
	return n
}

func trimWord(w string) string { return strings.Trim(w, "()[],.\"'") }

// nameKey is how names are compared: in any case, and with typographic
// apostrophes and quotes as straight ones, as the search box reads a
// query (query.Straight): context:"Persecution of Baháʼís", typed or
// pasted, is the corpus's tag written with U+02BC, and "Côte d’Ivoire"
// and "Côte d'Ivoire" are one name, as two cases of one are; and
// without accents, as the search box reads words (since 2026-12-02: the
// filter context=Cote d'Ivoire found none of Côte d'Ivoire's 85 events,
// where cote d'ivoire typed in the box finds 88, a review found).
func nameKey(v string) string {
	// Lower case first: fold's letters (đ, ø, æ, ł) are lower case, and
	// upper-case Đ or Ø stayed, so a name in capitals no longer met its
	// own spelling (a review's finding).
	v = strings.ToLower(query.Straight(v))
	if !ascii(v) {
		v = strings.ToLower(fold(v))
	}
	return v
}

// suggestWord is a lower-case word of a name, or of a prefix typed, as
// suggestions compare them: trimmed, and without its accents (fold), so
// that erdogan suggests Erdoğan and sao São Paulo, as the search box
// finds them, and erdoğ still suggests Erdoğan.
func suggestWord(w string) string {
	if !ascii(w) {
		w = fold(w) // first: a typographic quote straightened is one trimWord trims
	}
	return trimWord(w)
}

// canonical maps each value to the spellings the index has for it,
// ignoring case (every one: "Syrian civil war" and "Syrian Civil War" are
// one name, filed under both); unknown values are kept as typed (and so
// match nothing). table is the kind's table of values of the snapshot
// searched: those it gained since the names were counted (an update a
// moment ago) are looked at too, so that a filter finds a new name in any
// case at once.
func (n *Names) canonical(kind string, values []string, table []string) []string {
	if len(values) == 0 {
		return nil
	}
	out := make([]string, 0, len(values))
	for _, v := range values {
		// As the search box reads a field clause's value: a filter typed
		// full-width, or with its accents decomposed (a Mac's pasted
		// names), found nothing where context:"…" found its events.
		v = query.Compose(v)
		spellings := []string{v}
		if n != nil {
			key := nameKey(strings.TrimSpace(v))
			if nm, ok := n.byKind[kind][key]; ok {
				spellings = nm.spellings
			}
			// Spellings no event had when counted, and values added since:
			// an update may have given them an event a moment ago.
			for _, s := range n.unused[kind][key] {
				if !slices.Contains(spellings, s) {
					spellings = append(slices.Clip(spellings), s)
				}
			}
			for _, s := range table[min(n.counted[kind], len(table)):] {
				if nameKey(s) == key && !slices.Contains(spellings, s) {
					spellings = append(slices.Clip(spellings), s)
				}
			}
		}
		for _, s := range spellings {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// spelling returns what shows a value of a kind (topic, category or
// context): the spelling of its name the events use most.
func (n *Names) spelling(kind string) func(string) string {
	return func(v string) string {
		if n != nil {
			if nm, ok := n.byKind[kind][nameKey(v)]; ok {
				return nm.Value
			}
		}
		return v
	}
}

// All returns the names of a kind (topic, category or context), most used
// first.
func (n *Names) All(kind string) []Name {
	var out []Name
	for _, nm := range n.byKind[kind] {
		out = append(out, *nm)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	return out
}

// DateRange returns the first and last event dates.
func (n *Names) DateRange() (time.Time, time.Time) {
	if n == nil {
		return time.Time{}, time.Time{}
	}
	return n.from, n.to
}

// MaxSuggestions is the most names Suggest returns.
const MaxSuggestions = 10

// Suggest completes what a user is typing into topic and context names: a
// name matches when one of its words starts with the last word typed and
// each earlier word typed starts some word of it. Names used by more
// events come first, then the more recently used.
func (n *Names) Suggest(prefix string, limit int) []Name {
	// As the search box reads what is typed (query.Compose): full-width
	// letters and decomposed accents found no name.
	words := strings.Fields(strings.ToLower(query.Compose(prefix)))
	if n == nil || len(words) == 0 {
		return []Name{}
	}
	if limit <= 0 || limit > MaxSuggestions {
		limit = MaxSuggestions
	}
	for i := range words {
		words[i] = suggestWord(words[i])
	}
	last, earlier := words[len(words)-1], words[:len(words)-1]
	// better orders names: more events first, then more recent, then by value.
	better := func(a, b *Name) bool {
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if !a.Last.Equal(b.Last) {
			return a.Last.After(b.Last)
		}
		return a.Value < b.Value
	}
	// Keep the best limit names in order while scanning the words that
	// start with the prefix; a name both topic and context (the same
	// lower-cased value), or with the prefix in two words, is kept once,
	// as its better kind, so that limit distinct names are kept (when
	// dropped at the end, more than 4 such pairs left the list short).
	best := make([]*Name, 0, limit+1)
	lo := sort.Search(len(n.suggest), func(i int) bool { return n.suggest[i].word >= last })
	for i := lo; i < len(n.suggest) && strings.HasPrefix(n.suggest[i].word, last); i++ {
		nm := n.all[n.suggest[i].name]
		if len(best) == limit && !better(nm, best[limit-1]) {
			continue
		}
		if !hasAllPrefixes(nm.words, earlier) {
			continue
		}
		if j := slices.IndexFunc(best, func(b *Name) bool { return b.lower == nm.lower }); j >= 0 {
			if !better(nm, best[j]) {
				continue
			}
			best = slices.Delete(best, j, j+1)
		}
		at := sort.Search(len(best), func(j int) bool { return better(nm, best[j]) })
		best = slices.Insert(best, at, nm)
		if len(best) > limit {
			best = best[:limit]
		}
	}
	out := make([]Name, 0, len(best))
	for _, c := range best {
		out = append(out, *c)
	}
	return out
}

func hasAllPrefixes(words, prefixes []string) bool {
	for _, p := range prefixes {
		if !slices.ContainsFunc(words, func(w string) bool { return strings.HasPrefix(w, p) }) {
			return false
		}
	}
	return true
}
