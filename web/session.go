package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"carematch/auth"
)

// StaffStore is what the staff pages need from storage (implemented by
// postgres.DB). Lookups that find nothing return auth.ErrNotFound.
type StaffStore interface {
	CreateSession(ctx context.Context, s auth.Session, replacing []byte) error
	Session(ctx context.Context, tokenHash []byte) (auth.Session, auth.User, error)
	TouchSession(ctx context.Context, tokenHash []byte, at time.Time) error
	SetSessionTOTPCandidate(ctx context.Context, tokenHash []byte, secret string) error
	DeleteSession(ctx context.Context, tokenHash []byte) error

	StaffUserByEmail(ctx context.Context, email string) (auth.User, error)
	EnableTOTP(ctx context.Context, userID int64, secret string, step int64) error
	UseTOTPStep(ctx context.Context, userID int64, step int64) error

	LoginThrottle(ctx context.Context, accountKey []byte, ip string, since time.Time) (auth.Throttle, error)
	RecordLoginFailure(ctx context.Context, accountKey []byte, ip string, at time.Time) error
	ClearLoginFailures(ctx context.Context, accountKey []byte) error

	CreatePasswordReset(ctx context.Context, tokenHash []byte, now time.Time, m auth.ResetMail) error
	PasswordResetValid(ctx context.Context, tokenHash []byte, now time.Time) (bool, error)
	UsePasswordReset(ctx context.Context, tokenHash []byte, now time.Time, passwordHash string) (auth.User, error)
}

// Cookie names. Over HTTPS they carry the __Host- prefix: the browser then
// accepts them only with Secure, Path=/ and no Domain, so neither a sibling
// subdomain nor a plain-HTTP response can plant or overwrite them.
const (
	sessionCookie = "cm_session"
	csrfCookie    = "cm_csrf"
)

// secureRequest says whether the browser reached us over TLS (directly or
// through the load balancer, which terminates TLS and says so in
// X-Forwarded-Proto).
func secureRequest(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

func cookieName(r *http.Request, base string) string {
	if secureRequest(r) {
		return "__Host-" + base
	}
	return base
}

// setCookie sets a browser-session cookie (no Expires: it goes when the
// browser closes, which matters on shared PCs) that scripts cannot read
// and that cross-site requests other than top-level navigation do not carry.
func setCookie(w http.ResponseWriter, r *http.Request, base, value string) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName(r, base), Value: value, Path: "/",
		HttpOnly: true, Secure: secureRequest(r), SameSite: http.SameSiteLaxMode,
	})
}

func clearCookie(w http.ResponseWriter, r *http.Request, base string) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName(r, base), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: secureRequest(r), SameSite: http.SameSiteLaxMode,
	})
}

func cookieValue(r *http.Request, base string) string {
	c, err := r.Cookie(cookieName(r, base))
	if err != nil {
		return ""
	}
	return c.Value
}

// reqState is per-request state the route wrapper puts in the context:
// the CSRF token and, on staff routes, the signed-in user.
type reqState struct {
	csrf    string
	session *auth.Session
	user    *auth.User
}

const stateKey ctxKey = 1

func state(r *http.Request) *reqState {
	if st, ok := r.Context().Value(stateKey).(*reqState); ok {
		return st
	}
	return &reqState{}
}

// Staff returns the signed-in staff member of a request on a staff route
// (every route whose Access is not Public), and false elsewhere.
func Staff(r *http.Request) (auth.User, bool) {
	st := state(r)
	if st.user == nil || st.session == nil || st.session.Stage != auth.StageFull {
		return auth.User{}, false
	}
	return *st.user, true
}

// ClientIP is the address of the client: behind the load balancer the last
// X-Forwarded-For entry (the ALB appends the peer it saw, and tasks are
// reachable only through it, so earlier entries may be forged but the last
// is not), otherwise the TCP peer. Use it for rate limits and audit events.
func ClientIP(r *http.Request) string {
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		// The last entry of the last header line (a client may send lines
		// of its own before the one the load balancer completes).
		parts := strings.Split(xff[len(xff)-1], ",")
		if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
			return ip.String()
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// errNoStaffStore: the server was built without staff storage.
var errNoStaffStore = errors.New("web: no staff store configured")

// currentSession finds the session of the request's cookie. It returns
// ok=false for no cookie, an unknown token, an expired session or a
// disabled account (deleting the server side and the cookie as needed),
// and an error only when the store fails.
func (s *Server) currentSession(w http.ResponseWriter, r *http.Request) (auth.Session, auth.User, bool, error) {
	tok := cookieValue(r, sessionCookie)
	if tok == "" {
		return auth.Session{}, auth.User{}, false, nil
	}
	if s.staff == nil {
		return auth.Session{}, auth.User{}, false, errNoStaffStore
	}
	hash := auth.HashToken(tok)
	sess, u, err := s.staff.Session(r.Context(), hash)
	if errors.Is(err, auth.ErrNotFound) {
		clearCookie(w, r, sessionCookie)
		return auth.Session{}, auth.User{}, false, nil
	}
	if err != nil {
		return auth.Session{}, auth.User{}, false, err
	}
	now := s.now()
	if sess.Expired(now) || u.Disabled() {
		if err := s.staff.DeleteSession(r.Context(), hash); err != nil {
			return auth.Session{}, auth.User{}, false, err
		}
		clearCookie(w, r, sessionCookie)
		return auth.Session{}, auth.User{}, false, nil
	}
	if sess.NeedsTouch(now) {
		if err := s.staff.TouchSession(r.Context(), hash, now); err != nil {
			return auth.Session{}, auth.User{}, false, err
		}
		sess.LastSeenAt = now
	}
	st := state(r)
	st.session, st.user = &sess, &u
	return sess, u, true, nil
}

// startSession creates a session for u in stage and sets its cookie. Any
// session the browser had is deleted in the same transaction and the CSRF
// token is renewed: the ids before and after sign-in never match
// (session fixation).
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u auth.User, stage auth.Stage) error {
	sess, tok := auth.NewSession(u.ID, stage, s.now())
	var old []byte
	if t := cookieValue(r, sessionCookie); t != "" {
		old = auth.HashToken(t)
	}
	if err := s.staff.CreateSession(r.Context(), sess, old); err != nil {
		return err
	}
	setCookie(w, r, sessionCookie, tok)
	s.renewCSRF(w, r)
	st := state(r)
	st.session, st.user = &sess, &u
	return nil
}

// endSession deletes the server session and the cookie.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) error {
	if t := cookieValue(r, sessionCookie); t != "" && s.staff != nil {
		if err := s.staff.DeleteSession(r.Context(), auth.HashToken(t)); err != nil {
			return err
		}
	}
	clearCookie(w, r, sessionCookie)
	s.renewCSRF(w, r)
	return nil
}
