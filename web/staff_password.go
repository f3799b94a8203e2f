package web

import (
	"errors"
	"net/http"
	"strings"

	"carematch/auth"
)

// Password reset by e-mail: /staff/password/forgot asks for the address
// and queues a mail with a single-use link valid for auth.ResetTTL;
// /staff/password/reset?token=… sets the new password. Only the token's
// hash is stored, and the answer to a request is the same whether the
// address exists or not.

type forgotView struct {
	Email  string
	Errors auth.FieldErrors
	Sent   bool
}

func (s *Server) forgotPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "staff_forgot", "パスワードの再設定", forgotView{})
}

func (s *Server) forgotSubmit(w http.ResponseWriter, r *http.Request) {
	if s.staff == nil {
		s.unavailable(w, r)
		return
	}
	v := forgotView{Email: strings.TrimSpace(r.PostFormValue("email"))}
	if !auth.ValidEmail(auth.NormalizeEmail(v.Email)) {
		v.Errors.Add("email", "メールアドレスを入力してください（例：sato@example.jp）。")
		s.render(w, r, http.StatusUnprocessableEntity, "staff_forgot", "パスワードの再設定", v)
		return
	}
	ctx := r.Context()
	u, err := s.staff.StaffUserByEmail(ctx, v.Email)
	switch {
	case errors.Is(err, auth.ErrNotFound):
		s.log.Info("password reset requested", "request_id", RequestID(ctx), "known", false)
	case err != nil:
		s.serverError(w, r, err)
		return
	case u.Disabled():
		s.log.Info("password reset requested", "request_id", RequestID(ctx), "user_id", u.ID, "disabled", true)
	default:
		now := s.now()
		tok, hash := auth.NewToken()
		m := auth.ResetMail{UserID: u.ID, To: u.Email, Name: u.Name, ExpiresAt: now.Add(auth.ResetTTL),
			Link: s.publicURL + "/staff/password/reset?token=" + tok}
		err := s.staff.CreatePasswordReset(ctx, hash, now, m)
		switch {
		case errors.Is(err, auth.ErrResetLimit):
			s.log.Warn("password reset requested: limit reached", "request_id", RequestID(ctx), "user_id", u.ID)
		case err != nil:
			s.serverError(w, r, err)
			return
		default:
			s.log.Info("password reset requested", "request_id", RequestID(ctx), "user_id", u.ID)
		}
	}
	v.Sent = true
	s.render(w, r, http.StatusOK, "staff_forgot", "パスワードの再設定", v)
}

type resetView struct {
	Token  string
	Valid  bool
	Errors auth.FieldErrors
}

func (s *Server) resetPage(w http.ResponseWriter, r *http.Request) {
	if s.staff == nil {
		s.unavailable(w, r)
		return
	}
	// The token is in the URL: no Referer may carry it anywhere.
	w.Header().Set("Referrer-Policy", "no-referrer")
	tok := r.URL.Query().Get("token")
	ok, err := s.staff.PasswordResetValid(r.Context(), auth.HashToken(tok), s.now())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	status := http.StatusOK
	if !ok {
		status = http.StatusNotFound
	}
	s.render(w, r, status, "staff_reset", "新しいパスワードの設定", resetView{Token: tok, Valid: ok})
}

func (s *Server) resetSubmit(w http.ResponseWriter, r *http.Request) {
	if s.staff == nil {
		s.unavailable(w, r)
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	v := resetView{Token: r.PostFormValue("token"), Valid: true}
	pw, confirm := r.PostFormValue("password"), r.PostFormValue("password_confirm")
	if err := auth.CheckNewPassword(pw); err != nil {
		v.Errors.Add("password", err.Error())
	} else if pw != confirm {
		v.Errors.Add("password_confirm", "確認のため、同じパスワードをもう一度入力してください。")
	}
	if len(v.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "staff_reset", "新しいパスワードの設定", v)
		return
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	u, err := s.staff.UsePasswordReset(r.Context(), auth.HashToken(v.Token), s.now(), hash)
	if errors.Is(err, auth.ErrResetInvalid) {
		s.render(w, r, http.StatusNotFound, "staff_reset", "新しいパスワードの設定", resetView{})
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	// The lock-out message points here: a new password lifts it.
	if err := s.staff.ClearLoginFailures(r.Context(), auth.AccountKey(u.Email)); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.log.Info("password reset done", "request_id", RequestID(r.Context()), "user_id", u.ID)
	http.Redirect(w, r, "/staff/login?done=reset", http.StatusSeeOther)
}
