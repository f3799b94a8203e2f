package web_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"carematch/web"
)

func newServer(t *testing.T, ready ...web.ReadyCheck) (*web.Server, *httptest.Server, *strings.Builder) {
	t.Helper()
	var logs strings.Builder
	s, err := web.New(web.Options{
		Log:          slog.New(slog.NewJSONHandler(&logs, nil)),
		Ready:        ready,
		MaxBodyBytes: 4096,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts, &logs
}

func get(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	_, ts, _ := newServer(t)
	for _, path := range []string{"/", "/healthz", "/readyz", "/nope"} {
		resp, _ := get(t, ts.URL+path)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" || h.Get("X-Request-Id") == "" {
			t.Errorf("%s: headers %v", path, h)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over plain HTTP", path)
		}
	}
	resp, _ := get(t, ts.URL+"/", "X-Forwarded-Proto", "https")
	if !strings.Contains(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Error("no HSTS behind the TLS-terminating load balancer")
	}
}

func TestRequestIDFromALBTraceHeader(t *testing.T) {
	_, ts, logs := newServer(t)
	resp, body := get(t, ts.URL+"/does-not-exist", "X-Amzn-Trace-Id", "Root=1-67891233-abcdef012345678912345678;Sampled=1")
	if got := resp.Header.Get("X-Request-Id"); got != "1-67891233-abcdef012345678912345678" {
		t.Fatalf("request id %q", got)
	}
	if resp.StatusCode != 404 || !strings.Contains(body, "ページが見つかりません") || !strings.Contains(body, "1-67891233-abcdef012345678912345678") {
		t.Fatalf("404 page: %d\n%s", resp.StatusCode, body)
	}
	line := logs.String()
	for _, want := range []string{`"request_id":"1-67891233-abcdef012345678912345678"`, `"route":"unmatched"`, `"status":404`, `"method":"GET"`, `"duration_ms"`, `"bytes"`} {
		if !strings.Contains(line, want) {
			t.Errorf("access log lacks %s: %s", want, line)
		}
	}
	if strings.Contains(line, "does-not-exist") {
		t.Error("the access log holds the raw path")
	}
	// A forged trace header cannot inject into logs or pages.
	resp, _ = get(t, ts.URL+"/", "X-Amzn-Trace-Id", `Root=<script>"x`)
	if strings.ContainsAny(resp.Header.Get("X-Request-Id"), `<>"`) {
		t.Fatal("unsafe request id accepted")
	}
}

func TestStaticAssetsHashedAndCached(t *testing.T) {
	_, ts, _ := newServer(t)
	_, page := get(t, ts.URL+"/")
	css := regexp.MustCompile(`/static/app\.[0-9a-f]{10}\.css`).FindString(page)
	js := regexp.MustCompile(`/static/htmx\.min\.[0-9a-f]{10}\.js`).FindString(page)
	if css == "" || js == "" {
		t.Fatalf("page does not link hashed assets:\n%s", page)
	}
	for _, u := range []string{css, js} {
		resp, body := get(t, ts.URL+u)
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || len(body) < 100 {
			t.Errorf("%s: %d %v", u, resp.StatusCode, resp.Header)
		}
	}
	for _, u := range []string{"/static/app.css", "/static/../web.go", "/static/%2e%2e/server.go", "/static/app.0000000000.css"} {
		resp, _ := get(t, ts.URL+u)
		if resp.StatusCode != 404 {
			t.Errorf("%s = %d, want 404", u, resp.StatusCode)
		}
	}
}

func TestReadinessAndDrain(t *testing.T) {
	dbDown := errors.New("down")
	var state error
	var index error
	s, ts, _ := newServer(t,
		web.ReadyCheck{Name: "database", Degraded: true, Check: func(context.Context) error { return state }},
		web.ReadyCheck{Name: "search_index", Check: func(context.Context) error { return index }})
	if resp, _ := get(t, ts.URL+"/readyz"); resp.StatusCode != 200 {
		t.Fatalf("ready = %d", resp.StatusCode)
	}
	state = dbDown
	resp, body := get(t, ts.URL+"/readyz")
	if resp.StatusCode != 200 || !strings.Contains(body, `"database":"not ready"`) || !strings.Contains(body, `"degraded":["database"]`) {
		t.Fatalf("database down: %d %s", resp.StatusCode, body)
	}
	index = errors.New("loading")
	if resp, body = get(t, ts.URL+"/readyz"); resp.StatusCode != 503 {
		t.Fatalf("index not loaded: %d %s", resp.StatusCode, body)
	}
	index = nil
	if resp, _ := get(t, ts.URL+"/healthz"); resp.StatusCode != 200 {
		t.Fatal("liveness must not depend on the database")
	}
	state = nil
	s.Drain()
	resp, body = get(t, ts.URL+"/readyz")
	if resp.StatusCode != 503 || !strings.Contains(body, "draining") {
		t.Fatalf("draining: %d %s", resp.StatusCode, body)
	}
}

func TestTopPageIsJapaneseAndReadable(t *testing.T) {
	_, ts, _ := newServer(t)
	resp, body := get(t, ts.URL+"/")
	if resp.StatusCode != 200 || !strings.Contains(body, `<html lang="ja">`) || !strings.Contains(body, "介護施設") ||
		!strings.Contains(body, `name="viewport"`) || !strings.Contains(body, "厚生労働省 介護サービス情報公表システム") {
		t.Fatalf("top page:\n%s", body)
	}
}
