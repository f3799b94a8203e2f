// Package auth is the domain of staff accounts and access control: roles,
// users, sessions and their timeouts, passwords (argon2id), TOTP second
// factor, login throttling and password-reset tokens. Storage lives in
// package postgres, HTTP in package web; this package holds the rules.
package auth

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Role is what a staff member may do. Routes list the roles they admit.
type Role string

// The staff roles.
const (
	Consultant    Role = "consultant"     // 入居相談員
	Manager       Role = "manager"        // マネージャー・バックオフィス
	Admin         Role = "admin"          // システム管理者
	FacilityStaff Role = "facility_staff" // 提携施設のスタッフ
)

// Roles lists every role, in the order they are shown.
func Roles() []Role { return []Role{Consultant, Manager, Admin, FacilityStaff} }

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles() {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown role %q (one of consultant, manager, admin, facility_staff)", s)
}

// Label is the role's name in the staff screens.
func (r Role) Label() string {
	switch r {
	case Consultant:
		return "入居相談員"
	case Manager:
		return "マネージャー"
	case Admin:
		return "管理者"
	case FacilityStaff:
		return "提携施設スタッフ"
	case "system": // audit events written by scheduled jobs (audit.System)
		return "システム（定期ジョブ）"
	}
	return string(r)
}

// RequiresTOTP says whether the role must sign in with a second factor.
// Managers and admins see every case and the audit log; for the others the
// second factor is optional.
func (r Role) RequiresTOTP() bool { return r == Manager || r == Admin }

// Home is where a member of the role lands after signing in: facility
// staff in the facility portal, everyone else in the staff pages.
func (r Role) Home() string {
	if r == FacilityStaff {
		return "/portal"
	}
	return "/staff"
}

// ActsForEveryFacility says whether the role may act in the facility portal
// for any facility (the back office standing in for a facility that phoned
// in a change). Facility staff act only for the facilities they are linked
// to (staff_facilities); consultants do not use the portal.
func (r Role) ActsForEveryFacility() bool { return r == Manager || r == Admin }

// RolesActingForEveryFacility lists the roles of ActsForEveryFacility (for
// the storage query of the portal's scope check).
func RolesActingForEveryFacility() []string {
	var out []string
	for _, r := range Roles() {
		if r.ActsForEveryFacility() {
			out = append(out, string(r))
		}
	}
	return out
}

// User is a staff account.
type User struct {
	ID           int64
	Email        string // stored lower-cased; never written to logs
	Name         string
	Role         Role
	FacilityIDs  []int64 // facility staff only: the facilities they act for
	PasswordHash string  // PHC-encoded argon2id
	TOTPSecret   string  // base32; "" while no second factor is enrolled
	TOTPLastStep int64   // the last accepted TOTP time step (replay guard)
	DisabledAt   *time.Time
	CreatedAt    time.Time
}

// TOTPEnabled says whether the user has a second factor enrolled.
func (u User) TOTPEnabled() bool { return u.TOTPSecret != "" }

// Disabled says whether the account may no longer sign in.
func (u User) Disabled() bool { return u.DisabledAt != nil }

// NormalizeEmail trims and lower-cases an address, the form accounts are
// stored and looked up in.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Validate checks a user before it is stored.
func (u User) Validate() error {
	var fe FieldErrors
	if u.Email != NormalizeEmail(u.Email) {
		fe.Add("email", "メールアドレスは小文字で、前後の空白なしで登録してください。")
	} else if !ValidEmail(u.Email) {
		fe.Add("email", "メールアドレスの形式が正しくありません（例：sato@example.jp）。")
	}
	if utf8.RuneCountInString(u.Name) > 100 {
		fe.Add("name", "氏名は100文字以内で入力してください。")
	}
	if _, err := ParseRole(string(u.Role)); err != nil {
		fe.Add("role", "役割が正しくありません。")
	}
	if u.Role == FacilityStaff && len(u.FacilityIDs) == 0 {
		fe.Add("facility", "提携施設スタッフには担当する施設を1つ以上指定してください。")
	}
	if u.Role != FacilityStaff && len(u.FacilityIDs) > 0 {
		fe.Add("facility", "施設を指定できるのは提携施設スタッフだけです。")
	}
	if u.PasswordHash == "" {
		fe.Add("password", "パスワードが設定されていません。")
	}
	if len(fe) > 0 {
		return fe
	}
	return nil
}

// ValidEmail reports whether s is a plain address (no display name).
func ValidEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " <>") {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s[strings.LastIndex(s, "@"):], ".")
}

// FieldError is a problem with one input field, with a message safe to show.
type FieldError struct {
	Field   string
	Message string
}

// FieldErrors are the problems of a submission, in field order.
type FieldErrors []FieldError

// Add records a problem with a field.
func (fe *FieldErrors) Add(field, msg string) { *fe = append(*fe, FieldError{field, msg}) }

// Message returns the first message for field, or "".
func (fe FieldErrors) Message(field string) string {
	for _, e := range fe {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

func (fe FieldErrors) Error() string {
	parts := make([]string, len(fe))
	for i, e := range fe {
		parts[i] = e.Field + ": " + e.Message
	}
	return "invalid: " + strings.Join(parts, "; ")
}

// Errors with a code; the web layer maps them to pages.
var (
	ErrNotFound   = errors.New("auth: not found")
	ErrEmailTaken = errors.New("auth: e-mail address already registered")
	// ErrTOTPReplay is a code that was valid but already used.
	ErrTOTPReplay = errors.New("auth: TOTP code already used")
	// ErrResetInvalid is a reset token that is unknown, used or expired.
	ErrResetInvalid = errors.New("auth: reset token invalid, used or expired")
	// ErrResetLimit: the account got enough reset mails for now.
	ErrResetLimit = errors.New("auth: too many reset requests")
)

// ResetMail is a password-reset mail to one staff member; the store
// writes it to the mail outbox with the token.
type ResetMail struct {
	UserID    int64
	To        string
	Name      string
	Link      string // contains the single-use token
	ExpiresAt time.Time
}

// Subject is the mail's subject line.
func (m ResetMail) Subject() string {
	return "【ケアマッチ】パスワード再設定のご案内"
}

// Body is the mail's plain-text body.
func (m ResetMail) Body() string {
	name := m.Name
	if name == "" {
		name = "ご担当者"
	}
	return name + " 様\n\n" +
		"ケアマッチのスタッフ用アカウントで、パスワード再設定の手続きが行われました。\n" +
		"次のリンクを開いて、新しいパスワードを設定してください。\n\n" +
		m.Link + "\n\n" +
		"このリンクは " + m.ExpiresAt.In(jst).Format("2006年1月2日 15時04分") + " まで、1回だけ使えます。\n" +
		"お心当たりがない場合は、このメールを破棄してください。パスワードは変更されません。\n"
}

var jst = time.FixedZone("JST", 9*60*60)
