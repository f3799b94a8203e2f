package web_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"carematch/audit"
	"carematch/auth"
	"carematch/facility"
	"carematch/search"
	"carematch/web"
)

// proposalEnv is a server whose in-memory index holds two facilities that
// are also in the database, with a case full of distinctive personal data.
type proposalEnv struct {
	*staffEnv
	facs    []facility.Facility
	caseID  int64
	caseRef string
	sato    auth.User
}

// personal are values of the case that must never reach the family's page
// or PDF (only the salutation may).
var personal = []string{"蒼井 銀之丞", "銀之丞", "090-5555-1234", "09055551234", "ginnojo@example.jp", "紫藤 鶴松", "しとう つるまつ", "1938-02-11", "腎臓透析を週三回", "長男の嫁が保証人"}

func newProposalEnv(t *testing.T) *proposalEnv {
	t.Helper()
	idx := search.NewIndex()
	e := &proposalEnv{staffEnv: newStaffEnv(t, func(o *web.Options) { o.Index = idx })}
	ctx := context.Background()
	a := facility.Facility{Type: facility.KaigoYuryo, Name: "ひだまりの杜", PrefCode: 13, MuniCode: "131016", Address: "東京都千代田区1-1",
		Lat: 35.69, Lng: 139.75, Phone: "03-1111-2222", InitialCost: 0,
		Monthly:    facility.Monthly{Rent: 98000, Management: 45000, Food: 50000, Utilities: 12000, CareExtra: 20000, Other: 3000},
		CareLevels: facility.CareLevelRange(facility.Support1, facility.Care5), Dementia: facility.Yes,
		Vacancies: []facility.Vacancy{{RoomType: "個室", Available: 2, ConfirmedAt: time.Now().Add(-72 * time.Hour)}}}
	a.Medical[0], a.Medical[3] = facility.Yes, facility.Consult // 胃ろう ○, インスリン △
	b := facility.Facility{Type: facility.Sakoju, Name: "あおぞらレジデンス", PrefCode: 13, MuniCode: "131016", Address: "東京都千代田区2-2",
		Lat: 35.70, Lng: 139.76, InitialCost: 300000, Monthly: facility.Monthly{Rent: 70000, Management: 30000, Food: 40000},
		CareLevels: facility.CareLevelRange(facility.Independent, facility.Care2)}
	e.facs = []facility.Facility{a, b}
	if err := e.db.InsertFacilities(ctx, e.facs); err != nil {
		t.Fatal(err)
	}
	idx.Replace(e.facs)
	e.caseID, e.caseRef = addCase(t, e.staffEnv, "蒼井 銀之丞", "090-5555-1234")
	if _, err := e.db.Pool.Exec(ctx, `
		UPDATE cases SET email = 'ginnojo@example.jp', person_name = '紫藤 鶴松', person_kana = 'しとう つるまつ',
			person_birth_date = '1938-02-11', note = '腎臓透析を週三回', guarantor = '長男の嫁が保証人' WHERE id = $1`, e.caseID); err != nil {
		t.Fatal(err)
	}
	e.sato, _ = e.addUser(t, auth.Consultant, "sato@example.jp")
	return e
}

func (e *proposalEnv) casePath() string { return "/staff/cases/" + strconv.FormatInt(e.caseID, 10) }

var (
	proposalKeyRE = regexp.MustCompile(`name="key" value="([0-9a-f]{32})"`)
	linkRE        = regexp.MustCompile(`https://carematch\.example\.jp/p/([A-Za-z0-9_-]{43})`)
)

// createProposal submits the new-proposal form as the consultant's
// browser would and returns the form it sent and the page it got.
func (e *proposalEnv) createProposal(t *testing.T, b *browser, expiresOn string) (url.Values, response) {
	t.Helper()
	form := e.proposalForm(t, b, expiresOn)
	return form, b.post(e.casePath()+"/proposals", form)
}

// proposalForm is the new-proposal form as rendered and filled in.
func (e *proposalEnv) proposalForm(t *testing.T, b *browser, expiresOn string) url.Values {
	t.Helper()
	a, c := itoa(e.facs[0].ID), itoa(e.facs[1].ID)
	r := b.get(e.casePath() + "/proposals/new?f=" + a + "&f=" + c)
	if r.StatusCode != 200 {
		t.Fatalf("new proposal form: %d\n%s", r.StatusCode, r.body)
	}
	m := proposalKeyRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no idempotency key in the form:\n%s", r.body)
	}
	form := url.Values{"key": {m[1]}, "f": {a, c}, "include": {a, c}, "salutation": {"蒼井様"},
		"message": {"ご希望に近い2施設です。"}, "comment-" + a: {"看取りまで対応。駅から徒歩5分です。"}, "expires_on": {expiresOn}}
	return form
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func pdfText(t *testing.T, pdf string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.pdf")
	if err := os.WriteFile(path, []byte(pdf), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext (apt-get install poppler-utils): %v\n%s", err, out)
	}
	return string(out)
}

