package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// FacilityChanges subscribes to the facility_changed notifications (sent by
// the triggers of migration 0002 with the facility id as payload) on a
// dedicated connection, outside the pool: a LISTEN must stay on one
// connection for as long as it is wanted.
type FacilityChanges struct {
	URL string // DATABASE_URL
}

// idleCheck is how long the listener waits in silence before checking that
// its connection is still alive.
const idleCheck = 30 * time.Second

// Listen implements search.Changes: it returns when ctx ends or the
// connection fails, and the caller reconnects.
func (c FacilityChanges) Listen(ctx context.Context, listening func(), changed func(id int64)) error {
	cfg, err := pgx.ParseConfig(c.URL)
	if err != nil {
		return fmt.Errorf("listen facility_changed: parse url: %w", err)
	}
	cfg.RuntimeParams["application_name"] = "carematch-listen"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("listen facility_changed: connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, `LISTEN facility_changed`); err != nil {
		return fmt.Errorf("listen facility_changed: %w", err)
	}
	listening()
	for {
		// Wake up now and then to prove the connection is alive: a silent
		// network failure would otherwise leave us waiting forever.
		wctx, cancel := context.WithTimeout(ctx, idleCheck)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, context.DeadlineExceeded) {
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("listen facility_changed: connection check: %w", err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("listen facility_changed: %w", err)
		}
		if id, err := strconv.ParseInt(n.Payload, 10, 64); err == nil {
			changed(id)
		}
	}
}
