package main

import (
	"runtime/debug"
	"testing"
)

// TestServeMemory: searchd's collector settings apply unless the operator
// set GOGC or GOMEMLIMIT (a 128 MiB limit overrode GOMEMLIMIT=2GiB).
func TestServeMemory(t *testing.T) {
	const opGC, opLimit = 150, 2 << 30
	for _, tc := range []struct {
		name      string
		env       map[string]string
		wantGC    int
		wantLimit int64
	}{
		{"neither set", nil, serveGCPercent, serveMemoryLimit},
		{"GOGC set", map[string]string{"GOGC": "150"}, opGC, serveMemoryLimit},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "2GiB"}, serveGCPercent, opLimit},
		{"both set", map[string]string{"GOGC": "150", "GOMEMLIMIT": "2GiB"}, opGC, opLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// As Go applies the variables at start.
			beforeGC, beforeLimit := debug.SetGCPercent(opGC), debug.SetMemoryLimit(opLimit)
			defer restoreMemory(beforeGC, beforeLimit)
			if gc, limit := serveMemory(func(k string) string { return tc.env[k] }); gc != opGC || limit != opLimit {
				t.Errorf("settings before: %d, %d; want %d, %d", gc, limit, opGC, opLimit)
			}
			gotGC, gotLimit := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1)
			debug.SetGCPercent(gotGC)
			if gotGC != tc.wantGC || gotLimit != tc.wantLimit {
				t.Errorf("GOGC %d, limit %d; want %d, %d", gotGC, gotLimit, tc.wantGC, tc.wantLimit)
			}
		})
	}
}
