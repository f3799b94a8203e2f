// Package demo makes the catalog look like a real one where the open data
// stops: costs, acceptance, medical items, features, vacancies and partner
// status are not public, so Fill derives them deterministically within the
// ranges real facilities of each type charge and accept; Synthesize adds
// facilities of the types the open data does not cover (住宅型有料, most
// サ高住, グループホーム, …) placed like the real ones. Every value made here
// is marked Demo, and the pages say so.
package demo

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"carematch/facility"
)

// Reference is the moment demo vacancy confirmations are relative to when
// the caller gives none (Fill, Synthesize): fixed, so the output depends on
// the input only.
var Reference = time.Date(2026, 12, 1, 9, 0, 0, 0, time.FixedZone("JST", 9*3600))

// profile is what a type typically costs and accepts (税込, yen). Ranges from
// the big portals' and MHLW's published figures (see ranges in DESIGN.md §3).
type profile struct {
	monthlyLo, monthlyHi int64 // monthly total
	monthlyMode          int64 // most common monthly total
	food                 int64 // typical 食費 per month (about 30 days × 1,400–2,000)
	initialZero          float64
	initialLo, initialHi int64   // when not zero (log-uniform)
	careExtra            float64 // share of facilities charging 上乗せ介護費
	medical              float64 // 0–1: how much medical care the type can give
	rooms                []string
	capLo, capHi         int
	partner              float64
}

var profiles = map[facility.Type]profile{
	facility.KaigoYuryo:   {150_000, 350_000, 220_000, 45_000, 0.40, 100_000, 10_000_000, 0.35, 0.60, []string{"個室", "夫婦部屋"}, 20, 100, 0.18},
	facility.JutakuYuryo:  {100_000, 250_000, 150_000, 45_000, 0.55, 100_000, 1_500_000, 0, 0.45, []string{"個室", "夫婦部屋"}, 10, 80, 0.18},
	facility.Sakoju:       {100_000, 250_000, 150_000, 42_000, 0.30, 50_000, 500_000, 0, 0.30, []string{"個室", "夫婦部屋"}, 15, 80, 0.15},
	facility.GroupHome:    {120_000, 200_000, 150_000, 40_000, 0.45, 50_000, 300_000, 0, 0.25, []string{"個室"}, 9, 18, 0.12},
	facility.Tokuyo:       {60_000, 150_000, 100_000, 43_350, 1, 0, 0, 0, 0.45, []string{"ユニット型個室", "多床室"}, 50, 120, 0.05},
	facility.ChiikiTokuyo: {60_000, 150_000, 110_000, 43_350, 1, 0, 0, 0, 0.45, []string{"ユニット型個室"}, 20, 29, 0.05},
	facility.Roken:        {80_000, 170_000, 120_000, 43_350, 1, 0, 0, 0, 0.70, []string{"個室", "多床室"}, 50, 120, 0.05},
	facility.Iryoin:       {80_000, 170_000, 130_000, 43_350, 1, 0, 0, 0, 0.90, []string{"個室", "多床室"}, 30, 100, 0.05},
	facility.CareHouse:    {70_000, 150_000, 100_000, 40_000, 0.50, 100_000, 3_000_000, 0, 0.15, []string{"個室"}, 20, 60, 0.08},
}

// medicalEase is how commonly each medical item is accepted, relative to
// the type's medical strength (index = facility.MedicalItems order).
var medicalEase = [facility.NumMedical]float64{
	0.75, // 胃ろう
	0.50, // 経鼻経管栄養
	0.30, // IVH
	0.90, // インスリン
	0.85, // 在宅酸素
	0.60, // たん吸引
	0.35, // 人工透析
	0.90, // ストーマ
	0.90, // 尿道カテーテル
	0.30, // 気管切開
	0.12, // 人工呼吸器
	0.85, // 褥瘡
	0.70, // 終末期ケア(看取り)
	0.35, // ALS・難病
}

// keyOf is what makes a facility's demo values its own: the 事業所番号, or
// the id, or its name and place.
func keyOf(f *facility.Facility) string {
	switch {
	case f.OfficeNumber != "":
		return "office:" + f.OfficeNumber
	case f.ID != 0:
		return "id:" + strconv.FormatInt(f.ID, 10)
	}
	return "name:" + f.MuniCode + ":" + f.Name + ":" + f.Address
}

func rngFor(key string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(key))
	s := h.Sum64()
	return rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))
}

// Fill fills what the open data lacks, relative to Reference (see FillAt).
func Fill(f *facility.Facility) { FillAt(f, Reference) }

