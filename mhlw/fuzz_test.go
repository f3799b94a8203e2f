package mhlw

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the parser: it must never panic, and
// what it accepts must be internally consistent.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.csv")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(header + "\n"))
	f.Add([]byte("\ufeff" + header + "\r\n" + row("131016", "東京都", "千代田区", "ホーム", kaigo, "千代田区1-1", "35.69", "139.75", "03-1111-1111", "1370000001", "10", "") + "\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("jigyosho_331.csv", bytes.NewReader(data))
		if err != nil {
			if file != nil {
				t.Fatalf("both a file and an error")
			}
			return
		}
		if file.Rows != len(file.Records)+file.Merged+len(file.Rejected) {
			t.Fatalf("rows %d != records %d + merged %d + rejected %d", file.Rows, len(file.Records), file.Merged, len(file.Rejected))
		}
		for _, r := range file.Records {
			fa := r.Facility
			if len(fa.OfficeNumber) != 10 || fa.Name == "" || fa.PrefCode < 1 || fa.PrefCode > 47 || len(fa.MuniCode) != 6 ||
				fa.Lat < 20 || fa.Lat > 46 || fa.Lng < 122 || fa.Lng > 154 || fa.Capacity < 0 {
				t.Fatalf("accepted an invalid facility: %+v", fa)
			}
			if _, ok := fa.Type.Info(); !ok {
				t.Fatalf("unknown type %q", fa.Type)
			}
		}
		for _, r := range file.Rejected {
			if r.Line < 2 || r.Reason == "" {
				t.Fatalf("rejection without line or reason: %+v", r)
			}
		}
	})
}
