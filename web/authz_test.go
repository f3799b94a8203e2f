package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"carematch/auth"
)

// TestAuthorisationMatrix is generated from the route table: every route ×
// (anonymous + every role) is requested over real HTTP against the real
// server wiring with real PostgreSQL sessions, and the answer must match
// what the route's Access says. A route without a rule (not public and no
// role) fails the test, as does a role name that does not exist.
//
// Facility scopes: the facility-staff user acts for facility A only. Every
// portal route names its facility in the path ({facility}); the matrix uses
// A there, and each such route is requested again by A's user for facility
// B and for a facility that does not exist: both must answer the same 404
// (B's existence is not revealed).
func TestAuthorisationMatrix(t *testing.T) {
	e := newStaffEnv(t)
	fid := addFacility(t, e)
	otherFID := addFacility(t, e)
	users := map[auth.Role]auth.User{}
	for _, r := range auth.Roles() {
		var fac []int64
		if r == auth.FacilityStaff {
			fac = []int64{fid}
		}
		users[r], _ = e.addUser(t, r, string(r)+"@example.jp", fac...)
	}
	principals := append([]string{"anonymous"}, roleNames()...)

	var matrix strings.Builder
	fmt.Fprintf(&matrix, "\n%-36s %s\n", "route", strings.Join(principals, " "))
	routes := e.srv.Routes()
	if len(routes) < 10 {
		t.Fatalf("only %d routes", len(routes))
	}
	for _, rt := range routes {
		a := rt.Access
		if !a.Public && len(a.Roles) == 0 {
			t.Errorf("route %q has no access rule: make it Public or list the roles that may use it", rt.Pattern)
		}
		if a.Public && len(a.Roles) > 0 {
			t.Errorf("route %q is public and lists roles: which is meant?", rt.Pattern)
		}
		for _, r := range a.Roles {
			if _, err := auth.ParseRole(r); err != nil {
				t.Errorf("route %q: %v", rt.Pattern, err)
			}
		}
		method, _, hasMethod := strings.Cut(rt.Pattern, " ")
		if !hasMethod {
			method = "GET"
		}
		inFacility := func(id int64) string {
			return examplePath(strings.ReplaceAll(rt.Pattern, "{facility}", fmt.Sprint(id)))
		}
		path := inFacility(fid)
		if strings.HasPrefix(path, "/portal/") && !strings.Contains(rt.Pattern, "{facility}") {
			t.Errorf("portal route %q does not name its facility ({facility}): the scope check needs it (web/portal.go)", rt.Pattern)
		}
		if strings.Contains(rt.Pattern, "{facility}") {
			if !strings.HasPrefix(path, "/portal/facilities/") {
				t.Errorf("route %q: {facility} routes live under /portal/facilities/{facility}", rt.Pattern)
			}
			if slices.Contains(a.Roles, string(auth.Consultant)) || a.Public {
				t.Errorf("portal route %q admits consultants or everyone", rt.Pattern)
			}
			var bodies []string
			for _, id := range []int64{otherFID, otherFID + 1000} {
				b := e.session(t, users[auth.FacilityStaff])
				var r response
				if method == "GET" {
					r = b.get(inFacility(id))
				} else {
					r = b.do(method, inFacility(id), url.Values{"csrf_token": {b.csrf()}})
				}
				if r.StatusCode != http.StatusNotFound {
					t.Errorf("%s for facility %d as facility staff of %d: %d, want 404", rt.Pattern, id, fid, r.StatusCode)
				}
				bodies = append(bodies, regexp.MustCompile(`お問い合わせ番号.*`).ReplaceAllString(r.body, ""))
			}
			if bodies[0] != bodies[1] {
				t.Errorf("%s: the 404 for another facility differs from the one for no facility", rt.Pattern)
			}
		}
		fmt.Fprintf(&matrix, "%-36s", rt.Pattern)
		for _, who := range principals {
			want := a.Public || slices.Contains(a.Roles, who)
			// A fresh browser and session for every cell: an allowed POST
			// (logout) must not change the next cell.
			b := e.browser(t)
			if who != "anonymous" {
				b = e.session(t, users[auth.Role(who)])
			}
			var r response
			if method == "GET" {
				r = b.get(path)
			} else {
				r = b.do(method, path, url.Values{"csrf_token": {b.csrf()}})
			}
			got, how := verdict(r, path)
			if got != want {
				t.Errorf("%s as %s: %s (%d %s), want allowed=%v", rt.Pattern, who, how, r.StatusCode, r.Header.Get("Location"), want)
			}
			if r.StatusCode >= 500 {
				t.Errorf("%s as %s: %d", rt.Pattern, who, r.StatusCode)
			}
			cell := "deny"
			if got {
				cell = "allow"
			}
			fmt.Fprintf(&matrix, " %-*s", len(who), cell)
		}
		matrix.WriteByte('\n')
	}
	t.Log(matrix.String())
}

func roleNames() []string {
	var out []string
	for _, r := range auth.Roles() {
		out = append(out, string(r))
	}
	return out
}

// verdict reads the guard's answer: a denial is the redirect to sign in
// (pages) or 401 (API) for anonymous visitors, 403 for a role not listed.
// Anything else came from the route's own handler.
func verdict(r response, path string) (allowed bool, how string) {
	loc := r.Header.Get("Location")
	switch {
	case r.StatusCode == http.StatusUnauthorized:
		if !strings.HasPrefix(path, "/api/") {
			return false, "401 on a page"
		}
		return false, "401"
	case r.StatusCode == http.StatusForbidden:
		return false, "403"
	case r.StatusCode == http.StatusSeeOther && (loc == "/staff/login" || strings.HasPrefix(loc, "/staff/login?next=")):
		return false, "sent to sign in"
	}
	return true, "allowed"
}
