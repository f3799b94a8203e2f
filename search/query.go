// Package search is public facility search served from memory: an Index of
// every facility built from PostgreSQL and kept fresh by a Follower, the
// Query language shared by the HTML pages and the JSON API, and the result
// (the page, counts per type and municipality, and the 相場 statistics).
//
// The same search also exists as SQL (postgres.SearchFacilities); both
// engines follow the rules written here and are compared by tests and by
// cmd/benchsearch.
package search

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"carematch/area"
	"carematch/facility"
)

// Sort is a result order. Every order ends with a tie-break on the facility
// id so that two engines, or two requests, always agree.
type Sort string

const (
	// SortRecommended puts first what a family can act on today, without any
	// regard to fees or partner (提携) status, which would be paid placement:
	//  1. facilities with a room available now,
	//  2. then facilities whose costs are published (月額 and 入居時費用 known),
	//  3. then the most recently confirmed vacancy information,
	//     facilities that never confirmed any last,
	//  4. then id ascending.
	SortRecommended Sort = "recommended"
	// SortMonthly is the monthly total ascending, unknown last, then id.
	SortMonthly Sort = "monthly"
	// SortInitial is the initial cost ascending, unknown last, then id.
	SortInitial Sort = "initial"
	// SortDistance is the distance from the centre ascending, then id; it
	// needs a centre.
	SortDistance Sort = "distance"
	// SortNewest is the opening date descending, unknown last, then id
	// descending (the newest rows first).
	SortNewest Sort = "newest"
)

// Sorts lists the orders with their Japanese labels, in display order.
var Sorts = []struct {
	Sort  Sort
	Label string
}{
	{SortRecommended, "おすすめ順"},
	{SortMonthly, "月額費用が安い順"},
	{SortInitial, "入居時費用が安い順"},
	{SortDistance, "近い順"},
	{SortNewest, "新しい順"},
}

// Pagination limits.
const (
	DefaultPerPage = 20
	MaxPerPage     = 100
	// MaxPage bounds deep paging; nobody reads page 500 of a list, and
	// crawlers should not make us try.
	MaxPage = 500
	// DefaultRadiusKm applies when a centre is given without a radius.
	DefaultRadiusKm = 10
	// MaxRadiusKm is the largest radius accepted.
	MaxRadiusKm = 100
)

// Query is a parsed, valid search. The zero Query matches every facility in
// the recommended order, first page.
type Query struct {
	Pref int    // 1–47; 0: anywhere
	Muni string // 6-digit municipality code; "": any. A designated city includes its wards.

	// Centre for the radius filter, the distance of each result and
	// SortDistance: a municipality's town hall (Near) or a point.
	HasCenter bool
	Near      string // 6-digit municipality code the centre comes from; "" for a point
	Lat, Lng  float64
	RadiusM   int // with a centre: keep facilities within this many metres; 0: no limit

	Types       []facility.Type    // any of these; empty: all. In facility.Types order.
	MaxMonthly  int64              // yen; 0: no limit. Facilities with unknown costs never match a limit.
	MaxInitial  int64              // yen, with HasMaxInitial (0 is a real limit: 入居金0円)
	HasMaxInit  bool               //
	Care        facility.CareLevel // with HasCare: this care level accepted
	HasCare     bool               //
	Dementia    bool               // 認知症 accepted (○ or △)
	Medical     []facility.Medical // every one accepted (○ or △); ascending
	Features    facility.Features  // all of them
	VacancyOnly bool               // at least one room available

	Sort    Sort // "": SortRecommended
	Page    int  // 1-based; 0: 1
	PerPage int  // 0: DefaultPerPage
}

// Parameter names, shared by the pages, the API and Values.
const (
	ParamPref     = "pref"
	ParamMuni     = "muni"
	ParamNear     = "near"
	ParamLat      = "lat"
	ParamLng      = "lng"
	ParamRadius   = "radius"
	ParamType     = "type"
	ParamMonthly  = "max_monthly"
	ParamInitial  = "max_initial"
	ParamCare     = "care"
	ParamDementia = "dementia"
	ParamMedical  = "med"
	ParamFeature  = "feature"
	ParamVacancy  = "vacancy"
	ParamSort     = "sort"
	ParamPage     = "page"
	ParamPerPage  = "per_page"
)

// FieldError is one invalid parameter with a message safe to show.
type FieldError struct {
	Param   string `json:"param"`
	Message string `json:"message"`
}

// FieldErrors lists every invalid parameter of a request, in parameter order.
type FieldErrors []FieldError

func (e FieldErrors) Error() string {
	parts := make([]string, len(e))
	for i, f := range e {
		parts[i] = f.Param + ": " + f.Message
	}
	return "検索条件が正しくありません（" + strings.Join(parts, "、") + "）"
}

