package casework

import (
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"carematch/facility"
	"carematch/intake"
)

// Hearing is the hearing sheet: what a consultant learns about the person
// and the family (personal data, much of it 要配慮個人情報).
type Hearing struct {
	// The contact who asked.
	ContactName  string
	Relationship string
	Phone        string // digits
	Email        string
	// 本人.
	PersonName      string // 本人氏名
	PersonKana      string // ふりがな
	PersonBirthDate string // 生年月日, YYYY-MM-DD ("" unknown)
	AgeBand         string
	Sex             string
	CareLevel       string
	// TokuyoException: 要介護1・2 with the reasons a 特養 may admit them
	// by 特例入所 (matching then offers 特養 as 要相談).
	TokuyoException       bool
	Dementia              string
	Medical               []string // facility.MedicalItems keys the person needs
	ADLNotes              string
	ResidenceMunicipality string // 住民票の市区町村
	// Family.
	FamilyContacts string
	KeyPerson      string
	// Money.
	BudgetMonthly string
	BudgetInitial string
	AssetsNote    string
	// Wishes.
	PreferredAreas string
	// WishedFeatures are facility.FeatureItems keys the family asks for.
	WishedFeatures []string
	Timing         string
	Guarantor      string // 身元引受人・保証人
	Note           string
}

// Field is one hearing-sheet field: its stable name (database column,
// audit events) and label, and how to read it as text.
type Field struct {
	Name  string
	Label string
	Get   func(*Hearing) string
}

// Fields are the hearing-sheet fields in display order.
var Fields = []Field{
	{"contact_name", "相談者氏名", func(h *Hearing) string { return h.ContactName }},
	{"relationship", "続柄", func(h *Hearing) string { return h.Relationship }},
	{"phone", "電話番号", func(h *Hearing) string { return h.Phone }},
	{"email", "メール", func(h *Hearing) string { return h.Email }},
	{"person_name", "本人氏名", func(h *Hearing) string { return h.PersonName }},
	{"person_kana", "ふりがな", func(h *Hearing) string { return h.PersonKana }},
	{"person_birth_date", "生年月日", func(h *Hearing) string { return h.PersonBirthDate }},
	{"age_band", "本人の年齢", func(h *Hearing) string { return h.AgeBand }},
	{"person_sex", "本人の性別", func(h *Hearing) string { return h.Sex }},
	{"care_level", "要介護度", func(h *Hearing) string { return h.CareLevel }},
	{"tokuyo_exception", "特養の特例入所の事情", func(h *Hearing) string { return yesEmpty(h.TokuyoException) }},
	{"dementia", "認知症", func(h *Hearing) string { return h.Dementia }},
	{"medical_needs", "医療的ケア", func(h *Hearing) string { return MedicalLabels(h.Medical) }},
	{"adl_notes", "ADL（日常生活動作）", func(h *Hearing) string { return h.ADLNotes }},
	{"residence_municipality", "住民票の市区町村", func(h *Hearing) string { return h.ResidenceMunicipality }},
	{"family_contacts", "家族の連絡先", func(h *Hearing) string { return h.FamilyContacts }},
	{"key_person", "キーパーソン", func(h *Hearing) string { return h.KeyPerson }},
	{"budget_monthly", "月額予算", func(h *Hearing) string { return h.BudgetMonthly }},
	{"budget_initial", "入居時費用の予算", func(h *Hearing) string { return h.BudgetInitial }},
	{"assets_note", "資産・収入のメモ", func(h *Hearing) string { return h.AssetsNote }},
	{"preferred_areas", "希望エリア", func(h *Hearing) string { return h.PreferredAreas }},
	{"wished_features", "希望する設備・サービス", func(h *Hearing) string { return FeatureLabels(h.WishedFeatures) }},
	{"timing", "入居希望時期", func(h *Hearing) string { return h.Timing }},
	{"guarantor", "身元引受人・保証人", func(h *Hearing) string { return h.Guarantor }},
	{"note", "メモ", func(h *Hearing) string { return h.Note }},
}

