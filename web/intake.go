package web

import (
	"context"
	"crypto/rand"
	"errors"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"carematch/area"
	"carematch/facility"
	"carematch/intake"
)

// The public request forms: 相談申込 (/consultation), 資料請求 (/brochure)
// and 見学希望 (/tour). GET renders the form (?facility=ID preselects, more
// than once for several); POST validates, stores the case and its mails in
// one transaction and redirects to /KIND/done/REF (POST/redirect/GET). An
// invalid or refused submit re-renders the form with everything typed.

// IntakeStore stores cases (package postgres implements it).
type IntakeStore interface {
	CreateCase(ctx context.Context, c intake.Case, mails []intake.Mail) (intake.Stored, error)
	CaseReceipt(ctx context.Context, ref string) (intake.Receipt, error)
}

// IntakeOptions configures the public request forms.
type IntakeOptions struct {
	// Store keeps cases; without it a submit answers 503 (and keeps the input).
	Store IntakeStore
	// ConsultantEmail receives a notification of each new case ("" = none).
	ConsultantEmail string
	// Secret signs the render time of forms; every task must share it.
	// Empty: a random secret for this process.
	Secret []byte
	// MinFill is the least time between rendering a form and its submit
	// (default 3s); quicker submits are taken for bots.
	MinFill time.Duration
	// RateBurst submits per client IP, then one more per RateEvery
	// (defaults 8 and 3 minutes).
	RateBurst int
	RateEvery time.Duration
	// MaxBody bounds a submit (default 64 KiB; the site-wide limit still applies).
	MaxBody int64
	// Submitted is called after a new case committed (wakes the mail sender).
	Submitted func()
}

type intakeDeps struct {
	IntakeOptions
	token   formToken
	limiter *rateLimiter
	privacy intake.Privacy
	// privacyHTML is the privacy text rendered once.
	privacyHTML template.HTML
}

func newIntakeDeps(o IntakeOptions) *intakeDeps {
	if len(o.Secret) == 0 {
		o.Secret = make([]byte, 32)
		rand.Read(o.Secret)
	}
	if o.MinFill == 0 {
		o.MinFill = 3 * time.Second
	}
	if o.RateBurst <= 0 {
		o.RateBurst = 8
	}
	if o.RateEvery <= 0 {
		o.RateEvery = 3 * time.Minute
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 64 << 10
	}
	p := intake.CurrentPrivacy()
	return &intakeDeps{IntakeOptions: o, token: formToken{o.Secret}, limiter: newRateLimiter(o.RateBurst, o.RateEvery),
		privacy: p, privacyHTML: markdownHTML(p.Text)}
}

// formMaxAge is how long a rendered form may be submitted.
const formMaxAge = 24 * time.Hour

// intakePage is what templates/intake.html receives.
type intakePage struct {
	Kind       intake.Kind
	Action     string
	Form       intake.Form
	Errors     intake.Errors
	Banner     string // a message above the form (refused submit)
	Key, Token string
	Privacy    template.HTML
	PrivacyVer string
	Facilities []intakeFacility
	Medical    []intakeCheck
	Prefs      []area.Prefecture
	DateMin    string
	DateMax    string
	Choices    intakeChoices
}

type intakeFacility struct {
	ID      int64
	Name    string
	Type    string
	Address string
	Checked bool
}

type intakeCheck struct {
	Key, Label string
	Checked    bool
}

type intakeChoices struct {
	Relationships, AgeBands, CareLevels, Dementia, BudgetsMonthly, BudgetsInitial, Timings, TourTimes []string
}

var choiceLists = intakeChoices{intake.Relationships, intake.AgeBands, intake.CareLevels, intake.DementiaLevels,
	intake.BudgetsMonthly, intake.BudgetsInitial, intake.Timings, intake.TourTimes}

func (s *Server) intakeForm(kind intake.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f := intake.Form{Kind: kind}
		seen := map[int64]bool{}
		for _, v := range r.URL.Query()["facility"] {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || seen[id] || len(f.Facilities) >= kind.MaxFacilities() {
				continue
			}
			if _, ok := s.index.Facility(id); ok {
				seen[id] = true
				f.Facilities = append(f.Facilities, id)
			}
		}
		s.renderIntake(w, r, http.StatusOK, &f, nil, "", intake.NewIdempotencyKey(), "")
	}
}

