package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"carematch/audit"
	"carematch/intake"
	"carematch/proposal"
)

// Proposals to families. The consultant chooses facilities (from the
// matching candidates, which link here with ?f=ID…, or by id or name
// search on this page), writes a comment on each, a salutation and a
// message, and creates the proposal: its link is shown once and mailed to
// the case's address. The case page lists the case's proposals with
// revoke, a new link and the PDF. The family's side is proposal_public.go.

// ProposalStore is the storage of proposals (implemented by postgres.DB).
// Unknown cases are casework.ErrNotFound; unknown, or for a link expired
// or revoked, proposals are proposal.ErrNotFound.
type ProposalStore interface {
	ProposalCase(ctx context.Context, caseID int64, ev audit.Event) (proposal.Case, error)
	CreateProposal(ctx context.Context, d proposal.Draft, expires time.Time, tokenHash []byte, link string, ev audit.Event) (proposal.Created, error)
	CaseProposals(ctx context.Context, caseID int64) ([]proposal.Proposal, error)
	CaseProposal(ctx context.Context, caseID, id int64, ev audit.Event) (proposal.Proposal, error)
	RevokeProposal(ctx context.Context, caseID, id int64, ev audit.Event) error
	ReissueProposalLink(ctx context.Context, caseID, id int64, tokenHash []byte, ev audit.Event) error
	OpenProposal(ctx context.Context, hash []byte, now time.Time) (proposal.Proposal, error)
	ProposalTours(ctx context.Context, proposalID int64) ([]proposal.TourSummary, error)
	RequestTour(ctx context.Context, hash []byte, req proposal.TourRequest, fallbackTo string, caseURL func(int64) string) (proposal.TourCreated, error)
	FindFacilities(ctx context.Context, q string, limit int) ([]proposal.Item, error)
}

// proposalNewPage is what templates/staff_proposal_new.html receives.
type proposalNewPage struct {
	Case       proposal.Case
	Chosen     []chosenFacility
	Query      string          // the facility search
	Found      []foundFacility // its results
	SearchDone bool            // a search ran (so "none found" can be said)
	Salutation string
	Message    string
	ExpiresOn  string
	MinDate    string
	MaxDate    string
	Key        string
	Errors     proposal.Errors
	ErrorList  []fieldError
	Keep       url.Values // the chosen ids, for the search form's links
	MailNote   string
}

type chosenFacility struct {
	ID      int64
	Name    string
	Type    string
	Address string
	Monthly string
	Initial string
	Vacancy string
	Comment string
	Include bool
	Field   string // the comment field's name
	Error   string
	Missing bool // not in the catalog (any more)
}

type foundFacility struct {
	ID      int64
	Name    string
	Type    string
	Address string
	AddURL  string
}

type fieldError struct{ Field, Message string }

// proposalCase reads the {id} of a proposal route and the case it names.
func (s *Server) proposalCase(w http.ResponseWriter, r *http.Request) (proposal.Case, bool) {
	id, ok := s.caseID(w, r)
	if !ok {
		return proposal.Case{}, false
	}
	if s.proposals == nil {
		s.unavailable(w, r)
		return proposal.Case{}, false
	}
	c, err := s.proposals.ProposalCase(r.Context(), id, s.auditEvent(r))
	if err != nil {
		s.caseFail(w, r, err)
		return proposal.Case{}, false
	}
	return c, true
}

// proposalNew is GET /staff/cases/{id}/proposals/new?f=ID&f=…&q=…: the form.
func (s *Server) proposalNew(w http.ResponseWriter, r *http.Request) {
	c, ok := s.proposalCase(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	ids := facilityIDs(q["f"])
	if add := strings.TrimSpace(q.Get("add")); add != "" {
		if id, err := strconv.ParseInt(add, 10, 64); err == nil && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	d := proposalNewPage{Case: c, Salutation: proposal.DefaultSalutation(c.ContactName),
		ExpiresOn: proposal.DefaultExpiry(s.now()).Format("2006-01-02"), Key: intake.NewIdempotencyKey()}
	for _, id := range ids {
		d.Chosen = append(d.Chosen, s.chosenFacility(id, "", true, nil))
	}
	d.Query = strings.TrimSpace(q.Get("q"))
	if d.Query != "" {
		if err := s.findFacilities(r.Context(), &d, c.ID, ids); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	s.renderProposalNew(w, r, http.StatusOK, d)
}

// findFacilities fills the search results: a facility id, or part of a
// name or its kana.
func (s *Server) findFacilities(ctx context.Context, d *proposalNewPage, caseID int64, chosen []int64) error {
	d.SearchDone = true
	var items []proposal.Item
	if id, err := strconv.ParseInt(toHalfWidthDigits(d.Query), 10, 64); err == nil {
		if f, ok := s.index.Facility(id); ok {
			items = []proposal.Item{{FacilityID: f.ID, Name: f.Name}}
		}
	} else {
		var err error
		if items, err = s.proposals.FindFacilities(ctx, d.Query, 20); err != nil {
			return err
		}
	}
	for _, it := range items {
		if slices.Contains(chosen, it.FacilityID) {
			continue
		}
		ff := foundFacility{ID: it.FacilityID, Name: it.Name}
		if f, ok := s.index.Facility(it.FacilityID); ok {
			ff.Type, ff.Address = f.Type.Label(), f.Address
		}
		v := url.Values{}
		for _, id := range chosen {
			v.Add("f", itoa(id))
		}
		v.Add("f", itoa(it.FacilityID))
		ff.AddURL = "/staff/cases/" + itoa(caseID) + "/proposals/new?" + v.Encode()
		d.Found = append(d.Found, ff)
	}
	return nil
}

func toHalfWidthDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '０' && r <= '９' {
			return r - '０' + '0'
		}
		return r
	}, strings.TrimSpace(s))
}

