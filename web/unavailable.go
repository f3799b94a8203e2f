package web

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
)

// retryAfter is what a 503 tells clients and crawlers (seconds): a
// database outage or a fail-over usually passes within a minute.
const retryAfter = "30"

// dbUnavailable reports whether err means the database could not be
// reached or is not taking work (connection refused or reset, shutting
// down or starting up, too many connections, timed out), as opposed to a
// bug: those are answered 503 "temporarily unavailable" with Retry-After,
// not 500. The pool reconnects on its own when the database returns.
//
// The checks use interfaces and the standard library only, so the HTTP
// layer does not depend on the driver: pgconn's errors expose SQLState()
// and SafeToRetry().
func dbUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	for _, target := range []error{io.ErrUnexpectedEOF, io.EOF, context.DeadlineExceeded, syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE} {
		if errors.Is(err, target) {
			return true
		}
	}
	var st interface{ SQLState() string }
	if errors.As(err, &st) {
		c := st.SQLState()
		// 08: connection exception; 57: operator intervention (admin
		// shutdown, cannot connect now, query canceled); 53300: too many
		// connections.
		return strings.HasPrefix(c, "08") || strings.HasPrefix(c, "57") || c == "53300"
	}
	var sr interface{ SafeToRetry() bool }
	if errors.As(err, &sr) && sr.SafeToRetry() {
		return true
	}
	// pgx reports a connection it already closed as "conn closed", and a
	// pool being closed as "closed pool"; neither has a type.
	msg := err.Error()
	return strings.HasSuffix(msg, "conn closed") || strings.HasSuffix(msg, "closed pool")
}

// setRetryAfter adds Retry-After to a 503 that has none.
func setRetryAfter(h http.Header, status int) {
	if status == http.StatusServiceUnavailable && h.Get("Retry-After") == "" {
		h.Set("Retry-After", retryAfter)
	}
}
