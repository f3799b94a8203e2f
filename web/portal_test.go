package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"carematch/auth"
	"carematch/facility"
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
		t.Fatalf("own facility: %d\n%s", r.StatusCode, e.logs.String())
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

var (
	inputRE = regexp.MustCompile(`<input[^>]*>`)
	attrRE  = regexp.MustCompile(`([a-z-]+)(?:="([^"]*)")?`)
)

// formValues reads the form whose action is given from a page as a
// browser would submit it untouched: hidden and text inputs, checked boxes
// and radios.
func formValues(t *testing.T, page, action string) url.Values {
	t.Helper()
	start := strings.Index(page, `action="`+action+`"`)
	if start < 0 {
		t.Fatalf("no form %s in the page:\n%.3000s", action, page)
	}
	form := page[start:]
	form = form[:strings.Index(form, "</form>")]
	out := url.Values{}
	for _, tag := range inputRE.FindAllString(form, -1) {
		attrs := map[string]string{}
		for _, m := range attrRE.FindAllStringSubmatch(tag[len("<input"):], -1) {
			attrs[m[1]] = html.UnescapeString(m[2])
		}
		if _, checked := attrs["checked"]; (attrs["type"] == "checkbox" || attrs["type"] == "radio") && !checked {
			continue
		}
		if attrs["name"] != "" {
			out.Add(attrs["name"], attrs["value"])
		}
	}
	return out
}

