// Package intake is the public intake of the placement service: the three
// requests a family sends from the site (相談申込, 資料請求, 見学希望), the
// form they fill in with its validation in plain Japanese, the consent to
// the versioned privacy text, and the case and e-mails a valid request
// becomes. It has no dependencies on storage or HTTP.
package intake

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"carematch/area"
	"carematch/facility"
)

// Kind is what the family asks for. The values are stable (URLs, database).
type Kind string

const (
	Consultation Kind = "consultation" // 相談申込 (free consultation)
	Brochure     Kind = "brochure"     // 資料請求 (brochures from one or several facilities)
	Tour         Kind = "tour"         // 見学希望 (tour request)
)

// Kinds lists the kinds in display order.
var Kinds = []Kind{Consultation, Brochure, Tour}

// ParseKind accepts a kind's stable value.
func ParseKind(s string) (Kind, bool) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, true
		}
	}
	return "", false
}

// Label is the Japanese name of the request.
func (k Kind) Label() string {
	switch k {
	case Consultation:
		return "無料入居相談のお申し込み"
	case Brochure:
		return "資料請求"
	case Tour:
		return "見学のお申し込み"
	}
	return string(k)
}

// Short is the name used in sentences and mail subjects.
func (k Kind) Short() string {
	switch k {
	case Consultation:
		return "入居相談"
	case Brochure:
		return "資料請求"
	case Tour:
		return "見学"
	}
	return string(k)
}

// MaxFacilities is how many facilities one request may name.
func (k Kind) MaxFacilities() int {
	if k == Tour {
		return 3
	}
	return 10
}

// Choice lists. The stored value is the Japanese label itself, so a case
// reads the same in the database, in Metabase and on screen.
var (
	Relationships = []string{"本人", "子", "子の配偶者", "配偶者", "兄弟姉妹", "その他の親族", "ケアマネジャー・病院の相談員", "その他"}
	AgeBands      = []string{"64歳以下", "65〜69歳", "70〜74歳", "75〜79歳", "80〜84歳", "85〜89歳", "90〜94歳", "95歳以上"}
	// CareLevels are facility's levels plus what a family may answer
	// before the certification is done.
	CareLevels     = append(careLevelLabels(), "申請中", "わからない")
	DementiaLevels = []string{"なし", "軽度・疑いあり", "あり", "わからない"}
	BudgetsMonthly = []string{"10万円未満", "10〜15万円", "15〜20万円", "20〜25万円", "25〜30万円", "30万円以上", "未定"}
	BudgetsInitial = []string{"0円を希望", "100万円未満", "100〜500万円", "500〜1000万円", "1000万円以上", "未定"}
	Timings        = []string{"すぐにでも（1か月以内）", "3か月以内", "半年以内", "1年以内", "未定・情報収集中"}
	TourTimes      = []string{"午前", "午後", "どちらでも"}
)

func careLevelLabels() []string {
	var out []string
	for c := facility.Independent; c < facility.NumCareLevels; c++ {
		out = append(out, c.String())
	}
	return out
}

// Form is what the person typed, as strings so that an invalid value can be
// shown back exactly as typed. Validate normalises it in place.
type Form struct {
	Kind Kind

	// Contact: who we call back.
	Relationship string
	ContactName  string
	Phone        string // normalised to digits by Validate
	Email        string
	PostalCode   string // normalised to NNN-NNNN by Validate
	Address      string // brochures go by post

	// The person who would move in. CareLevel, Dementia, Medical and Note
	// are health information (要配慮個人情報).
	AgeBand   string
	CareLevel string
	Dementia  string
	Medical   []string // facility.MedicalItems keys

	// Wishes.
	BudgetMonthly string
	BudgetInitial string
	PrefCode      string
	Municipality  string
	Timing        string
	TourDate1     string // YYYY-MM-DD (input type=date)
	TourDate2     string
	TourTime      string
	Note          string

	Facilities []int64

	// Consent to the privacy text of version PrivacyVersion.
	Consent        bool
	PrivacyVersion string
}

