// Package web is carematch's HTTP layer: routes, handlers (one file per page
// or action), middleware, templates and static assets embedded in the binary.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"carematch/metrics"
	"carematch/search"
)

// ReadyCheck is one condition of readiness (database reachable, an
// in-memory index loaded, …). It returns nil when ready.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
	// Degraded marks a dependency the task can serve without: its failure
	// is reported by /readyz but keeps the status 200. The database is one:
	// public search and facility pages answer from memory, and a 503 would
	// make the load balancer and ECS take every task out of service (and
	// replace them) during a database outage.
	Degraded bool
}

// Server holds the dependencies of every handler.
type Server struct {
	log          *slog.Logger
	metrics      *metrics.Registry
	ready        []ReadyCheck
	maxBodyBytes int64
	now          func() time.Time
	pages        *pages
	assets       *assets
	index        *search.Index
	form         *searchForm
	cache        *pageCache
	draining     atomic.Bool
	routes       []route
}

// Options configures a Server.
type Options struct {
	Log          *slog.Logger
	Metrics      *metrics.Registry
	Ready        []ReadyCheck
	MaxBodyBytes int64
	Now          func() time.Time
	// Index is the in-memory facility index that public search and facility
	// pages read (so they keep working when the database does not answer).
	Index *search.Index
	// PageCacheBytes bounds the cache of rendered search pages; 0 disables it.
	PageCacheBytes int
}

// New builds a server, parsing templates and hashing assets once.
func New(o Options) (*Server, error) {
	a, err := loadAssets()
	if err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Metrics == nil {
		o.Metrics = metrics.New()
	}
	s := &Server{
		log: o.Log, metrics: o.Metrics, ready: o.Ready, maxBodyBytes: o.MaxBodyBytes,
		now: o.Now, assets: a, index: o.Index, form: newSearchForm(),
		cache: newPageCache(o.PageCacheBytes),
	}
	if s.index == nil {
		s.index = search.NewIndex()
	}
	if s.pages, err = parsePages(a, s.formatFuncs()); err != nil {
		return nil, err
	}
	s.routes = s.routeTable()
	return s, nil
}

// Drain marks the server as shutting down: /readyz answers 503 from now on
// so the load balancer stops sending new requests.
func (s *Server) Drain() { s.draining.Store(true) }

// route is one entry of the route table. Every route is listed here with
// who may use it, so the authorisation middleware and the authorisation
// matrix test walk the same table: a route without a rule cannot exist.
type route struct {
	Pattern string // Go 1.22 ServeMux pattern, with method
	Handler http.HandlerFunc
	Access  Access
}

// Access says who may use a route.
type Access struct {
	Public bool     // anyone, signed in or not
	Roles  []string // staff roles allowed (values of the staff role type); empty with Public false: nobody
}

// public is the access of pages anyone may see.
var public = Access{Public: true}

func (s *Server) routeTable() []route {
	return []route{
		{"GET /healthz", s.healthz, public},
		{"GET /readyz", s.readyz, public},
		{"GET /static/", s.static, public},
		{"GET /{$}", s.top, public},
		{"GET /search", s.search, public},
		{"GET /search/{pref}", s.search, public},
		{"GET /search/{pref}/{muni}", s.search, public},
		{"GET /facilities/{id}", s.facilityPage, public},
		{"GET /api/v1/search", s.apiSearch, public},
		{"GET /api/v1/facilities/{id}", s.apiFacility, public},
		{"/api/", s.apiNotFound, public},
		{"/", s.notFound, public},
	}
}

// Patterns lists the route patterns.
func (s *Server) Patterns() []string {
	out := make([]string, len(s.routes))
	for i, r := range s.routes {
		out[i] = r.Pattern
	}
	return out
}

// Handler returns the public HTTP handler with all middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range s.routes {
		mux.HandleFunc(r.Pattern, r.Handler)
	}
	return s.middleware(mux)
}
