// Package referral is sending a case to a facility and carrying it to a
// move-in: consent to share (第三者提供の同意), the person key that
// recognises the same person across cases, the minimum data set a facility
// receives, first-referral attribution, the tour state machine, move-ins
// and early exits, and the .ics invitation of a confirmed tour. Storage is
// in package postgres, HTTP in package web.
package referral

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"carematch/casework"
)

// Consent methods: how the person agreed to their data going to a facility.
const (
	ByIntake   = "intake"    // ticked in the public request form for the facilities it named
	ByPhone    = "phone"     // said so on the phone
	ByEmail    = "email"     // wrote so by e-mail
	ByPaper    = "paper"     // signed a form
	ByInPerson = "in_person" // said so in a meeting
)

// RecordableMethods are the methods a consultant may record (intake
// consent is written by the request form only).
var RecordableMethods = []string{ByPhone, ByEmail, ByPaper, ByInPerson}

// MethodLabel names a consent method.
func MethodLabel(m string) string {
	switch m {
	case ByIntake:
		return "受付フォームで同意"
	case ByPhone:
		return "電話で口頭の同意"
	case ByEmail:
		return "メールで同意"
	case ByPaper:
		return "書面で同意"
	case ByInPerson:
		return "面談で口頭の同意"
	}
	return m
}

// Consent is the person's consent to share their data with one facility.
type Consent struct {
	ID          int64
	CaseID      int64
	FacilityID  int64
	Facility    string // name, for display
	Method      string
	ConsentedOn time.Time
	RecordedBy  string // "" for intake
	Withdrawn   bool
}

// Covers reports whether the consent allows a provision to its facility.
func (c Consent) Covers(facilityID int64) bool {
	return c.ID > 0 && c.FacilityID == facilityID && !c.Withdrawn
}

// ErrNoConsent is a referral to a facility the person has not agreed to
// share their data with.
var ErrNoConsent = errors.New("referral: no consent to share with this facility")

// NoConsentMessage explains ErrNoConsent to the consultant.
const NoConsentMessage = "この施設への情報提供について、ご本人（ご家族）の同意が記録されていません。先に「情報提供の同意」を記録してください。"

// CheckConsent validates a consent a consultant records: a method they may
// record and a date that is not in the future (in Japan's calendar).
func CheckConsent(method string, on, now time.Time) FieldErrors {
	fe := FieldErrors{}
	ok := false
	for _, m := range RecordableMethods {
		ok = ok || m == method
	}
	if !ok {
		fe["method"] = "同意の方法を一覧から選んでください。"
	}
	if on.IsZero() {
		fe["consented_on"] = "同意を得た日を入力してください。"
	} else if on.After(Day(now)) {
		fe["consented_on"] = "同意を得た日に未来の日付は入れられません。"
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// Tokyo is Japan's time zone: dates and times are shown and read there.
var Tokyo = func() *time.Location {
	l, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		return time.FixedZone("JST", 9*3600)
	}
	return l
}()

// Day is the start of t's date in Japan.
func Day(t time.Time) time.Time {
	t = t.In(Tokyo)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, Tokyo)
}

// PersonKey identifies the person across cases: the SHA-256 of the
// normalised name, ふりがな and date of birth (NFKC, no spaces, katakana as
// hiragana), so the same person typed in different widths or scripts gets
// the same key. Without a birth date and at least a name or a ふりがな the
// person cannot be recognised and the key is the case ("case:<id>"). Only
// the digest is stored with a referral.
func PersonKey(name, kana, birthDate string, caseID int64) string {
	name, kana = normaliseName(name), normaliseName(kana)
	if birthDate == "" || (name == "" && kana == "") {
		return "case:" + strconv.FormatInt(caseID, 10)
	}
	sum := sha256.Sum256([]byte(name + "\x00" + kana + "\x00" + birthDate))
	return "person:" + hex.EncodeToString(sum[:])
}

