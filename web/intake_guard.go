package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Spam resistance of the public forms without a third-party captcha:
//
//   - a honeypot field people never see (bots fill every field);
//   - a minimum fill time: the form carries the time it was rendered,
//     signed together with its idempotency key, and a submit sooner than
//     MinFill after rendering is refused; replaying one rendered form only
//     ever finds the same case (the key is bound by the signature);
//   - a per-IP rate limit on submits.

// formToken signs the render time of a form and its idempotency key.
type formToken struct{ secret []byte }

func (f formToken) sign(kind string, at time.Time, key string) string {
	ms := strconv.FormatInt(at.UnixMilli(), 10)
	return ms + "." + f.mac(kind, ms, key)
}

func (f formToken) mac(kind, ms, key string) string {
	m := hmac.New(sha256.New, f.secret)
	m.Write([]byte("intake-form\x00" + kind + "\x00" + ms + "\x00" + key))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// renderedAt checks a token and returns the time the form was rendered.
func (f formToken) renderedAt(kind, tok, key string) (time.Time, bool) {
	ms, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil || !hmac.Equal([]byte(sig), []byte(f.mac(kind, ms, key))) {
		return time.Time{}, false
	}
	return time.UnixMilli(n), true
}

// rateLimiter is a token bucket per client IP, in memory: each task keeps
// its own, so with N tasks behind the load balancer a client gets at most
// N times the burst. That bounds a spammer; a shared limit would need the
// database on the path of an outage.
type rateLimiter struct {
	mu      sync.Mutex
	burst   float64
	every   time.Duration // one token back per every
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(burst int, every time.Duration) *rateLimiter {
	return &rateLimiter{burst: float64(burst), every: every, buckets: map[string]*bucket{}}
}

// allow takes a token for key, reporting false (and how long until the
// next token) when there is none.
func (l *rateLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Duration(l.burst)*l.every {
		// Forget clients whose bucket has refilled.
		for k, b := range l.buckets {
			if now.Sub(b.at) > time.Duration(l.burst)*l.every {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.every))
	b.at = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) * float64(l.every))
	}
	b.tokens--
	return true, 0
}
