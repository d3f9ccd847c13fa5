package index

import (
	"hash/maphash"
)

// idMap maps event ids to document numbers in a few bytes per id: no
// pointer per id (a map of string keys cost a build at ten times the
// corpus a third of its time in garbage collection, which scans every
// key of every cycle), and no copy of the ids (at ten times the corpus
// they took 150 MB of the build's heap). The map is keyed by each id's
// hash; a second hash of the id, with another seed, is kept by document
// number, and tells whether the id whose hash a lookup found is the one
// looked up: two ids would have to agree on both, 128 bits, to be taken
// for one another. An id whose first hash another live id already has
// goes to a small map of its own.
//
// Every document number given to set must be new and larger than the
// ones before.
type idMap struct {
	hash   func(string) uint64 // the map's key
	check  func(string) uint64 // the second hash, by document number
	byHash map[uint64]uint32   // hash of a live id → its document number
	others map[string]uint32   // live ids whose hash byHash holds for another id
	checks []uint64            // the second hash of every document's id, by number
	live   int
}

func newIDMap() *idMap {
	seed, seed2 := maphash.MakeSeed(), maphash.MakeSeed()
	return &idMap{
		hash:   func(s string) uint64 { return maphash.String(seed, s) },
		check:  func(s string) uint64 { return maphash.String(seed2, s) },
		byHash: make(map[uint64]uint32, 1<<17), others: map[string]uint32{},
	}
}

// is reports whether document n's id is id.
func (m *idMap) is(n uint32, id string) bool { return m.checks[n] == m.check(id) }

// get returns the number of id's document, if id is live.
func (m *idMap) get(id string) (uint32, bool) {
	if n, ok := m.others[id]; ok {
		return n, true
	}
	n, ok := m.byHash[m.hash(id)]
	if !ok || !m.is(n, id) {
		return 0, false
	}
	return n, true
}

// set makes n id's document, n being a new number.
func (m *idMap) set(id string, n uint32) {
	for uint32(len(m.checks)) < n {
		m.checks = append(m.checks, 0) // numbers given to no id (none, in the Builder)
	}
	m.checks = append(m.checks, m.check(id))
	if _, ok := m.others[id]; ok {
		m.others[id] = n
		return
	}
	h := m.hash(id)
	old, taken := m.byHash[h]
	switch {
	case !taken:
		m.live++
		m.byHash[h] = n
	case m.is(old, id):
		m.byHash[h] = n
	default:
		m.live++
		m.others[id] = n
	}
}

// remove forgets id.
func (m *idMap) remove(id string) {
	if _, ok := m.others[id]; ok {
		delete(m.others, id)
		m.live--
		return
	}
	h := m.hash(id)
	if n, ok := m.byHash[h]; ok && m.is(n, id) {
		delete(m.byHash, h)
		m.live--
	}
}

// len returns the number of live ids.
func (m *idMap) len() int { return m.live }
