// Package metrics counts requests and collects runtime and pool statistics
// for operators. It serves them on an internal listener as flat JSON (read by
// mackerel-plugin-json in the mackerel-container-agent sidecar) and as
// Prometheus text.
package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// latency bucket upper bounds in seconds.
var buckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type key struct {
	route  string
	status int
}

type series struct {
	count  uint64
	sum    float64
	bucket []uint64 // cumulative counts are computed on output
}

// Registry holds the HTTP request metrics and gauge sources.
type Registry struct {
	mu     sync.Mutex
	series map[key]*series
	gauges []func() map[string]float64
	start  time.Time
}

// New returns an empty registry.
func New() *Registry {
	return &Registry{series: map[key]*series{}, start: time.Now()}
}

// Observe records one request by route pattern and status.
func (r *Registry) Observe(route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	sec := d.Seconds()
	r.mu.Lock()
	s := r.series[key{route, status}]
	if s == nil {
		s = &series{bucket: make([]uint64, len(buckets)+1)}
		r.series[key{route, status}] = s
	}
	s.count++
	s.sum += sec
	i := sort.SearchFloat64s(buckets, sec)
	s.bucket[i]++
	r.mu.Unlock()
}

// AddGauges registers a source of gauges (e.g. the database pool).
func (r *Registry) AddGauges(f func() map[string]float64) {
	r.mu.Lock()
	r.gauges = append(r.gauges, f)
	r.mu.Unlock()
}

func runtimeGauges() map[string]float64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return map[string]float64{
		"go.goroutines":        float64(runtime.NumGoroutine()),
		"go.heap_alloc_bytes":  float64(m.HeapAlloc),
		"go.heap_inuse_bytes":  float64(m.HeapInuse),
		"go.sys_bytes":         float64(m.Sys),
		"go.gc_count":          float64(m.NumGC),
		"go.gc_pause_total_ms": float64(m.PauseTotalNs) / 1e6,
	}
}

type snapshot struct {
	route  string
	status int
	count  uint64
	sum    float64
	bucket []uint64
}

func (r *Registry) snapshot() ([]snapshot, map[string]float64) {
	r.mu.Lock()
	out := make([]snapshot, 0, len(r.series))
	for k, s := range r.series {
		out = append(out, snapshot{k.route, k.status, s.count, s.sum, append([]uint64(nil), s.bucket...)})
	}
	gauges := append([]func() map[string]float64(nil), r.gauges...)
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].route != out[j].route {
			return out[i].route < out[j].route
		}
		return out[i].status < out[j].status
	})
	g := runtimeGauges()
	g["process.uptime_seconds"] = time.Since(r.start).Seconds()
	for _, f := range gauges {
		for k, v := range f() {
			g[k] = v
		}
	}
	return out, g
}

// quantile estimates a quantile from histogram buckets (upper bound of the
// bucket that holds it), in milliseconds.
func quantile(q float64, s snapshot) float64 {
	target := uint64(math.Ceil(q * float64(s.count)))
	var c uint64
	for i, n := range s.bucket {
		c += n
		if c >= target {
			if i < len(buckets) {
				return buckets[i] * 1000
			}
			return buckets[len(buckets)-1] * 1000
		}
	}
	return 0
}

// metricName turns a route pattern into a metric name segment.
func metricName(route string) string {
	r := strings.NewReplacer("/", "_", " ", "_", "{", "", "}", "", ".", "_", "-", "_")
	s := strings.Trim(r.Replace(route), "_")
	if s == "" || s == "GET" {
		return route
	}
	return s
}

// JSON serves flat JSON: every value is a number, keys are dotted names.
func (r *Registry) JSON(w http.ResponseWriter, _ *http.Request) {
	series, gauges := r.snapshot()
	out := map[string]float64{}
	for k, v := range gauges {
		out[k] = v
	}
	for _, s := range series {
		base := fmt.Sprintf("http.%s.%d", metricName(s.route), s.status)
		out[base+".count"] = float64(s.count)
		out[base+".latency_ms_avg"] = s.sum / float64(s.count) * 1000
		out[base+".latency_ms_p99"] = quantile(0.99, s)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// Prometheus serves the Prometheus text exposition format.
func (r *Registry) Prometheus(w http.ResponseWriter, _ *http.Request) {
	series, gauges := r.snapshot()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintln(w, "# TYPE carematch_http_request_duration_seconds histogram")
	for _, s := range series {
		labels := fmt.Sprintf("route=%q,status=\"%d\"", s.route, s.status)
		var c uint64
		for i, b := range buckets {
			c += s.bucket[i]
			fmt.Fprintf(w, "carematch_http_request_duration_seconds_bucket{%s,le=\"%g\"} %d\n", labels, b, c)
		}
		fmt.Fprintf(w, "carematch_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", labels, s.count)
		fmt.Fprintf(w, "carematch_http_request_duration_seconds_sum{%s} %g\n", labels, s.sum)
		fmt.Fprintf(w, "carematch_http_request_duration_seconds_count{%s} %d\n", labels, s.count)
	}
	names := make([]string, 0, len(gauges))
	for k := range gauges {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		n := "carematch_" + strings.NewReplacer(".", "_", "-", "_").Replace(k)
		fmt.Fprintf(w, "# TYPE %s gauge\n%s %g\n", n, n, gauges[k])
	}
}

// Handler is the internal metrics listener's handler.
func (r *Registry) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics.json", r.JSON)
	mux.HandleFunc("GET /metrics", r.Prometheus)
	return mux
}
