package facility

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// Editing by a facility's staff (the portal): what they type, how it is
// read and checked, what one save changes, and how a save on a stale form
// is refused. Storage applies a Change in one transaction and records it
// as an Edit.

// Section is a part of a facility its staff edit and save on its own.
type Section string

const (
	SectionVacancies  Section = "vacancies"
	SectionCosts      Section = "costs"
	SectionAcceptance Section = "acceptance"
	SectionFeatures   Section = "features"
)

// VacanciesField is the name recorded for the vacancy rows (in Edit.Fields,
// ConflictError and the facility's edited_fields).
const VacanciesField = "vacancies"

// CostFields are the cost columns, in the order of the form.
var CostFields = []string{"initial_cost", "rent", "management", "food", "utilities", "care_extra", "other"}

// Fields are the column names a save of the section writes.
func (s Section) Fields() []string {
	switch s {
	case SectionVacancies:
		return []string{VacanciesField}
	case SectionCosts:
		return CostFields
	case SectionAcceptance:
		return []string{"care_levels", "dementia", "medical"}
	case SectionFeatures:
		return []string{"features"}
	}
	return nil
}

// Label is the section's heading.
func (s Section) Label() string {
	switch s {
	case SectionVacancies:
		return "空室状況"
	case SectionCosts:
		return "費用"
	case SectionAcceptance:
		return "受け入れ条件"
	case SectionFeatures:
		return "特徴"
	}
	return string(s)
}

var fieldLabels = map[string]string{
	VacanciesField: "空室", "initial_cost": "入居時費用", "rent": "賃料", "management": "管理費", "food": "食費",
	"utilities": "水道光熱費", "care_extra": "上乗せ介護費", "other": "その他（月額）",
	"care_levels": "受け入れる介護度", "dementia": "認知症の受け入れ", "medical": "医療的ケアの受け入れ", "features": "特徴",
	"name": "施設名", "kana": "ふりがな", "operator": "運営法人", "address": "住所", "building": "建物名", "phone": "電話番号",
	"fax": "FAX", "url": "ホームページ", "capacity": "定員", "opened_on": "開設日",
}

// FieldLabel is the Japanese name of an edited field (a column name or
// VacanciesField); unknown names are returned as they are.
func FieldLabel(name string) string {
	if l, ok := fieldLabels[name]; ok {
		return l
	}
	return name
}

// FieldError is one problem with what was typed, for the field's id.
type FieldError struct{ Field, Message string }

// FieldErrors lists the problems of a form in the order of its fields.
type FieldErrors []FieldError

func (fe *FieldErrors) add(field, msg string) { *fe = append(*fe, FieldError{field, msg}) }