// renderIntake renders the form. An empty token gets a fresh one (a
// refused submit keeps its own, so the fill time counts from the first
// render).
func (s *Server) renderIntake(w http.ResponseWriter, r *http.Request, status int, f *intake.Form, errs intake.Errors, banner, key, token string) {
	now := s.now()
	if token == "" {
		token = s.intake.token.sign(string(f.Kind), now, key)
	}
	d := intakePage{
		Kind: f.Kind, Action: "/" + string(f.Kind), Form: *f, Errors: errs, Banner: banner, Key: key, Token: token,
		Privacy: s.intake.privacyHTML, PrivacyVer: s.intake.privacy.Version, Prefs: area.Prefectures(), Choices: choiceLists,
		DateMin: now.In(jst).AddDate(0, 0, 1).Format("2006-01-02"), DateMax: now.In(jst).AddDate(0, 3, 0).Format("2006-01-02"),
	}
	chosen := map[int64]bool{}
	for _, id := range f.Facilities {
		if chosen[id] {
			continue
		}
		chosen[id] = true
		if fac, ok := s.index.Facility(id); ok {
			d.Facilities = append(d.Facilities, intakeFacility{ID: id, Name: fac.Name, Type: fac.Type.Label(), Address: fac.Address, Checked: true})
		}
	}
	for i, m := range facility.MedicalItems {
		c := intakeCheck{Key: m.Key, Label: facility.Medical(i).Label()}
		for _, k := range f.Medical {
			c.Checked = c.Checked || k == m.Key
		}
		d.Medical = append(d.Medical, c)
	}
	// Pages with a token, and on re-display the person's data, are never
	// stored by the browser or a proxy.
	w.Header().Set("Cache-Control", "no-store")
	title := f.Kind.Label()
	if len(errs) > 0 {
		title = "入力内容に誤りがあります：" + title
	}
	s.render(w, r, status, "intake", title, d)
}

func (s *Server) intakeSubmit(kind intake.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.intake.MaxBody {
			s.renderError(w, r, http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.intake.MaxBody)
		if err := r.ParseForm(); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				s.renderError(w, r, http.StatusRequestEntityTooLarge)
				return
			}
			s.renderError(w, r, http.StatusBadRequest)
			return
		}
		now := s.now()
		f := intakeFormFrom(kind, r.PostForm)
		key, token := r.PostForm.Get("key"), r.PostForm.Get("form_token")
		reject := func(status int, reason, banner string, keepToken bool) {
			s.log.Info("intake refused", "request_id", RequestID(r.Context()), "kind", string(kind), "reason", reason)
			if !keepToken {
				token = ""
			}
			s.renderIntake(w, r, status, &f, nil, banner, key, token)
		}
		if ok, wait := s.intake.limiter.allow(ClientIP(r), now); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			reject(http.StatusTooManyRequests, "rate limit",
				"短い時間に多くの送信があったため、いまは受け付けられません。入力内容はこのページに残っています。"+
					strconv.Itoa(int(wait.Minutes())+1)+"分ほどたってから、もう一度「送信する」を押してください。", true)
			return
		}
		if !intake.ValidIdempotencyKey(key) {
			key = intake.NewIdempotencyKey()
			reject(http.StatusBadRequest, "no key", "送信を確認できませんでした。内容をご確認のうえ、もう一度「送信する」を押してください。", false)
			return
		}
		rendered, ok := s.intake.token.renderedAt(string(kind), token, key)
		switch {
		case !ok:
			reject(http.StatusBadRequest, "bad form token", "送信を確認できませんでした。内容をご確認のうえ、もう一度「送信する」を押してください。", false)
			return
		case now.Sub(rendered) > formMaxAge:
			reject(http.StatusBadRequest, "form expired", "ページを開いてから時間がたったため、送信を確認できませんでした。内容をご確認のうえ、もう一度「送信する」を押してください。", false)
			return
		case r.PostForm.Get("homepage") != "":
			reject(http.StatusUnprocessableEntity, "honeypot", "送信できませんでした。お手数ですが、入力内容をご確認のうえ、もう一度お試しください。", false)
			return
		case now.Sub(rendered) < s.intake.MinFill:
			reject(http.StatusUnprocessableEntity, "too fast", "送信が早すぎたため、確認のためいったん止めました。入力内容をご確認のうえ、もう一度「送信する」を押してください。", true)
			return
		}
		lookup := func(id int64) (string, bool) {
			fac, ok := s.index.Facility(id)
			if !ok {
				return "", false
			}
			return fac.Name, true
		}
		if errs := f.Validate(now, s.intake.privacy, lookup); len(errs) > 0 {
			s.renderIntake(w, r, http.StatusUnprocessableEntity, &f, errs, "", key, token)
			return
		}
		unavailable := "ただいま一時的にご利用いただけません。入力内容はこのページに残っています。少し時間をおいてから、もう一度「送信する」を押してください。"
		if s.intake.Store == nil {
			reject(http.StatusServiceUnavailable, "no store", unavailable, true)
			return
		}
		c := intake.NewCase(&f, key, now, s.intake.privacy, lookup)
		stored, err := s.intake.Store.CreateCase(r.Context(), c, c.Mails(s.publicURL, s.intake.ConsultantEmail))
		if err != nil {
			// The error names no personal data (SQL errors carry no values).
			s.log.Error("intake: case not stored", "request_id", RequestID(r.Context()), "kind", string(kind), "err", err.Error())
			s.renderIntake(w, r, http.StatusServiceUnavailable, &f, nil, unavailable, key, token)
			return
		}
		s.log.Info("case received", "request_id", RequestID(r.Context()), "case_id", stored.ID, "kind", string(kind), "new", stored.New)
		if stored.New && s.intake.Submitted != nil {
			s.intake.Submitted()
		}
		http.Redirect(w, r, "/"+string(kind)+"/done/"+stored.Ref, http.StatusSeeOther)
	}
}

