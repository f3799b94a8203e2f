// Package facility is the domain model of a care facility: what families and
// consultants compare (type, costs, acceptance, medical items, features,
// vacancies). It has no dependencies on storage or HTTP.
package facility

import (
	"time"
)

// Type is a facility type. The string values are stable identifiers used in
// the database, URLs and the API.
type Type string

const (
	KaigoYuryo   Type = "kaigo_yuryo"   // 介護付き有料老人ホーム
	JutakuYuryo  Type = "jutaku_yuryo"  // 住宅型有料老人ホーム
	Sakoju       Type = "sakoju"        // サービス付き高齢者向け住宅
	GroupHome    Type = "group_home"    // グループホーム (認知症対応型共同生活介護)
	Tokuyo       Type = "tokuyo"        // 特別養護老人ホーム
	ChiikiTokuyo Type = "chiiki_tokuyo" // 地域密着型特別養護老人ホーム
	Roken        Type = "roken"         // 介護老人保健施設
	Iryoin       Type = "iryoin"        // 介護医療院
	CareHouse    Type = "care_house"    // ケアハウス (軽費老人ホーム)
)

// TypeInfo explains a type to families.
type TypeInfo struct {
	Type  Type
	Label string // full Japanese name
	Short string // short label for lists
	// Explain is one plain sentence shown where the type appears.
	Explain string
	// CommunityBased types (地域密着) take only residents of the municipality.
	CommunityBased bool
	// MinCareLevel is the lowest care level normally admitted.
	MinCareLevel CareLevel
}

// Types lists every type in display order.
var Types = []TypeInfo{
	{KaigoYuryo, "介護付き有料老人ホーム", "介護付き有料", "施設の職員が24時間体制で介護を行う民間の老人ホームです。", false, Independent},
	{JutakuYuryo, "住宅型有料老人ホーム", "住宅型有料", "生活支援付きの住まいで、介護は外部の介護サービスを契約して受けます。", false, Independent},
	{Sakoju, "サービス付き高齢者向け住宅", "サ高住", "安否確認と生活相談が付いた高齢者向けの賃貸住宅です。", false, Independent},
	{GroupHome, "グループホーム", "グループホーム", "認知症の方が少人数で共同生活を送る住まいです。原則としてその市区町村に住民票がある方が対象です。", true, Support2},
	{Tokuyo, "特別養護老人ホーム", "特養", "公的な介護施設で、原則として要介護3以上の方が入居できます。費用が比較的安いのが特徴です。", false, Care3},
	{ChiikiTokuyo, "地域密着型特別養護老人ホーム", "地域密着型特養", "定員29人以下の特養で、その市区町村に住民票がある要介護3以上の方が対象です。", true, Care3},
	{Roken, "介護老人保健施設", "老健", "病院から自宅へ戻るためのリハビリを行う公的施設で、入所は原則として数か月です。", false, Care1},
	{Iryoin, "介護医療院", "介護医療院", "長期の療養と医療的ケアが必要な方のための公的施設です。", false, Care1},
	{CareHouse, "ケアハウス", "ケアハウス", "身の回りのことができる方が低い費用で暮らせる軽費老人ホームです。", false, Independent},
}

// Info returns the description of t and whether t is known.
func (t Type) Info() (TypeInfo, bool) {
	for _, ti := range Types {
		if ti.Type == t {
			return ti, true
		}
	}
	return TypeInfo{}, false
}

// Label is the full Japanese name, or the raw value if unknown.
func (t Type) Label() string {
	if ti, ok := t.Info(); ok {
		return ti.Label
	}
	return string(t)
}

// CareLevel is 自立, 要支援1–2 or 要介護1–5, in increasing order of need.
type CareLevel uint8

const (
	Independent CareLevel = iota // 自立
	Support1                     // 要支援1
	Support2                     // 要支援2
	Care1                        // 要介護1
	Care2                        // 要介護2
	Care3                        // 要介護3
	Care4                        // 要介護4
	Care5                        // 要介護5
	NumCareLevels
)

var careLevelLabels = [NumCareLevels]string{"自立", "要支援1", "要支援2", "要介護1", "要介護2", "要介護3", "要介護4", "要介護5"}

func (c CareLevel) String() string {
	if c < NumCareLevels {
		return careLevelLabels[c]
	}
	return "不明"
}

// ParseCareLevel accepts the Japanese label ("要介護3").
func ParseCareLevel(s string) (CareLevel, bool) {
	for i, l := range careLevelLabels {
		if l == s {
			return CareLevel(i), true
		}
	}
	return 0, false
}

// CareLevels is a set of care levels, one bit per level.
type CareLevels uint8

func (s CareLevels) Has(c CareLevel) bool { return s&(1<<c) != 0 }

func (s CareLevels) With(c CareLevel) CareLevels { return s | 1<<c }

// CareLevelRange is the set from lo to hi inclusive.
func CareLevelRange(lo, hi CareLevel) CareLevels {
	var s CareLevels
	for c := lo; c <= hi && c < NumCareLevels; c++ {
		s = s.With(c)
	}
	return s
}

// Accept is the answer to "can you take someone who needs X": ○, △ (要相談) or ×.
type Accept uint8

const (
	No      Accept = iota // ×
	Consult               // △ 要相談
	Yes                   // ○
)

func (a Accept) Symbol() string { return [...]string{"×", "△", "○"}[a%3] }