// Message is the message for field, or "".
func (fe FieldErrors) Message(field string) string {
	for _, e := range fe {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

func (fe FieldErrors) Error() string {
	var parts []string
	for _, e := range fe {
		parts = append(parts, e.Field+": "+e.Message)
	}
	return "入力内容に誤りがあります: " + strings.Join(parts, "; ")
}

// Limits of what a facility may enter.
const (
	MaxRoomTypes     = 20
	MaxRoomTypeRunes = 30
	MaxAvailable     = 999
	MaxInitialCost   = 100_000_000 // 1億円
	MaxMonthlyItem   = 2_000_000   // 200万円 per line
)

// fold turns full-width digits, commas and spaces (typed on phones) into
// ASCII and trims.
func fold(s string) string { return strings.TrimSpace(width.Fold.String(s)) }

// VacancyInput is one row of the vacancy form as typed.
type VacancyInput struct {
	RoomType  string
	Available string
	Remove    bool // the row is to be deleted
}

// ParseVacancies reads the vacancy rows (ConfirmedAt is left for storage
// to set: saving the form confirms every row). A row with neither a room
// type nor a number is skipped (the empty "add a room type" row). Errors
// are keyed room_type-N / available-N by the row's index.
func ParseVacancies(in []VacancyInput) ([]Vacancy, FieldErrors) {
	var out []Vacancy
	var fe FieldErrors
	seen := map[string]bool{}
	for i, row := range in {
		if row.Remove {
			continue
		}
		room := strings.Join(strings.Fields(row.RoomType), " ")
		num := fold(row.Available)
		if room == "" && num == "" {
			continue
		}
		rf, af := fmt.Sprintf("room_type-%d", i), fmt.Sprintf("available-%d", i)
		ok := true
		switch {
		case room == "":
			fe.add(rf, "部屋の種類を入力してください（例：個室、2人部屋）。")
			ok = false
		case utf8.RuneCountInString(room) > MaxRoomTypeRunes:
			fe.add(rf, fmt.Sprintf("部屋の種類は%d文字以内で入力してください。", MaxRoomTypeRunes))
			ok = false
		case seen[room]:
			fe.add(rf, "同じ部屋の種類が2回あります。1つにまとめてください。")
			ok = false
		}
		n, err := strconv.Atoi(num)
		switch {
		case num == "":
			fe.add(af, "空室の数を入力してください（空きがなければ 0）。")
			ok = false
		case err != nil || n < 0:
			fe.add(af, "空室の数は0以上の整数で入力してください（例：2）。")
			ok = false
		case n > MaxAvailable:
			fe.add(af, fmt.Sprintf("空室の数は%d以下で入力してください。", MaxAvailable))
			ok = false
		}
		seen[room] = true
		if ok {
			out = append(out, Vacancy{RoomType: room, Available: n})
		}
	}
	if len(out) > MaxRoomTypes {
		fe.add("vacancies", fmt.Sprintf("部屋の種類は%d種類までです。", MaxRoomTypes))
	}
	if len(fe) > 0 {
		return nil, fe
	}
	return out, nil
}

// CostsInput is the cost form as typed: yen amounts such as "150000",
// "150,000", "150,000円", "15万", "15.5万円" or "8万5000円", full-width
// digits accepted.
type CostsInput struct {
	InitialCost                                         string // empty: not published (未定・非公開)
	Rent, Management, Food, Utilities, CareExtra, Other string // empty: 0
}

// Value is the typed text of a cost field (a CostFields name).
func (in CostsInput) Value(field string) string {
	switch field {
	case "initial_cost":
		return in.InitialCost
	case "rent":
		return in.Rent
	case "management":
		return in.Management
	case "food":
		return in.Food
	case "utilities":
		return in.Utilities
	case "care_extra":
		return in.CareExtra
	case "other":
		return in.Other
	}
	return ""
}

// CostsInputOf is the form showing the facility's stored costs.
func CostsInputOf(f Facility) CostsInput {
	amount := func(v int64) string { return strconv.FormatInt(v, 10) }
	in := CostsInput{Rent: amount(f.Monthly.Rent), Management: amount(f.Monthly.Management), Food: amount(f.Monthly.Food),
		Utilities: amount(f.Monthly.Utilities), CareExtra: amount(f.Monthly.CareExtra), Other: amount(f.Monthly.Other)}
	if f.InitialCost >= 0 {
		in.InitialCost = amount(f.InitialCost)
	}
	return in
}

// ParseCosts reads the cost form into InitialCost (-1: not published) and
// the monthly breakdown. Errors are keyed by the CostFields names.
func ParseCosts(in CostsInput) (initial int64, m Monthly, fe FieldErrors) {
	initial = -1
	if s := fold(in.InitialCost); s != "" {
		v, msg := parseYen(s, MaxInitialCost)
		if msg != "" {
			fe.add("initial_cost", FieldLabel("initial_cost")+msg)
		}
		initial = v
	}
	for _, c := range []struct {
		name string
		dst  *int64
	}{{"rent", &m.Rent}, {"management", &m.Management}, {"food", &m.Food}, {"utilities", &m.Utilities},
		{"care_extra", &m.CareExtra}, {"other", &m.Other}} {
		s := fold(in.Value(c.name))
		if s == "" {
			continue
		}
		v, msg := parseYen(s, MaxMonthlyItem)
		if msg != "" {
			fe.add(c.name, FieldLabel(c.name)+msg)
		}
		*c.dst = v
	}
	if len(fe) > 0 {
		return -1, Monthly{}, fe
	}
	return initial, m, nil
}

// parseYen reads an amount of yen; the message (to follow the field's
// label) says what is wrong, "" when nothing is.
func parseYen(s string, max int64) (int64, string) {
	s = strings.ReplaceAll(strings.ReplaceAll(s, ",", ""), " ", "")
	s = strings.TrimSuffix(s, "円")
	if strings.HasPrefix(s, "-") {
		return 0, "は0円以上で入力してください。"
	}
	var v int64
	if man, rest, ok := strings.Cut(s, "万"); ok && rest != "" {
		// 8万5000
		m, err1 := strconv.ParseInt(man, 10, 64)
		r, err2 := strconv.ParseInt(rest, 10, 64)
		if err1 != nil || err2 != nil || m < 0 || r < 0 || r >= 10000 || m > max/10000 {
			return 0, "は金額を数字で入力してください（例：150000 または 15万）。"
		}
		v = m*10000 + r
	} else if t, ok := strings.CutSuffix(s, "万"); ok {
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || t == "" || strings.ContainsAny(t, "eEpPxX+") || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, "は金額を数字で入力してください（例：150000 または 15万）。"
		}
		r := math.Round(f * 10000)
		if math.Abs(r-f*10000) > 1e-6 {
			return 0, "は1円単位で入力してください。"
		}
		if r > float64(max) {
			return 0, fmt.Sprintf("は%s以下で入力してください。", yenText(max))
		}
		v = int64(r)
	} else {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			if strings.Contains(s, ".") {
				return 0, "は1円単位の整数で入力してください（例：150000）。"
			}
			return 0, "は金額を数字で入力してください（例：150000 または 15万）。"
		}
		v = n
	}
	if v > max {
		return 0, fmt.Sprintf("は%s以下で入力してください。", yenText(max))
	}
	return v, ""
}