func facilityIDs(vs []string) []int64 {
	var out []int64
	for _, v := range vs {
		id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err == nil && id > 0 && !slices.Contains(out, id) && len(out) < 3*proposal.MaxFacilities {
			out = append(out, id)
		}
	}
	return out
}

func (s *Server) chosenFacility(id int64, comment string, include bool, errs proposal.Errors) chosenFacility {
	c := chosenFacility{ID: id, Comment: comment, Include: include, Field: proposal.CommentField(id), Error: errs[proposal.CommentField(id)]}
	f, ok := s.index.Facility(id)
	if !ok {
		c.Missing, c.Name = true, "施設番号 "+itoa(id)
		return c
	}
	c.Name, c.Type, c.Address = f.Name, f.Type.Label(), f.Address
	if f.HasCosts() {
		c.Monthly, c.Initial = manYen(f.Monthly.Total()), manYen(f.InitialCost)
	}
	if n := f.AvailableRooms(); n > 0 {
		c.Vacancy = "空室" + strconv.Itoa(n) + "室（" + ago(s.now(), f.VacancyConfirmedAt()) + "に確認）"
	} else if len(f.Vacancies) > 0 {
		c.Vacancy = "満室（" + ago(s.now(), f.VacancyConfirmedAt()) + "に確認）"
	}
	return c
}

func (s *Server) renderProposalNew(w http.ResponseWriter, r *http.Request, status int, d proposalNewPage) {
	now := s.now()
	d.MinDate = proposal.ExpiresAt(now).Format("2006-01-02")
	d.MaxDate = proposal.DefaultExpiry(now).AddDate(0, 0, proposal.MaxDays-proposal.DefaultDays).Format("2006-01-02")
	d.Keep = url.Values{}
	for _, c := range d.Chosen {
		d.Keep.Add("f", itoa(c.ID))
	}
	if d.Case.HasEmail {
		d.MailNote = "作成すると、提案のリンクを相談者のメールアドレスへ送ります。"
	} else {
		d.MailNote = "この案件にはメールアドレスがないため、メールは送りません。作成後に表示されるリンクを、電話やLINEなどでお伝えください。"
	}
	for _, k := range []string{proposal.FieldFacilities, proposal.FieldSalutation, proposal.FieldMessage, proposal.FieldExpiresOn} {
		if m := d.Errors[k]; m != "" {
			d.ErrorList = append(d.ErrorList, fieldError{k, m})
		}
	}
	for _, c := range d.Chosen {
		if c.Error != "" {
			d.ErrorList = append(d.ErrorList, fieldError{c.Field, c.Name + "：" + c.Error})
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	title := "提案を作成 " + d.Case.Ref
	if len(d.Errors) > 0 {
		title = "入力内容を確認してください：" + title
	}
	s.render(w, r, status, "staff_proposal_new", title, d)
}

// proposalLinkPage is what templates/staff_proposal_link.html receives.
type proposalLinkPage struct {
	CaseID     int64
	CaseRef    string
	ProposalID int64
	Link       string // "" when the proposal existed already (the link cannot be shown again)
	Mailed     bool
	Reissued   bool
	Expires    string
}

// proposalCreate is POST /staff/cases/{id}/proposals.
func (s *Server) proposalCreate(w http.ResponseWriter, r *http.Request) {
	c, ok := s.proposalCase(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest)
		return
	}
	form := r.PostForm
	d := proposal.Draft{CaseID: c.ID, Salutation: form.Get("salutation"), Message: form.Get("message"),
		ExpiresOn: form.Get("expires_on"), IdempotencyKey: form.Get("key")}
	ids := facilityIDs(form["f"])
	included := facilityIDs(form["include"])
	for _, id := range ids {
		if slices.Contains(included, id) {
			d.Items = append(d.Items, proposal.Item{FacilityID: id, Comment: form.Get(proposal.CommentField(id))})
		}
	}
	d.Normalize()
	now := s.now()
	expires, errs := d.Validate(now, func(id int64) bool { _, ok := s.index.Facility(id); return ok })
	if errs != nil {
		page := proposalNewPage{Case: c, Salutation: d.Salutation, Message: d.Message, ExpiresOn: d.ExpiresOn, Key: d.IdempotencyKey, Errors: errs}
		if !intake.ValidIdempotencyKey(page.Key) {
			page.Key = intake.NewIdempotencyKey()
		}
		for _, id := range ids {
			page.Chosen = append(page.Chosen, s.chosenFacility(id, strings.TrimSpace(form.Get(proposal.CommentField(id))), slices.Contains(included, id), errs))
		}
		s.renderProposalNew(w, r, http.StatusUnprocessableEntity, page)
		return
	}
	token, hash := proposal.NewToken()
	link := proposal.Link(s.publicURL, token)
	created, err := s.proposals.CreateProposal(r.Context(), d, expires, hash, link, s.auditEvent(r))
	if err != nil {
		s.caseFail(w, r, err)
		return
	}
	s.log.Info("proposal created", "request_id", RequestID(r.Context()), "case_id", c.ID, "proposal_id", created.ID, "new", created.New)
	page := proposalLinkPage{CaseID: c.ID, CaseRef: c.Ref, ProposalID: created.ID, Expires: expires.Add(-time.Second).In(jst).Format("2006年1月2日")}
	if created.New {
		page.Link, page.Mailed = link, c.HasEmail
		if c.HasEmail && s.intake.Submitted != nil {
			s.intake.Submitted() // wake the mail sender
		}
	}
	s.renderProposalLink(w, r, page)
}

// renderProposalLink shows a link once: never stored by the browser.
func (s *Server) renderProposalLink(w http.ResponseWriter, r *http.Request, page proposalLinkPage) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.render(w, r, http.StatusOK, "staff_proposal_link", "提案のリンク "+page.CaseRef, page)
}

