package postgres_test

import (
	"context"
	"sync"
	"testing"

	"carematch/postgres"
)

func TestMigrateTwiceIsNoop(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, postgres.TestEmptyDatabase(t), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pending, err := db.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != len(postgres.Migrations()) {
		t.Fatalf("pending on an empty database = %v, want all %d", pending, len(postgres.Migrations()))
	}
	first, err := db.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != len(postgres.Migrations()) {
		t.Fatalf("first run applied %v", first)
	}
	second, err := db.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(second) != 0 {
		t.Fatalf("second run applied %v, want nothing", second)
	}
	if pending, _ := db.Pending(ctx); len(pending) != 0 {
		t.Fatalf("pending after migrate = %v", pending)
	}
}

func TestConcurrentMigratorsDoNotRace(t *testing.T) {
	ctx := context.Background()
	url := postgres.TestEmptyDatabase(t)
	const n = 4
	applied := make([][]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(ctx, url, 2)
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			applied[i], errs[i] = db.Migrate(ctx)
		}()
	}
	wg.Wait()
	total := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("migrator %d: %v", i, errs[i])
		}
		total += len(applied[i])
	}
	if total != len(postgres.Migrations()) {
		t.Fatalf("migrations applied %d times in all, want each once (%d): %v", total, len(postgres.Migrations()), applied)
	}
	db, err := postgres.Open(ctx, url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var count int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&count); err != nil {
		t.Fatal(err)
	}
	if count != len(postgres.Migrations()) {
		t.Fatalf("schema_migrations has %d rows", count)
	}
}

func TestChangedMigrationIsRefused(t *testing.T) {
	ctx := context.Background()
	db := postgres.TestDB(t)
	first := postgres.Migrations()[0].Version
	if _, err := db.Pool.Exec(ctx, `UPDATE schema_migrations SET checksum = 'x' WHERE version = $1`, first); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pending(ctx); err == nil {
		t.Fatal("a migration edited after it was applied went unnoticed")
	}
}
