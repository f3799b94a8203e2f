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

// readyz is readiness: not draining, and every check passes (in-memory
// indexes loaded). A failing check marked Degraded (the database) is
// reported in the body — "degraded" lists it — but keeps the answer 200:
// the task still serves public pages from memory.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	status := map[string]string{}
	degraded := []string{}
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
			if c.Degraded {
				degraded = append(degraded, c.Name)
			} else {
				ok = false
			}
		} else {
			status[c.Name] = "ok"
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	json.NewEncoder(w).Encode(map[string]any{"ready": ok, "degraded": degraded, "checks": status})
}
