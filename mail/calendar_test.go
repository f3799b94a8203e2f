package mail_test

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"carematch/mail"
	"carematch/postgres"
	"carematch/referral"
)

// TestInvitationIsMultipart: an outbox message with a calendar invitation
// reaches a real SMTP server as multipart/mixed with the text and a
// text/calendar part (method from the .ics) that decodes to the same .ics.
func TestInvitationIsMultipart(t *testing.T) {
	db := postgres.TestDB(t)
	srv := startSMTP(t)
	start := time.Date(2026, 12, 10, 14, 0, 0, 0, referral.Tokyo)
	ics := referral.Invitation{UID: "tour-1@carematch.example.jp", Stamp: time.Now(), Start: start, End: start.Add(time.Hour),
		Summary: "施設見学：ケアホーム桜", Location: "東京都世田谷区桜丘1-2-3"}.ICS()
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `INSERT INTO outbox (purpose, recipient, subject, body, calendar) VALUES ('tour_confirmed', 'hanako@example.jp', '見学の日程が決まりました', $1, $2)`,
		"12月10日 14:00 に見学をお待ちしております。\n", string(ics)); err != nil {
		t.Fatal(err)
	}
	d := mail.NewDispatcher(mail.Dispatcher{Outbox: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Sender: &mail.SMTP{Addr: srv.addr, Username: "AKIAEXAMPLE", Password: "ses-smtp-password", From: "no-reply@carematch.example.jp", TLS: srv.client}})
	if sent, failed, err := d.SendDue(ctx); sent != 1 || failed != 0 || err != nil {
		t.Fatalf("sent %d failed %d err %v", sent, failed, err)
	}
	msgs := srv.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m, err := netmail.ReadMessage(strings.NewReader(string(msgs[0].data)))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("content type %q: %v", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var parts []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
		if err != nil {
			t.Fatal(err)
		}
		ct := p.Header.Get("Content-Type")
		parts = append(parts, ct)
		switch {
		case strings.HasPrefix(ct, "text/plain"):
			if !strings.Contains(string(data), "見学をお待ちしております") {
				t.Errorf("text part %q", data)
			}
		case strings.HasPrefix(ct, "text/calendar"):
			if !strings.Contains(ct, "method=PUBLISH") || string(data) != string(ics) {
				t.Errorf("calendar part %s:\n%s", ct, data)
			}
			if !strings.Contains(p.Header.Get("Content-Disposition"), ".ics") {
				t.Errorf("calendar part disposition %q", p.Header.Get("Content-Disposition"))
			}
		}
	}
	if len(parts) != 2 || !strings.HasPrefix(parts[0], "text/plain") || !strings.HasPrefix(parts[1], "text/calendar") {
		t.Errorf("parts %v", parts)
	}
}
