package mhlw_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"carematch/mhlw"
)

func TestLatestPicksNewestCopyOfEachCSV(t *testing.T) {
	t0 := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	t1 := t0.AddDate(0, 3, 0)
	got := mhlw.Latest([]mhlw.Object{
		{Key: "2026-09/jigyosho_331.csv", Modified: t0},
		{Key: "2026-12/jigyosho_331.csv", Modified: t1},
		{Key: "a/jigyosho_334.CSV", Modified: t1},
		{Key: "b/jigyosho_334.CSV", Modified: t1}, // same time: the later path
		{Key: "notes.txt", Modified: t1},
		{Key: "old/jigyosho_510.csv", Modified: t1.Add(time.Hour)},
		{Key: "new/jigyosho_510.csv", Modified: t1}, // older despite its name
	})
	var keys []string
	for _, o := range got {
		keys = append(keys, o.Key)
	}
	want := []string{"2026-12/jigyosho_331.csv", "b/jigyosho_334.CSV", "old/jigyosho_510.csv"}
	if len(keys) != len(want) {
		t.Fatalf("Latest = %v, want %v", keys, want)
	}
	for i := range want {
		if keys[i] != want[i] {
			t.Fatalf("Latest = %v, want %v", keys, want)
		}
	}
}

func TestFolderListsAndOpensBelowItself(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "2026-12"), 0o755)
	os.WriteFile(filepath.Join(dir, "2026-12", "jigyosho_331.csv"), []byte("x"), 0o644)
	f := mhlw.Folder{Dir: dir}
	objs, err := f.List(context.Background())
	if err != nil || len(objs) != 1 || objs[0].Key != "2026-12/jigyosho_331.csv" || objs[0].Name() != "jigyosho_331.csv" || objs[0].Size != 1 {
		t.Fatalf("List: %+v %v", objs, err)
	}
	r, err := f.Open(context.Background(), objs[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != "x" {
		t.Errorf("read %q", b)
	}
	if _, err := f.Open(context.Background(), "../etc/passwd"); err == nil {
		t.Error("a path outside the folder opened")
	}
	if _, err := (mhlw.Folder{Dir: filepath.Join(dir, "missing")}).List(context.Background()); err == nil {
		t.Error("a missing folder listed")
	}
}
