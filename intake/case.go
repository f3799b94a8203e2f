package intake

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"carematch/facility"
)

// StatusReceived is the first status of every case (受付).
const StatusReceived = "受付"

// ChosenFacility is a facility named in a request, with its name as the
// person saw it (the consent to share covers these facilities).
type ChosenFacility struct {
	ID   int64
	Name string
}

// Case is a valid request ready to be stored: the hearing-sheet fields the
// intake gives, the consent, and the reference the family is shown.
type Case struct {
	Ref            string
	IdempotencyKey string
	Kind           Kind
	Status         string
	CreatedAt      time.Time

	// Consent.
	PrivacyVersion string
	PrivacyHash    string
	ConsentedAt    time.Time

	// Personal data: contact.
	Relationship string
	ContactName  string
	Phone        string // digits
	Email        string
	PostalCode   string // NNN-NNNN or ""
	Address      string

	// Personal data: health and care (要配慮個人情報).
	AgeBand   string
	CareLevel string
	Dementia  string
	Medical   []string // facility.MedicalItems keys
	Note      string

	// Wishes.
	BudgetMonthly string
	BudgetInitial string
	PrefCode      int // 0 = not given
	Municipality  string
	Timing        string
	TourDates     []time.Time // dates only, in JST
	TourTime      string

	Facilities []ChosenFacility
}

// NewCase turns a form that passed Validate into a case. key is the
// idempotency key the form was rendered with.
func NewCase(f *Form, key string, now time.Time, p Privacy, facilities FacilityLookup) Case {
	c := Case{
		Ref: NewRef(), IdempotencyKey: key, Kind: f.Kind, Status: StatusReceived, CreatedAt: now,
		PrivacyVersion: p.Version, PrivacyHash: p.Hash, ConsentedAt: now,
		Relationship: f.Relationship, ContactName: f.ContactName, Phone: f.Phone, Email: f.Email,
		PostalCode: f.PostalCode, Address: f.Address,
		AgeBand: f.AgeBand, CareLevel: f.CareLevel, Dementia: f.Dementia, Medical: f.Medical, Note: f.Note,
		BudgetMonthly: f.BudgetMonthly, BudgetInitial: f.BudgetInitial, Municipality: f.Municipality,
		Timing: f.Timing,
	}
	c.PrefCode, _ = strconv.Atoi(f.PrefCode)
	if f.Kind == Tour {
		c.TourTime = f.TourTime
		for _, v := range []string{f.TourDate1, f.TourDate2} {
			if d, err := time.ParseInLocation("2006-01-02", narrow(v), jst); err == nil {
				c.TourDates = append(c.TourDates, d)
			}
		}
	}
	for _, id := range f.Facilities {
		name, _ := facilities(id)
		c.Facilities = append(c.Facilities, ChosenFacility{ID: id, Name: name})
	}
	return c
}

// refAlphabet has no 0/O, 1/I/L or U, so a reference read out on the phone
// is not misheard.
const refAlphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewRef makes an unguessable reference number such as "K7P3X-9QX2M"
// (10 symbols of 30, about 49 bits).
func NewRef() string {
	var s strings.Builder
	b := make([]byte, 1)
	for n := 0; n < 10; {
		rand.Read(b)
		if int(b[0]) >= 256/len(refAlphabet)*len(refAlphabet) {
			continue // keep every symbol equally likely
		}
		if n == 5 {
			s.WriteByte('-')
		}
		s.WriteByte(refAlphabet[int(b[0])%len(refAlphabet)])
		n++
	}
	return s.String()
}

// ValidRef reports whether s has the form of a reference number.
func ValidRef(s string) bool {
	if len(s) != 11 || s[5] != '-' {
		return false
	}
	for i := range len(s) {
		if i != 5 && !strings.ContainsRune(refAlphabet, rune(s[i])) {
			return false
		}
	}
	return true
}