// FieldNames are the names of every hearing-sheet field (what a view of a
// case shows, for its audit event).
func FieldNames() []string {
	out := make([]string, len(Fields))
	for i, f := range Fields {
		out[i] = f.Name
	}
	return out
}

// otherLabels name what audit events touch besides the hearing sheet.
var otherLabels = map[string]string{
	"status": "ステータス", "lost_reason": "失注の理由", "assigned_to": "担当者", "task": "タスク",
	"share_consent": "情報提供の同意", "referral": "施設への紹介", "referral_status": "紹介への回答",
	"tour": "見学", "move_in": "入居", "early_exit": "短期退去", "consultant_contact": "担当相談員の連絡先",
	"activity.call": "対応履歴（電話）", "activity.note": "対応履歴（メモ）", "activity.email": "対応履歴（メール）",
}

// FieldLabel is the label of a field name.
func FieldLabel(name string) string {
	for _, f := range Fields {
		if f.Name == name {
			return f.Label
		}
	}
	if l, ok := otherLabels[name]; ok {
		return l
	}
	return name
}

// Changed lists the names of the fields whose values differ between a and b.
func Changed(a, b Hearing) []string {
	var out []string
	for _, f := range Fields {
		if f.Get(&a) != f.Get(&b) {
			out = append(out, f.Name)
		}
	}
	return out
}

// Value is a field's value as text.
func (h Hearing) Value(name string) string {
	for _, f := range Fields {
		if f.Name == name {
			return f.Get(&h)
		}
	}
	return ""
}

// Take copies the field name from src into h (a refused save keeps the
// stored value of the fields someone else changed).
func (h *Hearing) Take(name string, src Hearing) {
	switch name {
	case "medical_needs":
		h.Medical = slices.Clone(src.Medical)
		return
	case "wished_features":
		h.WishedFeatures = slices.Clone(src.WishedFeatures)
		return
	case "tokuyo_exception":
		h.TokuyoException = src.TokuyoException
		return
	}
	if p, q := h.text(name), src.text(name); p != nil {
		*p = *q
	}
}

// text points at a text field by name (nil for the lists, the flag or an unknown name).
func (h *Hearing) text(name string) *string {
	switch name {
	case "contact_name":
		return &h.ContactName
	case "relationship":
		return &h.Relationship
	case "phone":
		return &h.Phone
	case "email":
		return &h.Email
	case "person_name":
		return &h.PersonName
	case "person_kana":
		return &h.PersonKana
	case "person_birth_date":
		return &h.PersonBirthDate
	case "age_band":
		return &h.AgeBand
	case "person_sex":
		return &h.Sex
	case "care_level":
		return &h.CareLevel
	case "dementia":
		return &h.Dementia
	case "adl_notes":
		return &h.ADLNotes
	case "residence_municipality":
		return &h.ResidenceMunicipality
	case "family_contacts":
		return &h.FamilyContacts
	case "key_person":
		return &h.KeyPerson
	case "budget_monthly":
		return &h.BudgetMonthly
	case "budget_initial":
		return &h.BudgetInitial
	case "assets_note":
		return &h.AssetsNote
	case "preferred_areas":
		return &h.PreferredAreas
	case "timing":
		return &h.Timing
	case "guarantor":
		return &h.Guarantor
	case "note":
		return &h.Note
	}
	return nil
}

// MedicalLabels names medical keys in display order.
func MedicalLabels(keys []string) string {
	var out []string
	for _, m := range facility.MedicalItems {
		if slices.Contains(keys, m.Key) {
			out = append(out, m.Label)
		}
	}
	return strings.Join(out, "、")
}

// FeatureLabels names feature keys in display order.
func FeatureLabels(keys []string) string {
	var out []string
	for _, f := range facility.FeatureItems {
		if slices.Contains(keys, f.Key) {
			out = append(out, f.Label)
		}
	}
	return strings.Join(out, "、")
}

func yesEmpty(b bool) string {
	if b {
		return "あり"
	}
	return ""
}

// Sexes are the answers for 本人の性別.
var Sexes = []string{"女性", "男性", "その他・回答なし"}

// FieldErrors maps a field name to a message safe to show.
type FieldErrors map[string]string

