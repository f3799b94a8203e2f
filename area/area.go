// Package area is the master of Japan's prefectures and municipalities
// (市区町村, including the wards of designated cities), embedded in the
// binary. It names areas, builds area pages, resolves the municipality of an
// imported facility and finds municipalities around a point.
//
// Municipality codes are the 6-digit 全国地方公共団体コード with check digit
// ("131016", as in MHLW open data); every lookup also takes the 5-digit form
// without check digit ("13101", as in URLs).
//
// Source: code4fukui/localgovjp, CC0 1.0 (see data/SOURCE.md).
package area

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
)

//go:embed data/prefectures.csv
var prefCSV []byte

//go:embed data/municipalities.csv
var muniCSV []byte

// Prefecture is a prefecture (都道府県). Look one up with Pref.
type Prefecture struct {
	Code     int     // 1–47 (JIS X 0401)
	Name     string  // 東京都
	Kana     string  // とうきょうと
	Short    string  // 東京
	Lat, Lng float64 // prefectural office
}

// Municipality is a municipality (市区町村) or a ward (区) of a designated city.
type Municipality struct {
	Code     string  // 6-digit 全国地方公共団体コード with check digit: "011011"
	Code5    string  // the same without check digit: "01101"
	PrefCode int     // 1–47
	Name     string  // normalised, without the source's space: "札幌市中央区"
	Kana     string  // "さっぽろしちゅうおうく"
	Lat, Lng float64 // town hall / ward office
	// Designated is true for the parent row of a designated city (政令指定都市,
	// e.g. 札幌市 011002). Facilities there carry the code of a ward, never
	// the parent's, so the parent row is left out of Within.
	Designated bool
	// Parent is the code of the designated city a ward belongs to ("011002"
	// for 札幌市中央区), empty otherwise.
	Parent string
	// Ward is the ward's own name ("中央区") for wards of a designated city,
	// empty otherwise.
	Ward string
}

// IsWard reports whether m is a ward of a designated city.
func (m Municipality) IsWard() bool { return m.Parent != "" }

type master struct {
	prefs   []Prefecture
	munis   []Municipality // in code order
	byCode5 map[string]int // index into munis
	byPref  [48][]int
	byName  map[string]int // prefCode|nameKey → index
	wardsOf map[string][]int
}

var (
	loadOnce sync.Once
	m        *master
)

func get() *master {
	loadOnce.Do(func() {
		var err error
		m, err = load(prefCSV, muniCSV)
		if err != nil {
			// The data is embedded and covered by tests: failing here is a
			// build defect, not a runtime condition.
			panic("area: embedded master: " + err.Error())
		}
	})
	return m
}

func load(prefData, muniData []byte) (*master, error) {
	ms := &master{byCode5: map[string]int{}, byName: map[string]int{}, wardsOf: map[string][]int{}}
	rows, err := readCSV(prefData, 6)
	if err != nil {
		return nil, fmt.Errorf("prefectures: %w", err)
	}
	for i, r := range rows {
		code, err := strconv.Atoi(r[0])
		if err != nil || code != i+1 {
			return nil, fmt.Errorf("prefectures line %d: code %q out of order", i+2, r[0])
		}
		lat, lng, err := latLng(r[4], r[5])
		if err != nil {
			return nil, fmt.Errorf("prefectures line %d: %w", i+2, err)
		}
		ms.prefs = append(ms.prefs, Prefecture{Code: code, Name: r[1], Kana: r[2], Short: r[3], Lat: lat, Lng: lng})
	}
	if len(ms.prefs) != 47 {
		return nil, fmt.Errorf("prefectures: %d rows, want 47", len(ms.prefs))
	}
	rows, err = readCSV(muniData, 6)
	if err != nil {
		return nil, fmt.Errorf("municipalities: %w", err)
	}
	// A designated city (政令指定都市) is the row whose name is the city part
	// of ward rows ("札幌市" for "札幌市 中央区"); it comes before its wards.
	hasWards := map[string]bool{}
	for _, r := range rows {
		if city, _, ok := strings.Cut(r[2], " "); ok {
			hasWards[r[1]+"|"+city] = true
		}
	}
	parentOf := map[string]string{} // prefCode|city name → parent code
	for i, r := range rows {
		line := i + 2
		code := r[0]
		if !ValidCode(code) {
			return nil, fmt.Errorf("municipalities line %d: bad code %q", line, code)
		}
		pc, err := strconv.Atoi(r[1])
		if err != nil || pc < 1 || pc > 47 || pc != prefOfCode(code) {
			return nil, fmt.Errorf("municipalities line %d: prefecture %q does not match code %s", line, r[1], code)
		}
		lat, lng, err := latLng(r[4], r[5])
		if err != nil {
			return nil, fmt.Errorf("municipalities line %d: %w", line, err)
		}
		mu := Municipality{Code: code, Code5: code[:5], PrefCode: pc, Kana: strings.ReplaceAll(r[3], " ", ""), Lat: lat, Lng: lng}
		if city, ward, ok := strings.Cut(r[2], " "); ok {
			mu.Name = city + ward
			mu.Ward = ward
			mu.Parent = parentOf[r[1]+"|"+city]
			if mu.Parent == "" {
				return nil, fmt.Errorf("municipalities line %d: ward %q before its city", line, r[2])
			}
		} else {
			mu.Name = r[2]
			if hasWards[r[1]+"|"+mu.Name] {
				mu.Designated = true
				parentOf[r[1]+"|"+mu.Name] = code
			}
		}
		if _, dup := ms.byCode5[mu.Code5]; dup {
			return nil, fmt.Errorf("municipalities line %d: duplicate code %s", line, code)
		}
		idx := len(ms.munis)
		ms.munis = append(ms.munis, mu)
		ms.byCode5[mu.Code5] = idx
		ms.byPref[pc] = append(ms.byPref[pc], idx)
		key := nameKey(pc, mu.Name)
		if _, dup := ms.byName[key]; dup {
			return nil, fmt.Errorf("municipalities line %d: duplicate name %s in prefecture %d", line, mu.Name, pc)
		}
		ms.byName[key] = idx
		if mu.Parent != "" {
			ms.wardsOf[mu.Parent] = append(ms.wardsOf[mu.Parent], idx)
		}
	}
	return ms, nil
}

