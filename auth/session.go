package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// Session timeouts. A signed-in session ends after IdleTimeout without a
// request or AbsoluteTimeout after sign-in, whichever comes first. A
// session half-way through sign-in (password accepted, second factor not
// yet given) lasts PendingTimeout.
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
	PendingTimeout  = 10 * time.Minute
	// TouchInterval: last_seen_at is written at most this often, so a busy
	// page does not write on every request; the idle timeout is therefore
	// exact to within a minute.
	TouchInterval = time.Minute
)

// Stage is how far a session has got through sign-in.
type Stage string

// The stages of a session.
const (
	// StageTOTP: the password was right; the TOTP code is asked next.
	StageTOTP Stage = "totp"
	// StageEnrol: the password was right, the role requires a second
	// factor and none is enrolled yet: enrolment comes next.
	StageEnrol Stage = "enrol"
	// StageFull: signed in.
	StageFull Stage = "full"
)

// StageAfterPassword is the stage a session starts in once the password
// was right.
func StageAfterPassword(u User) Stage {
	switch {
	case u.TOTPEnabled():
		return StageTOTP
	case u.Role.RequiresTOTP():
		return StageEnrol
	}
	return StageFull
}

// Session is a server-side session. The browser holds the token; the
// database only its SHA-256 (TokenHash), so a copy of the table does not
// let anyone sign in.
type Session struct {
	TokenHash  []byte
	UserID     int64
	Stage      Stage
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute end
	// TOTPCandidate is the secret being enrolled (shown on the enrolment
	// page until confirmed with a code); "" otherwise.
	TOTPCandidate string
}

// NewSession starts a session for u at now in the given stage. It returns
// the session and the token for the cookie.
func NewSession(userID int64, stage Stage, now time.Time) (Session, string) {
	tok, hash := NewToken()
	end := now.Add(AbsoluteTimeout)
	if stage != StageFull {
		end = now.Add(PendingTimeout)
	}
	return Session{TokenHash: hash, UserID: userID, Stage: stage, CreatedAt: now, LastSeenAt: now, ExpiresAt: end}, tok
}

// Expired says whether the session has ended at now (absolute or idle).
func (s Session) Expired(now time.Time) bool {
	return !now.Before(s.ExpiresAt) || !now.Before(s.LastSeenAt.Add(IdleTimeout))
}

// NeedsTouch says whether last_seen_at should be written at now.
func (s Session) NeedsTouch(now time.Time) bool { return now.Sub(s.LastSeenAt) >= TouchInterval }

// NewToken returns a random 32-byte token, base64url-encoded for a cookie
// or a link, and its hash for storage.
func NewToken() (token string, hash []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("auth: no randomness: " + err.Error())
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is how a token is stored and looked up.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Login throttling. Failures (wrong password or wrong TOTP code) are
// counted over FailureWindow per account (keyed by the hash of the address
// typed, so unknown addresses lock out exactly like known ones and the
// lock-out reveals nothing) and per client IP.
const (
	FailureWindow      = 15 * time.Minute
	MaxAccountFailures = 5
	MaxIPFailures      = 30
)

// AccountKey is the key failures of one address are counted under.
func AccountKey(email string) []byte {
	h := sha256.Sum256([]byte("login:" + NormalizeEmail(email)))
	return h[:]
}

// Throttle is the state of recent failures for one attempt.
type Throttle struct {
	AccountFailures int
	IPFailures      int
}

// AccountLocked says the account has failed too often.
func (t Throttle) AccountLocked() bool { return t.AccountFailures >= MaxAccountFailures }

// IPLocked says the client has failed too often.
func (t Throttle) IPLocked() bool { return t.IPFailures >= MaxIPFailures }

// Password reset tokens are valid for ResetTTL and once only.
const ResetTTL = time.Hour

// ResetRequestLimit is how many reset mails one account gets per ResetTTL
// (a forgotten password needs one; more would let anyone flood a mailbox).
const ResetRequestLimit = 3