func editCount(t *testing.T, e *staffEnv, fid int64) int {
	t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM facility_edits WHERE facility_id = $1`, fid).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPortalVacancies: validation messages beside the fields with the
// input kept; a save; the one-tap confirmation; a double submit saved once;
// a POST without the CSRF token refused.
func TestPortalVacancies(t *testing.T) {
	e := newStaffEnv(t)
	fid := addFacility(t, e)
	addVacancy(t, e, fid, "個室", 2, e.clock.Now().Add(-10*24*time.Hour))
	u, _ := e.addUser(t, auth.FacilityStaff, "shisetsu@example.jp", fid)
	b := e.session(t, u)
	page := fmt.Sprintf("/portal/facilities/%d", fid)
	r := b.get(page)
	if !strings.Contains(r.body, "変更なし（空室状況を確認）") || !strings.Contains(r.body, "最後の確認は10日前です") {
		t.Fatalf("facility page:\n%s", r.body)
	}

	// Errors: letters for a number, a number without a room type, a room
	// type twice.
	f := formValues(t, r.body, page+"/vacancies")
	f.Set("available-0", "abc")
	f.Set("available-1", "2")
	f.Set("room_type-2", "個室")
	f.Set("available-2", "1")
	f.Set("csrf_token", b.csrf())
	bad := b.do("POST", page+"/vacancies", f)
	if bad.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid vacancies: %d", bad.StatusCode)
	}
	for _, want := range []string{"空室の数は0以上の整数で入力してください", "部屋の種類を入力してください", "同じ部屋の種類が2回あります",
		`value="abc"`, `href="#available-0"`, "まだ保存されていません"} {
		if !strings.Contains(bad.body, want) {
			t.Errorf("the refused form lacks %q", want)
		}
	}
	if n := editCount(t, e, fid); n != 0 {
		t.Fatalf("%d edits after a refused save", n)
	}

	// A save: full-width digits, a new room type; the same form twice.
	f = formValues(t, r.body, page+"/vacancies")
	f.Set("available-0", "３")
	f.Set("room_type-1", " ユニット型  個室 ")
	f.Set("available-1", "0")
	f.Set("csrf_token", b.csrf())
	wantRedirect(t, b.do("POST", page+"/vacancies", f), page+"?done=vacancies#notice")
	wantRedirect(t, b.do("POST", page+"/vacancies", f), page+"?done=vacancies#notice")
	g, err := e.db.Facility(context.Background(), fid)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Vacancies) != 2 || g.AvailableRooms() != 3 || g.Vacancies[0].RoomType != "ユニット型 個室" || time.Since(g.VacancyConfirmedAt()) > time.Minute {
		t.Fatalf("saved vacancies: %+v", g.Vacancies)
	}
	if n := editCount(t, e, fid); n != 1 {
		t.Fatalf("%d edits after a double submit, want 1", n)
	}
	done := b.get(page + "?done=vacancies")
	if !strings.Contains(done.body, "空室状況を保存しました") || !strings.Contains(done.body, "職員 facility_staff：空室状況を更新<") {
		t.Errorf("after the save:\n%s", done.body)
	}

	// Without the CSRF token: refused, nothing written.
	f = formValues(t, done.body, page+"/vacancies/confirm")
	f.Del("csrf_token")
	if r := b.do("POST", page+"/vacancies/confirm", f); r.StatusCode != http.StatusForbidden {
		t.Fatalf("confirm without the token: %d", r.StatusCode)
	}
	if n := editCount(t, e, fid); n != 1 {
		t.Fatalf("a POST without the token wrote an edit")
	}

	// 変更なし: the counts stay, the confirmation is new.
	e.clock.Add(time.Minute)
	before := g.VacancyConfirmedAt()
	time.Sleep(5 * time.Millisecond)
	f.Set("csrf_token", b.csrf())
	wantRedirect(t, b.do("POST", page+"/vacancies/confirm", f), page+"?done=confirmed#notice")
	h, _ := e.db.Facility(context.Background(), fid)
	if h.AvailableRooms() != 3 || !h.VacancyConfirmedAt().After(before) {
		t.Errorf("after 変更なし: %+v", h.Vacancies)
	}
	if r := b.get(page + "?done=confirmed"); !strings.Contains(r.body, "空室状況を確認しました（変更なし）") || !strings.Contains(r.body, "空室状況を確認（変更なし）") {
		t.Errorf("after 変更なし:\n%s", r.body)
	}

	// Removing a room type.
	f = formValues(t, b.get(page).body, page+"/vacancies")
	f.Set("remove-1", "1")
	f.Set("csrf_token", b.csrf())
	wantRedirect(t, b.do("POST", page+"/vacancies", f), page+"?done=vacancies#notice")
	if k, _ := e.db.Facility(context.Background(), fid); len(k.Vacancies) != 1 || k.Vacancies[0].RoomType != "ユニット型 個室" {
		t.Errorf("after removing 個室: %+v", k.Vacancies)
	}
}

// TestPortalCostsAndConflict: yen typed in the ways people type it, the
// messages beside each field with the input kept; two people on the same
// form: the second save is refused (409) naming the field, both values and
// who changed it, and the form then holds the stored value.
func TestPortalCostsAndConflict(t *testing.T) {
	e := newStaffEnv(t)
	fid := addFacility(t, e)
	staff, _ := e.addUser(t, auth.FacilityStaff, "shisetsu@example.jp", fid)
	mgr, _ := e.addUser(t, auth.Manager, "kanri@example.jp")
	a, m := e.session(t, staff), e.session(t, mgr)
	page := fmt.Sprintf("/portal/facilities/%d/costs", fid)
	fa := formValues(t, a.get(page).body, page)
	fm := formValues(t, m.get(page).body, page)

	fa.Set("rent", "-5")
	fa.Set("food", "12.5")
	fa.Set("utilities", "３百円")
	fa.Set("care_extra", "300万")
	fa.Set("csrf_token", a.csrf())
	bad := a.do("POST", page, fa)
	if bad.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid costs: %d", bad.StatusCode)
	}
	for _, want := range []string{"賃料は0円以上で入力してください", "食費は1円単位の整数で入力してください", "水道光熱費は金額を数字で入力してください",
		"上乗せ介護費は200万円以下で入力してください", `value="12.5"`, `value="３百円"`, `href="#rent"`} {
		if !strings.Contains(bad.body, want) {
			t.Errorf("the refused costs form lacks %q", want)
		}
	}

	// The manager saves first.
	fm.Set("initial_cost", "0")
	fm.Set("rent", "８万5,000円")
	fm.Set("food", "4.5万")
	fm.Set("csrf_token", m.csrf())
	wantRedirect(t, m.do("POST", page, fm), fmt.Sprintf("/portal/facilities/%d?done=costs#costs", fid))
	g, _ := e.db.Facility(context.Background(), fid)
	if g.InitialCost != 0 || g.Monthly.Rent != 85000 || g.Monthly.Food != 45000 || g.Monthly.Total() != 130000 {
		t.Fatalf("saved costs: %d %+v", g.InitialCost, g.Monthly)
	}

	// The facility's own save from the form opened before: refused.
	fa.Set("rent", "90000")
	fa.Set("food", "")
	fa.Set("utilities", "")
	fa.Set("care_extra", "")
	c := a.do("POST", page, fa)
	if c.StatusCode != http.StatusConflict {
		t.Fatalf("stale save: %d", c.StatusCode)
	}
	for _, want := range []string{"ほかの方がこの施設の同じ項目を先に更新したため、保存されていません", "職員 manager",
		"<th scope=\"row\">賃料</th><td class=\"theirs\">90,000円</td><td class=\"current\">85,000円</td>", `name="rent" value="85000"`} {
		if !strings.Contains(c.body, want) {
			t.Errorf("the conflict page lacks %q\n", want)
		}
	}
	if g2, _ := e.db.Facility(context.Background(), fid); g2.Monthly.Rent != 85000 {
		t.Error("the stale save wrote")
	}
	// Saved again from the conflict page: goes through.
	again := formValues(t, c.body, page)
	again.Set("rent", "90000")
	again.Set("csrf_token", a.csrf())
	wantRedirect(t, a.do("POST", page, again), fmt.Sprintf("/portal/facilities/%d?done=costs#costs", fid))
	if g3, _ := e.db.Facility(context.Background(), fid); g3.Monthly.Rent != 90000 || g3.Monthly.Food != 45000 {
		t.Errorf("after saving again: %+v", g3.Monthly)
	}
	edited, _ := e.db.FacilityEditedFields(context.Background(), fid)
	if !slices.Contains(edited, "rent") || !slices.Contains(edited, "initial_cost") {
		t.Errorf("edited_fields %v", edited)
	}
}

// TestPortalAcceptanceAndFeatures: every medical item must be answered;
// the saves reach the stored facility.
func TestPortalAcceptanceAndFeatures(t *testing.T) {
	e := newStaffEnv(t)
	fid := addFacility(t, e)
	u, _ := e.addUser(t, auth.FacilityStaff, "shisetsu@example.jp", fid)
	b := e.session(t, u)
	page := fmt.Sprintf("/portal/facilities/%d/acceptance", fid)
	f := formValues(t, b.get(page).body, page)
	if f.Get("med-irou") != "no" || f.Get("dementia") != "no" {
		t.Fatalf("acceptance form: %v", f)
	}
	f.Del("med-irou")
	f["care_levels"] = []string{"要介護1", "要介護2", "要介護3"}
	f.Set("dementia", "yes")
	f.Set("med-insulin", "consult")
	f.Set("csrf_token", b.csrf())
	bad := b.do("POST", page, f)
	if bad.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(bad.body, "胃ろうの受け入れを ○・△・× から選んでください") ||
		!regexp.MustCompile(`name="med-insulin" value="consult" checked`).MatchString(bad.body) ||
		!strings.Contains(bad.body, `value="要介護2" checked`) {
		t.Fatalf("acceptance without 胃ろう: %d\n%s", bad.StatusCode, bad.body)
	}
	f.Set("med-irou", "yes")
	wantRedirect(t, b.do("POST", page, f), fmt.Sprintf("/portal/facilities/%d?done=acceptance#acceptance", fid))
	g, _ := e.db.Facility(context.Background(), fid)
	if g.CareLevels != facility.CareLevelRange(facility.Care1, facility.Care3) || g.Dementia != facility.Yes ||
		g.Medical[0] != facility.Yes || g.Medical[3] != facility.Consult || g.Medical[4] != facility.No {
		t.Errorf("saved acceptance: %+v %v %v", g.CareLevels, g.Dementia, g.Medical)
	}

	page = fmt.Sprintf("/portal/facilities/%d/features", fid)
	f = formValues(t, b.get(page).body, page)
	f["features"] = []string{"nurse24", "pet"}
	f.Set("csrf_token", b.csrf())
	wantRedirect(t, b.do("POST", page, f), fmt.Sprintf("/portal/facilities/%d?done=features#features", fid))
	g, _ = e.db.Facility(context.Background(), fid)
	if want := facility.Features(0).With(0).With(8); g.Features != want {
		t.Errorf("features %b, want %b", g.Features, want)
	}
	if r := b.get(fmt.Sprintf("/portal/facilities/%d", fid)); !strings.Contains(r.body, "24時間看護") || !strings.Contains(r.body, "要介護1・要介護2・要介護3") {
		t.Errorf("facility page summaries")
	}
	f["features"] = []string{"nurse24", "swimming_pool"}
	if r := b.do("POST", page, f); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("unknown feature: %d", r.StatusCode)
	}
	// A form without its base or key (not rendered here): refused, typed input kept.
	f = formValues(t, b.get(page).body, page)
	f.Del("base")
	f["features"] = []string{"pet"}
	f.Set("csrf_token", b.csrf())
	if r := b.do("POST", page, f); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "画面を開き直してから") ||
		!strings.Contains(r.body, `value="pet" checked`) {
		t.Errorf("form without base: %d", r.StatusCode)
	}
}
