package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"html/template"
	"image/png"
	"net/http"
	"strings"

	"github.com/pquerna/otp"

	"carematch/auth"
)

// The second factor: the code page of the sign-in (/staff/login/totp), the
// enrolment during sign-in for roles that require it (/staff/login/enrol)
// and the optional enrolment from the account page (/staff/account/totp).

type totpView struct {
	Next   string
	Errors auth.FieldErrors
	Alert  string
	// Enrolment only:
	Secret   string // grouped by four for reading aloud or typing
	URI      string
	QR       template.URL // data: URI of a PNG, generated here (no outside host)
	Action   string
	Required bool
}

const (
	msgBadCode   = "確認コードが正しくありません。認証アプリに表示されている6桁の数字を入力してください。"
	msgUsedCode  = "この確認コードは使用済みです。認証アプリに次のコードが表示されるまで待ってから入力してください。"
	msgEmptyCode = "確認コード（6桁の数字）を入力してください。"
)

// pendingSession returns the request's session if it is in stage, else
// sends the browser back to the login page.
func (s *Server) pendingSession(w http.ResponseWriter, r *http.Request, stage auth.Stage) (auth.Session, auth.User, bool) {
	if s.staff == nil {
		s.unavailable(w, r)
		return auth.Session{}, auth.User{}, false
	}
	sess, u, ok, err := s.currentSession(w, r)
	if err != nil {
		s.serverError(w, r, err)
		return auth.Session{}, auth.User{}, false
	}
	if !ok || sess.Stage != stage {
		// Timed out half-way (or never signed in): start again, saying why.
		http.Redirect(w, r, "/staff/login?done=expired", http.StatusSeeOther)
		return auth.Session{}, auth.User{}, false
	}
	return sess, u, true
}

func (s *Server) totpPage(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := s.pendingSession(w, r, auth.StageTOTP); !ok {
		return
	}
	s.render(w, r, http.StatusOK, "staff_totp", "確認コードの入力", totpView{Next: localPath(r.URL.Query().Get("next"), "")})
}

func (s *Server) totpSubmit(w http.ResponseWriter, r *http.Request) {
	_, u, ok := s.pendingSession(w, r, auth.StageTOTP)
	if !ok {
		return
	}
	v := totpView{Next: localPath(r.PostFormValue("next"), "")}
	ctx := r.Context()
	now := s.now()
	key, ip := auth.AccountKey(u.Email), ClientIP(r)
	th, err := s.staff.LoginThrottle(ctx, key, ip, now.Add(-auth.FailureWindow))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if th.AccountLocked() || th.IPLocked() {
		v.Alert = msgAccountLocked
		s.render(w, r, http.StatusTooManyRequests, "staff_totp", "確認コードの入力", v)
		return
	}
	code := r.PostFormValue("code")
	step, valid := auth.TOTPStep(u.TOTPSecret, code, now)
	if valid {
		err = s.staff.UseTOTPStep(ctx, u.ID, step)
		if err != nil && !errors.Is(err, auth.ErrTOTPReplay) {
			s.serverError(w, r, err)
			return
		}
	}
	if !valid || err != nil {
		reason := "totp"
		switch {
		case strings.TrimSpace(code) == "":
			v.Errors.Add("code", msgEmptyCode)
		case err != nil:
			reason = "totp replay"
			v.Errors.Add("code", msgUsedCode)
		default:
			v.Errors.Add("code", msgBadCode)
		}
		if strings.TrimSpace(code) != "" {
			if err := s.staff.RecordLoginFailure(ctx, key, ip, now); err != nil {
				s.serverError(w, r, err)
				return
			}
		}
		s.log.Info("staff login failed", "request_id", RequestID(ctx), "user_id", u.ID, "reason", reason)
		s.render(w, r, http.StatusUnprocessableEntity, "staff_totp", "確認コードの入力", v)
		return
	}
	if err := s.startSession(w, r, u, auth.StageFull); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.signedIn(w, r, u, v.Next)
}

// enrolView prepares the enrolment page for the session's candidate
// secret, making one when the session has none yet.
func (s *Server) enrolView(w http.ResponseWriter, r *http.Request, sess auth.Session, u auth.User) (totpView, bool) {
	secret := sess.TOTPCandidate
	if secret == "" {
		k, err := auth.NewTOTPKey(u.Email)
		if err != nil {
			s.serverError(w, r, err)
			return totpView{}, false
		}
		secret = k.Secret()
		if err := s.staff.SetSessionTOTPCandidate(r.Context(), sess.TokenHash, secret); err != nil {
			s.serverError(w, r, err)
			return totpView{}, false
		}
	}
	v := totpView{Secret: groupBy4(secret), URI: auth.TOTPKeyURL(u.Email, secret)}
	if k, err := otp.NewKeyFromURL(v.URI); err == nil {
		if img, err := k.Image(240, 240); err == nil {
			var buf bytes.Buffer
			if png.Encode(&buf, img) == nil {
				v.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))
			}
		}
	}
	return v, true
}

