// Package proposal is a consultant's proposal to a family: the facilities
// chosen for a case, shown on an unguessable, expiring link with the
// consultant's comments and nothing personal beyond a salutation; from it
// the family asks for a tour. It holds the rules — the link token, expiry
// bounds, the salutation, what a proposal and a tour request must contain,
// and the mails they send — without storage or HTTP.
package proposal

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"carematch/intake"
	"carematch/referral"
)

// TokenBytes is the size of a link token's random part: 256 bits, so a
// token cannot be guessed and need not be rate-limited to stay secret.
const TokenBytes = 32

// tokenLen is the length of a token as it appears in a link: base64url
// without padding.
var tokenLen = base64.RawURLEncoding.EncodedLen(TokenBytes)

// NewToken makes a link token and the SHA-256 that is stored instead of it.
// The token itself is shown once (and mailed); the database never has it.
func NewToken() (token string, hash []byte) {
	b := make([]byte, TokenBytes)
	rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is the stored form of a token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// ParseToken checks the form of a token from a link and returns its hash;
// false for anything NewToken cannot have made. Callers answer a malformed
// token exactly as they answer an unknown one.
func ParseToken(s string) ([]byte, bool) {
	if len(s) != tokenLen {
		return nil, false
	}
	if b, err := base64.RawURLEncoding.Strict().DecodeString(s); err != nil || len(b) != TokenBytes {
		return nil, false
	}
	return HashToken(s), true
}

// Expiry bounds, in days after the proposal is made.
const (
	DefaultDays = 30
	MinDays     = 1
	MaxDays     = 90
)

// Other bounds of a proposal.
const (
	MaxFacilities     = 10
	MaxComment        = 1000 // characters of the consultant's words on one facility
	MaxMessage        = 2000 // characters of the message to the family
	MaxSalutation     = 30
	MaxTourNote       = 1000
	MaxTourSlots      = referral.MaxSlots
	FieldFacilities   = "facilities"
	FieldSalutation   = "salutation"
	FieldMessage      = "message"
	FieldExpiresOn    = "expires_on"
	FieldTourSlots    = "slots"
	FieldTourNote     = "note"
	FieldTourFacility = "facility"
)

// Tokyo is where dates are read and shown.
var Tokyo = referral.Tokyo

// DefaultExpiry is the expiry date a new proposal's form offers.
func DefaultExpiry(now time.Time) time.Time {
	return day(now).AddDate(0, 0, DefaultDays)
}

// ExpiresAt is the instant a proposal valid through the date on ends: the
// following midnight in Japan.
func ExpiresAt(on time.Time) time.Time {
	return day(on).AddDate(0, 0, 1)
}

func day(t time.Time) time.Time {
	t = t.In(Tokyo)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, Tokyo)
}

// ParseDate reads a date as a date input sends it ("2026-12-31"), or with
// slashes.
func ParseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "/", "-"))
	t, err := time.ParseInLocation("2006-1-2", s, Tokyo)
	return t, err == nil
}

// DefaultSalutation is the salutation the form offers: the contact's
// surname (the part before the first space) with 様, or ご家族様 when the
// name is unknown.
func DefaultSalutation(contactName string) string {
	name := strings.TrimSpace(strings.ReplaceAll(contactName, "　", " "))
	if name == "" {
		return "ご家族様"
	}
	surname, _, _ := strings.Cut(name, " ")
	if utf8.RuneCountInString(surname) > MaxSalutation-1 {
		return "ご家族様"
	}
	return surname + "様"
}

var (
	longDigits = regexp.MustCompile(`[0-9０-９]{4,}`)
	honorifics = []string{"様", "さま", "さん", "御中", "各位"}
)