// Label is the symbol with its meaning, for screen readers and the legend.
func (a Accept) Label() string { return [...]string{"受入不可", "要相談", "受入可"}[a%3] }

// Medical is a medical need, an index into MedicalItems.
type Medical uint8

// MedicalItems are the medical needs families ask about, in display order.
// Their keys are stable (URLs, API, database).
var MedicalItems = []struct {
	Key   string
	Label string
}{
	{"irou", "胃ろう"},
	{"keibi", "経鼻経管栄養"},
	{"ivh", "IVH(中心静脈栄養)"},
	{"insulin", "インスリン"},
	{"oxygen", "在宅酸素"},
	{"suction", "たん吸引"},
	{"dialysis", "人工透析"},
	{"stoma", "ストーマ"},
	{"catheter", "尿道カテーテル"},
	{"tracheostomy", "気管切開"},
	{"ventilator", "人工呼吸器"},
	{"bedsore", "褥瘡"},
	{"terminal", "終末期ケア(看取り)"},
	{"als", "ALS・難病"},
}

// NumMedical is the number of medical items.
const NumMedical = 14

// MedicalByKey finds a medical item by its key.
func MedicalByKey(key string) (Medical, bool) {
	for i, m := range MedicalItems {
		if m.Key == key {
			return Medical(i), true
		}
	}
	return 0, false
}

func (m Medical) Label() string { return MedicalItems[m].Label }
func (m Medical) Key() string   { return MedicalItems[m].Key }

// Feature is a facility feature, one bit of Features.
type Feature uint8

// FeatureItems in display order; keys are stable.
var FeatureItems = []struct {
	Key   string
	Label string
}{
	{"nurse24", "24時間看護"},
	{"mitori", "看取り対応"},
	{"couple", "夫婦入居可"},
	{"private_room", "個室あり"},
	{"trial", "体験入居可"},
	{"rehab", "リハビリ充実"},
	{"station", "駅近(徒歩10分以内)"},
	{"welfare", "生活保護の方も相談可"},
	{"pet", "ペット可"},
	{"no_initial", "入居金0円プランあり"},
}

// FeatureByKey finds a feature by its key.
func FeatureByKey(key string) (Feature, bool) {
	for i, f := range FeatureItems {
		if f.Key == key {
			return Feature(i), true
		}
	}
	return 0, false
}

func (f Feature) Label() string { return FeatureItems[f].Label }
func (f Feature) Key() string   { return FeatureItems[f].Key }

// Features is a set of features.
type Features uint32

func (s Features) Has(f Feature) bool      { return s&(1<<f) != 0 }
func (s Features) With(f Feature) Features { return s | 1<<f }

// HasAll reports whether s contains every feature of want.
func (s Features) HasAll(want Features) bool { return s&want == want }

// Monthly is the monthly cost breakdown in yen (税込). The total is derived,
// never stored.
type Monthly struct {
	Rent       int64 // 賃料
	Management int64 // 管理費
	Food       int64 // 食費
	Utilities  int64 // 水道光熱費
	CareExtra  int64 // 上乗せ介護費
	Other      int64 // その他
}

// Total is the monthly total.
func (m Monthly) Total() int64 {
	return m.Rent + m.Management + m.Food + m.Utilities + m.CareExtra + m.Other
}

// Vacancy is the number of free rooms of one room type, with when it was
// last confirmed by the facility (or by a consultant).
type Vacancy struct {
	RoomType    string // e.g. 個室, 2人部屋, ユニット型個室
	Available   int
	ConfirmedAt time.Time
}

// Facility is one care facility.
type Facility struct {
	ID              int64
	OfficeNumber    string // 事業所番号 (10 digits); empty for facilities without one
	Type            Type
	Name            string
	Kana            string
	Operator        string // 法人の名称
	CorporateNumber string // 法人番号 (13 digits) or empty
	PrefCode        int    // 1–47
	MuniCode        string // 6-digit 全国地方公共団体コード with check digit
	Address         string // full address including the prefecture
	Building        string // 方書
	Lat, Lng        float64
	Phone           string
	Fax             string
	URL             string
	Capacity        int        // 0 = unknown
	OpenedOn        time.Time  // zero = unknown
	InitialCost     int64      // 入居一時金 / 入居時費用, yen; -1 = unknown
	Monthly         Monthly    // all zero = unknown (see HasCosts)
	CareLevels      CareLevels // accepted care levels
	Dementia        Accept
	Medical         [NumMedical]Accept
	Features        Features
	Vacancies       []Vacancy
	Partner         bool // 提携施設
	Demo            bool // costs/acceptance/vacancies are synthetic demo values
	UpdatedAt       time.Time
}

// HasCosts reports whether the facility's costs are known.
func (f *Facility) HasCosts() bool { return f.Monthly.Total() > 0 && f.InitialCost >= 0 }

// AvailableRooms sums the vacancies.
func (f *Facility) AvailableRooms() int {
	n := 0
	for _, v := range f.Vacancies {
		n += v.Available
	}
	return n
}

// VacancyConfirmedAt is the most recent confirmation time of any room type.
func (f *Facility) VacancyConfirmedAt() time.Time {
	var t time.Time
	for _, v := range f.Vacancies {
		if v.ConfirmedAt.After(t) {
			t = v.ConfirmedAt
		}
	}
	return t
}