// intakeFormFrom builds the form from the posted values.
func intakeFormFrom(kind intake.Kind, v url.Values) intake.Form {
	f := intake.Form{
		Kind: kind, Relationship: v.Get("relationship"), ContactName: v.Get("contact_name"),
		Phone: v.Get("phone"), Email: v.Get("email"), PostalCode: v.Get("postal_code"), Address: v.Get("address"),
		AgeBand: v.Get("age_band"), CareLevel: v.Get("care_level"), Dementia: v.Get("dementia"), Medical: v["medical"],
		BudgetMonthly: v.Get("budget_monthly"), BudgetInitial: v.Get("budget_initial"),
		PrefCode: v.Get("pref"), Municipality: v.Get("municipality"), Timing: v.Get("timing"),
		TourDate1: v.Get("tour_date1"), TourDate2: v.Get("tour_date2"), TourTime: v.Get("tour_time"),
		Note: v.Get("note"), Consent: v.Get("consent") == "yes", PrivacyVersion: v.Get("privacy_version"),
	}
	seen := map[int64]bool{}
	for _, s := range v["facility"] {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil && !seen[id] {
			seen[id] = true
			f.Facilities = append(f.Facilities, id)
		}
	}
	return f
}

type intakeDonePage struct {
	Receipt intake.Receipt
	When    string
	Next    string
}

func (s *Server) intakeDone(kind intake.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ref := r.PathValue("ref")
		if !intake.ValidRef(ref) {
			s.renderError(w, r, http.StatusNotFound)
			return
		}
		if s.intake.Store == nil {
			s.renderError(w, r, http.StatusServiceUnavailable)
			return
		}
		rc, err := s.intake.Store.CaseReceipt(r.Context(), ref)
		switch {
		case errors.Is(err, intake.ErrNotFound) || err == nil && rc.Kind != kind:
			s.renderError(w, r, http.StatusNotFound)
			return
		case err != nil:
			s.log.Error("intake: receipt not read", "request_id", RequestID(r.Context()), "err", err.Error())
			s.renderError(w, r, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		s.render(w, r, http.StatusOK, "intake_done", kind.Short()+"のお申し込みを受け付けました", intakeDonePage{Receipt: rc, When: rc.CreatedAt.In(jst).Format("2006年1月2日 15:04"), Next: kind.NextStep()})
	}
}

// markdownHTML renders the small Markdown of the privacy text: "## " and
// "### " headings (shown one level down, inside the form), "- " items and
// paragraphs. Everything is escaped.
func markdownHTML(md string) template.HTML {
	var b strings.Builder
	inList := false
	for _, line := range strings.Split(md, "\n") {
		line = strings.TrimSpace(line)
		item, isItem := strings.CutPrefix(line, "- ")
		if inList && !isItem {
			b.WriteString("</ul>\n")
			inList = false
		}
		switch {
		case line == "":
		case isItem:
			if !inList {
				b.WriteString("<ul>\n")
				inList = true
			}
			b.WriteString("<li>" + html.EscapeString(item) + "</li>\n")
		case strings.HasPrefix(line, "### "):
			b.WriteString("<h4>" + html.EscapeString(line[4:]) + "</h4>\n")
		case strings.HasPrefix(line, "## "):
			b.WriteString("<h3>" + html.EscapeString(line[3:]) + "</h3>\n")
		default:
			b.WriteString("<p>" + html.EscapeString(line) + "</p>\n")
		}
	}
	if inList {
		b.WriteString("</ul>\n")
	}
	return template.HTML(b.String())
}
