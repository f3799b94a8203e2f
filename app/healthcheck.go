package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"carematch/config"
)

// runHealthcheck asks the local server's /readyz; it needs no shell, so it
// works as the HEALTHCHECK of a distroless image.
func runHealthcheck(ctx context.Context, env Env, _ []string) error {
	addr := config.Value(env.Getenv, "CAREMATCH_HTTP_ADDR")
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("CAREMATCH_HTTP_ADDR=%q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /readyz answered %d", resp.StatusCode)
	}
	fmt.Fprintln(env.Stdout, "ready")
	return nil
}
