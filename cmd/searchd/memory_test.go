package main

import (
	"context"
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
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

// TestMemoryLimitFor: the soft limit follows the live heap, one and a
// half times it, never under serveMemoryLimit, and does not overflow.
func TestMemoryLimitFor(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int64
	}{
		{0, serveMemoryLimit},
		{40 << 20, serveMemoryLimit},
		{300 << 20, 450 << 20},
		{math.MaxUint64, math.MaxInt64 / liveHeapNum * liveHeapNum / liveHeapDen},
	} {
		if got := memoryLimitFor(tc.live); got != tc.want {
			t.Errorf("live %d: limit %d, want %d", tc.live, got, tc.want)
		}
	}
}

// TestFollowHeap: the limit is set at once from the live heap, and the
// follower stops when its context ends, before the settings are put back.
func TestFollowHeap(t *testing.T) {
	before := debug.SetMemoryLimit(1 << 40)
	defer debug.SetMemoryLimit(before)
	keep := make([]byte, 200<<20) // live across the collection below
	runtime.GC()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go followHeap(ctx, time.Hour, done)
	deadline := time.Now().Add(5 * time.Second)
	for debug.SetMemoryLimit(-1) == 1<<40 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := debug.SetMemoryLimit(-1); got < 300<<20 || got > 1<<40-1 {
		t.Errorf("limit %d with %d bytes live, want about one and a half times them", got, len(keep))
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("followHeap did not stop with its context")
	}
	runtime.KeepAlive(keep)
}
