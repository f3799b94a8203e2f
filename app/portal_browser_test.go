package app_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"carematch/postgres"
)

// TestBrowserPortalVacancyGoesLive (issue 5, "Done when" #2): the demo
// facility-staff account that `seed demo` prints signs in on a phone,
// lands in the portal, changes a vacancy and confirms the report; the
// public facility page — served from the in-memory index, so the change
// travels database → NOTIFY → Follower → index — shows the new number
// within 2 seconds of the save.
func TestBrowserPortalVacancyGoesLive(t *testing.T) {
	dbURL := postgres.TestDatabase(t)
	out, err := run(t, []string{"DATABASE_URL=" + dbURL}, "seed", "demo", "--total", "500", "../data/mhlw/jigyosho_510_head.csv")
	if err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`デモ用の施設スタッフ: (\S+) / パスワード (\S+) （施設 \[(\d+)\]`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("seed demo printed no facility-staff account:\n%s", out)
	}
	email, pw, fid := m[1], m[2], m[3]
	p := startServe(t, dbURL)
	waitReady(t, p)

	ctx := newBrowser(t, 390, 844)
	do := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%v (at %s)", err, js[string](t, ctx, "location.href"))
		}
	}
	do(chromedp.Navigate(p.base+"/staff/login"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.SendKeys(chromedp.CSS("#password"), pw),
		chromedp.Click(chromedp.CSS(`form[action="/staff/login"] button[type="submit"]`)))
	waitJS(t, ctx, `location.pathname === "/portal" && !!document.querySelector(".portal-facilities")`)
	screenshot(t, ctx, "portal-home-phone")
	do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`.portal-facilities a.button[href="/portal/facilities/%s"]`, fid))))
	waitJS(t, ctx, `!!document.querySelector("#save-vacancies")`)

	// The first room type: its number goes up by 3 (or a room type is
	// added when the facility has none).
	room := js[string](t, ctx, `document.querySelector("#room_type-0").value`)
	if room == "" {
		room = "個室"
		do(chromedp.SendKeys(chromedp.CSS("#room_type-0"), room))
	}
	before, _ := strconv.Atoi(js[string](t, ctx, `document.querySelector("#available-0").value`))
	want := before + 3
	js[bool](t, ctx, fmt.Sprintf(`(document.querySelector("#available-0").value = %q, true)`, "　"+strings.Map(func(r rune) rune { return r - '0' + '０' }, strconv.Itoa(want))))
	saved := time.Now() // the tap
	do(chromedp.Click(chromedp.CSS("#save-vacancies")))
	waitJS(t, ctx, `!!document.querySelector("#notice") && document.querySelector("#notice").textContent.includes("空室状況を保存しました")`)
	screenshot(t, ctx, "portal-facility-phone")
	if got := js[string](t, ctx, `document.querySelector("#available-0").value`); got != strconv.Itoa(want) {
		t.Errorf("the form shows %q after the save, want %d", got, want)
	}

	// The public page (from the index) shows it within the bound.
	cell := fmt.Sprintf(`<td>%s</td><td class="num"><span class="vacant">%d室</span></td>`, room, want)
	for !strings.Contains(body(t, p.base+"/facilities/"+fid), cell) {
		if time.Since(saved) > 2*time.Second {
			t.Fatalf("the public page does not show %d rooms of %s 2s after the tap on 保存", want, room)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("the public page shows the new vacancy %s after the tap on 保存", time.Since(saved).Round(time.Millisecond))
	do(chromedp.Navigate(p.base + "/facilities/" + fid))
	waitJS(t, ctx, fmt.Sprintf(`document.querySelector("#vacancy-heading").parentElement.textContent.includes(%q)`, fmt.Sprintf("%d室", want)))
	do(chromedp.Navigate(p.base + "/portal/facilities/" + fid))

	// One tap: 変更なし. The edit history names it.
	waitJS(t, ctx, `!!document.querySelector("#confirm-unchanged")`)
	do(chromedp.Click(chromedp.CSS("#confirm-unchanged")))
	waitJS(t, ctx, `!!document.querySelector("#notice") && document.querySelector("#notice").textContent.includes("確認しました")`)
	if !js[bool](t, ctx, `document.querySelector("#edits").textContent.includes("空室状況を確認（変更なし）") && document.querySelector("#edits").textContent.includes("デモ施設 職員")`) {
		t.Error("the edit history does not show the confirmation")
	}
	if strings.Contains(p.logs.String(), email) || strings.Contains(p.logs.String(), pw) {
		t.Error("the server log holds the address or the password")
	}

	// `seed demo` again (make run does it at every start): the same
	// account and facility with a new password, and the facility's own
	// vacancy report is not replaced by demo values.
	rooms, err := availableRooms(p.base, mustID(t, fid))
	if err != nil {
		t.Fatal(err)
	}
	out, err = run(t, []string{"DATABASE_URL=" + dbURL}, "seed", "demo", "--total", "500", "../data/mhlw/jigyosho_510_head.csv")
	m2 := regexp.MustCompile(`デモ用の施設スタッフ: (\S+) / パスワード (\S+) （施設 \[(\d+)\]`).FindStringSubmatch(out)
	if err != nil || m2 == nil || m2[1] != email || m2[3] != fid || m2[2] == pw {
		t.Fatalf("seed demo again: %v %q\n%s", err, m2, out)
	}
	time.Sleep(500 * time.Millisecond)
	if again, err := availableRooms(p.base, mustID(t, fid)); err != nil || again != rooms {
		t.Errorf("after seeding again the facility shows %d rooms (%v), want %d", again, err, rooms)
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
