package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"carematch/facility"
	"carematch/intake"
	"carematch/proposal"
)

// The family's side of a proposal: GET /p/{token} (the page), GET
// /p/{token}/pdf (the same as a printable PDF) and POST /p/{token}/tours
// (a tour request). A token that is malformed, unknown, expired or revoked
// gets one and the same answer, after the same single lookup by hash. The
// pages are not indexed, not cached by shared caches, and send no
// Referer to the sites they link to (the link is the secret).

// proposalLimit bounds requests to proposal links per client IP and task:
// generous for a family (a few views, a PDF, a tour request), a wall for
// anyone trying tokens.
func newProposalLimiter() *rateLimiter { return newRateLimiter(60, 10*time.Second) }

// proposalHeaders are set on every answer of the family's routes, found or
// not, so the headers say nothing either.
func proposalHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "private, no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Robots-Tag", "noindex, nofollow, noarchive")
}

// openProposal answers the common start of the family's routes: the rate
// limit, then the proposal the link names. false: the answer was sent.
func (s *Server) openProposal(w http.ResponseWriter, r *http.Request) (proposal.Proposal, []byte, bool) {
	proposalHeaders(w)
	if ok, wait := s.proposalLimiter.allow(ClientIP(r), s.now()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		s.renderError(w, r, http.StatusTooManyRequests)
		return proposal.Proposal{}, nil, false
	}
	if s.proposals == nil {
		s.renderError(w, r, http.StatusServiceUnavailable)
		return proposal.Proposal{}, nil, false
	}
	raw := r.PathValue("token")
	hash, ok := proposal.ParseToken(raw)
	if !ok {
		// Looked up all the same: a malformed token costs what an unknown one does.
		hash = proposal.HashToken(raw[:min(len(raw), 64)])
	}
	p, err := s.proposals.OpenProposal(r.Context(), hash, s.now())
	if err == nil && !ok {
		err = proposal.ErrNotFound
	}
	if errors.Is(err, proposal.ErrNotFound) {
		s.proposalGone(w, r)
		return proposal.Proposal{}, nil, false
	}
	if err != nil {
		s.log.Error("proposal not read", "request_id", RequestID(r.Context()), "err", err.Error())
		s.renderError(w, r, http.StatusServiceUnavailable)
		return proposal.Proposal{}, nil, false
	}
	return p, hash, true
}

// proposalGone is the one answer to every link that does not open a
// proposal.
func (s *Server) proposalGone(w http.ResponseWriter, r *http.Request) {
	s.renderErrorText(w, r, http.StatusNotFound, "このリンクではご提案を表示できません",
		"リンクの有効期限が切れたか、取り消されたか、アドレスが途中で切れている可能性があります。お手数ですが、担当の入居相談員にお問い合わせください。新しいリンクをお送りします。")
}

// proposalPage is what templates/proposal.html receives.
type proposalPage struct {
	P          proposal.Proposal
	Expires    string
	Token      string
	Facilities []proposalFacility
	Notice     string
	Legend     string
}

// proposalFacility is one facility as the family's page and the PDF show
// it: from the catalog as it is now, with the consultant's comment.
type proposalFacility struct {
	ID          int64
	Name        string
	Comment     string
	Known       bool
	Type        string
	TypeExplain string
	Address     string
	Phone       string
	PhoneDigits string
	HasCosts    bool
	Initial     int64
	Monthly     []costLine
	Total       int64
	Care        []acceptRow
	Dementia    facility.Accept
	MedicalOK   []string // ○
	MedicalAsk  []string // △ 要相談
	Vacancies   []vacancyLine
	Features    []string
	Demo        bool
	Tours       []tourLine
	Form        tourFormView
}

type costLine struct {
	Label  string
	Amount int64
}

type vacancyLine struct {
	Room      string
	Available int
	Confirmed string // 2026年11月20日
	Ago       string // 3日前
}

type slotInput struct {
	N          int // 1-based: 第N希望
	Date, Time string
}

type tourLine struct {
	Status string
	Slots  []string
	Asked  string
}

// tourFormView is one facility's tour request form: its values, errors
// and the key of this rendering.
type tourFormView struct {
	Key      string
	Open     bool // shown open (after an error)
	Slots    []slotInput
	Note     string
	Errors   proposal.Errors
	MinDate  string
	MaxDate  string
	TimeList []string
}

