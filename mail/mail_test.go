package mail_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"carematch/intake"
	"carematch/mail"
	"carematch/postgres"
)

// smtpServer is a real SMTP server (emersion/go-smtp) with STARTTLS and
// AUTH PLAIN, as Amazon SES's endpoint has. refuse says how to answer the
// next messages: a code per delivery, 0 to accept.
type smtpServer struct {
	addr   string
	client *tls.Config
	mu     sync.Mutex
	refuse []int
	got    []received
	auths  []string
}

type received struct {
	from, to string
	tls      bool
	data     []byte
}

func startSMTP(t *testing.T, refuse ...int) *smtpServer {
	t.Helper()
	// Borrow httptest's certificate for 127.0.0.1 and a client config
	// that trusts it.
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	ts.StartTLS()
	t.Cleanup(ts.Close)
	srv := &smtpServer{refuse: refuse, client: ts.Client().Transport.(*http.Transport).TLSClientConfig.Clone()}
	srv.client.ServerName = "127.0.0.1"
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: srv, conn: c}, nil
	}))
	s.Domain = "127.0.0.1"
	s.TLSConfig = ts.TLS
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	srv.addr = ln.Addr().String()
	return srv
}

type session struct {
	srv  *smtpServer
	conn *smtp.Conn
	cur  received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		s.srv.mu.Lock()
		defer s.srv.mu.Unlock()
		s.srv.auths = append(s.srv.auths, user+":"+pass)
		if user != "AKIAEXAMPLE" || pass != "ses-smtp-password" {
			return errors.New("bad credentials")
		}
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	_, isTLS := s.conn.TLSConnectionState()
	s.cur = received{from: from, tls: isTLS}
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "unknown") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user " + to}
	}
	s.cur.to = to
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if len(s.srv.refuse) > 0 {
		code := s.srv.refuse[0]
		s.srv.refuse = s.srv.refuse[1:]
		if code != 0 {
			return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
	}
	s.cur.data = b
	s.srv.got = append(s.srv.got, s.cur)
	return nil
}
func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

func (s *smtpServer) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

func newCase(t *testing.T, db *postgres.DB, email string) (intake.Stored, intake.Case) {
	t.Helper()
	f := intake.Form{Kind: intake.Consultation, Relationship: "子", ContactName: "山田 花子", Phone: "090-1234-5678",
		Email: email, Note: "胃ろう造設済み", Consent: true, PrivacyVersion: intake.CurrentPrivacy().Version}
	none := func(int64) (string, bool) { return "", false }
	if errs := f.Validate(time.Now(), intake.CurrentPrivacy(), none); len(errs) > 0 {
		t.Fatal(errs)
	}
	c := intake.NewCase(&f, intake.NewIdempotencyKey(), time.Now(), intake.CurrentPrivacy(), none)
	created, err := db.CreateCase(context.Background(), c, c.Mails("https://carematch.example.jp", "soudan@example.jp"))
	if err != nil {
		t.Fatal(err)
	}
	return created, c
}

// TestOutboxDeliveryWithRetry: a new case's two mails go through a real
// SMTP server over STARTTLS with AUTH; the server refuses the first
// delivery with a temporary error, and the next pass delivers it.
func TestOutboxDeliveryWithRetry(t *testing.T) {
	db := postgres.TestDB(t)
	srv := startSMTP(t, 451)
	created, c := newCase(t, db, "hanako@example.jp")
	var logs strings.Builder
	d := mail.NewDispatcher(mail.Dispatcher{
		Outbox: db, Log: slog.New(slog.NewJSONHandler(&logs, nil)),
		Sender: &mail.SMTP{Addr: srv.addr, Username: "AKIAEXAMPLE", Password: "ses-smtp-password",
			From: "ケアマッチ <no-reply@carematch.example.jp>", TLS: srv.client},
		Backoff: func(int) time.Duration { return 0 },
	})
	ctx := context.Background()
	sent, failed, err := d.SendDue(ctx)
	if err != nil || sent != 1 || failed != 1 {
		t.Fatalf("first pass: sent %d failed %d err %v\n%s", sent, failed, err, logs.String())
	}
	sent, failed, err = d.SendDue(ctx)
	if err != nil || sent != 1 || failed != 0 {
		t.Fatalf("retry: sent %d failed %d err %v\n%s", sent, failed, err, logs.String())
	}
	if sent, failed, _ := d.SendDue(ctx); sent+failed != 0 {
		t.Fatalf("a third pass found %d more messages", sent+failed)
	}
	msgs := srv.messages()
	if len(msgs) != 2 {
		t.Fatalf("server received %d messages", len(msgs))
	}
	byTo := map[string]received{}
	for _, m := range msgs {
		if !m.tls || m.from != "no-reply@carematch.example.jp" {
			t.Errorf("delivery without TLS or with the wrong sender: %+v", m)
		}
		byTo[m.to] = m
	}
	subject, body := decode(t, byTo["hanako@example.jp"].data)
	if !strings.Contains(subject, "受付番号 "+created.Ref) || !strings.Contains(body, "山田 花子 様") || !strings.Contains(body, "翌営業日までに") {
		t.Errorf("confirmation mail:\n%s\n%s", subject, body)
	}
	if _, body := decode(t, byTo["soudan@example.jp"].data); !strings.Contains(body, created.Ref) || strings.Contains(body, "胃ろう") {
		t.Errorf("notification mail:\n%s", body)
	}
	var attempts []int
	rows, _ := db.Pool.Query(ctx, `SELECT attempts FROM outbox WHERE case_id = $1 AND sent_at IS NOT NULL AND last_error = '' ORDER BY attempts`, created.ID)
	for rows.Next() {
		var n int
		rows.Scan(&n)
		attempts = append(attempts, n)
	}
	if len(attempts) != 2 || attempts[0] != 1 || attempts[1] != 2 {
		t.Errorf("attempts of the sent messages: %v, want [1 2]", attempts)
	}
	for _, secret := range []string{"hanako@example.jp", "山田", c.Ref + "\n", "胃ろう", "try again later"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log holds %q:\n%s", secret, logs.String())
		}
	}
	if !strings.Contains(logs.String(), `"reason":"smtp 451"`) {
		t.Errorf("the retry is not logged with its reason:\n%s", logs.String())
	}
}

