package ingest

import (
	"reflect"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// TestJSONKind: what a field takes is said in JSON's words, whatever Go
// type holds it.
func TestJSONKind(t *testing.T) {
	type many struct{ A, B, C, D, E int }
	for _, tc := range []struct {
		v    any
		want string
	}{
		{"", "a string"},
		{0, "a whole number"},
		{uint16(0), "a whole number"},
		{0.5, "a number"},
		{true, "true or false"},
		{[]string{}, "a list of strings"},
		{[][]float64{}, "a list of lists of numbers"},
		{[]bool{}, "a list of true or false values"},
		{map[string]int{}, "an object"},
		{newsdesk.Source{}, `an object {"name", "url"}`},
		{[]newsdesk.Source{}, `a list of objects {"name", "url"}`},
		{&newsdesk.Source{}, `an object {"name", "url"}`},
		{many{}, "an object"},
		{time.Time{}, "a string"},
		{[]byte{}, "a string"},
		{[]any{}, "a list of values"},
		{struct{ newsdesk.Source }{}, "an object"},
	} {
		if got := JSONKind(reflect.TypeOf(tc.v)); got != tc.want {
			t.Errorf("JSONKind(%T) = %q, want %q", tc.v, got, tc.want)
		}
	}
}