// NewIdempotencyKey is put into the form when it is rendered; every submit
// of that rendered form carries it, so a double click, a reload or a retry
// after a timeout finds the case the first submit created.
func NewIdempotencyKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ValidIdempotencyKey reports whether s has the form NewIdempotencyKey gives.
func ValidIdempotencyKey(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// Stored says which case a request ended in.
type Stored struct {
	ID  int64
	Ref string
	// New is false when the idempotency key was already used: the request
	// was a repeat (double click, reload, retry) and nothing was written.
	New bool
}

// ErrNotFound is returned for a reference number no case has.
var ErrNotFound = errors.New("intake: no such case")

// Receipt is what the confirmation page shows of a stored case: nothing
// personal, since its URL may be seen by others (history, a shared phone).
type Receipt struct {
	Ref        string
	Kind       Kind
	CreatedAt  time.Time
	Facilities []ChosenFacility
}

// NextStep says what happens next and by when.
func (k Kind) NextStep() string {
	switch k {
	case Brochure:
		return "入居相談員が内容を確認し、翌営業日までに施設へ資料の送付を依頼します。資料は施設から通常1週間ほどで届きます。ご不明な点があれば、入居相談員からお電話することもあります。"
	case Tour:
		return "翌営業日までに入居相談員からお電話し、施設と見学の日時を調整します。日時が決まるまでは、まだ見学の予約は確定していません。"
	}
	return "翌営業日までに入居相談員からお電話します。ご都合の良い時間帯があれば、お電話の際にお知らせください。"
}

// Mail is one message to put in the outbox.
type Mail struct {
	Purpose string // "case_confirmation", "case_notification"
	To      string
	Subject string
	Body    string
}

// Mails are the messages a new case sends: a confirmation to the person if
// they gave an e-mail address, and a notification to the consultants'
// address if one is configured. Neither carries health information (mail
// is not a safe channel for it): the consultants open the case in the
// workspace.
func (c Case) Mails(publicURL, consultants string) []Mail {
	var out []Mail
	var fac strings.Builder
	for _, f := range c.Facilities {
		fmt.Fprintf(&fac, "・%s\n", f.Name)
	}
	if c.Email != "" {
		var b strings.Builder
		fmt.Fprintf(&b, "%s 様\n\nケアマッチにお申し込みいただき、ありがとうございます。\n以下の内容で%sを受け付けました。\n\n", c.ContactName, c.Kind.Label())
		fmt.Fprintf(&b, "受付番号：%s\n受付日時：%s\n", c.Ref, c.CreatedAt.In(jst).Format("2006年1月2日 15:04"))
		if fac.Len() > 0 {
			fmt.Fprintf(&b, "施設：\n%s", fac.String())
		}
		fmt.Fprintf(&b, "\nこの後の流れ\n%s\n\nお問い合わせの際は受付番号をお伝えください。\nこのメールに心当たりのない方は、お手数ですがこのメールを破棄してください。\n\nケアマッチ 入居相談窓口\n%s\n", c.Kind.NextStep(), publicURL)
		out = append(out, Mail{Purpose: "case_confirmation", To: c.Email,
			Subject: "【ケアマッチ】" + c.Kind.Short() + "のお申し込みを受け付けました（受付番号 " + c.Ref + "）", Body: b.String()})
	}
	if consultants != "" {
		var b strings.Builder
		fmt.Fprintf(&b, "新しい%sが届きました。\n\n受付番号：%s\n種類：%s\n受付日時：%s\n", c.Kind.Short(), c.Ref, c.Kind.Label(), c.CreatedAt.In(jst).Format("2006年1月2日 15:04"))
		if fac.Len() > 0 {
			fmt.Fprintf(&b, "施設：\n%s", fac.String())
		}
		fmt.Fprintf(&b, "\nご相談者の連絡先と健康・介護の情報はメールに載せていません。案件画面で受付番号から開いてください。\n%s\n", publicURL)
		out = append(out, Mail{Purpose: "case_notification", To: consultants,
			Subject: "【新規" + c.Kind.Short() + "】受付番号 " + c.Ref, Body: b.String()})
	}
	return out
}

// MedicalLabels names the medical needs of a case.
func MedicalLabels(keys []string) []string {
	var out []string
	for _, k := range keys {
		if m, ok := facility.MedicalByKey(k); ok {
			out = append(out, m.Label())
		}
	}
	return out
}