// FieldError is one invalid field with a message safe to show.
type FieldError struct {
	Field   string // the form field name (and the id of its input)
	Message string
}

// Errors are the problems of a form, in the order of the fields on the page.
type Errors []FieldError

// For returns the message of a field, "" if it is valid.
func (e Errors) For(field string) string {
	for _, fe := range e {
		if fe.Field == field {
			return fe.Message
		}
	}
	return ""
}

// HasHealthData reports whether the form carries health information.
func (f *Form) HasHealthData() bool {
	return f.CareLevel != "" || f.Dementia != "" || len(f.Medical) > 0 || strings.TrimSpace(f.Note) != ""
}

// FacilityLookup tells whether a facility exists and its name.
type FacilityLookup func(id int64) (name string, ok bool)

const (
	maxName    = 50
	maxAddress = 120
	maxMuni    = 30
	maxNote    = 1000
)

// Validate checks every field, normalising phone, postal code and e-mail
// in place, and returns the problems in the order of the page. now is the
// time of the request (tour dates must lie ahead); facilities resolves the
// chosen facility ids.
func (f *Form) Validate(now time.Time, privacy Privacy, facilities FacilityLookup) Errors {
	var errs Errors
	add := func(field, msg string) { errs = append(errs, FieldError{field, msg}) }

	f.ContactName = strings.TrimSpace(f.ContactName)
	f.Address = strings.TrimSpace(f.Address)
	f.Municipality = strings.TrimSpace(f.Municipality)
	f.Note = strings.TrimSpace(f.Note)

	// Facilities come first on the page.
	switch {
	case f.Kind == Brochure && len(f.Facilities) == 0:
		add("facility", "資料を請求する施設を1つ以上選んでください。")
	case f.Kind == Tour && len(f.Facilities) == 0:
		add("facility", "見学を希望する施設を選んでください。")
	case len(f.Facilities) > f.Kind.MaxFacilities():
		add("facility", "選べる施設は"+strconv.Itoa(f.Kind.MaxFacilities())+"件までです。")
	default:
		for _, id := range f.Facilities {
			if _, ok := facilities(id); !ok {
				add("facility", "選んだ施設の一部が見つかりません。施設をもう一度選んでください。")
				break
			}
		}
	}

	if !oneOf(f.Relationship, Relationships) {
		add("relationship", "入居される方とのご関係を選んでください。")
	}
	switch {
	case f.ContactName == "":
		add("contact_name", "お名前を入力してください。")
	case utf8.RuneCountInString(f.ContactName) > maxName:
		add("contact_name", "お名前は"+strconv.Itoa(maxName)+"文字以内で入力してください。")
	}
	if strings.TrimSpace(f.Phone) != "" {
		if d, ok := NormalizePhone(f.Phone); ok {
			f.Phone = d
		} else {
			add("phone", "電話番号を数字で入力してください（例：03-1234-5678、090-1234-5678）。")
		}
	}
	if strings.TrimSpace(f.Email) != "" {
		if e, ok := NormalizeEmail(f.Email); ok {
			f.Email = e
		} else {
			add("email", "メールアドレスを正しい形式で入力してください（例：hanako@example.jp）。")
		}
	}
	if strings.TrimSpace(f.Phone) == "" && strings.TrimSpace(f.Email) == "" {
		add("phone", "ご連絡先として、電話番号かメールアドレスのどちらかを入力してください。")
	}
	if f.Kind == Tour && strings.TrimSpace(f.Phone) == "" && errs.For("phone") == "" {
		add("phone", "見学の日程をお電話で調整しますので、電話番号を入力してください。")
	}
	switch {
	case strings.TrimSpace(f.PostalCode) != "":
		if p, ok := NormalizePostal(f.PostalCode); ok {
			f.PostalCode = p
		} else {
			add("postal_code", "郵便番号を7桁の数字で入力してください（例：123-4567）。")
		}
	case f.Kind == Brochure:
		add("postal_code", "資料の送付先の郵便番号を入力してください（例：123-4567）。")
	}
	switch {
	case f.Kind == Brochure && f.Address == "":
		add("address", "資料の送付先のご住所を入力してください。")
	case utf8.RuneCountInString(f.Address) > maxAddress:
		add("address", "ご住所は"+strconv.Itoa(maxAddress)+"文字以内で入力してください。")
	}

	if f.AgeBand != "" && !oneOf(f.AgeBand, AgeBands) {
		add("age_band", "年齢を選び直してください。")
	}
	if f.CareLevel != "" && !oneOf(f.CareLevel, CareLevels) {
		add("care_level", "要介護度を選び直してください。")
	}
	if f.Dementia != "" && !oneOf(f.Dementia, DementiaLevels) {
		add("dementia", "認知症の状況を選び直してください。")
	}
	seen := map[string]bool{}
	var med []string
	for _, k := range f.Medical {
		if _, ok := facility.MedicalByKey(k); !ok {
			add("medical", "医療的ケアの項目を選び直してください。")
			break
		}
		if !seen[k] {
			seen[k] = true
			med = append(med, k)
		}
	}
	if errs.For("medical") == "" {
		f.Medical = med
	}

	if f.BudgetMonthly != "" && !oneOf(f.BudgetMonthly, BudgetsMonthly) {
		add("budget_monthly", "月々のご予算を選び直してください。")
	}
	if f.BudgetInitial != "" && !oneOf(f.BudgetInitial, BudgetsInitial) {
		add("budget_initial", "入居時のご予算を選び直してください。")
	}
	if f.PrefCode != "" {
		if n, err := strconv.Atoi(f.PrefCode); err != nil {
			add("pref", "都道府県を選び直してください。")
		} else if _, ok := area.Pref(n); !ok {
			add("pref", "都道府県を選び直してください。")
		}
	}
	if utf8.RuneCountInString(f.Municipality) > maxMuni {
		add("municipality", "市区町村は"+strconv.Itoa(maxMuni)+"文字以内で入力してください。")
	}
	if f.Timing != "" && !oneOf(f.Timing, Timings) {
		add("timing", "入居の時期を選び直してください。")
	}
	if f.Kind == Tour {
		today := now.In(jst)
		today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, jst)
		for i, field := range []string{"tour_date1", "tour_date2"} {
			v := strings.TrimSpace([]string{f.TourDate1, f.TourDate2}[i])
			if v == "" {
				if i == 0 {
					add(field, "見学の第1希望日を入力してください。")
				}
				continue
			}
			d, err := time.ParseInLocation("2006-01-02", narrow(v), jst)
			switch {
			case err != nil:
				add(field, "日付を「2026-05-20」の形で入力してください。")
			case !d.After(today):
				add(field, "見学の希望日は明日以降の日付を選んでください。")
			case d.After(today.AddDate(0, 3, 0)):
				add(field, "見学の希望日は3か月以内の日付を選んでください。")
			}
		}
		if f.TourTime != "" && !oneOf(f.TourTime, TourTimes) {
			add("tour_time", "希望の時間帯を選び直してください。")
		}
	}
	if utf8.RuneCountInString(f.Note) > maxNote {
		add("note", "ご相談内容は"+strconv.Itoa(maxNote)+"文字以内で入力してください（いまは"+strconv.Itoa(utf8.RuneCountInString(f.Note))+"文字です）。")
	}

	// Consent last, beside the submit button.
	switch {
	case f.Consent && f.PrivacyVersion != privacy.Version:
		f.Consent = false
		add("consent", "個人情報の取り扱いが改定されました。内容をご確認のうえ、もう一度同意してください。")
	case !f.Consent && f.HasHealthData():
		add("consent", "要介護度・認知症・医療的ケアなど健康に関する情報を送るには、個人情報の取り扱いへの同意が必要です。同意いただけない場合は、お電話でご相談ください。")
	case !f.Consent:
		add("consent", "お申し込みには、個人情報の取り扱いへの同意が必要です。")
	}
	return errs
}

var jst = time.FixedZone("Asia/Tokyo", 9*60*60)

func oneOf(v string, list []string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
