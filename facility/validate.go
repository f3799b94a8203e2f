package facility

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrNotFound is returned (wrapped) when a facility asked for by id or
// office number does not exist.
var ErrNotFound = errors.New("施設が見つかりません")

var (
	officeNumberRE    = regexp.MustCompile(`^[0-9]{10}$`)
	corporateNumberRE = regexp.MustCompile(`^[0-9]{13}$`)
	muniCodeRE        = regexp.MustCompile(`^[0-9]{6}$`)
)

// ValidationError lists what is wrong with a facility, field by field
// (keys are the column names of EditableFields and the others below).
type ValidationError map[string]string

func (e ValidationError) Error() string {
	var parts []string
	for k, v := range e {
		parts = append(parts, k+": "+v)
	}
	return "施設の内容に誤りがあります: " + strings.Join(parts, "; ")
}

// Validate checks the invariants the catalog relies on (the database
// enforces the same ones).
func (f *Facility) Validate() error {
	e := ValidationError{}
	if _, ok := f.Type.Info(); !ok {
		e["type"] = fmt.Sprintf("種類「%s」は扱っていません", f.Type)
	}
	if strings.TrimSpace(f.Name) == "" {
		e["name"] = "施設名を入力してください"
	}
	if f.OfficeNumber != "" && !officeNumberRE.MatchString(f.OfficeNumber) {
		e["office_number"] = "事業所番号は10桁の数字です"
	}
	if f.CorporateNumber != "" && !corporateNumberRE.MatchString(f.CorporateNumber) {
		e["corporate_number"] = "法人番号は13桁の数字です"
	}
	if f.PrefCode < 1 || f.PrefCode > 47 {
		e["pref_code"] = "都道府県が正しくありません"
	}
	if !muniCodeRE.MatchString(f.MuniCode) {
		e["muni_code"] = "市区町村コードは6桁の数字です"
	}
	if f.Lat < 20 || f.Lat > 46 || f.Lng < 122 || f.Lng > 154 {
		e["location"] = "位置が日本国内ではありません"
	}
	if f.Capacity < 0 {
		e["capacity"] = "定員は0以上です"
	}
	if f.InitialCost < -1 {
		e["initial_cost"] = "入居時費用は0円以上です"
	}
	m := f.Monthly
	if m.Rent < 0 || m.Management < 0 || m.Food < 0 || m.Utilities < 0 || m.CareExtra < 0 || m.Other < 0 {
		e["monthly"] = "月額費用は0円以上です"
	}
	if f.Dementia > Yes {
		e["dementia"] = "認知症の受入れが正しくありません"
	}
	for i, a := range f.Medical {
		if a > Yes {
			e["medical"] = fmt.Sprintf("%sの受入れが正しくありません", Medical(i).Label())
		}
	}
	if f.Features >= 1<<len(FeatureItems) {
		e["features"] = "不明な特徴があります"
	}
	seen := map[string]bool{}
	for _, v := range f.Vacancies {
		if strings.TrimSpace(v.RoomType) == "" || v.Available < 0 || v.ConfirmedAt.IsZero() || seen[v.RoomType] {
			e["vacancies"] = "空室は部屋の種類ごとに、0以上の数と確認日時が必要です"
		}
		seen[v.RoomType] = true
	}
	if len(e) > 0 {
		return e
	}
	return nil
}

// EditableFields are the fields facility staff may keep themselves (the
// column names in the database). Once edited, a field is recorded in the
// facility's edited_fields and an open-data import never overwrites it.
var EditableFields = []string{
	"name", "kana", "operator", "address", "building", "phone", "fax", "url", "capacity", "opened_on",
	"initial_cost", "rent", "management", "food", "utilities", "care_extra", "other",
	"care_levels", "dementia", "medical", "features",
}

// IsEditableField reports whether name is one of EditableFields.
func IsEditableField(name string) bool {
	for _, f := range EditableFields {
		if f == name {
			return true
		}
	}
	return false
}
