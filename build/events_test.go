package build

import (
	"reflect"
	"testing"

	"github.com/newsdesk/newsdesk"
)

func TestEventStore(t *testing.T) {
	t.Run("maphash", func(t *testing.T) { testEventStore(t, nil) })
	t.Run("every id colliding", func(t *testing.T) { testEventStore(t, func(string) uint64 { return 1 }) })
}

func testEventStore(t *testing.T, hash func(string) uint64) {
	s, err := newEventStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if hash != nil {
		s.hash = hash
	}
	full := newsdesk.Event{ID: "2019-03-05/a", Date: "2019-03-05", Category: "Sport", Topic: "Cup – final",
		Context: []string{"Zürich", "", "東京"}, Text: "Tabs\tand ünïcode.",
		Sources: []newsdesk.Source{{Name: "Wire"}, {Name: "Example", URL: "https://example.org/x"}}}
	bare := newsdesk.Event{ID: "2019-03-06/b", Date: "2019-03-06", Text: "Bare."}
	later := full
	later.Text, later.Context, later.Sources = "Replaced.", nil, nil
	steps := []struct {
		name string
		do   func() error
		want map[string]*newsdesk.Event // nil: absent
	}{
		{"put two", func() error {
			if err := s.put(&full); err != nil {
				return err
			}
			return s.put(&bare)
		}, map[string]*newsdesk.Event{full.ID: &full, bare.ID: &bare}},
		{"a later record wins", func() error { return s.put(&later) }, map[string]*newsdesk.Event{full.ID: &later, bare.ID: &bare}},
		{"remove", func() error { return s.remove(bare.ID) }, map[string]*newsdesk.Event{full.ID: &later, bare.ID: nil}},
		{"back again", func() error { return s.put(&bare) }, map[string]*newsdesk.Event{full.ID: &later, bare.ID: &bare}},
		{"the first removed", func() error { return s.remove(full.ID) }, map[string]*newsdesk.Event{full.ID: nil, bare.ID: &bare}},
		{"and back", func() error { return s.put(&full) }, map[string]*newsdesk.Event{full.ID: &full, bare.ID: &bare}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		live := 0
		for id, want := range st.want {
			got, ok, err := s.get(id)
			if err != nil {
				t.Fatalf("%s: get %s: %v", st.name, id, err)
			}
			if want == nil {
				if ok {
					t.Errorf("%s: %s is live, want removed", st.name, id)
				}
				continue
			}
			live++
			if !ok || !reflect.DeepEqual(got, *want) {
				t.Errorf("%s: get %s = %+v, %v; want %+v", st.name, id, got, ok, *want)
			}
		}
		if s.len() != live {
			t.Errorf("%s: len = %d, want %d", st.name, s.len(), live)
		}
	}
}
