package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"carematch/casework"
	"carematch/facility"
	"carematch/intake"
	"carematch/referral"
)

// caseView is what the case page shows; the optional parts carry the
// outcome of a refused submit (errors, a conflict) so the page re-renders
// with what the consultant typed.
type caseView struct {
	casework.File
	Hearing       casework.Hearing // what the form shows
	Version       int              // the version the form saves against
	HearingErrors casework.FieldErrors
	Conflict      []casework.Change
	Problem       string // a refused action, in words
	Notice        string // the outcome of the last action
	Next          []string
	Pipeline      []string
	Assignees     []casework.Assignee
	AssignOthers  bool
	Me            int64
	// Choices for the form.
	Fields     []casework.Field
	AgeBands   []string
	Sexes      []string
	CareLevels []string
	Dementia   []string
	Medical    []medicalChoice
	// Ref is the 紹介・見学・入居 section (nil without a referral store).
	Ref *referralView
	// RefForm and RefErrors keep a refused consent, move-in or exit
	// form's input with the message beside each field.
	RefForm   url.Values
	RefErrors referral.FieldErrors
	// Proposals to the family (templates/partials/case_proposals.html).
	Proposals []caseProposalRow
	Features  []medicalChoice // wished features (Needed: asked for)
}

type medicalChoice struct {
	Key, Label string
	Needed     bool
}

var notices = map[string]string{
	"saved":            "ヒアリングシートを保存しました。",
	"unchanged":        "変更はありませんでした。",
	"status":           "ステータスを変更しました。",
	"assigned":         "担当者を変更しました。",
	"activity":         "対応履歴に追加しました。",
	"task":             "タスクを追加しました。",
	"done":             "タスクを完了にしました。",
	"consent":          "情報提供の同意を記録しました。",
	"referral":         "施設へ紹介を送りました。",
	"tour":             "見学の候補日時を施設へ送りました。",
	"tour_confirmed":   "見学の日時を確定しました。ご家族と施設にメール（カレンダー付き）でお知らせします。",
	"tour_cancelled":   "見学を取り消しました。",
	"tour_done":        "見学の結果を記録しました。",
	"move_in":          "入居を記録しました。",
	"exit":             "退去を記録しました。",
	"proposal_revoked": "提案のリンクを取り消しました。ご家族はもう開けません。",
}

// casePage is GET /staff/cases/{id}: the key facts, the pipeline status
// with the legal next steps, the hearing sheet, the timeline and the
// tasks. The view is audited before the page is sent.
func (s *Server) casePage(w http.ResponseWriter, r *http.Request) {
	id, ok := s.caseID(w, r)
	if !ok {
		return
	}
	s.renderCase(w, r, http.StatusOK, id, caseView{Notice: notices[r.URL.Query().Get("done")]})
}

// renderCase opens the case (an audited view) and renders the page with v
// filled in; a form already in v (after a refused save) is kept.
func (s *Server) renderCase(w http.ResponseWriter, r *http.Request, status int, id int64, v caseView) {
	f, err := s.cases.OpenCase(r.Context(), id, s.auditEvent(r))
	if err != nil {
		s.caseFail(w, r, err)
		return
	}
	keep := v.HearingErrors != nil || v.Conflict != nil
	v.File = f
	if !keep {
		v.Hearing = f.Case.Hearing
	}
	v.Version = f.Case.Version
	v.Next, v.Pipeline = casework.Next(f.Case.Status), casework.Pipeline
	u, _ := Staff(r)
	v.Me, v.AssignOthers = u.ID, canAssignOthers(u)
	if v.AssignOthers {
		if v.Assignees, err = s.cases.Assignees(r.Context()); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	if v.Proposals, err = s.caseProposals(r.Context(), id); err != nil {
		s.serverError(w, r, err)
		return
	}
	v.Fields, v.AgeBands, v.Sexes, v.CareLevels, v.Dementia = casework.Fields, intake.AgeBands, casework.Sexes, intake.CareLevels, intake.DementiaLevels
	for _, m := range facility.MedicalItems {
		needed := false
		for _, k := range v.Hearing.Medical {
			needed = needed || k == m.Key
		}
		v.Medical = append(v.Medical, medicalChoice{m.Key, m.Label, needed})
	}
	for _, f := range facility.FeatureItems {
		v.Features = append(v.Features, medicalChoice{f.Key, f.Label, slices.Contains(v.Hearing.WishedFeatures, f.Key)})
	}
	if v.Ref, err = s.referralSection(r, id); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, status, "staff_case", "案件 "+f.Case.Ref, v)
}

// backToCase redirects to the case page after a change (POST/redirect/GET).
func backToCase(w http.ResponseWriter, r *http.Request, id int64, done, anchor string) {
	http.Redirect(w, r, "/staff/cases/"+strconv.FormatInt(id, 10)+"?done="+url.QueryEscape(done)+anchor, http.StatusSeeOther)
}
