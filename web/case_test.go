package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"carematch/audit"
	"carematch/auth"
	"carematch/intake"
)

// addCase stores a consultation as the public form would.
func addCase(t *testing.T, e *staffEnv, name, phone string) (int64, string) {
	t.Helper()
	f := intake.Form{Kind: intake.Consultation, Relationship: "子", ContactName: name, Phone: phone,
		CareLevel: "要介護3", Dementia: "あり", Medical: []string{"irou"}, Note: "来月退院予定", PrefCode: "13",
		Consent: true, PrivacyVersion: intake.CurrentPrivacy().Version}
	none := func(int64) (string, bool) { return "", false }
	if errs := f.Validate(time.Now(), intake.CurrentPrivacy(), none); len(errs) > 0 {
		t.Fatal(errs)
	}
	c := intake.NewCase(&f, intake.NewIdempotencyKey(), time.Now(), intake.CurrentPrivacy(), none)
	st, err := e.db.CreateCase(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st.ID, st.Ref
}

func auditActions(t *testing.T, e *staffEnv, caseID int64) []string {
	t.Helper()
	rows, err := e.db.AuditEvents(context.Background(), audit.Filter{CaseID: caseID})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, string(r.Action))
	}
	return out
}

var versionRE = regexp.MustCompile(`name="version" value="(\d+)"`)

func hearingForm(t *testing.T, page string, changes map[string]string) url.Values {
	t.Helper()
	m := versionRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no version in the form:\n%s", page)
	}
	v := url.Values{"version": {m[1]}, "contact_name": {"山田 花子"}, "relationship": {"子"}, "phone": {"09012345678"},
		"care_level": {"要介護3"}, "dementia": {"あり"}, "medical_needs": {"irou"}}
	for k, x := range changes {
		v.Set(k, x)
	}
	return v
}