func readCSV(data []byte, cols int) ([][]string, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = cols
	rows, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) < 2 {
		return nil, fmt.Errorf("no rows")
	}
	return rows[1:], nil
}

func latLng(a, b string) (float64, float64, error) {
	lat, err1 := strconv.ParseFloat(a, 64)
	lng, err2 := strconv.ParseFloat(b, 64)
	if err1 != nil || err2 != nil || lat < 20 || lat > 46 || lng < 122 || lng > 154 {
		return 0, 0, fmt.Errorf("bad coordinates %q,%q", a, b)
	}
	return lat, lng, nil
}

func prefOfCode(code string) int {
	n, _ := strconv.Atoi(code[:2])
	return n
}

// CheckDigit computes the check digit of a 5-digit 全国地方公共団体コード
// (JIS X 0402): 11 − (Σ digit×weight mod 11) with weights 6,5,4,3,2, keeping
// the last digit. It returns -1 if code5 is not 5 ASCII digits.
func CheckDigit(code5 string) int {
	if len(code5) != 5 {
		return -1
	}
	sum := 0
	for i := 0; i < 5; i++ {
		c := code5[i]
		if c < '0' || c > '9' {
			return -1
		}
		sum += int(c-'0') * (6 - i)
	}
	return (11 - sum%11) % 10
}

// ValidCode reports whether code is a well-formed 6-digit code whose check
// digit is right (it does not say the municipality exists).
func ValidCode(code string) bool {
	if len(code) != 6 {
		return false
	}
	cd := CheckDigit(code[:5])
	return cd >= 0 && int(code[5]-'0') == cd
}

// Code6 turns a 5-digit code into the 6-digit form with check digit.
func Code6(code5 string) (string, bool) {
	cd := CheckDigit(code5)
	if cd < 0 {
		return "", false
	}
	return code5 + strconv.Itoa(cd), true
}

// aliases maps codes of municipalities that no longer exist to their
// successor, so that old files and old links still resolve.
var aliases = map[string]string{
	// 浜松市, 2024-01-01: 中区・東区・西区・南区 → 中央区; 北区 (most of it)・浜北区 → 浜名区.
	"22131": "22138", "22132": "22138", "22133": "22138", "22134": "22138",
	"22135": "22139", "22136": "22139",
}

// Prefectures returns the 47 prefectures in code order. The slice is a copy.
func Prefectures() []Prefecture {
	return append([]Prefecture(nil), get().prefs...)
}

// Pref returns the prefecture with the given code (1–47).
func Pref(code int) (Prefecture, bool) {
	ms := get()
	if code < 1 || code > len(ms.prefs) {
		return Prefecture{}, false
	}
	return ms.prefs[code-1], true
}

// PrefByName finds a prefecture by its full name (東京都) or short name (東京).
func PrefByName(name string) (Prefecture, bool) {
	name = strings.TrimSpace(name)
	for _, p := range get().prefs {
		if p.Name == name || p.Short == name {
			return p, true
		}
	}
	return Prefecture{}, false
}