// Message returns the message for param, "" if it is valid; templates use
// it to show the error beside the field.
func (e FieldErrors) Message(param string) string {
	for _, f := range e {
		if f.Param == param {
			return f.Message
		}
	}
	return ""
}

func (e *FieldErrors) add(param, msg string) {
	if e.Message(param) == "" {
		*e = append(*e, FieldError{param, msg})
	}
}

// ParseQuery reads a search from URL parameters. Empty parameters count as
// absent (forms send them), unknown ones are ignored, full-width digits are
// accepted. Every invalid parameter is reported, as FieldErrors.
func ParseQuery(v url.Values) (Query, error) {
	var q Query
	var errs FieldErrors
	one := func(name string) (string, bool) {
		var got []string
		for _, s := range v[name] {
			if s = strings.TrimSpace(normalize(s)); s != "" {
				got = append(got, s)
			}
		}
		switch len(got) {
		case 0:
			return "", false
		case 1:
			return got[0], true
		}
		errs.add(name, "指定は1つだけにしてください。")
		return "", false
	}
	many := func(name string) []string {
		var got []string
		for _, s := range v[name] {
			for _, p := range strings.Split(normalize(s), ",") {
				if p = strings.TrimSpace(p); p != "" {
					got = append(got, p)
				}
			}
		}
		return got
	}

	if s, ok := one(ParamPref); ok {
		n, err := strconv.Atoi(s)
		if _, known := area.Pref(n); err != nil || !known {
			errs.add(ParamPref, "都道府県を選び直してください。")
		} else {
			q.Pref = n
		}
	}
	if s, ok := one(ParamMuni); ok {
		m, known := area.Muni(s)
		switch {
		case !known:
			errs.add(ParamMuni, "市区町村が見つかりません。選び直してください。")
		case q.Pref != 0 && m.PrefCode != q.Pref:
			errs.add(ParamMuni, "選んだ都道府県にない市区町村です。")
		default:
			q.Muni = m.Code
		}
	}

	near, hasNear := one(ParamNear)
	lat, hasLat := one(ParamLat)
	lng, hasLng := one(ParamLng)
	switch {
	case hasNear && (hasLat || hasLng):
		errs.add(ParamNear, "中心は市区町村か緯度・経度のどちらか一方で指定してください。")
	case hasNear:
		if m, ok := area.Muni(near); !ok {
			errs.add(ParamNear, "中心にする市区町村が見つかりません。")
		} else {
			q.HasCenter, q.Near, q.Lat, q.Lng = true, m.Code, m.Lat, m.Lng
		}
	case hasLat || hasLng:
		la, err1 := strconv.ParseFloat(lat, 64)
		ln, err2 := strconv.ParseFloat(lng, 64)
		okLat := hasLat && err1 == nil && la >= 20 && la <= 46
		okLng := hasLng && err2 == nil && ln >= 122 && ln <= 154
		if !okLat {
			errs.add(ParamLat, "緯度を20〜46の数値で指定してください（例：35.6812）。")
		}
		if !okLng {
			errs.add(ParamLng, "経度を122〜154の数値で指定してください（例：139.7671）。")
		}
		if okLat && okLng {
			q.HasCenter, q.Lat, q.Lng = true, la, ln
		}
	}
	if s, ok := one(ParamRadius); ok {
		km, err := strconv.ParseFloat(strings.TrimSuffix(strings.ToLower(s), "km"), 64)
		switch {
		case err != nil || math.IsNaN(km) || km < 0.1 || km > MaxRadiusKm:
			errs.add(ParamRadius, fmt.Sprintf("距離を0.1〜%dkmの数値で指定してください。", MaxRadiusKm))
		case !q.HasCenter && !hasNear && !hasLat && !hasLng:
			errs.add(ParamRadius, "距離で絞り込むには中心（市区町村または現在地）を指定してください。")
		default:
			q.RadiusM = int(math.Round(km * 1000))
		}
	} else if q.HasCenter {
		q.RadiusM = DefaultRadiusKm * 1000
	}

	if ts := many(ParamType); len(ts) > 0 {
		seen := map[facility.Type]bool{}
		for _, s := range ts {
			t := facility.Type(s)
			if _, ok := t.Info(); !ok {
				errs.add(ParamType, "施設の種類を選び直してください。")
				break
			}
			seen[t] = true
		}
		for _, ti := range facility.Types {
			if seen[ti.Type] {
				q.Types = append(q.Types, ti.Type)
			}
		}
	}
	if s, ok := one(ParamMonthly); ok {
		if n, ok := parseYen(s); !ok || n < 1 {
			errs.add(ParamMonthly, "月額の上限を円で入力してください（例：150000 または 15万）。")
		} else {
			q.MaxMonthly = n
		}
	}
	if s, ok := one(ParamInitial); ok {
		if n, ok := parseYen(s); !ok {
			errs.add(ParamInitial, "入居時費用の上限を円で入力してください（例：0 または 100万）。")
		} else {
			q.MaxInitial, q.HasMaxInit = n, true
		}
	}
	if s, ok := one(ParamCare); ok {
		if c, ok := parseCare(s); !ok {
			errs.add(ParamCare, "要介護度を選び直してください（例：要介護3）。")
		} else {
			q.Care, q.HasCare = c, true
		}
	}
	if s, ok := one(ParamDementia); ok {
		if b, ok := parseBool(s); !ok {
			errs.add(ParamDementia, "認知症の指定が正しくありません。")
		} else {
			q.Dementia = b
		}
	}
	if ms := many(ParamMedical); len(ms) > 0 {
		var mask uint16
		for _, s := range ms {
			m, ok := facility.MedicalByKey(s)
			if !ok {
				m, ok = medicalByLabel(s)
			}
			if !ok {
				errs.add(ParamMedical, "医療的ケアの項目を選び直してください。")
				break
			}
			mask |= 1 << m
		}
		q.Medical = medicalList(mask)
	}
	for _, s := range many(ParamFeature) {
		f, ok := facility.FeatureByKey(s)
		if !ok {
			errs.add(ParamFeature, "こだわり条件を選び直してください。")
			break
		}
		q.Features = q.Features.With(f)
	}
	if s, ok := one(ParamVacancy); ok {
		if b, ok := parseBool(s); !ok {
			errs.add(ParamVacancy, "空室ありの指定が正しくありません。")
		} else {
			q.VacancyOnly = b
		}
	}
	if s, ok := one(ParamSort); ok {
		known := false
		for _, so := range Sorts {
			known = known || string(so.Sort) == s
		}
		switch {
		case !known:
			errs.add(ParamSort, "並び順を選び直してください。")
		case Sort(s) == SortDistance && !q.HasCenter:
			errs.add(ParamSort, "近い順は中心（市区町村または現在地）を指定したときに選べます。")
		case Sort(s) != SortRecommended:
			q.Sort = Sort(s)
		}
	}
	if s, ok := one(ParamPage); ok {
		if n, err := strconv.Atoi(s); err != nil || n < 1 || n > MaxPage {
			errs.add(ParamPage, fmt.Sprintf("ページは1〜%dで指定してください。", MaxPage))
		} else if n > 1 {
			q.Page = n
		}
	}
	if s, ok := one(ParamPerPage); ok {
		if n, err := strconv.Atoi(s); err != nil || n < 1 || n > MaxPerPage {
			errs.add(ParamPerPage, fmt.Sprintf("表示件数は1〜%d件で指定してください。", MaxPerPage))
		} else if n != DefaultPerPage {
			q.PerPage = n
		}
	}
	if len(errs) > 0 {
		order := map[string]int{}
		for i, p := range paramOrder {
			order[p] = i
		}
		slices.SortStableFunc(errs, func(a, b FieldError) int { return order[a.Param] - order[b.Param] })
		return Query{}, errs
	}
	return q, nil
}

