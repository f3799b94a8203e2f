package web

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// healthz is liveness: the process is up and serving.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n"))
}

// readyz is readiness: not draining, and every check passes (database
// reachable, in-memory indexes loaded). The body names what is not ready.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	status := map[string]string{}
	ok := true
	if s.draining.Load() {
		status["shutdown"] = "draining"
		ok = false
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	for _, c := range s.ready {
		if err := c.Check(ctx); err != nil {
			status[c.Name] = "not ready"
			ok = false
		} else {
			status[c.Name] = "ok"
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	json.NewEncoder(w).Encode(map[string]any{"ready": ok, "checks": status})
}
