package mhlw

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"carematch/facility"
)

// Store is where Import writes the facilities it read.
type Store interface {
	// UpsertOpenData writes, in one transaction, the open-data fields of
	// each facility keyed by OfficeNumber: new office numbers are inserted;
	// existing ones are updated only where a value differs, never in a
	// field listed in the facility's edited_fields, and never in costs,
	// acceptance, features, vacancies or the partner/demo flags. Either
	// everything is written or nothing.
	UpsertOpenData(ctx context.Context, fs []facility.Facility) (UpsertResult, error)
}

// UpsertResult says what UpsertOpenData did, by 事業所番号. Office numbers in
// neither list were already up to date.
type UpsertResult struct {
	Inserted []string
	Updated  []string
}

// FileSummary is one file of a Report.
type FileSummary struct {
	Name        string
	ServiceCode string
	Rows        int // data rows read
	Facilities  int // facilities after merging rows of the same 事業所番号
	Rejected    int
}

// Report is the outcome of an import run.
type Report struct {
	Files     []FileSummary
	Read      int // data rows read in all files
	Merged    int // rows folded into another row of the same 事業所番号
	Inserted  int
	Updated   int
	Unchanged int
	Rejected  []Issue // rows not imported, with line and reason
	Notes     []Issue // rows imported with a correction (coordinates, URL, …)
	Duration  time.Duration
}

// Facilities is the number of facilities written or confirmed.
func (r Report) Facilities() int { return r.Inserted + r.Updated + r.Unchanged }

// Changed reports whether the run changed anything in the database.
func (r Report) Changed() bool { return r.Inserted+r.Updated > 0 }

// String is the summary printed by `carematch import mhlw`.
func (r Report) String() string {
	var b strings.Builder
	r.WriteTo(&b)
	return b.String()
}

// maxListed caps how many rejected rows and notes are listed one by one.
const maxListed = 200

// WriteTo prints the report: the counts, then each rejected row and each
// correction with file, line and reason.
func (r Report) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	p := func(format string, a ...any) { fmt.Fprintf(cw, format, a...) }
	p("MHLW オープンデータの取り込み (%s)\n", Credit)
	for _, f := range r.Files {
		code := f.ServiceCode
		if code == "" {
			code = "-"
		}
		p("  %s (サービスコード %s): %d 行 → %d 施設, 却下 %d 行\n", f.Name, code, f.Rows, f.Facilities, f.Rejected)
	}
	p("読み込んだ行: %d\n", r.Read)
	p("  新規: %d\n", r.Inserted)
	p("  更新: %d\n", r.Updated)
	p("  変更なし: %d\n", r.Unchanged)
	p("  同じ施設の行としてまとめた: %d\n", r.Merged)
	p("  却下: %d\n", len(r.Rejected))
	if !r.Changed() {
		p("データベースは最新でした: 何も変更していません。\n")
	}
	list := func(title string, is []Issue) {
		if len(is) == 0 {
			return
		}
		p("%s (%d):\n", title, len(is))
		for i, x := range is {
			if i == maxListed {
				p("  … ほか %d 件\n", len(is)-maxListed)
				break
			}
			p("  %s\n", x)
		}
	}
	list("却下した行", r.Rejected)
	list("補正して取り込んだ行", r.Notes)
	if r.Duration > 0 {
		p("所要時間 %s\n", r.Duration.Round(time.Millisecond))
	}
	return cw.n, cw.err
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// Import parses every file first (a malformed file stops the run before
// anything is written), then upserts all facilities of all files in one
// transaction.
func Import(ctx context.Context, store Store, paths ...string) (Report, error) {
	if len(paths) == 0 {
		return Report{}, fmt.Errorf("mhlw: no file given")
	}
	files := make([]*File, 0, len(paths))
	for _, p := range paths {
		f, err := ParseFile(p)
		if err != nil {
			return Report{}, err
		}
		files = append(files, f)
	}
	return ImportParsed(ctx, store, files...)
}

// sameFacilityType says whether two service files describe one facility,
// and as which type: a 特定施設 listed both as 有料老人ホーム (331) and as
// サービス付き高齢者向け住宅 (334) is the サ高住.
func sameFacilityType(a, b facility.Type) (facility.Type, bool) {
	switch {
	case a == b:
		return a, true
	case a == facility.KaigoYuryo && b == facility.Sakoju, a == facility.Sakoju && b == facility.KaigoYuryo:
		return facility.Sakoju, true
	}
	return "", false
}

// ImportParsed imports files already parsed (see Import).
func ImportParsed(ctx context.Context, store Store, files ...*File) (Report, error) {
	start := time.Now()
	var rep Report
	var fs []facility.Facility
	seen := map[string]int{} // 事業所番号 → index in fs
	where := map[string]Issue{}
	for _, f := range files {
		rep.Read += f.Rows
		rep.Merged += f.Merged
		rep.Notes = append(rep.Notes, f.Notes...)
		rep.Rejected = append(rep.Rejected, f.Rejected...)
		sum := FileSummary{Name: f.Name, ServiceCode: f.ServiceCode, Rows: f.Rows, Rejected: len(f.Rejected)}
		for _, r := range f.Records {
			office := r.Facility.OfficeNumber
			i, dup := seen[office]
			if !dup {
				seen[office] = len(fs)
				where[office] = Issue{File: f.Name, Line: r.Lines[0]}
				fs = append(fs, r.Facility)
				sum.Facilities++
				continue
			}
			first := where[office]
			t, ok := sameFacilityType(fs[i].Type, r.Facility.Type)
			if !ok {
				// One 事業所番号 for two different facilities (a 特養 and a
				// サ高住 in one building, say): the catalog keys on the
				// number, so only the first can be kept.
				rep.Rejected = append(rep.Rejected, Issue{File: f.Name, Line: r.Lines[0], OfficeNumber: office,
					Reason: fmt.Sprintf("同じ事業所番号の別の施設 (%s) を %s:%d で読み込み済みです", fs[i].Type.Label(), first.File, first.Line)})
				rep.Merged += len(r.Lines) - 1
				sum.Rejected++
				continue
			}
			// The same facility listed in two service files (331 and 334:
			// a サ高住 that is also a 有料老人ホーム): one facility.
			fs[i].Type = t
			if fs[i].Capacity == 0 {
				fs[i].Capacity = r.Facility.Capacity
			}
			rep.Merged += len(r.Lines)
			rep.Notes = append(rep.Notes, Issue{File: f.Name, Line: r.Lines[0], OfficeNumber: office,
				Reason: fmt.Sprintf("%s:%d と同じ施設としてまとめました (種類: %s)", first.File, first.Line, t.Label())})
		}
		rep.Files = append(rep.Files, sum)
	}
	if len(fs) > 0 {
		res, err := store.UpsertOpenData(ctx, fs)
		if err != nil {
			return Report{}, fmt.Errorf("mhlw: import: %w", err)
		}
		rep.Inserted = len(res.Inserted)
		rep.Updated = len(res.Updated)
	}
	rep.Unchanged = len(fs) - rep.Inserted - rep.Updated
	rep.Duration = time.Since(start)
	return rep, nil
}