// CheckSalutation returns "" when s may head a proposal, else the reason
// in words. A salutation is a name with an honorific, on one line; it may
// not carry a phone number, an address or a link (the page is shown to
// whoever holds the link, so nothing personal beyond it may slip in).
func CheckSalutation(s string) string {
	switch {
	case s == "":
		return "宛名を入力してください（例：山田様）。"
	case utf8.RuneCountInString(s) > MaxSalutation:
		return fmt.Sprintf("宛名は%d文字以内で入力してください。", MaxSalutation)
	case strings.ContainsFunc(s, unicode.IsControl):
		return "宛名は1行で入力してください。"
	case strings.ContainsAny(s, "@＠/:<>") || longDigits.MatchString(s):
		return "宛名には、お名前と敬称だけを入力してください（電話番号・メールアドレス・URLは入れられません）。"
	}
	for _, h := range honorifics {
		if strings.HasSuffix(s, h) {
			return ""
		}
	}
	return "宛名は「様」「さま」「さん」などの敬称で終えてください（例：山田様）。"
}

// Item is one facility of a proposal with the consultant's words on it.
type Item struct {
	FacilityID int64
	Name       string // the facility's name when the proposal was read
	Comment    string
}

// Draft is a proposal as the consultant's form sends it.
type Draft struct {
	CaseID         int64
	Salutation     string
	Message        string
	ExpiresOn      string // yyyy-mm-dd, valid through that day
	Items          []Item
	IdempotencyKey string
}

// Errors are messages by field (FieldSalutation …, or "comment-<facility
// id>" for one facility's comment).
type Errors map[string]string

// CommentField names the form field (and error key) of a facility's comment.
func CommentField(facilityID int64) string { return fmt.Sprintf("comment-%d", facilityID) }

// Normalize trims what the form sent.
func (d *Draft) Normalize() {
	d.Salutation = strings.TrimSpace(strings.ReplaceAll(d.Salutation, "　", " "))
	d.Message = strings.TrimSpace(strings.ReplaceAll(d.Message, "\r\n", "\n"))
	for i := range d.Items {
		d.Items[i].Comment = strings.TrimSpace(strings.ReplaceAll(d.Items[i].Comment, "\r\n", "\n"))
	}
}

// Validate checks a draft at now; known reports whether a facility exists.
// It returns the expiry instant when the draft is valid.
func (d Draft) Validate(now time.Time, known func(id int64) bool) (time.Time, Errors) {
	errs := Errors{}
	if msg := CheckSalutation(d.Salutation); msg != "" {
		errs[FieldSalutation] = msg
	}
	if utf8.RuneCountInString(d.Message) > MaxMessage {
		errs[FieldMessage] = fmt.Sprintf("メッセージは%d文字以内で入力してください。", MaxMessage)
	}
	switch {
	case len(d.Items) == 0:
		errs[FieldFacilities] = "提案する施設を1件以上選んでください。"
	case len(d.Items) > MaxFacilities:
		errs[FieldFacilities] = fmt.Sprintf("一度に提案できる施設は%d件までです。", MaxFacilities)
	}
	seen := map[int64]bool{}
	for _, it := range d.Items {
		if seen[it.FacilityID] {
			errs[FieldFacilities] = "同じ施設が2回選ばれています。"
		}
		seen[it.FacilityID] = true
		if !known(it.FacilityID) {
			errs[FieldFacilities] = fmt.Sprintf("施設番号 %d は見つかりません。一覧から外してください。", it.FacilityID)
		}
		if utf8.RuneCountInString(it.Comment) > MaxComment {
			errs[CommentField(it.FacilityID)] = fmt.Sprintf("コメントは%d文字以内で入力してください。", MaxComment)
		}
	}
	var expires time.Time
	on, ok := ParseDate(d.ExpiresOn)
	first, last := day(now).AddDate(0, 0, MinDays), day(now).AddDate(0, 0, MaxDays)
	switch {
	case !ok:
		errs[FieldExpiresOn] = "有効期限を日付で入力してください（例：2026-12-31）。"
	case on.Before(first) || on.After(last):
		errs[FieldExpiresOn] = fmt.Sprintf("有効期限は %s から %s までの日付にしてください。", first.Format("2006年1月2日"), last.Format("2006年1月2日"))
	default:
		expires = ExpiresAt(on)
	}
	if !intake.ValidIdempotencyKey(d.IdempotencyKey) {
		errs[FieldFacilities] = "フォームを確認できませんでした。ページを開き直してください。"
	}
	if len(errs) > 0 {
		return time.Time{}, errs
	}
	return expires, nil
}