// TestProposalFromConsultantToFamily: the consultant creates a proposal
// (a double submit makes one), the link is shown once and mailed, the
// family's page and PDF show the facilities, costs, acceptance, vacancies
// and comments and nothing personal but the salutation, the family asks
// for a tour once, and a revoked link answers like an unknown one.
func TestProposalFromConsultantToFamily(t *testing.T) {
	e := newProposalEnv(t)
	ctx := context.Background()
	if err := e.db.AssignCase(ctx, e.caseID, e.sato.ID, auditEv(e.sato)); err != nil {
		t.Fatal(err)
	}
	b := e.session(t, e.sato)
	new := b.get(e.casePath() + "/proposals/new?f=" + itoa(e.facs[0].ID))
	if !strings.Contains(new.body, `value="蒼井様"`) || !strings.Contains(new.body, "ひだまりの杜") {
		t.Errorf("form lacks the default salutation or the facility:\n%s", new.body)
	}
	// search by name adds a facility
	found := b.get(e.casePath() + "/proposals/new?f=" + itoa(e.facs[0].ID) + "&q=" + url.QueryEscape("あおぞら"))
	if !strings.Contains(found.body, "f="+itoa(e.facs[0].ID)+"&amp;f="+itoa(e.facs[1].ID)) {
		t.Errorf("search does not offer to add あおぞらレジデンス keeping the first:\n%s", found.body)
	}

	expires := time.Now().In(time.FixedZone("JST", 9*3600)).AddDate(0, 0, 30).Format("2006-01-02")
	// a refused submit keeps what was typed, errors beside the field
	form := e.proposalForm(t, b, expires)
	form.Set("salutation", "蒼井")
	bad := b.post(e.casePath()+"/proposals", form)
	if bad.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(bad.body, "敬称") || !strings.Contains(bad.body, "看取りまで対応。駅から徒歩5分です。") {
		t.Errorf("refused submit: %d\n%s", bad.StatusCode, bad.body)
	}

	form, r := e.createProposal(t, b, expires)
	m := linkRE.FindStringSubmatch(r.body)
	if r.StatusCode != 200 || m == nil || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("created: %d %q\n%s", r.StatusCode, r.Header.Get("Cache-Control"), r.body)
	}
	token := m[1]
	again := b.post(e.casePath()+"/proposals", form)
	if again.StatusCode != 200 || linkRE.MatchString(again.body) || !strings.Contains(again.body, "すでに作成") {
		t.Errorf("double submit: %d, shows a link: %v\n%s", again.StatusCode, linkRE.MatchString(again.body), again.body)
	}
	var proposals, mails int
	e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM proposals WHERE case_id = $1`, e.caseID).Scan(&proposals)
	e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE case_id = $1 AND purpose = 'proposal_link' AND recipient = 'ginnojo@example.jp' AND body LIKE '%' || $2 || '%'`, e.caseID, token).Scan(&mails)
	if proposals != 1 || mails != 1 {
		t.Errorf("%d proposals and %d mails with the link, want 1 and 1", proposals, mails)
	}
	casePage := b.get(e.casePath())
	if !strings.Contains(casePage.body, `id="proposals"`) || !strings.Contains(casePage.body, "公開中") || strings.Contains(casePage.body, token) {
		t.Errorf("case page proposals (the token must not be on it):\n%s", casePage.body)
	}

	// the family
	fam := e.browser(t)
	page := fam.get("/p/" + token)
	if page.StatusCode != 200 {
		t.Fatalf("family page: %d\n%s", page.StatusCode, page.body)
	}
	for h, want := range map[string]string{"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow, noarchive"} {
		if got := page.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	for _, want := range []string{"蒼井様", `<meta name="robots" content="noindex`, "ひだまりの杜", "あおぞらレジデンス", "看取りまで対応。駅から徒歩5分です。",
		"228,000円", "98,000円", "胃ろう", "インスリン", "2室", "3日前", "職員 consultant", "ご希望に近い2施設です。"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("family page lacks %q", want)
		}
	}
	for _, s := range append(personal, e.caseRef) {
		if strings.Contains(page.body, s) {
			t.Errorf("family page shows %q", s)
		}
	}
	pdf := fam.get("/p/" + token + "/pdf")
	if pdf.StatusCode != 200 || pdf.Header.Get("Content-Type") != "application/pdf" || pdf.Header.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("pdf: %d %s", pdf.StatusCode, pdf.Header.Get("Content-Type"))
	}
	text := pdfText(t, pdf.body)
	for _, want := range []string{"蒼井様", "ひだまりの杜", "あおぞらレジデンス", "看取りまで対応", "228,000円", "胃ろう"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q:\n%s", want, text)
		}
	}
	for _, s := range append(personal, e.caseRef) {
		if strings.Contains(text, s) {
			t.Errorf("PDF shows %q", s)
		}
	}
	staffPDF := b.get(e.casePath() + "/proposals/" + proposalID(t, e) + "/pdf")
	if staffPDF.StatusCode != 200 || !strings.HasPrefix(staffPDF.body, "%PDF-") {
		t.Errorf("staff pdf: %d", staffPDF.StatusCode)
	}

	// a tour request: refused without a date (the note is kept), then once
	keyTour := proposalKeyRE.FindStringSubmatch(page.body)[1]
	tour := url.Values{"facility": {itoa(e.facs[1].ID)}, "key": {keyTour}, "note": {"車いすで2名で伺います"}}
	r = fam.post("/p/"+token+"/tours", tour)
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "車いすで2名で伺います") || !strings.Contains(r.body, "見学の候補日時を1〜3件") {
		t.Errorf("tour without a date: %d\n%s", r.StatusCode, r.body)
	}
	day := time.Now().In(time.FixedZone("JST", 9*3600)).AddDate(0, 0, 5).Format("2006-01-02")
	tour.Set("date1", day)
	tour.Set("time1", "10:30")
	for range 2 {
		r = fam.post("/p/"+token+"/tours", tour)
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/p/"+token+"?tour=requested") {
			t.Fatalf("tour request: %d %s\n%s", r.StatusCode, r.Header.Get("Location"), r.body)
		}
	}
	var tours, slots, tourMails int
	e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM tours WHERE case_id = $1 AND status = 'requested' AND family_note = '車いすで2名で伺います'`, e.caseID).Scan(&tours)
	e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM tour_slots WHERE proposed_by = 'family'`).Scan(&slots)
	e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE purpose = 'tour_request' AND recipient = 'sato@example.jp'`).Scan(&tourMails)
	if tours != 1 || slots != 1 || tourMails != 1 {
		t.Errorf("tours %d, slots %d, mails %d; want 1 each", tours, slots, tourMails)
	}
	after := fam.get("/p/" + token + "?tour=requested")
	if !strings.Contains(after.body, "見学のお申し込み済み") || !strings.Contains(after.body, "10:30") {
		t.Errorf("the page does not show the request back:\n%s", after.body)
	}

	// revoked: the family gets the not-found answer
	rv := b.post(e.casePath()+"/proposals/"+proposalID(t, e)+"/revoke", nil)
	if rv.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", rv.StatusCode)
	}
	if r := fam.get("/p/" + token); r.StatusCode != http.StatusNotFound {
		t.Errorf("revoked link: %d", r.StatusCode)
	}
	if r := fam.post("/p/"+token+"/tours", tour); r.StatusCode != http.StatusNotFound {
		t.Errorf("tour on a revoked link: %d", r.StatusCode)
	}
	if logs := e.logs.String(); strings.Contains(logs, token) {
		t.Errorf("the token is in the log")
	}
}

func proposalID(t *testing.T, e *proposalEnv) string {
	t.Helper()
	var id int64
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT max(id) FROM proposals WHERE case_id = $1`, e.caseID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return itoa(id)
}

