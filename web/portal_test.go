package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"carematch/auth"
)

// addVacancy gives a facility one room type confirmed at the given time.
func addVacancy(t *testing.T, e *staffEnv, fid int64, room string, n int, at time.Time) {
	t.Helper()
	if _, err := e.db.Pool.Exec(context.Background(), `
		INSERT INTO facility_vacancies (facility_id, room_type, available, confirmed_at) VALUES ($1, $2, $3, $4)`,
		fid, room, n, at); err != nil {
		t.Fatal(err)
	}
}

// TestPortalHome: facility staff see their own facilities (and no other),
// with what needs attention; a stale vacancy report asks to be confirmed.
func TestPortalHome(t *testing.T) {
	e := newStaffEnv(t)
	a, b, other := addFacility(t, e), addFacility(t, e), addFacility(t, e)
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE facilities SET name = 'さくら苑' WHERE id = $1`, a); err != nil {
		t.Fatal(err)
	}
	addVacancy(t, e, a, "個室", 2, e.clock.Now().Add(-10*24*time.Hour)) // stale
	addVacancy(t, e, b, "個室", 3, e.clock.Now().Add(-time.Hour))       // fresh
	u, pw := e.addUser(t, auth.FacilityStaff, "shisetsu@example.jp", a, b)

	br := e.browser(t)
	wantRedirect(t, br.login(u.Email, pw), "/portal")
	r := br.get("/portal")
	if r.StatusCode != 200 {
		t.Fatalf("/portal: %d\n%s", r.StatusCode, r.body)
	}
	for _, want := range []string{"施設の管理", "さくら苑", fmt.Sprintf(`href="/portal/facilities/%d"`, a),
		fmt.Sprintf(`href="/portal/facilities/%d"`, b), "空室状況の確認が必要です（最後の確認：10日前）", "空室 3室（今日に確認）",
		`<a href="/portal">施設の管理</a>`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("/portal lacks %q", want)
		}
	}
	if strings.Contains(r.body, fmt.Sprintf("/portal/facilities/%d", other)) {
		t.Error("/portal lists a facility the user does not act for")
	}
	if strings.Contains(r.body, `href="/staff/cases"`) {
		t.Error("facility staff are offered the case workspace")
	}
	if r := br.get(fmt.Sprintf("/portal/facilities/%d", a)); r.StatusCode != 200 || !strings.Contains(r.body, "さくら苑") {
		t.Fatalf("own facility: %d", r.StatusCode)
	}
	for _, path := range []string{fmt.Sprintf("/portal/facilities/%d", other), "/portal/facilities/999999", "/portal/facilities/x", "/portal/facilities/-1"} {
		if r := br.get(path); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, r.StatusCode)
		}
	}
	if !strings.Contains(e.logs.String(), `"msg":"portal scope refused"`) {
		t.Error("scope refusals are not logged")
	}

	// Unlinking takes effect at the next request.
	if _, err := e.db.Pool.Exec(context.Background(), `DELETE FROM staff_facilities WHERE user_id = $1 AND facility_id = $2`, u.ID, a); err != nil {
		t.Fatal(err)
	}
	if r := br.get(fmt.Sprintf("/portal/facilities/%d", a)); r.StatusCode != http.StatusNotFound {
		t.Errorf("unlinked facility: %d, want 404", r.StatusCode)
	}
}

// TestPortalStandIn: managers and admins open any facility by its number;
// consultants do not use the portal.
func TestPortalStandIn(t *testing.T) {
	e := newStaffEnv(t)
	fid := addFacility(t, e)
	m, _ := e.addUser(t, auth.Manager, "kanri@example.jp")
	b := e.session(t, m)
	wantRedirect(t, b.get(fmt.Sprintf("/portal?facility=%d", fid)), fmt.Sprintf("/portal/facilities/%d", fid))
	// Full-width digits, as typed on a phone.
	wide := strings.Map(func(r rune) rune { return r - '0' + '０' }, fmt.Sprint(fid))
	wantRedirect(t, b.get("/portal?facility="+wide), fmt.Sprintf("/portal/facilities/%d", fid))
	if r := b.get("/portal?facility=999999"); r.StatusCode != http.StatusNotFound || !strings.Contains(r.body, "その番号の施設は見つかりません") ||
		!strings.Contains(r.body, `value="999999"`) {
		t.Errorf("unknown facility number: %d", r.StatusCode)
	}
	if r := b.get(fmt.Sprintf("/portal/facilities/%d", fid)); r.StatusCode != 200 {
		t.Errorf("manager on a facility: %d", r.StatusCode)
	}
	c, _ := e.addUser(t, auth.Consultant, "sodan@example.jp")
	if r := e.session(t, c).get("/portal"); r.StatusCode != http.StatusForbidden {
		t.Errorf("consultant on /portal: %d, want 403", r.StatusCode)
	}
	// A disabled manager's session is gone, and the store's check refuses
	// the account too.
	if ok, err := e.db.MayActFor(context.Background(), m.ID, fid); err != nil || !ok {
		t.Fatalf("MayActFor(manager) = %v, %v", ok, err)
	}
	if err := e.db.DisableStaffUser(context.Background(), m.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.db.MayActFor(context.Background(), m.ID, fid); err != nil || ok {
		t.Fatalf("MayActFor(disabled manager) = %v, %v", ok, err)
	}
}
