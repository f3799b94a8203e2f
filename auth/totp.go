package auth

import (
	"crypto/subtle"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP follows RFC 6238 with the parameters every authenticator app
// supports: SHA-1, 6 digits, 30-second steps; one step of clock skew is
// accepted either side.
const (
	totpPeriod = 30
	totpSkew   = 1
	// TOTPIssuer names the account in authenticator apps.
	TOTPIssuer = "ケアマッチ"
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// NewTOTPKey makes a new secret for account (shown in the app as its name).
func NewTOTPKey(account string) (*otp.Key, error) {
	return totp.Generate(totp.GenerateOpts{
		Issuer: TOTPIssuer, AccountName: account, Period: totpPeriod,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, SecretSize: 20,
	})
}

// TOTPKeyURL is the otpauth:// URI of a secret (what a QR code carries).
func TOTPKeyURL(account, secret string) string {
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", TOTPIssuer)
	v.Set("algorithm", "SHA1")
	v.Set("digits", "6")
	v.Set("period", "30")
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + TOTPIssuer + ":" + account, RawQuery: v.Encode()}
	return u.String()
}

// NormalizeTOTPCode removes spaces and hyphens and turns full-width digits
// into ASCII, as people type codes in many ways.
func NormalizeTOTPCode(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune('0' + r - '０')
		case r == ' ' || r == '-' || r == '　':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TOTPStep returns the time step the code is valid for at now, or false.
// The caller must then accept the step only if it is later than the last
// step the user used (see User.TOTPLastStep): a code is good once.
func TOTPStep(secret, code string, now time.Time) (int64, bool) {
	code = NormalizeTOTPCode(code)
	if len(code) != 6 || secret == "" {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	var found int64
	ok := 0
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totpOpts)
		if err != nil {
			return 0, false
		}
		// Every step is compared (no early return), each in constant time.
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && ok == 0 {
			found, ok = step, 1
		}
	}
	return found, ok == 1
}

// TOTPCode is the code for secret at t (for tests and the enrolment check).
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totpOpts)
}