func (fe FieldErrors) Error() string { return "casework: invalid hearing sheet" }

// Normalize cleans what a consultant typed (phone digits like intake,
// trimmed text) and checks it; the result is what is stored.
func (h *Hearing) Normalize() FieldErrors {
	fe := FieldErrors{}
	for _, p := range []*string{&h.ContactName, &h.Relationship, &h.Email, &h.PersonName, &h.PersonKana, &h.ADLNotes, &h.ResidenceMunicipality,
		&h.FamilyContacts, &h.KeyPerson, &h.BudgetMonthly, &h.BudgetInitial, &h.AssetsNote, &h.PreferredAreas,
		&h.Timing, &h.Guarantor, &h.Note} {
		*p = strings.TrimSpace(*p)
		if utf8.RuneCountInString(*p) > 2000 {
			*p = string([]rune(*p)[:2000])
		}
	}
	if h.ContactName == "" {
		fe["contact_name"] = "相談者の氏名を入力してください。"
	}
	if strings.TrimSpace(h.Phone) != "" {
		if p, ok := intake.NormalizePhone(h.Phone); ok {
			h.Phone = p
		} else {
			fe["phone"] = "電話番号を数字で入力してください（例：03-1234-5678）。"
		}
	} else {
		h.Phone = ""
	}
	if h.Phone == "" && h.Email == "" {
		fe["phone"] = "電話番号かメールアドレスのどちらかは必要です。"
	}
	if utf8.RuneCountInString(h.PersonName) > 100 {
		fe["person_name"] = "本人氏名は100文字以内で入力してください。"
	}
	if k, ok := NormalizeKana(h.PersonKana); ok {
		h.PersonKana = k
	} else {
		fe["person_kana"] = "ふりがなは、ひらがなかカタカナで入力してください（例：やまだ はなこ）。"
	}
	if d, ok := NormalizeBirthDate(h.PersonBirthDate); ok {
		h.PersonBirthDate = d
	} else {
		fe["person_birth_date"] = "生年月日を「1940-04-01」または「1940/4/1」の形で入力してください。"
	}
	if h.AgeBand != "" && !slices.Contains(intake.AgeBands, h.AgeBand) {
		fe["age_band"] = "年齢を一覧から選んでください。"
	}
	if h.Sex != "" && !slices.Contains(Sexes, h.Sex) {
		fe["person_sex"] = "性別を一覧から選んでください。"
	}
	if h.CareLevel != "" && !slices.Contains(intake.CareLevels, h.CareLevel) {
		fe["care_level"] = "要介護度を一覧から選んでください。"
	}
	if cl, ok := facility.ParseCareLevel(h.CareLevel); ok && h.TokuyoException && cl != facility.Care1 && cl != facility.Care2 {
		fe["tokuyo_exception"] = "特養の特例入所は要介護1・2の方のためのものです。要介護度を確かめてください。"
	}
	if h.Dementia != "" && !slices.Contains(intake.DementiaLevels, h.Dementia) {
		fe["dementia"] = "認知症の状況を一覧から選んでください。"
	}
	var med []string
	for _, m := range facility.MedicalItems {
		if slices.Contains(h.Medical, m.Key) {
			med = append(med, m.Key)
		}
	}
	if len(med) != len(h.Medical) {
		fe["medical_needs"] = "医療的ケアを一覧から選んでください。"
	}
	h.Medical = med
	if h.Medical == nil {
		h.Medical = []string{}
	}
	feats := []string{}
	for _, f := range facility.FeatureItems {
		if slices.Contains(h.WishedFeatures, f.Key) {
			feats = append(feats, f.Key)
		}
	}
	if len(feats) != len(h.WishedFeatures) {
		fe["wished_features"] = "希望する設備・サービスを一覧から選んでください。"
	}
	h.WishedFeatures = feats
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// Case is a case as the workspace shows it.
type Case struct {
	ID              int64
	Ref             string
	Kind            intake.Kind
	Status          string
	Version         int
	CreatedAt       time.Time
	StatusChangedAt time.Time
	AssignedTo      int64 // 0: nobody yet
	AssignedName    string
	LastContactAt   *time.Time
	LostReason      string
	PrefCode        int
	Municipality    string
	PrivacyVersion  string
	ConsentedAt     time.Time
	Hearing         Hearing
	Facilities      []intake.ChosenFacility
}

// Summary is a case as a list row shows it.
type Summary struct {
	ID              int64
	Ref             string
	Kind            intake.Kind
	Status          string
	CreatedAt       time.Time
	StatusChangedAt time.Time
	ContactName     string
	CareLevel       string
	PrefCode        int
	Municipality    string
	AssignedTo      int64
	AssignedName    string
	LastContactAt   *time.Time
}

// SummaryFields are the personal-data fields a list shows (for its audit event).
var SummaryFields = []string{"contact_name", "care_level"}

// Filter selects the cases of a list.
type Filter struct {
	Inbox        bool  // new and unassigned cases only
	AssignedTo   int64 // 0: anyone
	Status       string
	PrefCode     int
	NoContactFor int // days without contact (0: any)
	// Query is a name or a phone number; a phone is normalised like intake
	// does (full-width digits, hyphens) before it is looked up.
	Query string
	Now   time.Time
	Limit int
}

// PhoneQuery returns the digits of q when q reads as (a part of) a phone
// number, else "".
func PhoneQuery(q string) string {
	if p, ok := intake.NormalizePhone(q); ok {
		return p
	}
	var b strings.Builder
	for _, r := range strings.TrimSpace(q) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune(r - '０' + '0')
		case strings.ContainsRune("-‐‑‒–—―−－ー─ｰ ()（）", r):
		default:
			return ""
		}
	}
	if b.Len() < 4 {
		return ""
	}
	return b.String()
}

