package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// SMTP sends mail through an SMTP server: STARTTLS whenever the server
// offers it, implicit TLS on port 465, AUTH PLAIN when a username is set
// (Amazon SES: email-smtp.REGION.amazonaws.com:587 with SMTP credentials).
type SMTP struct {
	Addr     string // host:port
	Username string
	Password string
	From     string // "ケアマッチ <no-reply@example.jp>" or a bare address
	// TLS overrides the TLS configuration (tests trust their own CA);
	// nil verifies the server's certificate against the system roots.
	TLS *tls.Config
	// Hello is the name sent in EHLO (default "localhost").
	Hello string
}

var errTLS = errors.New("tls")

// Send delivers one message within ctx's deadline.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return fmt.Errorf("smtp: CAREMATCH_MAIL_FROM: %w", err)
	}
	host, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("smtp: address: %w", err)
	}
	tlsConf := s.TLS
	if tlsConf == nil {
		tlsConf = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	} else {
		conn.SetDeadline(time.Now().Add(time.Minute))
	}
	if port == "465" {
		conn = tls.Client(conn, tlsConf)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("smtp: greeting: %w", err)
	}
	defer c.Close()
	hello := s.Hello
	if hello == "" {
		hello = "localhost"
	}
	if err := c.Hello(hello); err != nil {
		return fmt.Errorf("smtp: hello: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok && port != "465" {
		if err := c.StartTLS(tlsConf); err != nil {
			return fmt.Errorf("smtp: starttls: %w: %w", errTLS, err)
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fmt.Errorf("smtp: auth: %w", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("smtp: mail from: %w", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fmt.Errorf("smtp: rcpt: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp: data: %w", err)
	}
	if _, err := w.Write(Compose(from, m, time.Now())); err != nil {
		return fmt.Errorf("smtp: data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp: data: %w", err)
	}
	if err := c.Quit(); err != nil {
		// The message was accepted at the end of DATA; a failed QUIT
		// does not undo that.
		return nil
	}
	return nil
}

// Compose renders a message as RFC 5322 with a UTF-8 subject (RFC 2047)
// and a base64 body. A message with a calendar invitation is
// multipart/mixed: the text, then the .ics as a text/calendar part (with
// the iCalendar METHOD, so mail clients offer to add it). The Message-ID
// is derived from the outbox id, so a retried message carries the same id
// and receivers can drop the double.
func Compose(from *mail.Address, m Message, now time.Time) []byte {
	var b bytes.Buffer
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	fromHeader := from.Address
	if from.Name != "" {
		fromHeader = mime.BEncoding.Encode("UTF-8", from.Name) + " <" + from.Address + ">"
	}
	msgID := "outbox-" + strconv.FormatInt(m.ID, 10)
	if m.ID == 0 {
		r := make([]byte, 12)
		rand.Read(r)
		msgID = hex.EncodeToString(r)
	}
	fmt.Fprintf(&b, "From: %s\r\n", fromHeader)
	fmt.Fprintf(&b, "To: %s\r\n", m.To)
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.BEncoding.Encode("UTF-8", m.Subject))
	fmt.Fprintf(&b, "Date: %s\r\n", now.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", msgID, domain)
	b.WriteString("MIME-Version: 1.0\r\n")
	text := []byte(strings.ReplaceAll(m.Body, "\n", "\r\n"))
	if m.Calendar == "" {
		b.WriteString("Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		writeBase64(&b, text)
		return b.Bytes()
	}
	r := make([]byte, 12)
	rand.Read(r)
	boundary := "carematch-" + hex.EncodeToString(r)
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", boundary)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n", boundary)
	writeBase64(&b, text)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/calendar; charset=UTF-8; method=%s\r\n", boundary, calendarMethod(m.Calendar))
	b.WriteString("Content-Disposition: attachment; filename=\"invite.ics\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	writeBase64(&b, []byte(m.Calendar))
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes()
}

func writeBase64(b *bytes.Buffer, data []byte) {
	body := base64.StdEncoding.EncodeToString(data)
	for len(body) > 76 {
		b.WriteString(body[:76] + "\r\n")
		body = body[76:]
	}
	b.WriteString(body + "\r\n")
}

// calendarMethod is the METHOD of an iCalendar object (PUBLISH when it
// names none), for the text/calendar part's method parameter.
func calendarMethod(ics string) string {
	for _, line := range strings.Split(ics, "\r\n") {
		if m, ok := strings.CutPrefix(line, "METHOD:"); ok && m != "" && !strings.ContainsAny(m, " ;\"") {
			return m
		}
	}
	return "PUBLISH"
}
