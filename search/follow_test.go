package search_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"carematch/facility"
	"carematch/postgres"
	"carematch/search"
)

// memStore is a hand-written catalog for the follower: a map, a switch to
// make it unreachable, and a record of what was asked.
type memStore struct {
	mu    sync.Mutex
	facs  map[int64]facility.Facility
	down  bool
	calls []string
}

var errDown = errors.New("database unreachable")

func newMemStore(n int) *memStore {
	s := &memStore{facs: map[int64]facility.Facility{}}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= n; i++ {
		s.facs[int64(i)] = facility.Facility{ID: int64(i), Type: facility.KaigoYuryo, Name: "施設", PrefCode: 13,
			MuniCode: "131016", Lat: 35.69, Lng: 139.75, UpdatedAt: base}
	}
	return s
}

func (s *memStore) call(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, name)
	if s.down {
		return errDown
	}
	return nil
}

func (s *memStore) AllFacilities(ctx context.Context) ([]facility.Facility, error) {
	if err := s.call("all"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []facility.Facility
	for _, f := range s.facs {
		out = append(out, f)
	}
	return out, nil
}

func (s *memStore) FacilitiesChangedSince(ctx context.Context, since time.Time) ([]facility.Facility, error) {
	if err := s.call("since"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []facility.Facility
	for _, f := range s.facs {
		if !f.UpdatedAt.Before(since) {
			out = append(out, f)
		}
	}
	return out, nil
}

func (s *memStore) FacilitiesByID(ctx context.Context, ids []int64) ([]facility.Facility, error) {
	if err := s.call("byid"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []facility.Facility
	for _, id := range ids {
		if f, ok := s.facs[id]; ok {
			out = append(out, f)
		}
	}
	return out, nil
}

func (s *memStore) set(f facility.Facility) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.UpdatedAt = time.Now()
	s.facs[f.ID] = f
}

func (s *memStore) setDown(b bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = b
}

// chanChanges is a change source fed by the test.
type chanChanges struct {
	ids  chan int64
	fail chan error
}

func (c *chanChanges) Listen(ctx context.Context, listening func(), changed func(int64)) error {
	listening()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-c.fail:
			return err
		case id := <-c.ids:
			changed(id)
		}
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func eventually(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func runFollower(t *testing.T, f *search.Follower) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("follower: %v", err)
		}
	})
}

func TestFollowerAppliesChangesAndSurvivesOutage(t *testing.T) {
	store := newMemStore(100)
	store.setDown(true) // the database is down at start-up
	ch := &chanChanges{ids: make(chan int64), fail: make(chan error)}
	x := search.NewIndex()
	f := &search.Follower{Index: x, Store: store, Changes: ch, Log: quietLog(), Reconcile: time.Hour,
		Quiet: 10 * time.Millisecond, MaxDelay: 100 * time.Millisecond}
	runFollower(t, f)
	time.Sleep(100 * time.Millisecond)
	if x.Ready() || f.Status().LastError == "" {
		t.Fatalf("ready without a database: %+v", f.Status())
	}
	store.setDown(false)
	eventually(t, 5*time.Second, "initial load after the database came back", x.Ready)
	if x.Len() != 100 {
		t.Fatalf("len %d", x.Len())
	}

	// A change and a deletion are announced: both applied in one batch.
	changed := store.facs[7]
	changed.PrefCode, changed.MuniCode = 27, "271004"
	store.set(changed)
	store.mu.Lock()
	delete(store.facs, 8)
	store.mu.Unlock()
	ch.ids <- 7
	ch.ids <- 8
	eventually(t, 2*time.Second, "announced changes applied", func() bool {
		f7, _ := x.Facility(7)
		_, has8 := x.Facility(8)
		return f7.PrefCode == 27 && !has8
	})
	if r := x.Search(search.Query{Pref: 27}); r.Total != 1 || r.Hits[0].Facility.ID != 7 {
		t.Fatalf("search after change: %+v", r)
	}

	// The database goes away: the index keeps serving the last snapshot,
	// and the announced change is applied once it is back.
	store.setDown(true)
	changed.Name = "改名"
	store.mu.Lock()
	changed.UpdatedAt = time.Now()
	store.facs[7] = changed
	store.mu.Unlock()
	ch.ids <- 7
	time.Sleep(100 * time.Millisecond)
	if r := x.Search(search.Query{Pref: 13}); r.Total != 98 {
		t.Fatalf("search while down: %d", r.Total)
	}
	if f.Status().LastError == "" {
		t.Fatal("status does not show the failure")
	}
	store.setDown(false)
	eventually(t, 5*time.Second, "change applied after the outage", func() bool {
		f7, _ := x.Facility(7)
		return f7.Name == "改名"
	})
	if st := f.Status(); !st.Ready || !st.Listening || st.LastError != "" {
		t.Fatalf("status %+v", st)
	}

	// The listener drops: on resubscription a reconcile picks up what was
	// changed meanwhile without notification.
	missed := store.facs[9]
	missed.Name = "通知なしで変更"
	store.set(missed)
	ch.fail <- errors.New("connection reset")
	eventually(t, 5*time.Second, "reconcile after reconnect", func() bool {
		f9, _ := x.Facility(9)
		return f9.Name == "通知なしで変更"
	})
}

