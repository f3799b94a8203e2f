package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"carematch/facility"
	"carematch/postgres"
)

// availableRooms asks a server's API how many rooms a facility has free.
func availableRooms(base string, id int64) (int, error) {
	resp, err := http.Get(fmt.Sprintf("%s/api/v1/facilities/%d", base, id))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var f struct {
		AvailableRooms int `json:"available_rooms"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&f); err != nil {
		return 0, err
	}
	return f.AvailableRooms, nil
}

func seedSmall(t *testing.T) string {
	t.Helper()
	db := postgres.TestDatabase(t)
	if out, err := run(t, []string{"DATABASE_URL=" + db}, "seed", "demo", "--total", "500", "../data/mhlw/jigyosho_510_head.csv"); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	return db
}

// TestTwoServersSeeAnEditWithinTwoSeconds: a facility's vacancy changes in
// the database (as a portal edit would); both running servers serve the
// new figure within 2 seconds.
func TestTwoServersSeeAnEditWithinTwoSeconds(t *testing.T) {
	dbURL := seedSmall(t)
	a, b := startServe(t, dbURL), startServe(t, dbURL)
	for _, p := range []*process{a, b} {
		waitReady(t, p)
	}
	db, err := postgres.Open(context.Background(), dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var id int64
	if err := db.Pool.QueryRow(context.Background(), `SELECT min(id) FROM facilities`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	for round, rooms := range []int{7, 3} {
		start := time.Now()
		if err := db.UpdateVacancies(context.Background(), id, []facility.Vacancy{{RoomType: "個室", Available: rooms, ConfirmedAt: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []*process{a, b} {
			for {
				got, err := availableRooms(p.base, id)
				if err == nil && got == rooms {
					break
				}
				if time.Since(start) > 2*time.Second {
					t.Fatalf("round %d: server %s still shows %d rooms (%v) 2s after the edit", round, p.base, got, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		t.Logf("round %d: both servers serve the edit after %s", round, time.Since(start).Round(time.Millisecond))
	}
}

func waitReady(t *testing.T, p *process) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(p.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not ready:\n%s", p.base, p.logs)
}

func body(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func status(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestPublicPagesSurviveADatabaseOutage: while the database refuses every
// connection, search and facility pages keep answering from memory and
// /readyz says the database is not ready; when it returns, the server
// recovers without a restart and follows edits again.
func TestPublicPagesSurviveADatabaseOutage(t *testing.T) {
	dbURL := seedSmall(t)
	p := startServe(t, dbURL, "CAREMATCH_RECONCILE_INTERVAL=1s")
	waitReady(t, p)
	u, _ := url.Parse(dbURL)
	name := strings.TrimPrefix(u.Path, "/")
	admin, err := pgx.Connect(context.Background(), postgres.TestURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	outage := func(on bool) {
		t.Helper()
		if _, err := admin.Exec(context.Background(), fmt.Sprintf(`ALTER DATABASE %s ALLOW_CONNECTIONS %t`, name, !on)); err != nil {
			t.Fatal(err)
		}
		if on {
			if _, err := admin.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, name); err != nil {
				t.Fatal(err)
			}
		}
	}
	outage(true)
	defer outage(false)

	// /readyz reports the outage but stays 200: the task still serves
	// public pages, and a 503 would make ECS replace every task.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(body(t, p.base+"/readyz"), `"degraded":["database"]`) {
		if time.Now().After(deadline) {
			t.Fatal("/readyz does not report the database outage")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := status(t, p.base+"/readyz"); got != 200 {
		t.Errorf("/readyz = %d during the outage, want 200 (degraded)", got)
	}
	for _, path := range []string{"/search/1", "/search/1?care=%E8%A6%81%E4%BB%8B%E8%AD%B73&sort=monthly", "/api/v1/search?pref=1", "/facilities/1", "/api/v1/facilities/1", "/healthz"} {
		if got := status(t, p.base+path); got != 200 {
			t.Errorf("%s = %d during the outage, want 200 from memory", path, got)
		}
	}

	outage(false)
	deadline = time.Now().Add(15 * time.Second)
	for !strings.Contains(body(t, p.base+"/readyz"), `"degraded":[]`) {
		if time.Now().After(deadline) {
			t.Fatalf("not ready 15s after the database returned:\n%s", p.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	db, err := postgres.Open(context.Background(), dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.UpdateVacancies(context.Background(), 1, []facility.Vacancy{{RoomType: "個室", Available: 9, ConfirmedAt: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		if n, err := availableRooms(p.base, 1); err == nil && n == 9 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("an edit after recovery did not reach the server:\n%s", p.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