// TestCaseWorkspaceOverHTTP: a consultant finds a new case in the inbox,
// opens it, takes it, moves it (an illegal move is refused with the legal
// ones named), saves the hearing sheet and adds a note; each view and
// change is an audit row and an audit line on the stream, which carries
// ids and field names only.
func TestCaseWorkspaceOverHTTP(t *testing.T) {
	e := newStaffEnv(t)
	var stream syncBuilder
	e.db.Audit = audit.NewStream(&stream)
	id, ref := addCase(t, e, "山田 花子", "090-1234-5678")
	sato, _ := e.addUser(t, auth.Consultant, "sato@example.jp")
	b := e.session(t, sato)
	path := "/staff/cases/" + strconv.FormatInt(id, 10)

	r := b.get("/staff/cases")
	if r.StatusCode != 200 || !strings.Contains(r.body, ref) || !strings.Contains(r.body, "未割り当て") || !strings.Contains(r.body, `status-new`) {
		t.Fatalf("inbox: %d\n%s", r.StatusCode, r.body)
	}
	r = b.get(path)
	if r.StatusCode != 200 || !strings.Contains(r.body, "山田 花子") || !strings.Contains(r.body, `href="tel:09012345678"`) ||
		!strings.Contains(r.body, "胃ろう") || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("case page: %d\n%s", r.StatusCode, r.body)
	}
	if r = b.post(path+"/assign", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("assign: %d", r.StatusCode)
	}
	if r = b.get("/staff/cases"); strings.Contains(r.body, ref) {
		t.Fatal("an assigned case stays in the inbox")
	}
	if r = b.get("/staff/cases?view=mine"); !strings.Contains(r.body, ref) {
		t.Fatal("the case is not among my cases")
	}
	r = b.post(path+"/status", url.Values{"to": {"契約"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "「受付」から「契約」へは変更できません") {
		t.Fatalf("illegal move: %d\n%s", r.StatusCode, r.body)
	}
	if r = b.post(path+"/status", url.Values{"to": {"ヒアリング"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("legal move: %d %s", r.StatusCode, r.body)
	}
	page := b.get(path).body
	r = b.post(path+"/hearing", hearingForm(t, page, map[string]string{"phone": "０９０ー１２３４ー５６７８", "key_person": "長女", "budget_monthly": "20万円"}))
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", r.StatusCode, r.body)
	}
	r = b.post(path+"/hearing", hearingForm(t, b.get(path).body, map[string]string{"phone": "12", "key_person": "次女"}))
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "電話番号を数字で入力してください") || !strings.Contains(r.body, `value="次女"`) {
		t.Fatalf("invalid save: %d\n%s", r.StatusCode, r.body)
	}
	if r = b.post(path+"/activities", url.Values{"kind": {"note"}, "body": {"長女さんと面談の約束"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("note: %d", r.StatusCode)
	}
	page = b.get(path).body
	for _, want := range []string{"長女さんと面談の約束", "受付 → ヒアリング", "キーパーソン", `id="case-status">ヒアリング`, "職員 consultant"} {
		if !strings.Contains(page, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
	got := strings.Join(auditActions(t, e, id), ",")
	if want := "view,create,view,view,update,view,transition,view,assign,view"; got != want {
		t.Errorf("audit actions %s, want %s", got, want)
	}
	lines := strings.Split(strings.TrimSpace(stream.String()), "\n")
	if len(lines) < 10 {
		t.Fatalf("%d audit lines", len(lines))
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || m["log_type"] != "audit" || m["user_id"] != float64(sato.ID) || m["request_id"] == "" {
			t.Errorf("audit line %s", l)
		}
		// The request id is random hex and may hold "090" by chance.
		rest := strings.Replace(l, fmt.Sprint(m["request_id"]), "", 1)
		for _, secret := range []string{"山田", "090", "長女", "胃ろう", "20万円"} {
			if strings.Contains(rest, secret) {
				t.Errorf("personal data %q in the audit line %s", secret, l)
			}
		}
	}
	for _, secret := range []string{"山田", "09012345678", "長女", "退院"} {
		if strings.Contains(e.logs.String(), secret) {
			t.Errorf("personal data %q in the app log", secret)
		}
	}
}

// TestConcurrentEditIsRefused: two consultants open the same case; the
// first saves; the second is refused (409) and shown, per field the first
// changed, their own value beside the stored one; nothing is overwritten.
func TestConcurrentEditIsRefused(t *testing.T) {
	e := newStaffEnv(t)
	id, _ := addCase(t, e, "山田 花子", "090-1234-5678")
	u1, _ := e.addUser(t, auth.Consultant, "a@example.jp")
	u2, _ := e.addUser(t, auth.Manager, "b@example.jp")
	a, b := e.session(t, u1), e.session(t, u2)
	path := "/staff/cases/" + strconv.FormatInt(id, 10)
	pa, pb := a.get(path).body, b.get(path).body

	if r := a.post(path+"/hearing", hearingForm(t, pa, map[string]string{"budget_monthly": "20万円まで"})); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("first save: %d", r.StatusCode)
	}
	r := b.post(path+"/hearing", hearingForm(t, pb, map[string]string{"budget_monthly": "15万円まで", "guarantor": "長男"}))
	if r.StatusCode != http.StatusConflict {
		t.Fatalf("stale save: %d\n%s", r.StatusCode, r.body)
	}
	row := regexp.MustCompile(`(?s)<tr data-field="budget_monthly">.*?</tr>`).FindString(r.body)
	if !strings.Contains(row, "月額予算") || !strings.Contains(row, `class="theirs">15万円まで`) || !strings.Contains(row, `class="current">20万円まで`) {
		t.Fatalf("conflict row %q\n%s", row, r.body)
	}
	if strings.Contains(r.body, `data-field="guarantor"`) {
		t.Error("a field only the second consultant changed is named as changed by another")
	}
	// The form now holds the stored value for the conflicting field and
	// the second consultant's input for the rest, at the new version.
	if !strings.Contains(r.body, `name="budget_monthly" type="text" value="20万円まで"`) || !strings.Contains(r.body, `value="長男"`) {
		t.Fatal("the re-displayed form does not keep both")
	}
	page := a.get(path).body
	if !strings.Contains(page, `value="20万円まで"`) || strings.Contains(page, "長男") {
		t.Fatal("the stale save changed the case")
	}
	// Saving again from the re-displayed form goes through.
	if r := b.post(path+"/hearing", hearingForm(t, r.body, map[string]string{"budget_monthly": "20万円まで", "guarantor": "長男"})); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("second try: %d", r.StatusCode)
	}
}

// TestCaseSearchAndAuditAccess: search by name or phone (typed in any
// width, with any hyphens) for case workers; facility staff are refused
// every case route and the audit page; managers see the audit trail.
func TestCaseSearchAndAuditAccess(t *testing.T) {
	e := newStaffEnv(t)
	id, ref := addCase(t, e, "山田 花子", "090-1234-5678")
	addCase(t, e, "鈴木 一郎", "03-1111-2222")
	fid := addFacility(t, e)
	cons, _ := e.addUser(t, auth.Consultant, "c@example.jp")
	mgr, _ := e.addUser(t, auth.Manager, "m@example.jp")
	fac, _ := e.addUser(t, auth.FacilityStaff, "f@example.jp", fid)
	c := e.session(t, cons)
	for _, q := range []string{"山田花子", "山田", "０９０－１２３４－５６７８", "090 1234 5678", "5678"} {
		r := c.get("/staff/cases?view=all&q=" + url.QueryEscape(q))
		if r.StatusCode != 200 || !strings.Contains(r.body, ref) || strings.Contains(r.body, "鈴木") {
			t.Errorf("search %q: %d", q, r.StatusCode)
		}
	}
	f := e.session(t, fac)
	for _, p := range []string{"/staff/cases?q=" + url.QueryEscape("山田"), "/staff/cases/" + strconv.FormatInt(id, 10), "/staff/tasks", "/staff/audit"} {
		if r := f.get(p); r.StatusCode != http.StatusForbidden || strings.Contains(r.body, "山田") {
			t.Errorf("facility staff %s: %d", p, r.StatusCode)
		}
	}
	if r := f.post("/staff/cases/"+strconv.FormatInt(id, 10)+"/activities", url.Values{"kind": {"note"}, "body": {"x"}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("facility staff note: %d", r.StatusCode)
	}
	if r := c.get("/staff/audit"); r.StatusCode != http.StatusForbidden {
		t.Errorf("consultant audit page: %d", r.StatusCode)
	}
	c.get("/staff/cases/" + strconv.FormatInt(id, 10))
	m := e.session(t, mgr)
	r := m.get("/staff/audit?case=" + strconv.FormatInt(id, 10))
	if r.StatusCode != 200 || !strings.Contains(r.body, ref) || !strings.Contains(r.body, "職員 consultant") || !strings.Contains(r.body, `閲覧 <code class="audit-action">view</code>`) {
		t.Fatalf("audit page: %d\n%s", r.StatusCode, r.body)
	}
	if r := m.get("/staff/audit?case=" + strings.ToLower(ref)); !strings.Contains(r.body, ">view<") || strings.Contains(r.body, ">search<") {
		t.Fatal("the audit log cannot be filtered by 受付番号")
	}
	r = m.get("/staff/audit?user=" + strconv.FormatInt(cons.ID, 10))
	if !strings.Contains(r.body, `>search<`) || !strings.Contains(r.body, "入居相談員") {
		t.Fatal("the consultant's searches are not in the audit log")
	}
}

// TestCasePageNotShownWithoutAudit: when the audit row cannot be written,
// the case page is not sent.
func TestCasePageNotShownWithoutAudit(t *testing.T) {
	e := newStaffEnv(t)
	id, _ := addCase(t, e, "山田 花子", "090-1234-5678")
	u, _ := e.addUser(t, auth.Consultant, "c@example.jp")
	b := e.session(t, u)
	if _, err := e.db.Pool.Exec(context.Background(), `ALTER TABLE audit_events ADD CONSTRAINT test_refuse CHECK (false) NOT VALID`); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/staff/cases/" + strconv.FormatInt(id, 10), "/staff/cases", "/staff/cases?q=" + url.QueryEscape("山田")} {
		r := b.get(p)
		if r.StatusCode != http.StatusInternalServerError || strings.Contains(r.body, "山田") {
			t.Errorf("%s without audit: %d", p, r.StatusCode)
		}
	}
}

// TestAssignmentAndTasksDueToday: a manager hands a case to a consultant;
// a consultant cannot hand it to someone else; a task due today shows on
// the consultant's due-today page until it is done; a lost case needs a
// reason.
func TestAssignmentAndTasksDueToday(t *testing.T) {
	e := newStaffEnv(t)
	id, ref := addCase(t, e, "山田 花子", "090-1234-5678")
	cons, _ := e.addUser(t, auth.Consultant, "c@example.jp")
	other, _ := e.addUser(t, auth.Consultant, "o@example.jp")
	mgr, _ := e.addUser(t, auth.Manager, "m@example.jp")
	path := "/staff/cases/" + strconv.FormatInt(id, 10)
	m, c := e.session(t, mgr), e.session(t, cons)

	if r := m.post(path+"/assign", url.Values{"to": {strconv.FormatInt(cons.ID, 10)}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("manager assigns: %d", r.StatusCode)
	}
	if r := c.get("/staff/cases?view=mine"); !strings.Contains(r.body, ref) {
		t.Fatal("the case is not among the consultant's cases")
	}
	r := c.post(path+"/assign", url.Values{"to": {strconv.FormatInt(other.ID, 10)}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "マネージャーが行います") {
		t.Fatalf("consultant assigns to another: %d", r.StatusCode)
	}
	if r := c.get("/staff/cases?view=all&consultant=" + strconv.FormatInt(cons.ID, 10)); !strings.Contains(r.body, ref) {
		t.Fatal("the consultant filter does not find the case")
	}

	today := e.clock.Now().In(time.FixedZone("JST", 9*3600)).Format("2006-01-02")
	if r := c.post(path+"/tasks", url.Values{"title": {"折り返し電話"}, "due": {today}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("add task: %d %s", r.StatusCode, r.body)
	}
	r = c.get("/staff/tasks")
	m2 := regexp.MustCompile(`action="(/staff/cases/\d+/tasks/\d+/done)"`).FindStringSubmatch(r.body)
	if r.StatusCode != 200 || !strings.Contains(r.body, "折り返し電話") || m2 == nil {
		t.Fatalf("due today: %d\n%s", r.StatusCode, r.body)
	}
	if r := e.session(t, other).get("/staff/tasks"); strings.Contains(r.body, "折り返し電話") {
		t.Fatal("another consultant sees the task as theirs")
	}
	if r := c.post(m2[1], url.Values{"from": {"tasks"}}); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/staff/tasks" {
		t.Fatalf("done: %d", r.StatusCode)
	}
	if r := c.get("/staff/tasks"); strings.Contains(r.body, "折り返し電話") {
		t.Fatal("a done task is still due")
	}

	r = c.post(path+"/status", url.Values{"to": {"失注"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "理由を入力してください") {
		t.Fatalf("失注 without reason: %d", r.StatusCode)
	}
	if r := c.post(path+"/status", url.Values{"to": {"失注"}, "reason": {"他社で決定"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("失注: %d", r.StatusCode)
	}
	if r := c.get(path); !strings.Contains(r.body, "失注の理由：他社で決定") || !strings.Contains(r.body, "これ以上ステータスを変更できません") {
		t.Fatal("the lost case does not show its reason or still offers moves")
	}
}