// yenText is 100000000 → "1億円", 2000000 → "200万円".
func yenText(v int64) string {
	switch {
	case v >= 100_000_000 && v%100_000_000 == 0:
		return strconv.FormatInt(v/100_000_000, 10) + "億円"
	case v >= 10_000 && v%10_000 == 0:
		return strconv.FormatInt(v/10_000, 10) + "万円"
	}
	return strconv.FormatInt(v, 10) + "円"
}

// AcceptKey is the stable key of an answer in forms and the API: "yes",
// "consult" or "no".
func (a Accept) Key() string { return [...]string{"no", "consult", "yes"}[a%3] }

// ParseAccept reads an AcceptKey.
func ParseAccept(s string) (Accept, bool) {
	switch s {
	case "yes":
		return Yes, true
	case "consult":
		return Consult, true
	case "no":
		return No, true
	}
	return No, false
}

// AcceptanceInput is the acceptance form as sent: the care levels ticked
// (labels such as 要介護3), and an AcceptKey for dementia and each medical
// item (by MedicalItems key).
type AcceptanceInput struct {
	CareLevels []string
	Dementia   string
	Medical    map[string]string
}

// Acceptance is what a facility accepts.
type Acceptance struct {
	CareLevels CareLevels
	Dementia   Accept
	Medical    [NumMedical]Accept
}

// AcceptanceOf is the facility's stored acceptance.
func AcceptanceOf(f Facility) Acceptance {
	return Acceptance{CareLevels: f.CareLevels, Dementia: f.Dementia, Medical: f.Medical}
}

// ParseAcceptance reads the acceptance form. Every item must be answered
// ○, △ or × (the form starts with the stored answers, so nothing is
// answered by accident). Errors are keyed care_levels, dementia and
// med-KEY.
func ParseAcceptance(in AcceptanceInput) (Acceptance, FieldErrors) {
	var a Acceptance
	var fe FieldErrors
	for _, l := range in.CareLevels {
		c, ok := ParseCareLevel(l)
		if !ok {
			fe.add("care_levels", "介護度の選び方が正しくありません。画面を開き直してください。")
			break
		}
		a.CareLevels = a.CareLevels.With(c)
	}
	var ok bool
	if a.Dementia, ok = ParseAccept(in.Dementia); !ok {
		fe.add("dementia", "認知症の受け入れを ○・△・× から選んでください。")
	}
	for i, m := range MedicalItems {
		if a.Medical[i], ok = ParseAccept(in.Medical[m.Key]); !ok {
			fe.add("med-"+m.Key, m.Label+"の受け入れを ○・△・× から選んでください。")
		}
	}
	if len(fe) > 0 {
		return Acceptance{}, fe
	}
	return a, nil
}

// ParseFeatures reads the feature keys ticked.
func ParseFeatures(keys []string) (Features, FieldErrors) {
	var s Features
	for _, k := range keys {
		f, ok := FeatureByKey(k)
		if !ok {
			return 0, FieldErrors{{"features", "特徴の選び方が正しくありません。画面を開き直してください。"}}
		}
		s = s.With(f)
	}
	return s, nil
}

// ErrNothingToConfirm: "変更なし" on a facility with no room types listed.
var ErrNothingToConfirm = errors.New("確認する空室情報がありません。部屋の種類と空室の数を入力してください。")

// Change is one save in the portal: one section of one facility, against
// the version the form was opened at.
type Change struct {
	FacilityID int64
	UserID     int64
	// Base is the facility's UpdatedAt when the form was rendered: if the
	// fields this change writes were edited since, the save is refused
	// with a ConflictError.
	Base time.Time
	// Key is the rendered form's idempotency key (32 hex digits): a second
	// submit of the same form changes nothing and is not a conflict.
	Key     string
	Section Section
	// Values holds the new values of the section's columns (costs,
	// acceptance, features).
	Values Facility
	// Vacancies are the new rows of SectionVacancies; every row is
	// confirmed now.
	Vacancies []Vacancy
	// ConfirmOnly (SectionVacancies): "変更なし" — the stored rows are
	// confirmed as they are.
	ConfirmOnly bool
}

// NewEditKey is the idempotency key a portal form is rendered with.
func NewEditKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// The notes recorded with an edit of the vacancies.
const (
	NoteVacanciesConfirmed = "空室状況を確認（変更なし）"
	NoteVacanciesUpdated   = "空室状況を更新"
)

