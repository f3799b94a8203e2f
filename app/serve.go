package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"carematch/audit"
	"carematch/config"
	"carematch/metrics"
	"carematch/postgres"
	"carematch/search"
	"carematch/web"
)

func runServe(ctx context.Context, env Env, args []string) error {
	if len(args) != 0 {
		return fmt.Errorf("serve takes no arguments (configure it with environment variables): %w", errUsage)
	}
	cfg, err := config.Parse(env.Getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, env.Stdout)
	db, err := postgres.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return err
	}
	defer db.Close()
	// Audit events go to stdout as their own log type, each after its
	// transaction committed (the platform routes log_type "audit" to
	// long-term storage).
	db.Audit = audit.NewStream(env.Stdout)
	if err := checkSchema(ctx, log, db, cfg.AutoMigrate); err != nil {
		return err
	}
	reg := metrics.New()
	reg.AddGauges(poolGauges(db))

	// The facility index: loaded from PostgreSQL, then kept fresh by change
	// notifications and a periodic reconcile. It serves public search and
	// facility pages even while the database does not answer.
	index := search.NewIndex()
	follower := &search.Follower{
		Index: index, Store: db, Changes: postgres.FacilityChanges{URL: cfg.DatabaseURL},
		Log: log, Reconcile: cfg.ReconcileInterval,
	}
	followCtx, stopFollowing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopFollowing()
	go follower.Run(followCtx)
	reg.AddGauges(func() map[string]float64 {
		st := follower.Status()
		return map[string]float64{
			"search.facilities":         float64(index.Len()),
			"search.listening":          boolGauge(st.Listening),
			"search.seconds_since_sync": time.Since(st.LastSync).Seconds(),
		}
	})

	wakeMail, stopMail := startMail(ctx, cfg, log, db, reg)
	defer stopMail()
	if cfg.FormSecret == "" {
		log.Info("CAREMATCH_FORM_SECRET is not set: public forms are signed with a key of this process (set it when more than one task serves)")
	}

	srv, err := web.New(web.Options{
		Log:          log,
		Metrics:      reg,
		MaxBodyBytes: cfg.MaxBodyBytes,
		Index:        index,
		Staff:        db,
		Cases:        db,
		Portal:       db,
		Referrals:    db,
		Proposals:    db,
		Billing:      db,
		PublicURL:    cfg.PublicURL,
		Intake: web.IntakeOptions{Store: db, ConsultantEmail: cfg.ConsultantEmail,
			Secret: []byte(cfg.FormSecret), Submitted: wakeMail},
		// Rendered search pages, valid until the catalog or the date changes.
		PageCacheBytes: 32 << 20,
		Ready: []web.ReadyCheck{
			{Name: "database", Degraded: true, Check: func(ctx context.Context) error { return db.Ping(ctx, time.Second) }},
			{Name: "search_index", Check: func(context.Context) error {
				if !index.Ready() {
					return errors.New("search index not loaded")
				}
				return nil
			}},
		},
	})
	if err != nil {
		return err
	}
	return serveHTTP(ctx, cfg, log, srv, reg)
}

// checkSchema refuses to serve on a schema that is behind the binary, unless
// auto-migration was asked for (local runs).
func checkSchema(ctx context.Context, log *slog.Logger, db *postgres.DB, auto bool) error {
	pending, err := db.Pending(ctx)
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		return nil
	}
	if !auto {
		return fmt.Errorf("the database schema is behind this binary; missing migrations: %s (run `carematch migrate up`, or set CAREMATCH_AUTO_MIGRATE=1 for a local run)",
			strings.Join(pending, ", "))
	}
	done, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	log.Info("applied migrations", "versions", done)
	return nil
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func poolGauges(db *postgres.DB) func() map[string]float64 {
	return func() map[string]float64 {
		s := db.Pool.Stat()
		return map[string]float64{
			"db.conns_total":       float64(s.TotalConns()),
			"db.conns_idle":        float64(s.IdleConns()),
			"db.conns_acquired":    float64(s.AcquiredConns()),
			"db.conns_max":         float64(s.MaxConns()),
			"db.acquire_count":     float64(s.AcquireCount()),
			"db.acquire_wait_ms":   float64(s.AcquireDuration().Milliseconds()),
			"db.empty_acquire":     float64(s.EmptyAcquireCount()),
			"db.canceled_acquires": float64(s.CanceledAcquireCount()),
		}
	}
}

// serveHTTP runs the public and the metrics listeners until ctx is done
// (SIGTERM), then shuts down for a rolling deploy: /readyz turns 503 at
// once, requests keep being served (kept-alive connections stay open, since
// the load balancer may still use them) for the drain delay while the load
// balancer deregisters the task; then the listener and idle connections
// close and in-flight requests get up to the shutdown timeout to finish.
func serveHTTP(ctx context.Context, cfg config.Config, log *slog.Logger, srv *web.Server, reg *metrics.Registry) error {
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on CAREMATCH_HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	mln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		ln.Close()
		return fmt.Errorf("listen on CAREMATCH_METRICS_ADDR %s: %w", cfg.MetricsAddr, err)
	}
	errLog := slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	public := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          errLog,
	}
	internal := &http.Server{Handler: reg.Handler(), ReadHeaderTimeout: 5 * time.Second, ErrorLog: errLog}

	errc := make(chan error, 2)
	go func() { errc <- public.Serve(ln) }()
	go func() { errc <- internal.Serve(mln) }()
	log.Info("serving", "addr", ln.Addr().String(), "metrics_addr", mln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining", "drain_delay", cfg.DrainDelay.String())
	srv.Drain()
	select {
	case <-time.After(cfg.DrainDelay):
	case err := <-errc:
		return fmt.Errorf("server stopped while draining: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = public.Shutdown(sctx)
	internal.Close()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: in-flight requests did not finish within %s: %w", cfg.ShutdownTimeout, err)
	}
	log.Info("stopped")
	return nil
}
