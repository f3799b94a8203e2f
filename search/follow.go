package search

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"carematch/facility"
)

// Store is what the follower reads from the facility catalog
// (implemented by *postgres.DB).
type Store interface {
	// AllFacilities loads the whole catalog, vacancies included.
	AllFacilities(ctx context.Context) ([]facility.Facility, error)
	// FacilitiesChangedSince loads the facilities whose UpdatedAt is at or
	// after since (a vacancy change must bump UpdatedAt).
	FacilitiesChangedSince(ctx context.Context, since time.Time) ([]facility.Facility, error)
	// FacilitiesByID loads the given facilities; ids that are not returned
	// no longer exist.
	FacilitiesByID(ctx context.Context, ids []int64) ([]facility.Facility, error)
}

// Changes announces changed facilities (PostgreSQL LISTEN on
// facility_changed, in postgres.FacilityChanges).
type Changes interface {
	// Listen blocks until ctx ends or the connection fails. It calls
	// listening once it is subscribed (anything before may have been
	// missed), then changed for every facility id announced.
	Listen(ctx context.Context, listening func(), changed func(id int64)) error
}

// Follower loads the index at start-up and keeps it fresh: every announced
// change is reloaded within about a second, and a periodic reconcile
// repairs anything missed (notifications lost while disconnected, a
// listener that fell behind). While the database is unreachable the index
// keeps serving its last snapshot; the follower retries with backoff.
type Follower struct {
	Index   *Index
	Store   Store
	Changes Changes // nil: reconcile only
	Log     *slog.Logger
	// Reconcile is the period of the reconcile (CAREMATCH_RECONCILE_INTERVAL).
	Reconcile time.Duration
	// FullEvery makes every n-th reconcile a full reload, which also catches
	// deleted facilities; 0 means 10.
	FullEvery int
	// Quiet and MaxDelay bound the batching of announced changes: a batch is
	// loaded once no change came for Quiet, or MaxDelay after its first
	// change. Zero means 100ms and 1s.
	Quiet, MaxDelay time.Duration

	listening atomic.Bool
	lastSync  atomic.Int64 // unix nanoseconds of the last successful database read
	mu        sync.Mutex
	lastErr   error
}

// overlap is how far before the newest known UpdatedAt a reconcile looks:
// a row's updated_at is its transaction's start, which may be well before
// the commit that made it visible.
const overlap = 10 * time.Minute

// Status is the follower's health, for /readyz and logs.
type Status struct {
	Ready     bool      // the index holds a full catalog
	Listening bool      // subscribed to change notifications
	LastSync  time.Time // last successful read from the database
	LastError string    // last failure, "" after a success
}

// Status reports the follower's health.
func (f *Follower) Status() Status {
	st := Status{Ready: f.Index.Ready(), Listening: f.listening.Load()}
	if ns := f.lastSync.Load(); ns != 0 {
		st.LastSync = time.Unix(0, ns)
	}
	f.mu.Lock()
	if f.lastErr != nil {
		st.LastError = f.lastErr.Error()
	}
	f.mu.Unlock()
	return st
}

func (f *Follower) result(err error) {
	f.mu.Lock()
	f.lastErr = err
	f.mu.Unlock()
	if err == nil {
		f.lastSync.Store(time.Now().UnixNano())
	}
}

func (f *Follower) log() *slog.Logger {
	if f.Log != nil {
		return f.Log
	}
	return slog.Default()
}

