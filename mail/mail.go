// Package mail delivers the messages of the transactional outbox: a
// Dispatcher claims due messages from the outbox, hands each to a Sender
// (SMTP: a local catcher such as Mailpit in development, Amazon SES's SMTP
// endpoint in AWS) and records the result, retrying with backoff.
//
// Message bodies and recipients are personal data: they are never logged.
// Log lines carry the outbox id, the attempt and a summary of the error.
package mail

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/textproto"
	"strconv"
	"time"
)

// Message is one message of the outbox.
type Message struct {
	ID       int64
	To       string
	Subject  string
	Body     string // plain text, UTF-8
	Calendar string // an iCalendar (.ics) invitation to attach, or ""
	Attempts int    // including the one in progress
}

// Outbox is where messages wait (package postgres implements it).
type Outbox interface {
	ClaimMail(ctx context.Context, limit int, lease time.Duration) ([]Message, error)
	MailSent(ctx context.Context, id int64) error
	MailFailed(ctx context.Context, id int64, reason string, retryIn time.Duration, giveUp bool) error
}

// Sender delivers one message.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Dispatcher moves messages from the outbox to the sender.
type Dispatcher struct {
	Outbox Outbox
	Sender Sender
	Log    *slog.Logger
	// Interval is how often the outbox is polled (Wake sends at once).
	Interval time.Duration
	// MaxAttempts after which a message is given up (default 10).
	MaxAttempts int
	// Backoff is the wait after the n-th failed attempt (default 30s
	// doubling up to one hour: about 3.5 hours over 10 attempts).
	Backoff func(attempt int) time.Duration
	// SendTimeout bounds one delivery (default 30s).
	SendTimeout time.Duration

	wake chan struct{}
}

const batch = 10

func (d *Dispatcher) init() {
	if d.wake == nil {
		d.wake = make(chan struct{}, 1)
	}
	if d.Interval <= 0 {
		d.Interval = 10 * time.Second
	}
	if d.MaxAttempts <= 0 {
		d.MaxAttempts = 10
	}
	if d.Backoff == nil {
		d.Backoff = DefaultBackoff
	}
	if d.SendTimeout <= 0 {
		d.SendTimeout = 30 * time.Second
	}
}

// DefaultBackoff waits 30s after the first failure, doubling up to an hour.
func DefaultBackoff(attempt int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// NewDispatcher returns a dispatcher ready for Wake and Run.
func NewDispatcher(d Dispatcher) *Dispatcher {
	d.init()
	return &d
}

// Wake asks a running dispatcher to look at the outbox now (a case was
// just committed); it never blocks.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run sends due messages until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	d.init()
	t := time.NewTicker(d.Interval)
	defer t.Stop()
	for {
		if _, _, err := d.SendDue(ctx); err != nil && ctx.Err() == nil {
			d.Log.Warn("outbox: cannot read due mail", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.wake:
		}
	}
}

// SendDue sends every message that is due now, batch by batch, and returns
// how many were sent and how many failed.
func (d *Dispatcher) SendDue(ctx context.Context) (sent, failed int, err error) {
	d.init()
	lease := batch*d.SendTimeout + time.Minute
	for ctx.Err() == nil {
		msgs, err := d.Outbox.ClaimMail(ctx, batch, lease)
		if err != nil {
			return sent, failed, err
		}
		for _, m := range msgs {
			if d.deliver(ctx, m) {
				sent++
			} else {
				failed++
			}
		}
		if len(msgs) < batch {
			break
		}
	}
	return sent, failed, nil
}

func (d *Dispatcher) deliver(ctx context.Context, m Message) bool {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.SendTimeout)
	err := d.Sender.Send(sctx, m)
	cancel()
	// Recording the result must not be cut short by a shutdown.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err == nil {
		if err := d.Outbox.MailSent(rctx, m.ID); err != nil {
			d.Log.Error("outbox: mail sent but not recorded (may be sent again)", "outbox_id", m.ID, "err", err.Error())
		} else {
			d.Log.Info("mail sent", "outbox_id", m.ID, "attempt", m.Attempts)
		}
		return true
	}
	summary := Summary(err)
	giveUp := Permanent(err) || m.Attempts >= d.MaxAttempts
	retryIn := d.Backoff(m.Attempts)
	if rerr := d.Outbox.MailFailed(rctx, m.ID, err.Error(), retryIn, giveUp); rerr != nil {
		d.Log.Error("outbox: failure not recorded", "outbox_id", m.ID, "err", rerr.Error())
	}
	if giveUp {
		d.Log.Error("mail given up", "outbox_id", m.ID, "attempt", m.Attempts, "reason", summary)
	} else {
		d.Log.Warn("mail delivery failed; will retry", "outbox_id", m.ID, "attempt", m.Attempts,
			"retry_in", retryIn.String(), "reason", summary)
	}
	return false
}

// Permanent reports an SMTP 5xx answer: the server will not take the
// message however often it is tried (unknown recipient, rejected sender).
func Permanent(err error) bool {
	var te *textproto.Error
	return errors.As(err, &te) && te.Code >= 500 && te.Code < 600
}

// Summary describes an error without its text, which may quote the
// recipient's address: "smtp 451", "timeout", "connection", "error".
func Summary(err error) string {
	var te *textproto.Error
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.As(err, &te):
		return "smtp " + strconv.Itoa(te.Code)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.As(err, &oe):
		return "connection (" + oe.Op + ")"
	case errors.Is(err, errTLS):
		return "tls"
	}
	return "error"
}