// FillAt sets f's costs, care levels, 認知症 and medical acceptance,
// features, vacancies (confirmed within the 45 days before now) and partner
// flag, and marks it Demo. The values depend only on f's 事業所番号 (or id,
// or name and place), its type and now. Open-data fields are left as they
// are, except a capacity of 0 (unknown), which gets a typical one.
func FillAt(f *facility.Facility, now time.Time) {
	fillWith(rngFor(keyOf(f)), f, now)
}

func fillWith(r *rand.Rand, f *facility.Facility, now time.Time) {
	p, ok := profiles[f.Type]
	if !ok {
		p = profiles[facility.JutakuYuryo]
	}
	// Draw every value whether used or not, so that the sequence (and so
	// every value) does not depend on what f already holds.
	capacity := p.capLo + r.IntN(p.capHi-p.capLo+1)
	if f.Capacity == 0 {
		f.Capacity = capacity
	}

	// Monthly total: triangular between lo and hi around the mode, in
	// steps of ¥100, then broken down.
	total := roundTo(triangular(r, float64(p.monthlyLo), float64(p.monthlyMode), float64(p.monthlyHi)), 100)
	food := roundTo(float64(p.food)*(0.9+0.25*r.Float64()), 10)
	m := facility.Monthly{Food: food}
	switch f.Type {
	case facility.Tokuyo, facility.ChiikiTokuyo, facility.Roken, facility.Iryoin:
		// 居住費 (rent) + 食費 + the care insurance co-payment and daily
		// costs (その他); no 管理費, utilities are in the 居住費.
		m.Other = roundTo(float64(total)*(0.18+0.1*r.Float64()), 100)
		m.Rent = max(total-food-m.Other, 25_000)
	default:
		m.Utilities = roundTo(8_000+12_000*r.Float64(), 100)
		if r.Float64() < p.careExtra {
			m.CareExtra = roundTo(10_000+60_000*r.Float64(), 1000)
		}
		if r.Float64() < 0.3 {
			m.Other = roundTo(2_000+10_000*r.Float64(), 100)
		}
		rest := total - food - m.Utilities - m.CareExtra - m.Other
		if rest < 40_000 {
			rest = 40_000
		}
		share := 0.45 + 0.3*r.Float64() // rent's share of rent + 管理費
		m.Rent = roundTo(float64(rest)*share, 100)
		m.Management = rest - m.Rent
	}
	f.Monthly = m

	// Initial cost: 0 for public facilities; else often 0, otherwise
	// log-uniform (a few 介護付き charge 10M+); サ高住 and グループホーム
	// take a deposit of a few months' rent.
	switch {
	case r.Float64() < p.initialZero || p.initialHi == 0:
		f.InitialCost = 0
	case f.Type == facility.Sakoju || f.Type == facility.GroupHome:
		f.InitialCost = min(roundTo(float64(m.Rent)*float64(1+r.IntN(3)), 1000), p.initialHi)
	default:
		hi := float64(p.initialHi)
		if f.Type == facility.KaigoYuryo && r.Float64() < 0.06 {
			hi = 30_000_000 // the high end
		}
		f.InitialCost = roundTo(math.Exp(math.Log(float64(p.initialLo))+r.Float64()*(math.Log(hi)-math.Log(float64(p.initialLo)))), 10_000)
	}

	// Care levels.
	switch f.Type {
	case facility.Tokuyo, facility.ChiikiTokuyo:
		f.CareLevels = facility.CareLevelRange(facility.Care3, facility.Care5)
	case facility.Roken, facility.Iryoin:
		f.CareLevels = facility.CareLevelRange(facility.Care1, facility.Care5)
	case facility.GroupHome:
		f.CareLevels = facility.CareLevelRange(facility.Support2, facility.Care5)
	case facility.KaigoYuryo:
		switch x := r.Float64(); {
		case x < 0.45:
			f.CareLevels = facility.CareLevelRange(facility.Care1, facility.Care5) // 介護専用型
		case x < 0.80:
			f.CareLevels = facility.CareLevelRange(facility.Support1, facility.Care5)
		default:
			f.CareLevels = facility.CareLevelRange(facility.Independent, facility.Care5) // 混合型
		}
	case facility.CareHouse:
		if r.Float64() < 0.3 {
			f.CareLevels = facility.CareLevelRange(facility.Care1, facility.Care5) // 介護型
		} else {
			f.CareLevels = facility.CareLevelRange(facility.Independent, facility.Care2)
		}
	default: // 住宅型, サ高住
		hi := facility.Care5
		if r.Float64() < 0.3 {
			hi = facility.Care3
		}
		lo := facility.Independent
		if r.Float64() < 0.3 {
			lo = facility.Support1
		}
		f.CareLevels = facility.CareLevelRange(lo, hi)
	}

	// 認知症.
	switch f.Type {
	case facility.GroupHome:
		f.Dementia = facility.Yes
	case facility.CareHouse:
		f.Dementia = pick(r, 0.15, 0.45)
	case facility.Sakoju:
		f.Dementia = pick(r, 0.45, 0.40)
	default:
		f.Dementia = pick(r, 0.80, 0.17)
	}

	// Medical items: a facility-wide strength around the type's, then each
	// item by how commonly it is accepted.
	strength := clamp(p.medical+0.25*(r.Float64()-0.5), 0.02, 0.98)
	for i := range f.Medical {
		yes := strength * medicalEase[i]
		switch x := r.Float64(); {
		case x < yes:
			f.Medical[i] = facility.Yes
		case x < yes+(1-yes)*0.35:
			f.Medical[i] = facility.Consult
		default:
			f.Medical[i] = facility.No
		}
	}

	// Features.
	var fs facility.Features
	add := func(key string, prob float64) {
		if r.Float64() < prob {
			ft, _ := facility.FeatureByKey(key)
			fs = fs.With(ft)
		}
	}
	private := f.Type == facility.KaigoYuryo || f.Type == facility.JutakuYuryo || f.Type == facility.Sakoju
	switch f.Type {
	case facility.Iryoin, facility.Roken:
		add("nurse24", 1)
	case facility.KaigoYuryo:
		add("nurse24", 0.3)
	default:
		add("nurse24", 0.05)
	}
	terminal, _ := facility.MedicalByKey("terminal")
	if f.Medical[terminal] == facility.Yes {
		add("mitori", 1)
	}
	if private {
		add("couple", 0.25)
		add("trial", 0.65)
	} else {
		add("trial", 0.15)
	}
	switch f.Type {
	case facility.Tokuyo, facility.Roken, facility.Iryoin:
		add("private_room", 0.6)
	default:
		add("private_room", 0.95)
	}
	if f.Type == facility.Roken {
		add("rehab", 1)
	} else {
		add("rehab", 0.2)
	}
	add("station", 0.2)
	if f.Type == facility.JutakuYuryo || f.Type == facility.Sakoju || f.Type == facility.Tokuyo || f.Type == facility.GroupHome {
		add("welfare", 0.3)
	}
	if private {
		add("pet", 0.05)
	}
	if f.InitialCost == 0 && (private || f.Type == facility.GroupHome) {
		add("no_initial", 1)
	} else if f.Type == facility.KaigoYuryo {
		add("no_initial", 0.3) // a 0-yen plan beside the lump sum
	}
	f.Features = fs

	// Vacancies: about 40% full everywhere; public facilities rarely have a
	// room free.
	full := 0.4
	if f.Type == facility.Tokuyo || f.Type == facility.ChiikiTokuyo {
		full = 0.75
	}
	allFull := r.Float64() < full
	coupleFt, _ := facility.FeatureByKey("couple")
	f.Vacancies = nil
	for i, room := range p.rooms {
		if room == "夫婦部屋" && !fs.Has(coupleFt) {
			continue
		}
		n := 0
		if !allFull {
			n = r.IntN(4)
			if i > 0 {
				n = r.IntN(2)
			}
		}
		ago := time.Duration(r.IntN(45*24)) * time.Hour
		at := now.Add(-ago).Truncate(time.Minute)
		f.Vacancies = append(f.Vacancies, facility.Vacancy{RoomType: room, Available: n, ConfirmedAt: at})
	}

	f.Partner = r.Float64() < p.partner
	f.Demo = true
}

func pick(r *rand.Rand, yes, consult float64) facility.Accept {
	switch x := r.Float64(); {
	case x < yes:
		return facility.Yes
	case x < yes+consult:
		return facility.Consult
	}
	return facility.No
}

func triangular(r *rand.Rand, lo, mode, hi float64) float64 {
	u := r.Float64()
	c := (mode - lo) / (hi - lo)
	if u < c {
		return lo + math.Sqrt(u*(hi-lo)*(mode-lo))
	}
	return hi - math.Sqrt((1-u)*(hi-lo)*(hi-mode))
}

func roundTo(x float64, step int64) int64 {
	return int64(math.Round(x/float64(step))) * step
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }
