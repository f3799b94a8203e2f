package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"carematch/facility"
	"carematch/mhlw"
)

// Store is what Seed writes to (implemented by *postgres.DB).
type Store interface {
	mhlw.Store
	AllFacilities(ctx context.Context) ([]facility.Facility, error)
	// FillDemoDetails writes costs, acceptance, features, partner and demo
	// flags of existing facilities (skipping any a facility edited itself)
	// and adds vacancies where there are none; it returns how many changed.
	FillDemoDetails(ctx context.Context, fs []facility.Facility) (int, error)
	// InsertFacilities bulk-inserts new facilities with their vacancies.
	InsertFacilities(ctx context.Context, fs []facility.Facility) error
}

// Options tune Seed. The zero value seeds about 60,000 facilities now.
type Options struct {
	Total int       // facilities the country should hold; 0 means DefaultTotal
	Seed  int64     // of the synthetic facilities; 0 means 1
	Now   time.Time // vacancy confirmations are relative to it; zero means time.Now()
}

// DefaultTotal is about the number of residential care facilities in Japan.
const DefaultTotal = 60000

// SeedReport says what Seed did.
type SeedReport struct {
	Import      mhlw.Report
	Filled      int // real facilities given (or updated with) demo values
	Synthesized int // synthetic facilities inserted
	Existing    int // synthetic facilities already there (then none are added)
	Total       int // facilities in the catalog afterwards
	Duration    time.Duration
}

func (r SeedReport) String() string {
	var b strings.Builder
	r.WriteTo(&b)
	return b.String()
}

// WriteTo prints the import report followed by the seeding summary.
func (r SeedReport) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	r.Import.WriteTo(&b)
	fmt.Fprintf(&b, "デモデータ: 実在施設に補った費用・受入れ・空室 %d 件", r.Filled)
	if r.Existing > 0 {
		fmt.Fprintf(&b, ", 架空の施設は作成済み (%d 件) のため追加なし", r.Existing)
	} else {
		fmt.Fprintf(&b, ", 架空の施設 %d 件を追加", r.Synthesized)
	}
	fmt.Fprintf(&b, "; 施設は全部で %d 件 (%s)\n", r.Total, r.Duration.Round(time.Millisecond))
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// Seed imports the real open-data files, fills what they lack with demo
// values and adds synthetic facilities up to about 60,000 (see SeedWith).
func Seed(ctx context.Context, store Store, files ...string) (SeedReport, error) {
	return SeedWith(ctx, store, Options{}, files...)
}

// SeedWith is Seed with options. It can be run again: the import changes
// nothing, demo values are the same, and synthetic facilities are added
// only when there are none yet.
func SeedWith(ctx context.Context, store Store, opt Options, files ...string) (SeedReport, error) {
	start := time.Now()
	if opt.Total <= 0 {
		opt.Total = DefaultTotal
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	var rep SeedReport
	if len(files) > 0 {
		imp, err := mhlw.Import(ctx, store, files...)
		if err != nil {
			return rep, fmt.Errorf("seed demo: %w", err)
		}
		rep.Import = imp
	}
	all, err := store.AllFacilities(ctx)
	if err != nil {
		return rep, fmt.Errorf("seed demo: %w", err)
	}
	var fill []facility.Facility
	for i := range all {
		f := &all[i]
		switch {
		case f.OfficeNumber == "" && f.Demo:
			rep.Existing++
		case f.OfficeNumber != "" && (f.Demo || !f.HasCosts()):
			g := *f
			g.Vacancies = nil
			FillAt(&g, opt.Now)
			fill = append(fill, g)
		}
	}
	if rep.Filled, err = store.FillDemoDetails(ctx, fill); err != nil {
		return rep, fmt.Errorf("seed demo: %w", err)
	}
	rep.Total = len(all)
	if rep.Existing == 0 && opt.Total > len(all) {
		syn := SynthesizeAt(opt.Total-len(all), opt.Seed, opt.Now)
		if err := store.InsertFacilities(ctx, syn); err != nil {
			return rep, fmt.Errorf("seed demo: %w", err)
		}
		rep.Synthesized = len(syn)
		rep.Total += len(syn)
	}
	rep.Duration = time.Since(start)
	return rep, nil
}