// Load fills the index from the store once (start-up, and full reloads).
func (f *Follower) Load(ctx context.Context) error {
	start := time.Now()
	all, err := f.Store.AllFacilities(ctx)
	f.result(err)
	if err != nil {
		return err
	}
	f.Index.Replace(all)
	f.log().Info("search index loaded", "facilities", f.Index.Len(), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Run loads the index (retrying until the database answers) and follows
// changes until ctx ends. It returns nil when ctx ends.
func (f *Follower) Run(ctx context.Context) error {
	interval := f.Reconcile
	if interval <= 0 {
		interval = time.Minute
	}
	fullEvery := f.FullEvery
	if fullEvery <= 0 {
		fullEvery = 10
	}
	quiet, maxDelay := f.Quiet, f.MaxDelay
	if quiet <= 0 {
		quiet = 100 * time.Millisecond
	}
	if maxDelay <= 0 {
		maxDelay = time.Second
	}

	ids := make(chan int64, 1<<16)
	resync := make(chan struct{}, 1)
	poke := func() {
		select {
		case resync <- struct{}{}:
		default:
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if f.Changes != nil {
		// Listen first, so that nothing committed after the load is missed.
		wg.Go(func() { f.listen(ctx, ids, poke) })
	}

	for backoff := time.Duration(0); !f.Index.Ready(); {
		if err := f.Load(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			backoff = nextBackoff(backoff)
			f.log().Warn("search index: initial load failed, retrying", "err", err, "retry_in", backoff)
			if !sleep(ctx, backoff) {
				return nil
			}
		}
	}

	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	pending := map[int64]struct{}{}
	var flush *time.Timer
	var flushC <-chan time.Time
	var first time.Time
	reconciles := 0
	retry := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return nil
		case id := <-ids:
			if len(pending) == 0 {
				first = time.Now()
			}
			pending[id] = struct{}{}
			wait := min(quiet, maxDelay-time.Since(first))
			if flush == nil {
				flush = time.NewTimer(wait)
			} else {
				flush.Reset(wait)
			}
			flushC = flush.C
			continue
		case <-flushC:
		case <-resync:
			if err := f.reconcile(ctx, false); err != nil {
				f.log().Warn("search index: reconcile failed", "err", err)
			}
		case <-ticker.C:
			reconciles++
			if err := f.reconcile(ctx, reconciles%fullEvery == 0); err != nil {
				f.log().Warn("search index: reconcile failed", "err", err)
			}
		}
		if len(pending) > 0 {
			batch := make([]int64, 0, len(pending))
			for id := range pending {
				batch = append(batch, id)
			}
			if err := f.refresh(ctx, batch); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				retry = nextBackoff(retry)
				f.log().Warn("search index: reload of changed facilities failed, retrying", "ids", len(batch), "err", err, "retry_in", retry)
				flush.Reset(retry)
				flushC = flush.C
				continue
			}
			clear(pending)
			retry = 0
		}
		if flush != nil && len(pending) == 0 {
			flush.Stop()
			flushC = nil
		}
	}
}

// listen keeps a subscription to change notifications, reconnecting with
// backoff; each (re)subscription triggers a reconcile.
func (f *Follower) listen(ctx context.Context, ids chan<- int64, resync func()) {
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		err := f.Changes.Listen(ctx, func() {
			f.listening.Store(true)
			backoff = 0
			resync()
		}, func(id int64) {
			select {
			case ids <- id:
			default:
				// Fell behind: a reconcile repairs whatever is dropped here.
				resync()
			}
		})
		f.listening.Store(false)
		if ctx.Err() != nil {
			return
		}
		backoff = nextBackoff(backoff)
		f.log().Warn("search index: change notifications lost, reconnecting", "err", err, "retry_in", backoff)
		if !sleep(ctx, backoff) {
			return
		}
	}
}

// refresh reloads changed facilities by id; those gone are removed.
func (f *Follower) refresh(ctx context.Context, ids []int64) error {
	slices.Sort(ids)
	const chunk = 1000
	var ups []facility.Facility
	var gone []int64
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		got, err := f.Store.FacilitiesByID(ctx, part)
		f.result(err)
		if err != nil {
			return err
		}
		found := make(map[int64]bool, len(got))
		for _, g := range got {
			found[g.ID] = true
		}
		for _, id := range part {
			if !found[id] {
				if _, ok := f.Index.Facility(id); ok {
					gone = append(gone, id)
				}
			}
		}
		ups = append(ups, got...)
	}
	f.Index.Apply(ups, gone)
	return nil
}

// reconcile applies every facility changed since shortly before the newest
// one indexed (full: reloads everything, which also catches deletions).
func (f *Follower) reconcile(ctx context.Context, full bool) error {
	if full {
		return f.Load(ctx)
	}
	since := f.Index.LastUpdated().Add(-overlap)
	got, err := f.Store.FacilitiesChangedSince(ctx, since)
	f.result(err)
	if err != nil {
		return err
	}
	ups := got[:0]
	for _, g := range got {
		if old, ok := f.Index.Facility(g.ID); !ok || !old.UpdatedAt.Equal(g.UpdatedAt) {
			ups = append(ups, g)
		}
	}
	if len(ups) > 0 {
		f.Index.Apply(ups, nil)
		f.log().Info("search index: reconcile applied missed changes", "facilities", len(ups))
	}
	return nil
}

func nextBackoff(d time.Duration) time.Duration {
	switch {
	case d <= 0:
		return 500 * time.Millisecond
	case d >= 15*time.Second:
		return 30 * time.Second
	}
	return 2 * d
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
