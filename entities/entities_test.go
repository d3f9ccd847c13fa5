package entities

import (
	"slices"
	"testing"
)

func table(t *testing.T) *Table {
	t.Helper()
	tb, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func TestKeys(t *testing.T) {
	tb := table(t)
	tests := []struct {
		tag      string
		full     []string // the Full of each key
		yearless string   // of the first key
		kind     Kind     // of the first key
	}{
		{"Russia-Estonia relations", []string{"estonia relat russia"}, "estonia relat russia", Story},
		{"Estonia–Russia relations", []string{"estonia relat russia"}, "estonia relat russia", Story},
		{"Estonian-Russian relations", []string{"estonia relat russia"}, "estonia relat russia", Story},
		{"Syrian Civil War", []string{"civil syria war"}, "civil syria war", Story},
		{"Syrian civil war", []string{"civil syria war"}, "civil syria war", Story},
		// Bleve's lower-case filter made İzmir "i\xb0zmi": another key than Izmir's.
		{"İzmir protests", []string{"izmir protest"}, "izmir protest", Story},
		{"Izmir protests", []string{"izmir protest"}, "izmir protest", Story},
		{"Syria", []string{"syria"}, "syria", Place},
		{"United States", []string{"state unit"}, "state unit", Place},
		{"2006", []string{"2006"}, "", Year},
		{"2011 Egyptian revolution", []string{"2011 egypt revolut"}, "egypt revolut", Story},
		{"Russo-Ukrainian War (2022–present)", []string{"russo ukrain war"}, "russo ukrain war", Story},
		{"Iraq War; Iraqi insurgency", []string{"iraq war", "insurg iraq"}, "iraq war", Story},
		// "/" between stories, not within a name.
		{"European migrant crisis/Syrian Civil War", []string{"crisi europ migrant", "civil syria war"}, "crisi europ migrant", Story},
		{"Epidemiology of HIV/AIDS", []string{"aid epidemiolog hiv"}, "aid epidemiolog hiv", Story},
		{"Apple / Google smartphone tracking", []string{"appl googl smartphon track"}, "appl googl smartphon track", Story},
		{"Debian GNU/Linux", []string{"debian gnu linux"}, "debian gnu linux", Story},
		{"The", nil, "", Story},
	}
	for _, tc := range tests {
		t.Run(tc.tag, func(t *testing.T) {
			keys := tb.Keys(tc.tag)
			var full []string
			for _, k := range keys {
				full = append(full, k.Full)
			}
			if !slices.Equal(full, tc.full) {
				t.Fatalf("Keys(%q) = %v, want %v", tc.tag, full, tc.full)
			}
			if len(keys) > 0 && (keys[0].Yearless != tc.yearless || keys[0].Kind != tc.kind) {
				t.Errorf("Keys(%q)[0] = %+v, want yearless %q kind %d", tc.tag, keys[0], tc.yearless, tc.kind)
			}
			for _, k := range keys {
				if got := tb.KindOf(k.Full); got != k.Kind {
					t.Errorf("KindOf(%q) = %d, want %d, the kind Keys gave", k.Full, got, k.Kind)
				}
			}
		})
	}
}

func TestVariantsPlace(t *testing.T) {
	tb := table(t)
	for _, tc := range []struct {
		stem     string
		variants []string
		place    []string
	}{
		{"syria", []string{"syrian"}, nil},
		{"syrian", []string{"syria"}, []string{"syria"}},
		{"ukrain", []string{"ukrainian"}, nil},
		{"burma", []string{"burmes", "myanmar"}, []string{"myanmar"}},
		{"american", nil, []string{"unit", "state"}},
		{"korean", nil, []string{"korea"}},
		{"peac", nil, nil},
	} {
		if got := tb.Variants(tc.stem); !slices.Equal(got, tc.variants) {
			t.Errorf("Variants(%q) = %v, want %v", tc.stem, got, tc.variants)
		}
		if got := tb.Place(tc.stem); !slices.Equal(got, tc.place) {
			t.Errorf("Place(%q) = %v, want %v", tc.stem, got, tc.place)
		}
	}
}
