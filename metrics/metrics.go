// Package metrics exposes searchd's metrics in the Prometheus format:
// requests by route and status, their latency, requests rejected by
// reason, the served index (events, generation), generation swaps by
// result, and Bleve's own index statistics; on a replica, its place in
// the update stream, the messages it skipped and its downloads.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Index is what the metrics read of the served index at each scrape.
type Index interface {
	// Served returns the served generation's name, its events and Bleve's
	// statistics map; ok is false while nothing is served.
	Served() (generation string, events uint64, stats map[string]interface{}, ok bool)
}

// Positioned is an Index that also says how far the updates are applied
// to the served index (GET /v1/info's update_seq: bytes of the journal,
// or the update stream's last message applied); ok is false while
// nothing is served.
type Positioned interface {
	Applied() (seq int64, ok bool)
}

// Metrics holds searchd's collectors. It is safe for concurrent use.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	rejected *prometheus.CounterVec
	swaps    *prometheus.CounterVec
	asyncErr prometheus.Counter
	// A replica's, registered by FollowStream.
	invalid   prometheus.Counter
	downloads *prometheus.CounterVec
}

// New registers the collectors, reading the index through idx.
func New(idx Index) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "newsdesk_http_requests_total", Help: "HTTP requests by route, method (other for a method HTTP does not define) and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "newsdesk_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1, 2.5},
		}, []string{"route"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "newsdesk_http_rejected_total", Help: "Requests refused, by reason: the error code answered (overloaded, timeout, unavailable, uri_too_long, ...), else the status's name.",
		}, []string{"reason"}),
		swaps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "newsdesk_generation_swaps_total", Help: "Attempts to serve a newly published generation, by result.",
		}, []string{"result"}),
		asyncErr: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "newsdesk_index_async_errors_total", Help: "Errors Bleve reported from its background work (persisting, merging) on the served index.",
		}),
		invalid: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "newsdesk_stream_invalid_messages_total", Help: "Update stream messages skipped as not valid updates.",
		}),
		downloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "newsdesk_generation_downloads_total", Help: "Downloads of published generations, by result (ok, refused).",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.rejected, m.swaps, m.asyncErr,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&indexCollector{idx: idx})
	return m
}

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Observe records one answered request.
func (m *Metrics) Observe(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

// Rejected records a request refused for reason.
func (m *Metrics) Rejected(reason string) { m.rejected.WithLabelValues(reason).Inc() }

// IndexError records an error of Bleve's background work on the index.
func (m *Metrics) IndexError() { m.asyncErr.Inc() }

// Swap records an attempt to serve a generation; err nil means it is served.
func (m *Metrics) Swap(_ string, err error) {
	if err != nil {
		m.swaps.WithLabelValues("refused").Inc()
		return
	}
	m.swaps.WithLabelValues("swapped").Inc()
}

// StreamStatus reads a replica's place in the update stream: the last
// message applied, the stream's last message as known, and how long the
// replica has known of the oldest message it has not applied.
type StreamStatus func() (applied, last uint64, lag time.Duration)

// FollowStream registers a replica's metrics: its place in the update
// stream (read by status at each scrape), the messages it skipped and
// its downloads. Call it once.
func (m *Metrics) FollowStream(status StreamStatus) {
	m.reg.MustRegister(m.invalid, m.downloads, &streamCollector{status: status})
}

// InvalidMessage records an update stream message skipped.
func (m *Metrics) InvalidMessage() { m.invalid.Inc() }

// Download records a download of a generation; err nil means it was
// installed.
func (m *Metrics) Download(_ string, err error) {
	if err != nil {
		m.downloads.WithLabelValues("refused").Inc()
		return
	}
	m.downloads.WithLabelValues("ok").Inc()
}

var (
	appliedDesc = prometheus.NewDesc("newsdesk_stream_applied_seq", "The last update stream message the served index holds.", nil, nil)
	lastDesc    = prometheus.NewDesc("newsdesk_stream_last_seq", "The update stream's last message, as last heard.", nil, nil)
	lagDesc     = prometheus.NewDesc("newsdesk_stream_lag_seconds", "How long the replica has known of the oldest update stream message it has not applied; 0 when caught up.", nil, nil)
)

type streamCollector struct {
	status StreamStatus
}

func (c *streamCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- appliedDesc
	ch <- lastDesc
	ch <- lagDesc
}

func (c *streamCollector) Collect(ch chan<- prometheus.Metric) {
	applied, last, lag := c.status()
	ch <- prometheus.MustNewConstMetric(appliedDesc, prometheus.GaugeValue, float64(applied))
	ch <- prometheus.MustNewConstMetric(lastDesc, prometheus.GaugeValue, float64(last))
	ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, lag.Seconds())
}

// indexCollector reads the served index at each scrape.
type indexCollector struct {
	idx Index
}

var (
	eventsDesc     = prometheus.NewDesc("newsdesk_index_events", "Events in the served generation.", nil, nil)
	generationDesc = prometheus.NewDesc("newsdesk_index_generation_info", "The served generation (always 1).", []string{"generation"}, nil)
	bleveDesc      = prometheus.NewDesc("newsdesk_bleve_stat", "Bleve's index statistics (its StatsMap), by name.", []string{"name"}, nil)
	builtDesc      = prometheus.NewDesc("newsdesk_index_generation_timestamp_seconds", "When the served generation was built (its name's time), in Unix seconds: time() minus it is its age.", nil, nil)
	updateSeqDesc  = prometheus.NewDesc("newsdesk_update_seq", "How far the updates are applied to the served index, as GET /v1/info's update_seq: bytes of the journal, or the update stream's last message applied.", nil, nil)
)

// generationTime is the layout of a generation's name, its build time.
const generationTime = "20060102T150405.000000000Z"

func (c *indexCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- eventsDesc
	ch <- generationDesc
	ch <- bleveDesc
	ch <- builtDesc
	ch <- updateSeqDesc
}

func (c *indexCollector) Collect(ch chan<- prometheus.Metric) {
	gen, events, stats, ok := c.idx.Served()
	if !ok {
		return
	}
	ch <- prometheus.MustNewConstMetric(eventsDesc, prometheus.GaugeValue, float64(events))
	ch <- prometheus.MustNewConstMetric(generationDesc, prometheus.GaugeValue, 1, gen)
	if t, err := time.Parse(generationTime, gen); err == nil {
		ch <- prometheus.MustNewConstMetric(builtDesc, prometheus.GaugeValue, float64(t.UnixNano())/1e9)
	}
	if p, ok := c.idx.(Positioned); ok {
		if seq, ok := p.Applied(); ok {
			ch <- prometheus.MustNewConstMetric(updateSeqDesc, prometheus.GaugeValue, float64(seq))
		}
	}
	flatten("", stats, func(name string, v float64) {
		ch <- prometheus.MustNewConstMetric(bleveDesc, prometheus.GaugeValue, v, name)
	})
}

// flatten calls fn with every number in a nested statistics map, named by
// its dotted path.
func flatten(prefix string, m map[string]interface{}, fn func(string, float64)) {
	for k, v := range m {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		switch x := v.(type) {
		case map[string]interface{}:
			flatten(name, x, fn)
		case uint64:
			fn(name, float64(x))
		case int64:
			fn(name, float64(x))
		case int:
			fn(name, float64(x))
		case float64:
			fn(name, x)
		case uint32:
			fn(name, float64(x))
		}
	}
}
