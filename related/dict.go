package related

import (
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk/entities"
	"github.com/newsdesk/newsdesk/snapshot"
)

// dict finds the tags of the index that a text names: a tag's key (a set
// of normalised words) is named where as many consecutive words of the
// text are exactly its words, in any order ("… protests against the
// quota reform in Bangladesh" names "2024 Bangladesh quota reform
// movement" only if the text holds all four of its words in a row). A
// draft has no tags; these are what its text says it is about.
//
// It holds the keys of the index carried by at least two events (one
// event's tag says little of a story) or naming a place, of at most
// maxDictWords words, no years. It is immutable once built.
type dict struct {
	keys    int                 // len(Snapshot.Keys) it was built from
	epoch   uint64              // the Snapshot.Epoch it was built from
	built   time.Time           // when
	version uint64              // counts the dictionaries of a Ranker
	words   map[string]uint64   // each word of a key → its hash
	byHash  map[uint64][]string // the xor of a key's word hashes → the keys
	longest int
}

// maxDictWords is the most words of a key looked for in text: longer
// tags are titles of a single event.
const maxDictWords = 8

// newDict builds the dictionary of snap's keys.
func newDict(snap *snapshot.Snapshot, ents *entities.Table) *dict {
	events := make([]uint8, len(snap.Keys))
	snap.EachLive(func(n uint64) {
		for _, id := range snap.KeysOf(n) {
			if int(id) < len(events) && events[id] < 2 {
				events[id]++
			}
		}
	})
	d := makeDict(snap.Keys, events, ents)
	d.epoch, d.built = snap.Epoch, time.Now()
	return d
}

// makeDict builds the dictionary of keys (by id, 0 unused), events[id]
// being how many events carry key id (counted up to 2).
func makeDict(keys []string, events []uint8, ents *entities.Table) *dict {
	d := &dict{keys: len(keys), words: map[string]uint64{}, byHash: map[uint64][]string{}}
	for id, k := range keys {
		if id == 0 || k == "" {
			continue
		}
		kind := ents.KindOf(k)
		if kind == entities.Year || (events[id] < 2 && kind != entities.Place) {
			continue
		}
		ws := strings.Fields(k)
		if len(ws) > maxDictWords {
			continue
		}
		var h uint64
		for _, w := range ws {
			wh, ok := d.words[w]
			if !ok {
				f := fnv.New64a()
				f.Write([]byte(w))
				wh = f.Sum64()
				d.words[w] = wh
			}
			h ^= wh
		}
		d.byHash[h] = append(d.byHash[h], k)
		d.longest = max(d.longest, len(ws))
	}
	return d
}

// find returns the keys named in a text of normalised words, each once.
func (d *dict) find(words []string) []string {
	var out []string
	window := make([]string, 0, maxDictWords)
	for i := range words {
		var h uint64
		window = window[:0]
		for j := i; j < len(words) && j-i < d.longest; j++ {
			wh, ok := d.words[words[j]]
			if !ok || slices.Contains(window, words[j]) {
				break // no key holds the word; or a repeated word, which no key of this length can match
			}
			window = append(window, words[j])
			h ^= wh
			for _, k := range d.byHash[h] {
				if !slices.Contains(out, k) && sameWords(k, window) {
					out = append(out, k)
				}
			}
		}
	}
	return out
}

// sameWords reports whether key (sorted words, space-separated) holds
// exactly the words of window.
func sameWords(key string, window []string) bool {
	ws := strings.Fields(key)
	if len(ws) != len(window) {
		return false
	}
	for _, w := range window {
		if _, found := slices.BinarySearch(ws, w); !found {
			return false
		}
	}
	return true
}
