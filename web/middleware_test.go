package web

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A handler that panics or fails gets the friendly 500 page with the
// request id; the detail goes to the log, never to the user.
func TestInternalErrorsShowAFriendlyPage(t *testing.T) {
	var logs strings.Builder
	s, err := New(Options{Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]http.HandlerFunc{
		"panic": func(w http.ResponseWriter, r *http.Request) { panic("pq: relation \"cases\" does not exist") },
		"error": func(w http.ResponseWriter, r *http.Request) {
			s.serverError(w, r, errors.New(`pq: relation "cases" does not exist`))
		},
	} {
		rec := httptest.NewRecorder()
		s.middleware(h).ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
		body := rec.Body.String()
		id := rec.Header().Get("X-Request-Id")
		if rec.Code != 500 || !strings.Contains(body, "エラーが発生しました") || id == "" || !strings.Contains(body, id) {
			t.Errorf("%s: %d\n%s", name, rec.Code, body)
		}
		if strings.Contains(body, "relation") || strings.Contains(body, "goroutine") {
			t.Errorf("%s: internal detail shown to the user:\n%s", name, body)
		}
	}
	if !strings.Contains(logs.String(), "relation") {
		t.Error("the detail was not logged for operators")
	}
}

// A form body over the site-wide limit is answered 413 with the friendly
// page, before any handler (or the CSRF check) can mistake it for a forgery.
func TestOversizedBodyIs413(t *testing.T) {
	s, err := New(Options{Log: slog.New(slog.DiscardHandler), MaxBodyBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	resp, err := http.Post(ts.URL+"/consultation", "application/x-www-form-urlencoded", strings.NewReader("note="+strings.Repeat("あ", 2000)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body = %d, want 413", resp.StatusCode)
	}
}