// Muni finds a municipality by its 6-digit code (check digit verified) or its
// 5-digit code; a 4-digit code is read as a 5-digit one that lost its leading
// zero (北海道 "1101"). Codes of municipalities merged away resolve to their
// successor.
func Muni(code string) (Municipality, bool) {
	ms := get()
	code = strings.TrimSpace(code)
	switch len(code) {
	case 6:
		if !ValidCode(code) {
			return Municipality{}, false
		}
		code = code[:5]
	case 4:
		code = "0" + code
	case 5:
	default:
		return Municipality{}, false
	}
	if CheckDigit(code) < 0 {
		return Municipality{}, false
	}
	if a, ok := aliases[code]; ok {
		code = a
	}
	i, ok := ms.byCode5[code]
	if !ok {
		return Municipality{}, false
	}
	return ms.munis[i], true
}

// MunisOf returns the municipalities of a prefecture in code order: each
// designated city's parent row comes right before its wards.
func MunisOf(pref int) []Municipality {
	ms := get()
	if pref < 1 || pref > 47 {
		return nil
	}
	out := make([]Municipality, len(ms.byPref[pref]))
	for i, idx := range ms.byPref[pref] {
		out[i] = ms.munis[idx]
	}
	return out
}

// All returns every municipality in code order (parents of designated cities
// included).
func All() []Municipality {
	return append([]Municipality(nil), get().munis...)
}

// Wards returns the wards of a designated city given the city's code, nil
// for any other municipality.
func Wards(cityCode string) []Municipality {
	c, ok := Muni(cityCode)
	if !ok || !c.Designated {
		return nil
	}
	ms := get()
	var out []Municipality
	for _, idx := range ms.wardsOf[c.Code] {
		out = append(out, ms.munis[idx])
	}
	return out
}

// ByName resolves a municipality from its prefecture and name as written in
// MHLW files and addresses. It is tolerant of what those contain: spaces
// ("札幌市 中央区"), full-width/half-width variants, ケ/ヶ (龍ヶ崎市 = 龍ケ崎市) and a
// leading district name (雨竜郡秩父別町).
func ByName(pref int, name string) (Municipality, bool) {
	ms := get()
	if pref < 1 || pref > 47 {
		return Municipality{}, false
	}
	if i, ok := ms.byName[nameKey(pref, name)]; ok {
		return ms.munis[i], true
	}
	// 郡 prefix: "二海郡八雲町" → "八雲町"; keep names that merely contain 郡
	// (郡山市, 大和郡山市) working by trying the full name first (above).
	if _, rest, ok := strings.Cut(name, "郡"); ok && rest != "" {
		if i, ok := ms.byName[nameKey(pref, rest)]; ok {
			return ms.munis[i], true
		}
	}
	return Municipality{}, false
}

// nameKey normalises a municipality name for lookups.
func nameKey(pref int, name string) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(pref))
	b.WriteByte('|')
	for _, r := range name {
		switch {
		case r == ' ' || r == '\u3000' || r == '\t':
			continue
		case r == 'ヶ' || r == 'ヵ' || r == 'ｹ':
			// 龍ケ崎/龍ヶ崎, 霞ヶ浦/霞ケ浦: written both ways in official data.
			r = 'ケ'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Nearby is a municipality with its distance from a point.
type Nearby struct {
	Municipality
	Km float64
}

// Within returns the municipalities whose town hall lies within km of the
// point, nearest first. Parent rows of designated cities are left out (their
// wards are listed instead), so that the result matches facilities' codes.
func Within(lat, lng, km float64) []Nearby {
	ms := get()
	var out []Nearby
	for _, mu := range ms.munis {
		if mu.Designated {
			continue
		}
		if d := DistanceKm(lat, lng, mu.Lat, mu.Lng); d <= km {
			out = append(out, Nearby{Municipality: mu, Km: d})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Km < out[j].Km })
	return out
}

// earthRadiusKm is the mean Earth radius (IUGG).
const earthRadiusKm = 6371.0088

// DistanceKm is the great-circle (haversine) distance between two points in
// kilometres.
func DistanceKm(lat1, lng1, lat2, lng2 float64) float64 {
	const rad = math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLng := (lng2 - lng1) * rad
	s1 := math.Sin(dLat / 2)
	s2 := math.Sin(dLng / 2)
	a := s1*s1 + math.Cos(lat1*rad)*math.Cos(lat2*rad)*s2*s2
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(a)))
}