// proposalID reads the {pid} of a proposal route.
func (s *Server) proposalID(w http.ResponseWriter, r *http.Request) (caseID, id int64, ok bool) {
	caseID, ok = s.caseID(w, r)
	if !ok {
		return 0, 0, false
	}
	if s.proposals == nil {
		s.unavailable(w, r)
		return 0, 0, false
	}
	id, err := strconv.ParseInt(r.PathValue("pid"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return 0, 0, false
	}
	return caseID, id, true
}

func (s *Server) proposalFail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, proposal.ErrNotFound) {
		s.notFound(w, r)
		return
	}
	s.caseFail(w, r, err)
}

// proposalRevoke is POST /staff/cases/{id}/proposals/{pid}/revoke.
func (s *Server) proposalRevoke(w http.ResponseWriter, r *http.Request) {
	caseID, id, ok := s.proposalID(w, r)
	if !ok {
		return
	}
	if err := s.proposals.RevokeProposal(r.Context(), caseID, id, s.auditEvent(r)); err != nil {
		s.proposalFail(w, r, err)
		return
	}
	backToCase(w, r, caseID, "proposal_revoked", "#proposals")
}

// proposalReissue is POST /staff/cases/{id}/proposals/{pid}/link: a new
// link for an open proposal (the old one stops working), shown once.
func (s *Server) proposalReissue(w http.ResponseWriter, r *http.Request) {
	caseID, id, ok := s.proposalID(w, r)
	if !ok {
		return
	}
	token, hash := proposal.NewToken()
	ev := s.auditEvent(r)
	err := s.proposals.ReissueProposalLink(r.Context(), caseID, id, hash, ev)
	if errors.Is(err, proposal.ErrNotFound) {
		s.renderCase(w, r, http.StatusUnprocessableEntity, caseID, caseView{Problem: "取り消し済みか期限切れの提案には、新しいリンクを発行できません。新しく提案を作成してください。"})
		return
	}
	if err != nil {
		s.caseFail(w, r, err)
		return
	}
	p, err := s.proposals.CaseProposal(r.Context(), caseID, id, ev)
	if err != nil {
		s.proposalFail(w, r, err)
		return
	}
	s.renderProposalLink(w, r, proposalLinkPage{CaseID: caseID, CaseRef: p.CaseRef, ProposalID: id, Reissued: true,
		Link: proposal.Link(s.publicURL, token), Expires: p.ExpiresAt.Add(-time.Second).In(jst).Format("2006年1月2日")})
}

// proposalStaffPDF is GET /staff/cases/{id}/proposals/{pid}/pdf: the same
// PDF the family can download, for staff to print or fax.
func (s *Server) proposalStaffPDF(w http.ResponseWriter, r *http.Request) {
	caseID, id, ok := s.proposalID(w, r)
	if !ok {
		return
	}
	p, err := s.proposals.CaseProposal(r.Context(), caseID, id, s.auditEvent(r))
	if err != nil {
		s.proposalFail(w, r, err)
		return
	}
	s.writeProposalPDF(w, r, p)
}

// caseProposalRow is one proposal in the case page's list.
type caseProposalRow struct {
	proposal.Proposal
	Status      string
	StatusLabel string
	Open        bool
}

// caseProposals loads the case page's list of proposals.
func (s *Server) caseProposals(ctx context.Context, caseID int64) ([]caseProposalRow, error) {
	if s.proposals == nil {
		return nil, nil
	}
	ps, err := s.proposals.CaseProposals(ctx, caseID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]caseProposalRow, len(ps))
	for i, p := range ps {
		st := p.Status(now)
		out[i] = caseProposalRow{Proposal: p, Status: st, StatusLabel: proposal.StatusLabel(st), Open: st == proposal.Active}
	}
	return out, nil
}
