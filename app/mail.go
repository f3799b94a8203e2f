package app

import (
	"context"
	"log/slog"
	"time"

	"carematch/config"
	"carematch/mail"
	"carematch/metrics"
	"carematch/postgres"
)

// startMail runs the outbox sender inside `serve`: a loop that a new case
// wakes at once and that otherwise polls every 10 seconds. Every web task
// runs one; they share the outbox through row locks and leases, so a
// message is delivered by one of them. (A scheduled job would add up to a
// minute before a family's confirmation mail and a second process to run.)
// Without CAREMATCH_SMTP_ADDR nothing is sent and mail waits in the outbox.
// stop ends the loop after the message in flight.
func startMail(ctx context.Context, cfg config.Config, log *slog.Logger, db *postgres.DB, reg *metrics.Registry) (wake func(), stop func()) {
	reg.AddGauges(func() map[string]float64 {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		pending, failed, err := db.OutboxStats(sctx)
		if err != nil {
			return nil
		}
		return map[string]float64{"mail.outbox_pending": float64(pending), "mail.outbox_given_up": float64(failed)}
	})
	if cfg.SMTPAddr == "" {
		log.Warn("no SMTP server configured (CAREMATCH_SMTP_ADDR): mail waits in the outbox until a sender with one runs")
		return func() {}, func() {}
	}
	d := mail.NewDispatcher(mail.Dispatcher{
		Outbox: db, Log: log,
		Sender: &mail.SMTP{Addr: cfg.SMTPAddr, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword, From: cfg.MailFrom},
	})
	mctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); d.Run(mctx) }()
	log.Info("mail sender running", "smtp_addr", cfg.SMTPAddr)
	return d.Wake, func() { cancel(); <-done }
}
