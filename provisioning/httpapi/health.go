package httpapi

import (
	"context"
	"net/http"
	"time"
)

// healthz answers 200 while the process serves requests.
func (s *server) healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// readyz answers 200 when every readiness check passes (store reachable, signing keys loaded),
// 503 otherwise. The failing check's error is logged, not shown.
func (s *server) readyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		for _, check := range s.ready {
			if err := check(ctx); err != nil {
				s.log.WarnContext(ctx, "not ready", "error", err.Error())
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}
