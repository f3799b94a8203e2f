package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"carematch/audit"
	"carematch/auth"
	"carematch/referral"
)

var keyRE = regexp.MustCompile(`name="key" value="([0-9a-f]{32})"`)

func formKey(t *testing.T, page string) string {
	t.Helper()
	m := keyRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no idempotency key in the page")
	}
	return m[1]
}

// referredCase makes a case with the person's name, records consent to
// share with facility and sends it there over HTTP; it returns the case
// and referral ids.
func referredCase(t *testing.T, e *staffEnv, b *browser, facility int64, name string) (int64, int64) {
	t.Helper()
	id, _ := addCase(t, e, name+"の家族", "0312345678")
	path := fmt.Sprintf("/staff/cases/%d", id)
	page := b.get(path).body
	form := hearingForm(t, page, map[string]string{"person_name": name, "person_kana": "やまだ はなこ", "person_birth_date": "1940-04-01",
		"assets_note": "預金 800万円"})
	if r := b.post(path+"/hearing", form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("hearing: %d", r.StatusCode)
	}
	if r := b.post(path+"/consents", url.Values{"facility_number": {fmt.Sprint(facility)}, "method": {"phone"},
		"consented_on": {time.Now().In(referral.Tokyo).Format("2006-01-02")}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("consent: %d\n%s", r.StatusCode, r.body)
	}
	key := formKey(t, b.get(path).body)
	if r := b.post(path+"/referrals", url.Values{"facility_id": {fmt.Sprint(facility)}, "key": {key}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("referral: %d\n%s", r.StatusCode, r.body)
	}
	var rid int64
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT id FROM referrals WHERE idempotency_key = $1`, key).Scan(&rid); err != nil {
		t.Fatal(err)
	}
	return id, rid
}

func tourSlot(days, hour int) string {
	d := time.Now().In(referral.Tokyo).AddDate(0, 0, days)
	return time.Date(d.Year(), d.Month(), d.Day(), hour, 0, 0, 0, referral.Tokyo).Format("2006-01-02T15:04")
}

// TestReferralsAcrossTheTwoSides: the consultant cannot send without
// consent (the page says why), sends with it (a double submit makes one
// referral), proposes tour slots; the facility reads the minimum data set
// (audited as its read), confirms a slot (mails with the invitation) and
// reports the move-in.
func TestReferralsAcrossTheTwoSides(t *testing.T) {
	e := newStaffEnv(t)
	facA := addFacility(t, e)
	consultant, _ := e.addUser(t, auth.Consultant, "sato@example.jp")
	staffA, _ := e.addUser(t, auth.FacilityStaff, "staff-a@example.jp", facA)
	b := e.session(t, consultant)

	id, _ := addCase(t, e, "山田 太郎", "0312345678")
	path := fmt.Sprintf("/staff/cases/%d", id)
	page := b.get(path).body
	r := b.post(path+"/referrals", url.Values{"facility_id": {fmt.Sprint(facA)}, "key": {formKey(t, page)}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "同意が記録されていません") {
		t.Fatalf("referral without consent: %d", r.StatusCode)
	}

	id, rid := referredCase(t, e, b, facA, "山田 花子")
	path = fmt.Sprintf("/staff/cases/%d", id)
	var key string
	e.db.Pool.QueryRow(context.Background(), `SELECT idempotency_key FROM referrals WHERE id = $1`, rid).Scan(&key)
	if r := b.post(path+"/referrals", url.Values{"facility_id": {fmt.Sprint(facA)}, "key": {key}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("double submit: %d", r.StatusCode)
	}
	var n int
	e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM referrals WHERE case_id = $1`, id).Scan(&n)
	if n != 1 {
		t.Fatalf("%d referrals after a double submit", n)
	}
	page = b.get(path).body
	if !strings.Contains(page, `data-referral="`+fmt.Sprint(rid)+`"`) || !strings.Contains(page, "回答待ち") {
		t.Error("the case page does not list the referral")
	}
	if r := b.post(path+"/tours", url.Values{"facility_id": {fmt.Sprint(facA)}, "key": {formKey(t, page)},
		"slot1": {tourSlot(3, 10)}, "slot2": {tourSlot(4, 14)}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("propose tour: %d\n%s", r.StatusCode, r.body)
	}

	f := e.session(t, staffA)
	portal := fmt.Sprintf("/portal/facilities/%d", facA)
	list := f.get(portal + "/referrals")
	if list.StatusCode != 200 || !strings.Contains(list.body, fmt.Sprintf("/referrals/%d", rid)) || strings.Contains(list.body, "山田") {
		t.Fatalf("portal list: %d", list.StatusCode)
	}
	view := f.get(fmt.Sprintf("%s/referrals/%d", portal, rid))
	if view.StatusCode != 200 || !strings.Contains(view.body, "山田 花子") || strings.Contains(view.body, "預金") || strings.Contains(view.body, "03-1234-5678") {
		t.Fatalf("portal referral view: %d", view.StatusCode)
	}
	var read bool
	rows, _ := e.db.AuditEvents(context.Background(), audit.Filter{CaseID: id})
	for _, a := range rows {
		read = read || (a.UserID == staffA.ID && a.Action == audit.View)
	}
	if !read {
		t.Error("the facility's read is not in the audit log")
	}
	if r := f.post(fmt.Sprintf("%s/referrals/%d/answer", portal, rid), url.Values{"answer": {"declined"}}); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="e-decline-reason"`) {
		t.Errorf("decline without reason: %d", r.StatusCode)
	}
	// A refused move-in keeps what was typed, the message beside the field.
	r = b.post(path+"/move-ins", url.Values{"facility_id": {fmt.Sprint(facA)}, "moved_in_on": {"2027-01-10"}, "room_type": {"個室 18㎡"},
		"monthly_fee": {"十八万"}, "monthly_rent": {"80000"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="e-mi-fee"`) || !strings.Contains(r.body, `value="十八万"`) ||
		!strings.Contains(r.body, `value="個室 18㎡"`) {
		t.Errorf("a refused move-in: %d", r.StatusCode)
	}
	if r := f.post(fmt.Sprintf("%s/referrals/%d/answer", portal, rid), url.Values{"answer": {"accepted"}}); r.StatusCode != http.StatusSeeOther {
		t.Errorf("accept: %d", r.StatusCode)
	}
	var tid int64
	e.db.Pool.QueryRow(context.Background(), `SELECT id FROM tours WHERE case_id = $1`, id).Scan(&tid)
	tour := f.get(fmt.Sprintf("%s/tours/%d", portal, tid))
	m := regexp.MustCompile(`name="version" value="(\d+)"><input type="hidden" name="slot" value="(\d+)"`).FindStringSubmatch(tour.body)
	if m == nil {
		t.Fatalf("no slot to confirm:\n%s", tour.body)
	}
	for range 2 {
		if r := f.post(fmt.Sprintf("%s/tours/%d/confirm", portal, tid), url.Values{"version": {m[1]}, "slot": {m[2]}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("confirm: %d\n%s", r.StatusCode, r.body)
		}
	}
	e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE purpose = 'tour_confirmed' AND calendar LIKE 'BEGIN:VCALENDAR%'`).Scan(&n)
	if n != 2 { // the consultant and the facility (the family gave no e-mail)
		t.Errorf("%d confirmation mails with an invitation", n)
	}
	if r := f.post(fmt.Sprintf("%s/referrals/%d/move-in", portal, rid), url.Values{"moved_in_on": {tourSlot(10, 0)[:10]},
		"room_type": {"個室"}, "monthly_fee": {"１８５，０００"}, "monthly_rent": {"80000"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("move-in: %d\n%s", r.StatusCode, r.body)
	}
	var fee int64
	e.db.Pool.QueryRow(context.Background(), `SELECT monthly_fee FROM move_ins WHERE case_id = $1`, id).Scan(&fee)
	if fee != 185000 {
		t.Errorf("fee %d", fee)
	}
}

// TestPortalCannotReachAnotherFacility: facility staff of A get 404 for
// every portal referral, tour and move-in route of facility B, both under
// B's path and with B's objects under A's path, and nothing changes.
func TestPortalCannotReachAnotherFacility(t *testing.T) {
	e := newStaffEnv(t)
	facA, facB := addFacility(t, e), addFacility(t, e)
	consultant, _ := e.addUser(t, auth.Consultant, "sato@example.jp")
	staffA, _ := e.addUser(t, auth.FacilityStaff, "staff-a@example.jp", facA)
	b := e.session(t, consultant)
	caseB, refB := referredCase(t, e, b, facB, "鈴木 一郎")
	page := b.get(fmt.Sprintf("/staff/cases/%d", caseB)).body
	if r := b.post(fmt.Sprintf("/staff/cases/%d/tours", caseB), url.Values{"facility_id": {fmt.Sprint(facB)}, "key": {formKey(t, page)},
		"slot1": {tourSlot(3, 10)}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("tour at B: %d", r.StatusCode)
	}
	if r := b.post(fmt.Sprintf("/staff/cases/%d/move-ins", caseB), url.Values{"facility_id": {fmt.Sprint(facB)}, "moved_in_on": {tourSlot(5, 0)[:10]},
		"room_type": {"個室"}, "monthly_fee": {"185000"}, "monthly_rent": {"80000"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("move-in at B: %d", r.StatusCode)
	}
	var tourB, moveB int64
	e.db.Pool.QueryRow(context.Background(), `SELECT id FROM tours WHERE case_id = $1`, caseB).Scan(&tourB)
	e.db.Pool.QueryRow(context.Background(), `SELECT id FROM move_ins WHERE case_id = $1`, caseB).Scan(&moveB)

	f := e.session(t, staffA)
	routes := 0
	for _, rt := range e.srv.Routes() {
		if !strings.HasPrefix(rt.Pattern, "GET /portal/facilities/{facility}/") && !strings.HasPrefix(rt.Pattern, "POST /portal/facilities/{facility}/") {
			continue
		}
		if !strings.Contains(rt.Pattern, "{referral}") && !strings.Contains(rt.Pattern, "{tour}") && !strings.Contains(rt.Pattern, "{movein}") &&
			!strings.HasSuffix(rt.Pattern, "/referrals") {
			continue
		}
		routes++
		method, pattern, _ := strings.Cut(rt.Pattern, " ")
		fill := func(fac int64) string {
			return strings.NewReplacer("{facility}", fmt.Sprint(fac), "{referral}", fmt.Sprint(refB), "{tour}", fmt.Sprint(tourB),
				"{movein}", fmt.Sprint(moveB)).Replace(pattern)
		}
		form := url.Values{"answer": {"accepted"}, "slot": {"1"}, "version": {"1"}, "slot1": {tourSlot(6, 10)},
			"moved_in_on": {tourSlot(5, 0)[:10]}, "room_type": {"個室"}, "monthly_fee": {"1"}, "monthly_rent": {"1"},
			"exited_on": {tourSlot(9, 0)[:10]}, "exit_reason": {"入院"}}
		for _, p := range []string{fill(facB), fill(facA)} {
			if p == fill(facA) && strings.HasSuffix(pattern, "/referrals") {
				continue // A's own list
			}
			var r response
			if method == "GET" {
				r = f.get(p)
			} else {
				r = f.post(p, form)
			}
			if r.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s as staff of A: %d, want 404", method, p, r.StatusCode)
			}
		}
	}
	if routes < 9 {
		t.Errorf("only %d portal referral routes checked", routes)
	}
	var status, tourStatus string
	var exited bool
	e.db.Pool.QueryRow(context.Background(), `SELECT status FROM referrals WHERE id = $1`, refB).Scan(&status)
	e.db.Pool.QueryRow(context.Background(), `SELECT status FROM tours WHERE id = $1`, tourB).Scan(&tourStatus)
	e.db.Pool.QueryRow(context.Background(), `SELECT exited_on IS NOT NULL FROM move_ins WHERE id = $1`, moveB).Scan(&exited)
	if status != "sent" || tourStatus != "proposed" || exited {
		t.Errorf("facility A changed B's objects: referral %s tour %s exited %v", status, tourStatus, exited)
	}
	// Nor does A's list show B's referral.
	if l := f.get(fmt.Sprintf("/portal/facilities/%d/referrals", facA)); strings.Contains(l.body, fmt.Sprintf("/referrals/%d", refB)) {
		t.Error("A's list shows B's referral")
	}
}