func TestFollowerReconcilesWithoutNotifications(t *testing.T) {
	store := newMemStore(10)
	x := search.NewIndex()
	f := &search.Follower{Index: x, Store: store, Log: quietLog(), Reconcile: 20 * time.Millisecond, FullEvery: 3}
	runFollower(t, f)
	eventually(t, 2*time.Second, "initial load", x.Ready)
	g := store.facs[3]
	g.Name = "変更"
	store.set(g)
	store.mu.Lock()
	delete(store.facs, 4) // only a full reload sees a deletion
	store.mu.Unlock()
	eventually(t, 2*time.Second, "reconcile", func() bool {
		f3, _ := x.Facility(3)
		_, has4 := x.Facility(4)
		return f3.Name == "変更" && !has4
	})
}

// TestFollowerListensToPostgres proves the LISTEN path on a real database:
// a NOTIFY on facility_changed reaches the index, and a killed listener
// connection is re-established.
func TestFollowerListensToPostgres(t *testing.T) {
	url := postgres.TestDatabase(t)
	store := newMemStore(5)
	x := search.NewIndex()
	f := &search.Follower{Index: x, Store: store, Changes: postgres.FacilityChanges{URL: url}, Log: quietLog(),
		Reconcile: time.Hour, Quiet: 10 * time.Millisecond}
	runFollower(t, f)
	eventually(t, 5*time.Second, "ready and listening", func() bool { return x.Ready() && f.Status().Listening })

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	notify := func(id int64, name string) {
		t.Helper()
		g := store.facs[id]
		g.Name = name
		store.mu.Lock()
		g.UpdatedAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // unchanged: only the notification tells
		store.facs[id] = g
		store.mu.Unlock()
		if _, err := conn.Exec(ctx, `SELECT pg_notify('facility_changed', $1::bigint::text)`, g.ID); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	notify(2, "通知1")
	eventually(t, 2*time.Second, "notification applied", func() bool {
		g, _ := x.Facility(2)
		return g.Name == "通知1"
	})
	t.Logf("notification to index: %v", time.Since(start))

	listener := func() (pid int) {
		conn.QueryRow(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = 'carematch-listen'
			AND datname = current_database() AND state IS NOT NULL`).Scan(&pid)
		return pid
	}
	old := listener()
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend($1)`, old); err != nil || old == 0 {
		t.Fatalf("terminate listener %d: %v", old, err)
	}
	// A notification sent while nobody listens is lost; the reconcile after
	// resubscribing covers changes whose updated_at moved (see the store
	// test), so here the test waits for the new listener.
	eventually(t, 5*time.Second, "listener reconnected", func() bool {
		pid := listener()
		return pid != 0 && pid != old && f.Status().Listening
	})
	notify(3, "通知2")
	eventually(t, 2*time.Second, "notification after reconnect applied", func() bool {
		g, _ := x.Facility(3)
		return g.Name == "通知2"
	})
	if !slices.Contains(store.calls, "byid") {
		t.Fatal("changes were not loaded by id")
	}
}
