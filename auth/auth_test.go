package auth_test

import (
	"strings"
	"testing"
	"time"

	"carematch/auth"
)

func TestPasswordHash(t *testing.T) {
	h, err := auth.HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash format: %s", h)
	}
	h2, _ := auth.HashPassword("correct horse battery staple")
	if h == h2 {
		t.Fatal("no salt: equal passwords give equal hashes")
	}
	if !auth.CheckPassword(h, "correct horse battery staple") || auth.CheckPassword(h, "correct horse battery stapler") || auth.CheckPassword(h, "") {
		t.Fatal("check")
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", strings.Replace(h, "m=19456", "m=99999999", 1),
		strings.Replace(h, "t=2", "t=0", 1), h[:len(h)-10] + "!!!!!!!!!!"} {
		if auth.CheckPassword(bad, "correct horse battery staple") {
			t.Errorf("malformed hash %q matched", bad)
		}
	}
	// Parameters come from the stored hash, so old hashes stay valid when the defaults change.
	if err := auth.CheckNewPassword("short"); err == nil {
		t.Error("short password accepted")
	}
	if err := auth.CheckNewPassword(strings.Repeat("あ", 12)); err != nil {
		t.Errorf("12 Japanese characters refused: %v", err)
	}
	if p := auth.GeneratePassword(); len(p) != 20 || auth.CheckNewPassword(p) != nil || strings.ContainsAny(p, "0O1lI") {
		t.Errorf("generated password %q", p)
	}
}

func TestTOTPStep(t *testing.T) {
	k, err := auth.NewTOTPKey("sato@example.jp")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_015, 0)
	code, _ := auth.TOTPCode(k.Secret(), now)
	step, ok := auth.TOTPStep(k.Secret(), code, now)
	if !ok || step != now.Unix()/30 {
		t.Fatalf("current code: %d %v", step, ok)
	}
	// One step of skew either side, no more.
	if s, ok := auth.TOTPStep(k.Secret(), code, now.Add(30*time.Second)); !ok || s != step {
		t.Fatal("previous-step code refused")
	}
	if _, ok := auth.TOTPStep(k.Secret(), code, now.Add(90*time.Second)); ok {
		t.Fatal("code accepted three steps later")
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := auth.TOTPStep(k.Secret(), bad, now); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	if got := auth.NormalizeTOTPCode("１２３ ４５６"); got != "123456" {
		t.Errorf("normalize: %q", got)
	}
	uri := auth.TOTPKeyURL("sato@example.jp", k.Secret())
	if !strings.HasPrefix(uri, "otpauth://totp/") || !strings.Contains(uri, "secret="+k.Secret()) || !strings.Contains(uri, "period=30") {
		t.Errorf("uri %s", uri)
	}
}

func TestSessionTimeouts(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s, tok := auth.NewSession(1, auth.StageFull, t0)
	if len(tok) != 43 || string(auth.HashToken(tok)) != string(s.TokenHash) {
		t.Fatal("token and hash")
	}
	if s.Expired(t0.Add(auth.IdleTimeout-time.Second)) || !s.Expired(t0.Add(auth.IdleTimeout)) {
		t.Fatal("idle timeout")
	}
	s.LastSeenAt = t0.Add(auth.AbsoluteTimeout - time.Minute)
	if !s.Expired(t0.Add(auth.AbsoluteTimeout)) {
		t.Fatal("absolute timeout")
	}
	p, _ := auth.NewSession(1, auth.StageTOTP, t0)
	if !p.Expired(t0.Add(auth.PendingTimeout)) {
		t.Fatal("a half-signed-in session outlives the pending timeout")
	}
	if auth.StageAfterPassword(auth.User{Role: auth.Manager}) != auth.StageEnrol ||
		auth.StageAfterPassword(auth.User{Role: auth.Consultant}) != auth.StageFull ||
		auth.StageAfterPassword(auth.User{Role: auth.Consultant, TOTPSecret: "X"}) != auth.StageTOTP {
		t.Fatal("stage after password")
	}
}

func TestUserValidate(t *testing.T) {
	ok := auth.User{Email: "sato@example.jp", Role: auth.Consultant, PasswordHash: "$argon2id$x"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, u := range map[string]auth.User{
		"upper-case address":       {Email: "Sato@example.jp", Role: auth.Consultant, PasswordHash: "h"},
		"no domain":                {Email: "sato@", Role: auth.Consultant, PasswordHash: "h"},
		"unknown role":             {Email: "sato@example.jp", Role: "boss", PasswordHash: "h"},
		"facility staff, no place": {Email: "sato@example.jp", Role: auth.FacilityStaff, PasswordHash: "h"},
		"consultant with a place":  {Email: "sato@example.jp", Role: auth.Consultant, FacilityIDs: []int64{1}, PasswordHash: "h"},
		"no password":              {Email: "sato@example.jp", Role: auth.Consultant},
		"display name in address":  {Email: "sato <sato@example.jp>", Role: auth.Consultant, PasswordHash: "h"},
	} {
		if err := u.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
