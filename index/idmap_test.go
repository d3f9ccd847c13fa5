package index

import "testing"

func TestIDMap(t *testing.T) {
	for _, tc := range []struct {
		name string
		hash func(string) uint64
	}{
		{"maphash", nil},
		{"every id colliding", func(string) uint64 { return 7 }},
		{"by length", func(s string) uint64 { return uint64(len(s)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newIDMap()
			if tc.hash != nil {
				m.hash = tc.hash
			}
			want := map[string]uint32{}
			var n uint32
			set := func(id string) {
				m.set(id, n)
				want[id] = n
				n++
			}
			remove := func(id string) {
				m.remove(id)
				delete(want, id)
			}
			check := func(step string) {
				t.Helper()
				for _, id := range []string{"a", "b", "cc", "dd", "eee", "missing", ""} {
					got, ok := m.get(id)
					w, wok := want[id]
					if ok != wok || got != w {
						t.Fatalf("%s: get(%q) = %d, %v; want %d, %v", step, id, got, ok, w, wok)
					}
				}
				if m.len() != len(want) {
					t.Fatalf("%s: len = %d, want %d", step, m.len(), len(want))
				}
			}
			set("a")
			set("b")
			set("cc")
			check("three added")
			set("a")
			set("cc")
			check("two replaced")
			remove("a")
			remove("missing")
			check("one removed")
			set("dd")
			set("a")
			set("eee")
			check("added again")
			remove("b")
			remove("cc")
			remove("dd")
			check("most removed")
			set("b")
			check("last")
		})
	}
}