// Activity kinds.
const (
	Call       = "call"
	Note       = "note"
	Email      = "email"
	StatusKind = "status"
	Edit       = "edit"
	AssignKind = "assign"
	// Issue 5: consent to share, referrals, tours and move-ins (package referral).
	ConsentKind  = "consent"
	ReferralKind = "referral"
	TourKind     = "tour"
	MoveInKind   = "move_in"
	// Proposals to the family (package proposal).
	ProposalKind = "proposal"
)

// ActivityLabel names an activity kind.
func ActivityLabel(kind string) string {
	switch kind {
	case Call:
		return "電話"
	case Note:
		return "メモ"
	case Email:
		return "メール"
	case StatusKind:
		return "ステータス変更"
	case Edit:
		return "ヒアリングシート更新"
	case AssignKind:
		return "担当者の変更"
	case ConsentKind:
		return "情報提供の同意"
	case ReferralKind:
		return "施設への紹介"
	case TourKind:
		return "見学"
	case MoveInKind:
		return "入居・退去"
	case ProposalKind:
		return "ご家族への提案"
	}
	return kind
}

// Activity is one entry of a case's timeline.
type Activity struct {
	ID         int64
	At         time.Time
	UserName   string
	Kind       string
	Body       string
	FromStatus string
	ToStatus   string
	Fields     []string
}

// Task is a to-do on a case with a due date.
type Task struct {
	ID         int64
	CaseID     int64
	CaseRef    string
	Title      string
	DueOn      time.Time
	AssignedTo int64
	Done       bool
}

// Change is one field another consultant changed since a form was opened.
type Change struct {
	Field, Label string
	Theirs       string // what the refused save would have written
	Current      string // what is stored now
}

// ConflictError is a save made on an old version: nothing was written.
type ConflictError struct {
	Current Case
	Changes []Change
}

func (e *ConflictError) Error() string { return "casework: the case changed since the form was opened" }

// ErrNotFound is a case (or task) that does not exist.
var ErrNotFound = errors.New("casework: not found")

// ErrNotAssignable is an assignment to someone who is not a consultant.
var ErrNotAssignable = errors.New("casework: only consultants and managers take cases")

// File is everything the case page shows.
type File struct {
	Case       Case
	Activities []Activity
	Tasks      []Task
}

// Assignee is a staff member cases can be assigned to.
type Assignee struct {
	ID   int64
	Name string
}
