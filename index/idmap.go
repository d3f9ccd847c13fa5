package index

import (
	"encoding/binary"
	"hash/maphash"
)

// idMap maps event ids to document numbers without a pointer per id: a
// map of string keys cost a build at ten times the corpus a third of its
// time in garbage collection, which scans every key of every cycle. The
// ids are kept in one byte arena (never scanned), the map is keyed by
// each id's hash, and an id whose hash another id already has goes to a
// small map of its own.
//
// Every document number given to set must be new and larger than the
// ones before: the arena records the id of each.
type idMap struct {
	hash   func(string) uint64
	byHash map[uint64]uint32 // hash of a live id → its document number
	others map[string]uint32 // live ids whose hash byHash holds for another id
	arena  []byte            // the id of every document, length-prefixed
	at     []uint64          // the offset in arena of each document's id, by number
	live   int
}

func newIDMap() *idMap {
	seed := maphash.MakeSeed()
	return &idMap{
		hash:   func(s string) uint64 { return maphash.String(seed, s) },
		byHash: make(map[uint64]uint32, 1<<17), others: map[string]uint32{},
	}
}

// idAt returns the id of document n.
func (m *idMap) idAt(n uint32) string {
	b := m.arena[m.at[n]:]
	l, w := binary.Uvarint(b)
	return string(b[w : w+int(l)])
}

// get returns the number of id's document, if id is live.
func (m *idMap) get(id string) (uint32, bool) {
	if n, ok := m.others[id]; ok {
		return n, true
	}
	n, ok := m.byHash[m.hash(id)]
	if !ok || m.idAt(n) != id {
		return 0, false
	}
	return n, true
}

// set makes n id's document, n being a new number.
func (m *idMap) set(id string, n uint32) {
	for uint32(len(m.at)) < n {
		m.at = append(m.at, 0) // numbers given to no id (none, in the Builder)
	}
	m.at = append(m.at, uint64(len(m.arena)))
	m.arena = binary.AppendUvarint(m.arena, uint64(len(id)))
	m.arena = append(m.arena, id...)
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
	case m.idAt(old) == id:
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
	if n, ok := m.byHash[h]; ok && m.idAt(n) == id {
		delete(m.byHash, h)
		m.live--
	}
}

// len returns the number of live ids.
func (m *idMap) len() int { return m.live }