var weekdays = [...]string{"日", "月", "火", "水", "木", "金", "土"}

// slotLabel is 12月10日(木) 10:30.
func slotLabel(t time.Time) string {
	t = t.In(jst)
	return t.Format("1月2日") + "(" + weekdays[t.Weekday()] + ") " + t.Format("15:04")
}

// proposalFacilities builds the facilities of p from the catalog.
func (s *Server) proposalFacilities(p proposal.Proposal) []proposalFacility {
	now := s.now()
	out := make([]proposalFacility, 0, len(p.Items))
	for _, it := range p.Items {
		pf := proposalFacility{ID: it.FacilityID, Name: it.Name, Comment: it.Comment}
		f, ok := s.index.Facility(it.FacilityID)
		if ok {
			pf.Known, pf.Name, pf.Address, pf.Phone, pf.Demo = true, f.Name, f.Address, f.Phone, f.Demo
			if f.Building != "" {
				pf.Address += " " + f.Building
			}
			if ti, ok := f.Type.Info(); ok {
				pf.Type, pf.TypeExplain = ti.Label, ti.Explain
			}
			for _, c := range f.Phone {
				if c >= '0' && c <= '9' {
					pf.PhoneDigits += string(c)
				}
			}
			if pf.HasCosts = f.HasCosts(); pf.HasCosts {
				m := f.Monthly
				pf.Initial, pf.Total = f.InitialCost, m.Total()
				pf.Monthly = []costLine{{"賃料", m.Rent}, {"管理費", m.Management}, {"食費", m.Food}, {"水道光熱費", m.Utilities}, {"上乗せ介護費", m.CareExtra}, {"その他", m.Other}}
			}
			for c := facility.Independent; c < facility.NumCareLevels; c++ {
				a := facility.No
				if f.CareLevels.Has(c) {
					a = facility.Yes
				}
				pf.Care = append(pf.Care, acceptRow{c.String(), a})
			}
			pf.Dementia = f.Dementia
			for i := range facility.MedicalItems {
				switch f.Medical[i] {
				case facility.Yes:
					pf.MedicalOK = append(pf.MedicalOK, facility.Medical(i).Label())
				case facility.Consult:
					pf.MedicalAsk = append(pf.MedicalAsk, facility.Medical(i).Label())
				}
			}
			for _, v := range f.Vacancies {
				pf.Vacancies = append(pf.Vacancies, vacancyLine{v.RoomType, v.Available, v.ConfirmedAt.In(jst).Format("2006年1月2日"), ago(now, v.ConfirmedAt)})
			}
			for i := range facility.FeatureItems {
				if f.Features.Has(facility.Feature(i)) {
					pf.Features = append(pf.Features, facility.Feature(i).Label())
				}
			}
		}
		out = append(out, pf)
	}
	return out
}

// proposalPublic is GET /p/{token}.
func (s *Server) proposalPublic(w http.ResponseWriter, r *http.Request) {
	p, _, ok := s.openProposal(w, r)
	if !ok {
		return
	}
	notice := ""
	if r.URL.Query().Get("tour") == "requested" {
		notice = "見学のお申し込みを受け付けました。担当の入居相談員が施設と日程を調整し、ご連絡します。"
	}
	s.renderProposalPublic(w, r, http.StatusOK, p, notice, 0, proposal.TourForm{}, nil)
}