var paramOrder = []string{ParamPref, ParamMuni, ParamNear, ParamLat, ParamLng, ParamRadius, ParamType,
	ParamMonthly, ParamInitial, ParamCare, ParamDementia, ParamMedical, ParamFeature, ParamVacancy,
	ParamSort, ParamPage, ParamPerPage}

// Values is the canonical form of q: defaults left out, lists in display
// order, so equal searches have equal URLs.
func (q Query) Values() url.Values {
	v := url.Values{}
	if q.Pref != 0 {
		v.Set(ParamPref, strconv.Itoa(q.Pref))
	}
	if q.Muni != "" {
		v.Set(ParamMuni, q.Muni)
	}
	if q.HasCenter {
		if q.Near != "" {
			v.Set(ParamNear, q.Near)
		} else {
			v.Set(ParamLat, strconv.FormatFloat(q.Lat, 'f', -1, 64))
			v.Set(ParamLng, strconv.FormatFloat(q.Lng, 'f', -1, 64))
		}
		if q.RadiusM != DefaultRadiusKm*1000 {
			v.Set(ParamRadius, strconv.FormatFloat(float64(q.RadiusM)/1000, 'f', -1, 64))
		}
	}
	for _, t := range q.Types {
		v.Add(ParamType, string(t))
	}
	if q.MaxMonthly > 0 {
		v.Set(ParamMonthly, strconv.FormatInt(q.MaxMonthly, 10))
	}
	if q.HasMaxInit {
		v.Set(ParamInitial, strconv.FormatInt(q.MaxInitial, 10))
	}
	if q.HasCare {
		v.Set(ParamCare, q.Care.String())
	}
	if q.Dementia {
		v.Set(ParamDementia, "1")
	}
	for _, m := range q.Medical {
		v.Add(ParamMedical, m.Key())
	}
	for i := range facility.FeatureItems {
		if q.Features.Has(facility.Feature(i)) {
			v.Add(ParamFeature, facility.Feature(i).Key())
		}
	}
	if q.VacancyOnly {
		v.Set(ParamVacancy, "1")
	}
	if q.Sort != "" && q.Sort != SortRecommended {
		v.Set(ParamSort, string(q.Sort))
	}
	if q.Page > 1 {
		v.Set(ParamPage, strconv.Itoa(q.Page))
	}
	if q.PerPage != 0 && q.PerPage != DefaultPerPage {
		v.Set(ParamPerPage, strconv.Itoa(q.PerPage))
	}
	return v
}