// Proposal is a stored proposal.
type Proposal struct {
	ID            int64
	CaseID        int64
	CaseRef       string
	Salutation    string
	Message       string
	CreatedBy     int64
	CreatedByName string // the consultant, named on the family's page
	CreatedAt     time.Time
	ExpiresAt     time.Time
	RevokedAt     *time.Time
	FirstOpenedAt *time.Time
	Items         []Item
}

// Status of a proposal at a time.
const (
	Active  = "active"
	Expired = "expired"
	Revoked = "revoked"
)

// Status says whether the link works at now.
func (p Proposal) Status(now time.Time) string {
	switch {
	case p.RevokedAt != nil:
		return Revoked
	case !now.Before(p.ExpiresAt):
		return Expired
	}
	return Active
}

// StatusLabel names a status.
func StatusLabel(s string) string {
	switch s {
	case Active:
		return "公開中"
	case Expired:
		return "期限切れ"
	case Revoked:
		return "取り消し済み"
	}
	return s
}

// Has reports whether the proposal lists the facility.
func (p Proposal) Has(facilityID int64) bool {
	for _, it := range p.Items {
		if it.FacilityID == facilityID {
			return true
		}
	}
	return false
}

// ErrNotFound is a proposal that does not exist — or, for a link, one that
// expired or was revoked: the family's side cannot tell these apart.
var ErrNotFound = errors.New("proposal: not found")

// Created says which proposal a submit ended in.
type Created struct {
	ID  int64
	New bool // false: the form was already submitted (idempotency key seen)
}

// Link is the family's address of a proposal.
func Link(publicURL, token string) string {
	return strings.TrimRight(publicURL, "/") + "/p/" + token
}

// Mail is the message that carries the link to the family. It names no
// one but the salutation and holds no health data; the link is the only
// secret in it.
func Mail(to string, p Proposal, link string) intake.Mail {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\nケアマッチ 入居相談員の%sです。\n", p.Salutation, nonEmpty(p.CreatedByName, "担当"))
	b.WriteString("ご相談の条件に合う施設を選び、ご提案のページにまとめました。下のリンクからご覧ください。\n")
	b.WriteString("費用の内訳、受け入れ条件、空室の状況と、施設ごとの担当者からのコメントを載せています。\n")
	b.WriteString("ページから見学のお申し込みもできます。\n\n")
	b.WriteString(link + "\n\n")
	fmt.Fprintf(&b, "このリンクは %s まで有効です。印刷用のPDFもページからダウンロードできます。\n", p.ExpiresAt.Add(-time.Second).In(Tokyo).Format("2006年1月2日"))
	b.WriteString("リンクはご家族だけでお使いください（リンクを知っている人は誰でもページを見られます）。\n\n")
	b.WriteString("ご不明な点は、担当の入居相談員までお気軽にご連絡ください。\n\nケアマッチ（介護施設・老人ホームの無料入居相談）\n")
	return intake.Mail{Purpose: "proposal_link", To: to, Subject: "【ケアマッチ】ご提案の施設をお送りします", Body: b.String()}
}

func nonEmpty(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}

// TourRequest is a family's wish to visit one facility of a proposal.
type TourRequest struct {
	ProposalID     int64
	FacilityID     int64
	Slots          []time.Time // 1–3 wished start times
	Note           string
	IdempotencyKey string
	At             time.Time
}

// TourForm is the tour request as the family's form sends it.
type TourForm struct {
	FacilityID     int64
	Dates          [MaxTourSlots]string // yyyy-mm-dd
	Times          [MaxTourSlots]string // HH:MM
	Note           string
	IdempotencyKey string
}

// TourTimes are the start times the form offers.
var TourTimes = func() []string {
	var out []string
	for h := 9; h <= 17; h++ {
		out = append(out, fmt.Sprintf("%d:00", h))
		if h < 17 {
			out = append(out, fmt.Sprintf("%d:30", h))
		}
	}
	return out
}()