// renderProposalPublic renders the family's page; a refused tour request
// (errs for facility errFacility) keeps what was typed in its form.
func (s *Server) renderProposalPublic(w http.ResponseWriter, r *http.Request, status int, p proposal.Proposal, notice string, errFacility int64, kept proposal.TourForm, errs proposal.Errors) {
	tours, err := s.proposals.ProposalTours(r.Context(), p.ID)
	if err != nil {
		s.log.Error("proposal tours not read", "request_id", RequestID(r.Context()), "err", err.Error())
		s.renderError(w, r, http.StatusServiceUnavailable)
		return
	}
	now := s.now()
	d := proposalPage{P: p, Token: r.PathValue("token"), Notice: notice, Facilities: s.proposalFacilities(p),
		Expires: p.ExpiresAt.Add(-time.Second).In(jst).Format("2006年1月2日")}
	minDate := now.In(jst).AddDate(0, 0, 1).Format("2006-01-02")
	maxDate := now.In(jst).AddDate(0, 3, 0).Format("2006-01-02")
	for i := range d.Facilities {
		pf := &d.Facilities[i]
		pf.Form = tourFormView{Key: intake.NewIdempotencyKey(), MinDate: minDate, MaxDate: maxDate, TimeList: proposal.TourTimes}
		for k := range proposal.MaxTourSlots {
			si := slotInput{N: k + 1}
			if pf.ID == errFacility {
				si.Date, si.Time = kept.Dates[k], kept.Times[k]
			}
			pf.Form.Slots = append(pf.Form.Slots, si)
		}
		if pf.ID == errFacility {
			pf.Form.Open, pf.Form.Note, pf.Form.Errors = true, kept.Note, errs
			if intake.ValidIdempotencyKey(kept.IdempotencyKey) {
				pf.Form.Key = kept.IdempotencyKey
			}
		}
		for _, t := range tours {
			if t.FacilityID != pf.ID {
				continue
			}
			tl := tourLine{Status: t.StatusLabel(), Asked: t.CreatedAt.In(jst).Format("1月2日")}
			for _, s := range t.Slots {
				tl.Slots = append(tl.Slots, slotLabel(s))
			}
			pf.Tours = append(pf.Tours, tl)
		}
	}
	title := p.Salutation + "へのご提案"
	if len(errs) > 0 {
		title = "入力内容を確認してください：" + title
	}
	pg := page{Title: title, Data: d, CSRF: s.csrfToken(w, r), Robots: "noindex, nofollow, noarchive"}
	body, err := s.execPage("proposal", pg)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	writeHTML(w, status, body)
}

// proposalPublicPDF is GET /p/{token}/pdf.
func (s *Server) proposalPublicPDF(w http.ResponseWriter, r *http.Request) {
	p, _, ok := s.openProposal(w, r)
	if !ok {
		return
	}
	s.writeProposalPDF(w, r, p)
}

// proposalTour is POST /p/{token}/tours: the family asks to visit one of
// the proposed facilities.
func (s *Server) proposalTour(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	p, hash, ok := s.openProposal(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest)
		return
	}
	v := r.PostForm
	f := proposal.TourForm{Note: v.Get("note"), IdempotencyKey: v.Get("key")}
	f.FacilityID, _ = strconv.ParseInt(v.Get("facility"), 10, 64)
	for i := range proposal.MaxTourSlots {
		df, tf := proposal.SlotField(i)
		f.Dates[i], f.Times[i] = v.Get(df), v.Get(tf)
	}
	now := s.now()
	req, errs := f.Request(p, now)
	if errs != nil {
		s.renderProposalPublic(w, r, http.StatusUnprocessableEntity, p, "", f.FacilityID, f, errs)
		return
	}
	base := strings.TrimRight(s.publicURL, "/")
	created, err := s.proposals.RequestTour(r.Context(), hash, req, s.intake.ConsultantEmail,
		func(caseID int64) string { return base + "/staff/cases/" + itoa(caseID) })
	if errors.Is(err, proposal.ErrNotFound) {
		s.proposalGone(w, r)
		return
	}
	if err != nil {
		s.log.Error("tour request not stored", "request_id", RequestID(r.Context()), "err", err.Error())
		s.renderProposalPublic(w, r, http.StatusServiceUnavailable, p, "", f.FacilityID, f,
			proposal.Errors{proposal.FieldTourSlots: "ただいま一時的に受け付けられません。入力内容は残っています。少し時間をおいてから、もう一度「見学を申し込む」を押してください。"})
		return
	}
	s.log.Info("tour requested from a proposal", "request_id", RequestID(r.Context()), "case_id", created.CaseID, "tour_id", created.TourID, "new", created.New)
	if created.New && s.intake.Submitted != nil {
		s.intake.Submitted()
	}
	http.Redirect(w, r, "/p/"+r.PathValue("token")+"?tour=requested#facility-"+itoa(req.FacilityID), http.StatusSeeOther)
}