// ChangedFields lists the fields of the change's section whose new values
// differ from cur, in the section's order; for the vacancies
// VacanciesField when the room types or counts differ (a save always
// confirms the rows, changed or not).
func (c Change) ChangedFields(cur Facility) []string {
	var out []string
	differs := func(field string, a, b any) {
		if a != b {
			out = append(out, field)
		}
	}
	v := c.Values
	switch c.Section {
	case SectionVacancies:
		if !c.ConfirmOnly && !sameVacancies(c.Vacancies, cur.Vacancies) {
			out = append(out, VacanciesField)
		}
	case SectionCosts:
		differs("initial_cost", v.InitialCost, cur.InitialCost)
		differs("rent", v.Monthly.Rent, cur.Monthly.Rent)
		differs("management", v.Monthly.Management, cur.Monthly.Management)
		differs("food", v.Monthly.Food, cur.Monthly.Food)
		differs("utilities", v.Monthly.Utilities, cur.Monthly.Utilities)
		differs("care_extra", v.Monthly.CareExtra, cur.Monthly.CareExtra)
		differs("other", v.Monthly.Other, cur.Monthly.Other)
	case SectionAcceptance:
		differs("care_levels", v.CareLevels, cur.CareLevels)
		differs("dementia", v.Dementia, cur.Dementia)
		differs("medical", v.Medical, cur.Medical)
	case SectionFeatures:
		differs("features", v.Features, cur.Features)
	}
	return out
}

// sameVacancies compares room types and counts, in any order.
func sameVacancies(a, b []Vacancy) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, v := range a {
		m[v.RoomType] = v.Available
	}
	for _, v := range b {
		if n, ok := m[v.RoomType]; !ok || n != v.Available {
			return false
		}
	}
	return true
}

// Note is the words recorded with the edit, given the fields it changed.
func (c Change) Note(changed []string) string {
	if c.Section == SectionVacancies {
		if len(changed) == 0 {
			return NoteVacanciesConfirmed
		}
		return NoteVacanciesUpdated
	}
	return c.Section.Label() + "を更新"
}

// Validate checks a change before storage applies it.
func (c Change) Validate() error {
	if c.FacilityID <= 0 || c.UserID <= 0 {
		return fmt.Errorf("facility change: no facility or user")
	}
	if len(c.Key) != 32 || strings.Trim(c.Key, "0123456789abcdef") != "" {
		return fmt.Errorf("facility change: bad idempotency key")
	}
	if c.Base.IsZero() {
		return fmt.Errorf("facility change: no base version")
	}
	switch c.Section {
	case SectionVacancies:
		if c.ConfirmOnly {
			return nil
		}
		seen := map[string]bool{}
		for _, v := range c.Vacancies {
			if strings.TrimSpace(v.RoomType) == "" || v.Available < 0 || v.Available > MaxAvailable || seen[v.RoomType] {
				return fmt.Errorf("facility change: invalid vacancy %q", v.RoomType)
			}
			seen[v.RoomType] = true
		}
		if len(c.Vacancies) > MaxRoomTypes {
			return fmt.Errorf("facility change: %d room types", len(c.Vacancies))
		}
		return nil
	case SectionCosts, SectionAcceptance, SectionFeatures:
		f := c.Values
		if f.InitialCost < -1 || f.InitialCost > MaxInitialCost {
			return fmt.Errorf("facility change: initial cost %d", f.InitialCost)
		}
		for _, v := range []int64{f.Monthly.Rent, f.Monthly.Management, f.Monthly.Food, f.Monthly.Utilities, f.Monthly.CareExtra, f.Monthly.Other} {
			if v < 0 || v > MaxMonthlyItem {
				return fmt.Errorf("facility change: monthly item %d", v)
			}
		}
		if f.Dementia > Yes || slices.ContainsFunc(f.Medical[:], func(a Accept) bool { return a > Yes }) ||
			f.Features >= 1<<len(FeatureItems) {
			return fmt.Errorf("facility change: invalid acceptance or features")
		}
		return nil
	}
	return fmt.Errorf("facility change: unknown section %q", c.Section)
}

// Edit is one recorded change of a facility (who, when, which fields).
type Edit struct {
	At       time.Time
	UserID   int64
	UserName string
	Fields   []string
	Note     string
}

// ConflictError refuses a save whose fields someone else changed after
// the form was opened. Current is the facility as stored now.
type ConflictError struct {
	Edits   []Edit // the edits since the form's base that touched its fields
	Current Facility
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("facility %d changed since the form was opened (%s)", e.Current.ID, strings.Join(e.Fields(), ", "))
}

// Fields are the field names changed since the form was opened, in the
// order of the section.
func (e *ConflictError) Fields() []string {
	var out []string
	for _, ed := range e.Edits {
		for _, f := range ed.Fields {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}