// TestOutboxGivesUp: an SMTP 5xx is permanent (no retry); a message that
// keeps failing is given up after MaxAttempts; both stay in the outbox with
// the error for an operator.
func TestOutboxGivesUp(t *testing.T) {
	db := postgres.TestDB(t)
	srv := startSMTP(t, 0, 421, 421)
	created, _ := newCase(t, db, "unknown@example.jp")
	d := mail.NewDispatcher(mail.Dispatcher{
		Outbox: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxAttempts: 2,
		Sender:  &mail.SMTP{Addr: srv.addr, Username: "AKIAEXAMPLE", Password: "ses-smtp-password", From: "no-reply@carematch.example.jp", TLS: srv.client},
		Backoff: func(int) time.Duration { return 0 },
	})
	ctx := context.Background()
	// The notification goes through on the first pass; then make the
	// server answer 421 twice by sending another case's mail.
	if sent, failed, _ := d.SendDue(ctx); sent != 1 || failed != 1 {
		t.Fatalf("first pass: %d sent, %d failed", sent, failed)
	}
	var nextNull bool
	var lastErr string
	db.Pool.QueryRow(ctx, `SELECT next_attempt_at IS NULL, last_error FROM outbox WHERE case_id = $1 AND recipient = 'unknown@example.jp'`, created.ID).Scan(&nextNull, &lastErr)
	if !nextNull || !strings.Contains(lastErr, "550") {
		t.Fatalf("a 550 is retried: given up %v, error %q", nextNull, lastErr)
	}
	second, _ := newCase(t, db, "")
	d.SendDue(ctx)
	d.SendDue(ctx)
	var attempts int
	db.Pool.QueryRow(ctx, `SELECT attempts, next_attempt_at IS NULL FROM outbox WHERE case_id = $1`, second.ID).Scan(&attempts, &nextNull)
	if attempts != 2 || !nextNull {
		t.Fatalf("after two 421s: %d attempts, given up %v", attempts, nextNull)
	}
	pending, failed, err := db.OutboxStats(ctx)
	if err != nil || pending != 0 || failed != 2 {
		t.Fatalf("stats: pending %d failed %d err %v", pending, failed, err)
	}
}

func TestDefaultBackoff(t *testing.T) {
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute}
	for i, w := range want {
		if got := mail.DefaultBackoff(i + 1); got != w {
			t.Errorf("attempt %d: %s, want %s", i+1, got, w)
		}
	}
	if got := mail.DefaultBackoff(20); got != time.Hour {
		t.Errorf("capped at %s", got)
	}
}

func decode(t *testing.T, raw []byte) (subject, body string) {
	t.Helper()
	m, err := netmail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, raw)
	}
	subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Header.Get("Content-Type"), "charset=UTF-8") || m.Header.Get("Message-Id") == "" {
		t.Errorf("headers: %v", m.Header)
	}
	b, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, m.Body))
	if err != nil {
		t.Fatal(err)
	}
	return subject, strings.ReplaceAll(string(b), "\r\n", "\n")
}