// TestProposalLinksCannotBeTold: a malformed, an unknown, an expired and
// a revoked link get the same status, headers and page (the request id
// aside), for the page, the PDF and a tour request.
func TestProposalLinksCannotBeTold(t *testing.T) {
	e := newProposalEnv(t)
	b := e.session(t, e.sato)
	tomorrow := time.Now().In(time.FixedZone("JST", 9*3600)).AddDate(0, 0, 1).Format("2006-01-02")
	_, r := e.createProposal(t, b, tomorrow)
	expired := linkRE.FindStringSubmatch(r.body)[1]
	_, r = e.createProposal(t, b, tomorrow)
	revoked := linkRE.FindStringSubmatch(r.body)[1]
	if rv := b.post(e.casePath()+"/proposals/"+proposalID(t, e)+"/revoke", nil); rv.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", rv.StatusCode)
	}
	e.clock.Add(72 * time.Hour)
	unknown := strings.Repeat("A", 43)
	fam := e.browser(t)
	strip := regexp.MustCompile(`お問い合わせ番号.*`)
	for _, suffix := range []string{"", "/pdf", "/tours"} {
		var first string
		for i, tok := range []string{unknown, "short", expired, revoked} {
			var r response
			if suffix == "/tours" {
				r = fam.post("/p/"+tok+suffix, url.Values{"facility": {itoa(e.facs[0].ID)}})
			} else {
				r = fam.get("/p/" + tok + suffix)
			}
			if r.StatusCode != http.StatusNotFound {
				t.Errorf("%s%s: %d, want 404", tok, suffix, r.StatusCode)
			}
			h := r.Header
			sig := h.Get("Cache-Control") + "|" + h.Get("Referrer-Policy") + "|" + h.Get("X-Robots-Tag") + "|" + h.Get("Content-Type") + "|" + h.Get("Set-Cookie") + "|" + strip.ReplaceAllString(r.body, "")
			if i == 0 {
				first = sig
				if !strings.Contains(r.body, "このリンクではご提案を表示できません") || h.Get("Referrer-Policy") != "no-referrer" {
					t.Errorf("not-found page:\n%s", r.body)
				}
			} else if sig != first {
				t.Errorf("link %d%s answers differently from an unknown one", i, suffix)
			}
		}
	}
}

func auditEv(u auth.User) audit.Event {
	return audit.Event{At: time.Now(), UserID: u.ID, Role: string(u.Role)}
}