// WithPage returns q on page n (for pagination links).
func (q Query) WithPage(n int) Query {
	if n <= 1 {
		n = 0
	}
	q.Page = n
	return q
}

// page returns the normalised 1-based page and page size.
func (q Query) page() (page, perPage int) {
	page, perPage = q.Page, q.PerPage
	if page < 1 {
		page = 1
	}
	if perPage < 1 {
		perPage = DefaultPerPage
	}
	if perPage > MaxPerPage {
		perPage = MaxPerPage
	}
	return page, perPage
}

func (q Query) sort() Sort {
	if q.Sort == "" || (q.Sort == SortDistance && !q.HasCenter) {
		return SortRecommended
	}
	return q.Sort
}

// medicalMask is the set of required medical items as bits.
func (q Query) medicalMask() uint16 {
	var m uint16
	for _, it := range q.Medical {
		m |= 1 << it
	}
	return m
}

// typeMask is the set of accepted types as bits of typeIndex; 0 means all.
func (q Query) typeMask() uint16 {
	var m uint16
	for _, t := range q.Types {
		if i := typeIndex(t); i >= 0 {
			m |= 1 << i
		}
	}
	return m
}

func typeIndex(t facility.Type) int {
	for i, ti := range facility.Types {
		if ti.Type == t {
			return i
		}
	}
	return -1
}

func medicalList(mask uint16) []facility.Medical {
	var out []facility.Medical
	for i := range facility.NumMedical {
		if mask&(1<<i) != 0 {
			out = append(out, facility.Medical(i))
		}
	}
	return out
}

func medicalByLabel(s string) (facility.Medical, bool) {
	for i, m := range facility.MedicalItems {
		if m.Label == s {
			return facility.Medical(i), true
		}
	}
	return 0, false
}

func parseCare(s string) (facility.CareLevel, bool) {
	if c, ok := facility.ParseCareLevel(s); ok {
		return c, true
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < int(facility.NumCareLevels) {
		return facility.CareLevel(n), true
	}
	return 0, false
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "1", "true", "on", "yes":
		return true, true
	case "0", "false", "off", "no":
		return false, true
	}
	return false, false
}

// parseYen reads an amount of yen: "150000", "150,000", "150000円",
// "15万", "15.5万円".
func parseYen(s string) (int64, bool) {
	s = strings.TrimSuffix(strings.ReplaceAll(s, ",", ""), "円")
	mult := 1.0
	if t, ok := strings.CutSuffix(s, "万"); ok {
		s, mult = t, 10000
	}
	if s == "" || len(s) > 15 {
		return 0, false
	}
	if mult == 1 {
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil && n >= 0 && n <= 1e10
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e6 || strings.ContainsAny(s, "eEpPxX") {
		return 0, false
	}
	return int64(math.Round(f * mult)), true
}

// normalize folds full-width digits and signs to ASCII (families type them
// on phones).
func normalize(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r >= 0x3000 }) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '０' && r <= '９':
			r = '0' + (r - '０')
		case r >= 'Ａ' && r <= 'Ｚ':
			r = 'A' + (r - 'Ａ')
		case r >= 'ａ' && r <= 'ｚ':
			r = 'a' + (r - 'ａ')
		case r == '．':
			r = '.'
		case r == '，' || r == '、':
			r = ','
		case r == '－' || r == '−':
			r = '-'
		case r == '\u3000':
			r = ' '
		case r == '＿':
			r = '_'
		}
		b.WriteRune(r)
	}
	return b.String()
}