func groupBy4(s string) string {
	var b strings.Builder
	for i, c := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// confirmEnrol checks the code against the candidate secret and stores the
// second factor. It reports whether it did; otherwise it re-rendered the
// page with the error.
func (s *Server) confirmEnrol(w http.ResponseWriter, r *http.Request, sess auth.Session, u auth.User, v totpView) bool {
	code := r.PostFormValue("code")
	step, ok := auth.TOTPStep(sess.TOTPCandidate, code, s.now())
	if !ok {
		if strings.TrimSpace(code) == "" {
			v.Errors.Add("code", msgEmptyCode)
		} else {
			v.Errors.Add("code", msgBadCode)
		}
		s.render(w, r, http.StatusUnprocessableEntity, "staff_enrol", "2段階認証の設定", v)
		return false
	}
	if err := s.staff.EnableTOTP(r.Context(), u.ID, sess.TOTPCandidate, step); err != nil {
		s.serverError(w, r, err)
		return false
	}
	if err := s.staff.SetSessionTOTPCandidate(r.Context(), sess.TokenHash, ""); err != nil {
		s.serverError(w, r, err)
		return false
	}
	s.log.Info("staff totp enrolled", "request_id", RequestID(r.Context()), "user_id", u.ID)
	return true
}

func (s *Server) enrolPage(w http.ResponseWriter, r *http.Request) {
	sess, u, ok := s.pendingSession(w, r, auth.StageEnrol)
	if !ok {
		return
	}
	v, ok := s.enrolView(w, r, sess, u)
	if !ok {
		return
	}
	v.Next, v.Action, v.Required = localPath(r.URL.Query().Get("next"), ""), "/staff/login/enrol", true
	s.render(w, r, http.StatusOK, "staff_enrol", "2段階認証の設定", v)
}

func (s *Server) enrolSubmit(w http.ResponseWriter, r *http.Request) {
	sess, u, ok := s.pendingSession(w, r, auth.StageEnrol)
	if !ok {
		return
	}
	if sess.TOTPCandidate == "" {
		http.Redirect(w, r, "/staff/login/enrol", http.StatusSeeOther)
		return
	}
	v, ok := s.enrolView(w, r, sess, u)
	if !ok {
		return
	}
	v.Next, v.Action, v.Required = localPath(r.PostFormValue("next"), ""), "/staff/login/enrol", true
	if !s.confirmEnrol(w, r, sess, u, v) {
		return
	}
	if err := s.startSession(w, r, u, auth.StageFull); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.signedIn(w, r, u, v.Next)
}

// accountTOTPPage is the optional enrolment for signed-in staff.
func (s *Server) accountTOTPPage(w http.ResponseWriter, r *http.Request) {
	u, _ := Staff(r)
	if u.TOTPEnabled() {
		http.Redirect(w, r, "/staff/account", http.StatusSeeOther)
		return
	}
	v, ok := s.enrolView(w, r, *state(r).session, u)
	if !ok {
		return
	}
	v.Action = "/staff/account/totp"
	s.render(w, r, http.StatusOK, "staff_enrol", "2段階認証の設定", v)
}

func (s *Server) accountTOTPSubmit(w http.ResponseWriter, r *http.Request) {
	u, _ := Staff(r)
	sess := *state(r).session
	if u.TOTPEnabled() || sess.TOTPCandidate == "" {
		http.Redirect(w, r, "/staff/account", http.StatusSeeOther)
		return
	}
	v, ok := s.enrolView(w, r, sess, u)
	if !ok {
		return
	}
	v.Action = "/staff/account/totp"
	if s.confirmEnrol(w, r, sess, u, v) {
		http.Redirect(w, r, "/staff/account?done=totp", http.StatusSeeOther)
	}
}

// accountPage shows the signed-in user's account.
func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	u, _ := Staff(r)
	v := struct {
		accountView
		Notice string
	}{staffAccountView(u), ""}
	if r.URL.Query().Get("done") == "totp" {
		v.Notice = "2段階認証を設定しました。次回のログインから確認コードの入力が必要です。"
	}
	s.render(w, r, http.StatusOK, "staff_account", "アカウント", v)
}
