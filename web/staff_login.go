package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"carematch/auth"
)

// The staff sign-in: /staff/login (address and password), then, by the
// session's stage, /staff/login/totp (the code) or /staff/login/enrol
// (first second-factor set-up for managers and admins).

type loginView struct {
	Email  string
	Next   string
	Errors auth.FieldErrors
	// Alert is a message for the whole form (lock-out), shown at the top.
	Alert  string
	Notice string
}

// Messages of the sign-in pages.
const (
	msgBadLogin      = "メールアドレスまたはパスワードが正しくありません。"
	msgAccountLocked = "ログインに続けて失敗したため、このアカウントへのログインを一時的に止めています。15分ほどたってから、もう一度お試しください。パスワードがわからない場合は「パスワードを忘れた場合」から再設定できます。"
	msgIPLocked      = "このネットワークからのログインの失敗が続いたため、一時的にログインを受け付けていません。15分ほどたってから、もう一度お試しください。"
)

var loginNotices = map[string]string{
	"logout":  "ログアウトしました。",
	"reset":   "パスワードを変更しました。新しいパスワードでログインしてください。",
	"expired": "ログインの途中で時間がたったため、最初からやり直してください。",
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, u, ok, err := s.currentSession(w, r); err == nil && ok && s.fullSession(r) {
		http.Redirect(w, r, u.Role.Home(), http.StatusSeeOther)
		return
	}
	q := r.URL.Query()
	s.renderLogin(w, r, http.StatusOK, loginView{Next: localPath(q.Get("next"), ""), Notice: loginNotices[q.Get("done")]})
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, v loginView) {
	s.render(w, r, status, "staff_login", "スタッフ ログイン", v)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if s.staff == nil {
		s.unavailable(w, r)
		return
	}
	v := loginView{Email: strings.TrimSpace(r.PostFormValue("email")), Next: localPath(r.PostFormValue("next"), "")}
	pw := r.PostFormValue("password")
	if v.Email == "" {
		v.Errors.Add("email", "メールアドレスを入力してください。")
	}
	if pw == "" {
		v.Errors.Add("password", "パスワードを入力してください。")
	}
	if len(v.Errors) > 0 {
		s.renderLogin(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	ctx := r.Context()
	now := s.now()
	ip := ClientIP(r)
	key := auth.AccountKey(v.Email)
	th, err := s.staff.LoginThrottle(ctx, key, ip, now.Add(-auth.FailureWindow))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if th.AccountLocked() || th.IPLocked() {
		v.Alert = msgAccountLocked
		if !th.AccountLocked() {
			v.Alert = msgIPLocked
		}
		s.log.Warn("staff login refused: locked", "request_id", RequestID(ctx), "account_locked", th.AccountLocked(), "ip_locked", th.IPLocked())
		s.renderLogin(w, r, http.StatusTooManyRequests, v)
		return
	}
	u, err := s.staff.StaffUserByEmail(ctx, v.Email)
	switch {
	case errors.Is(err, auth.ErrNotFound):
		auth.CheckNoAccount(pw) // as slow as a real check: no telling which addresses exist
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	if err != nil || u.Disabled() || !auth.CheckPassword(u.PasswordHash, pw) {
		if err := s.staff.RecordLoginFailure(ctx, key, ip, now); err != nil {
			s.serverError(w, r, err)
			return
		}
		s.log.Info("staff login failed", "request_id", RequestID(ctx), "user_id", u.ID, "reason", "password")
		th.AccountFailures++
		th.IPFailures++
		status := http.StatusUnprocessableEntity
		switch {
		case th.AccountLocked():
			v.Alert, status = msgAccountLocked, http.StatusTooManyRequests
		case th.IPLocked():
			v.Alert, status = msgIPLocked, http.StatusTooManyRequests
		default:
			v.Errors.Add("password", msgBadLogin)
		}
		s.renderLogin(w, r, status, v)
		return
	}
	stage := auth.StageAfterPassword(u)
	if err := s.startSession(w, r, u, stage); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.log.Info("staff password accepted", "request_id", RequestID(ctx), "user_id", u.ID, "stage", string(stage))
	switch stage {
	case auth.StageTOTP:
		http.Redirect(w, r, withNext("/staff/login/totp", v.Next), http.StatusSeeOther)
	case auth.StageEnrol:
		http.Redirect(w, r, withNext("/staff/login/enrol", v.Next), http.StatusSeeOther)
	default:
		s.signedIn(w, r, u, v.Next)
	}
}

// signedIn finishes a sign-in: failures of the account are forgotten and
// the user goes where they were headed.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request, u auth.User, next string) {
	if err := s.staff.ClearLoginFailures(r.Context(), auth.AccountKey(u.Email)); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.log.Info("staff signed in", "request_id", RequestID(r.Context()), "user_id", u.ID, "role", string(u.Role))
	http.Redirect(w, r, localPath(next, u.Role.Home()), http.StatusSeeOther)
}

func withNext(path, next string) string {
	if next == "" {
		return path
	}
	return path + "?next=" + url.QueryEscape(next)
}

// fullSession says whether the request's session (as found by
// currentSession) is fully signed in.
func (s *Server) fullSession(r *http.Request) bool {
	st := state(r)
	return st.session != nil && st.session.Stage == auth.StageFull
}

// logout ends the server session (POST only, so a link or an image on
// another site cannot sign anyone out).
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	u, _ := Staff(r)
	if err := s.endSession(w, r); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.log.Info("staff signed out", "request_id", RequestID(r.Context()), "user_id", u.ID)
	http.Redirect(w, r, "/staff/login?done=logout", http.StatusSeeOther)
}
