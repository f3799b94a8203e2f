package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"carematch/auth"
)

// guard wraps a route's handler with the checks every request passes, in
// one place: CSRF on unsafe methods, then the route's Access. A staff route
// (Access not Public) needs a signed-in session whose role is listed:
// anonymous (or half-signed-in) visitors are sent to /staff/login (pages)
// or get 401 (API); a role not listed gets 403.
func (s *Server) guard(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st := &reqState{}
		r = r.WithContext(context.WithValue(r.Context(), stateKey, st))
		if unsafeMethod(r.Method) {
			if !s.checkCSRF(w, r) || !s.cleanForm(w, r) {
				return
			}
		}
		if rt.Access.Public {
			rt.Handler(w, r)
			return
		}
		// Staff pages show personal data: never stored by a browser or a
		// proxy (shared PCs in facilities).
		w.Header().Set("Cache-Control", "no-store")
		sess, u, ok, err := s.currentSession(w, r)
		if err != nil {
			s.log.Error("session lookup failed", "request_id", RequestID(r.Context()), "route", r.Pattern, "err", err.Error())
			s.unavailable(w, r)
			return
		}
		if !ok || sess.Stage != auth.StageFull {
			s.unauthenticated(w, r)
			return
		}
		if !slices.Contains(rt.Access.Roles, string(u.Role)) {
			s.forbidden(w, r)
			return
		}
		rt.Handler(w, r)
	}
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

func (s *Server) unauthenticated(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		s.apiFail(w, r, http.StatusUnauthorized, apiError{Code: "unauthenticated", Message: "ログインしてください。"})
		return
	}
	target := "/staff/login"
	if r.Method == http.MethodGet {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (s *Server) forbidden(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		s.apiFail(w, r, http.StatusForbidden, apiError{Code: "forbidden", Message: "この操作を行う権限がありません。"})
		return
	}
	s.renderErrorText(w, r, http.StatusForbidden, "このページを表示する権限がありません",
		"お使いのアカウントでは、このページを表示できません。必要な場合は管理者にお問い合わせください。")
}

func (s *Server) unavailable(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		s.apiFail(w, r, http.StatusServiceUnavailable, apiError{Code: "unavailable", Message: "ただいま一時的にご利用いただけません。"})
		return
	}
	s.renderError(w, r, http.StatusServiceUnavailable)
}

// localPath returns next when it is a path on this site under /staff or
// /portal (never another host: //evil.example or /\evil.example), else def.
func localPath(next, def string) string {
	if !strings.HasPrefix(next, "/staff") && !strings.HasPrefix(next, "/portal") ||
		strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return def
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return def
	}
	return next
}
