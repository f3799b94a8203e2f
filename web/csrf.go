package web

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"

	"carematch/auth"
)

// CSRF protection for every state-changing request (POST, PUT, PATCH,
// DELETE), signed in or not, in two layers:
//
//  1. Fetch metadata: net/http's CrossOriginProtection refuses requests a
//     browser marks as cross-site (Sec-Fetch-Site, or an Origin that does
//     not match Host).
//  2. Double submit: each browser gets a random 32-byte token in an
//     HttpOnly cookie (cm_csrf, __Host-cm_csrf over HTTPS); every form
//     sends it back in the hidden field csrf_token and htmx in the header
//     X-CSRF-Token; the two are compared in constant time. Another site
//     can neither read the cookie nor, thanks to __Host-, set it.
//
// The token is renewed at sign-in and sign-out. Templates get it as the
// page's .CSRF; {{template "csrf" $}} renders the hidden field, and the
// layout puts hx-headers on <body> so every htmx request carries it.
const (
	csrfField  = "csrf_token"
	csrfHeader = "X-CSRF-Token"
)

var crossOrigin = http.NewCrossOriginProtection()

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions && m != http.MethodTrace
}

// csrfToken returns the browser's token, issuing one (and its cookie) the
// first time.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	st := state(r)
	if st.csrf != "" {
		return st.csrf
	}
	if tok := cookieValue(r, csrfCookie); validCSRFToken(tok) {
		st.csrf = tok
		return tok
	}
	return s.renewCSRF(w, r)
}

func (s *Server) renewCSRF(w http.ResponseWriter, r *http.Request) string {
	tok, _ := auth.NewToken()
	setCookie(w, r, csrfCookie, tok)
	state(r).csrf = tok
	return tok
}

func validCSRFToken(tok string) bool {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	return err == nil && len(b) == 32
}

// checkCSRF reports whether an unsafe request carries a valid token; on
// failure it has answered 403 (a page, or JSON under /api/).
func (s *Server) checkCSRF(w http.ResponseWriter, r *http.Request) bool {
	reason := ""
	if err := crossOrigin.Check(r); err != nil {
		reason = "cross-origin"
	} else {
		cookie := cookieValue(r, csrfCookie)
		sent := r.Header.Get(csrfHeader)
		if sent == "" {
			if err := r.ParseForm(); err != nil {
				// A body over the limit is "too large", not a forgery.
				status := http.StatusBadRequest
				if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
					status = http.StatusRequestEntityTooLarge
				}
				s.renderError(w, r, status)
				return false
			}
			sent = r.PostFormValue(csrfField)
		}
		switch {
		case !validCSRFToken(cookie):
			reason = "no cookie"
		case sent == "":
			reason = "no token"
		case subtle.ConstantTimeCompare([]byte(cookie), []byte(sent)) != 1:
			reason = "mismatch"
		}
	}
	if reason == "" {
		return true
	}
	s.log.Warn("csrf rejected", "request_id", RequestID(r.Context()), "method", r.Method, "route", r.Pattern, "reason", reason)
	if isAPI(r) {
		s.apiFail(w, r, http.StatusForbidden, apiError{Code: "csrf", Message: "送信を確認できませんでした。ページを開き直してからもう一度お試しください。"})
		return false
	}
	s.renderError(w, r, http.StatusForbidden)
	return false
}