func normaliseName(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKC.String(s) {
		switch {
		case unicode.IsSpace(r), r == '・':
			continue
		case r >= 'ァ' && r <= 'ヶ':
			r -= 'ァ' - 'ぁ'
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Minimum is the data set a facility receives with a referral, by field
// name (what the provision record lists): who the person is, what care
// they need and when, and whom to call. Not the family's phone, e-mail or
// address, not the budget or assets: the facility talks to the consultant.
var Minimum = []string{
	"person_name", "person_kana", "person_birth_date", "age_band", "person_sex",
	"care_level", "dementia", "medical_needs", "adl_notes", "timing", "consultant_contact",
}

// MinimumLabel names a field of the minimum data set.
func MinimumLabel(name string) string {
	if name == "consultant_contact" {
		return "担当相談員の連絡先"
	}
	return casework.FieldLabel(name)
}

// Sheet is what a facility sees of a referred person: the minimum data set.
type Sheet struct {
	PersonName string
	PersonKana string
	BirthDate  string // YYYY-MM-DD or ""
	Age        int    // from BirthDate at the time of reading; 0 unknown
	AgeBand    string
	Sex        string
	CareLevel  string
	Dementia   string
	Medical    string // labels, 、-separated
	ADLNotes   string
	Timing     string
	// The consultant to call (the service's contact, not the family's).
	ConsultantName  string
	ConsultantEmail string
}

// MinimumSheet takes the minimum data set out of a hearing sheet.
func MinimumSheet(h casework.Hearing, consultantName, consultantEmail string, now time.Time) Sheet {
	return Sheet{
		PersonName: h.PersonName, PersonKana: h.PersonKana, BirthDate: h.PersonBirthDate, Age: Age(h.PersonBirthDate, now),
		AgeBand: h.AgeBand, Sex: h.Sex, CareLevel: h.CareLevel, Dementia: h.Dementia,
		Medical: casework.MedicalLabels(h.Medical), ADLNotes: h.ADLNotes, Timing: h.Timing,
		ConsultantName: consultantName, ConsultantEmail: consultantEmail,
	}
}

// Age is the age in full years on now's date in Japan for a birth date
// YYYY-MM-DD (0 when unknown).
func Age(birth string, now time.Time) int {
	b, err := time.Parse("2006-01-02", birth)
	if err != nil {
		return 0
	}
	n := now.In(Tokyo)
	age := n.Year() - b.Year()
	if n.Month() < b.Month() || (n.Month() == b.Month() && n.Day() < b.Day()) {
		age--
	}
	return max(age, 0)
}

// Referral statuses.
const (
	Sent      = "sent"
	Accepted  = "accepted"
	Declined  = "declined"
	Withdrawn = "withdrawn"
)

// StatusLabel names a referral status.
func StatusLabel(s string) string {
	switch s {
	case Sent:
		return "回答待ち"
	case Accepted:
		return "受け入れ可"
	case Declined:
		return "お断り"
	case Withdrawn:
		return "取り下げ"
	}
	return s
}

// Referral is a case sent to a facility.
type Referral struct {
	ID            int64
	CaseID        int64
	CaseRef       string
	FacilityID    int64
	Facility      string
	Status        string
	DeclineReason string
	Note          string
	SentAt        time.Time
	SentBy        string
	AnsweredAt    *time.Time
	// FirstID is the first referral of the same person to the same
	// facility within the validity period (0: this one is the first); a
	// repeat is shown but never counted again.
	FirstID     int64
	FirstSentAt time.Time
	Version     int
}

// Repeat reports whether the referral repeats an earlier one.
func (r Referral) Repeat() bool { return r.FirstID > 0 }

// Validity is how long a referral binds the facility to this service
// (first-referral attribution); contracts set it.
type Validity struct {
	Months int
	Days   int
}

// DefaultValidity applies when no contract says otherwise.
var DefaultValidity = Validity{Months: 6}

// Until is the end of the validity of a referral sent at t.
func (v Validity) Until(t time.Time) time.Time { return t.AddDate(0, v.Months, v.Days) }

// Covers reports whether a referral sent at first still counts at now.
func (v Validity) Covers(first, now time.Time) bool { return now.Before(v.Until(first)) }

// ErrNotFound is a referral, tour or move-in that does not exist, or one
// the asking facility user may not see (the same answer, so its existence
// is not revealed).
var ErrNotFound = errors.New("referral: not found")

// ErrAnswered is an answer to a referral that is no longer waiting.
var ErrAnswered = errors.New("referral: already answered")

// Side is who acts on a referral or a tour.
type Side string

// The sides.
const (
	Consultant Side = "consultant"
	Facility   Side = "facility"
	Family     Side = "family"
)

// CheckAnswer validates a facility's answer to a referral.
func CheckAnswer(status, to, reason string) error {
	if status != Sent {
		return ErrAnswered
	}
	if to != Accepted && to != Declined {
		return &Problem{"回答を「受け入れ可」か「お断り」から選んでください。"}
	}
	if to == Declined && strings.TrimSpace(reason) == "" {
		return &Problem{"お断りの理由を入力してください（例：空室がない、医療的ケアに対応できない）。"}
	}
	return nil
}

// Problem is input refused with a message safe to show.
type Problem struct{ Message string }

func (p *Problem) Error() string { return "referral: " + p.Message }