// SlotField names the form fields of the i-th wished slot (0-based).
func SlotField(i int) (date, tm string) {
	return fmt.Sprintf("date%d", i+1), fmt.Sprintf("time%d", i+1)
}

// Request checks the form against the proposal at now and returns the
// request to store, or the errors by field.
func (f TourForm) Request(p Proposal, now time.Time) (TourRequest, Errors) {
	errs := Errors{}
	if !p.Has(f.FacilityID) {
		errs[FieldTourFacility] = "見学する施設を、ご提案の中から選んでください。"
	}
	var slots []time.Time
	for i := range MaxTourSlots {
		d, t := strings.TrimSpace(f.Dates[i]), strings.TrimSpace(f.Times[i])
		if d == "" && t == "" {
			continue
		}
		day, ok := ParseDate(d)
		hm, err := time.Parse("15:04", t)
		if !ok || err != nil {
			errs[FieldTourSlots] = fmt.Sprintf("第%d希望の日付と時刻を選んでください。", i+1)
			continue
		}
		slots = append(slots, time.Date(day.Year(), day.Month(), day.Day(), hm.Hour(), hm.Minute(), 0, 0, Tokyo))
	}
	if _, ok := errs[FieldTourSlots]; !ok {
		var pr *referral.Problem
		if err := referral.CheckSlots(slots, now); errors.As(err, &pr) {
			errs[FieldTourSlots] = pr.Message
		} else if err != nil {
			errs[FieldTourSlots] = "見学の希望日時を確認してください。"
		}
	}
	note := strings.TrimSpace(strings.ReplaceAll(f.Note, "\r\n", "\n"))
	if utf8.RuneCountInString(note) > MaxTourNote {
		errs[FieldTourNote] = fmt.Sprintf("ご要望は%d文字以内で入力してください。", MaxTourNote)
	}
	if !intake.ValidIdempotencyKey(f.IdempotencyKey) {
		errs[FieldTourSlots] = "送信を確認できませんでした。ページを開き直して、もう一度お試しください。"
	}
	if len(errs) > 0 {
		return TourRequest{}, errs
	}
	return TourRequest{ProposalID: p.ID, FacilityID: f.FacilityID, Slots: slots, Note: note, IdempotencyKey: f.IdempotencyKey, At: now}, nil
}

// TourMail tells the consultant a family asked for a tour. It carries the
// case's reference and a link to the case, nothing else: who, where and
// when are read in the workspace.
func TourMail(to, caseRef, caseURL string) intake.Mail {
	body := "ご提案のページから、見学の希望が届きました。\n\n" +
		"受付番号：" + caseRef + "\n" + caseURL + "\n\n" +
		"希望日時と施設は案件のページで確認し、施設と日程を調整してください。\n"
	return intake.Mail{Purpose: "tour_request", To: to, Subject: "【ケアマッチ】見学の希望（受付番号 " + caseRef + "）", Body: body}
}

// Case is what the new-proposal form needs of a case.
type Case struct {
	ID          int64
	Ref         string
	ContactName string // for the default salutation only
	HasEmail    bool   // the link can be mailed
}

// TourCreated says which tour a request ended in.
type TourCreated struct {
	CaseID int64
	TourID int64
	New    bool // false: the same form was submitted before
}

// TourSummary is a tour asked for from a proposal, as the family's page
// shows it back.
type TourSummary struct {
	ID         int64
	FacilityID int64
	Status     string // referral's tour statuses
	CreatedAt  time.Time
	Slots      []time.Time // the family's wished start times
}

// StatusLabel names the tour's status for the family.
func (t TourSummary) StatusLabel() string {
	switch t.Status {
	case referral.Requested, referral.Proposed, referral.Countered:
		return "日程を調整しています"
	case referral.Confirmed:
		return "日程が決まりました"
	case referral.Done:
		return "見学済み"
	case referral.Cancelled:
		return "取り消し"
	}
	return t.Status
}
