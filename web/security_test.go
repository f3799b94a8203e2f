package web_test

import (
	"net/http"
	"strings"
	"testing"

	"carematch/auth"
)

// checkSecurityHeaders is what every response must carry.
func checkSecurityHeaders(h http.Header, https bool) []string {
	var bad []string
	csp := h.Get("Content-Security-Policy")
	directives := map[string]string{}
	for _, d := range strings.Split(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	script, ok := directives["script-src"]
	if !ok {
		script = directives["default-src"]
	}
	switch {
	case csp == "":
		bad = append(bad, "no Content-Security-Policy")
	case script == "" || strings.Contains(script, "'unsafe-inline'") || strings.Contains(script, "'unsafe-eval'") || strings.Contains(script, "*"):
		bad = append(bad, "script-src "+script)
	case directives["frame-ancestors"] != "'none'":
		bad = append(bad, "frame-ancestors "+directives["frame-ancestors"])
	case directives["object-src"] != "'none'" || directives["base-uri"] == "":
		bad = append(bad, "object-src/base-uri in "+csp)
	}
	if h.Get("X-Frame-Options") != "DENY" {
		bad = append(bad, "X-Frame-Options "+h.Get("X-Frame-Options"))
	}
	if h.Get("X-Content-Type-Options") != "nosniff" {
		bad = append(bad, "X-Content-Type-Options "+h.Get("X-Content-Type-Options"))
	}
	if rp := h.Get("Referrer-Policy"); rp != "strict-origin-when-cross-origin" && rp != "no-referrer" && rp != "same-origin" && rp != "strict-origin" {
		bad = append(bad, "Referrer-Policy "+rp)
	}
	hsts := h.Get("Strict-Transport-Security")
	if https && !strings.Contains(hsts, "max-age=") {
		bad = append(bad, "no HSTS over HTTPS")
	}
	if !https && hsts != "" {
		bad = append(bad, "HSTS over plain HTTP")
	}
	return bad
}

// TestSecurityHeadersOnEveryGETRoute walks the route table: every GET
// route (and the catch-all), as an anonymous visitor over HTTPS (behind
// the load balancer) and as each staff role, answers with a CSP whose
// script-src has no 'unsafe-inline', frame-ancestors 'none' and
// X-Frame-Options, nosniff, a referrer policy, and HSTS over HTTPS only —
// whatever the status (a page, a redirect to sign in, a 403 or a 404).
// Staff pages are never cached.
func TestSecurityHeadersOnEveryGETRoute(t *testing.T) {
	e := newStaffEnv(t)
	fid := addFacility(t, e)
	browsers := map[string]*browser{"anonymous": e.browser(t)}
	for _, r := range auth.Roles() {
		var fac []int64
		if r == auth.FacilityStaff {
			fac = []int64{fid}
		}
		u, _ := e.addUser(t, r, "headers-"+string(r)+"@example.jp", fac...)
		browsers[string(r)] = e.session(t, u)
	}
	checked := 0
	for _, rt := range e.srv.Routes() {
		method, _, hasMethod := strings.Cut(rt.Pattern, " ")
		if hasMethod && method != "GET" {
			continue
		}
		path := examplePath(rt.Pattern)
		for who, b := range browsers {
			https := who == "anonymous"
			var r response
			if https {
				r = b.do("GET", path, nil, "X-Forwarded-Proto", "https")
			} else {
				r = b.get(path)
			}
			for _, problem := range checkSecurityHeaders(r.Header, https) {
				t.Errorf("GET %s as %s (%d): %s", path, who, r.StatusCode, problem)
			}
			if !rt.Access.Public && who != "anonymous" && !strings.Contains(r.Header.Get("Cache-Control"), "no-store") {
				t.Errorf("GET %s as %s (%d): staff page may be cached: %q", path, who, r.StatusCode, r.Header.Get("Cache-Control"))
			}
			checked++
		}
	}
	if checked < 20 {
		t.Fatalf("only %d responses checked", checked)
	}
}
