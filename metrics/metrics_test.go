package metrics

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type fakeIndex struct{ ok bool }

func (f fakeIndex) Served() (string, uint64, map[string]interface{}, bool) {
	return "20261125T000000.000000000Z", 42, map[string]interface{}{
		"index": map[string]interface{}{"TotBatches": uint64(7), "num_bytes_used_disk": uint64(1024), "name": "not a number"},
	}, f.ok
}

func (f fakeIndex) Applied() (int64, bool) { return 12345, f.ok }

func TestMetrics(t *testing.T) {
	m := New(fakeIndex{ok: true})
	m.Observe("/v1/search", "GET", 200, 3*time.Millisecond)
	m.Observe("unmatched", "GET", 404, time.Millisecond)
	m.Rejected("too_many_requests")
	m.Swap("g", nil)
	m.Swap("g", errors.New("bad"))
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`newsdesk_http_requests_total{method="GET",route="/v1/search",status="200"} 1`,
		`newsdesk_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`newsdesk_http_request_duration_seconds_bucket{route="/v1/search",le="0.005"} 1`,
		`newsdesk_http_rejected_total{reason="too_many_requests"} 1`,
		`newsdesk_generation_swaps_total{result="refused"} 1`,
		`newsdesk_generation_swaps_total{result="swapped"} 1`,
		`newsdesk_index_events 42`,
		`newsdesk_index_generation_info{generation="20261125T000000.000000000Z"} 1`,
		`newsdesk_bleve_stat{name="index.TotBatches"} 7`,
		`newsdesk_index_generation_timestamp_seconds 1.7955648e+09`,
		`newsdesk_update_seq 12345`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(string(body), "not a number") {
		t.Error("a non-numeric statistic was exported")
	}
	// While nothing is served, the index metrics are absent, not zero.
	rec = httptest.NewRecorder()
	New(fakeIndex{}).Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if strings.Contains(rec.Body.String(), "newsdesk_index_events") {
		t.Error("index metrics exported while nothing is served")
	}
}
