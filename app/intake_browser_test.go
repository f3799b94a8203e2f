package app_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserConsultationJourney: a family on a phone opens a facility from
// the search results, asks for a consultation, mistypes the phone number,
// sees the error with everything else still filled in, fixes it (typing
// full-width digits) and reaches the confirmation with a reference number.
func TestBrowserConsultationJourney(t *testing.T) {
	p := seededServer(t)
	ctx := newBrowser(t, 390, 844)
	if err := chromedp.Do(ctx, chromedp.Navigate(p.base+"/search/13"), chromedp.WaitVisible(chromedp.CSS(".hit h3 a"))); err != nil {
		t.Fatal(err)
	}
	facilityName := js[string](t, ctx, `document.querySelector(".hit h3 a").textContent`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".hit h3 a"))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `!!document.querySelector('a[href^="/consultation?facility="]')`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href^="/consultation?facility="]`))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `location.pathname === "/consultation" && !!document.querySelector("#f-contact_name")`)
	if !js[bool](t, ctx, `document.querySelector('input[name="facility"]').checked && document.querySelector(".facility-choice").textContent.includes(`+jsString(facilityName)+`)`) {
		t.Fatal("the facility the family came from is not preselected")
	}
	screenshot(t, ctx, "consultation-phone")

	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#f-relationship"), "子"),
		chromedp.SendKeys(chromedp.CSS("#f-contact_name"), "山田 花子"),
		chromedp.SendKeys(chromedp.CSS("#f-phone"), "090-1234-567"), // a digit short
		chromedp.SetValue(chromedp.CSS("#f-care_level"), "要介護3"),
		chromedp.Click(chromedp.CSS(`input[name="medical"][value="irou"]`)),
		chromedp.SendKeys(chromedp.CSS("#f-note"), "来月に退院予定です"),
		chromedp.Click(chromedp.CSS("#f-consent")),
	); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // people take longer than the minimum fill time
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.intake-form button[type="submit"]`))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `!!document.querySelector("#error-summary")`)
	summary := js[string](t, ctx, `document.querySelector("#error-summary").textContent`)
	beside := js[string](t, ctx, `document.querySelector("#e-phone").textContent`)
	if !strings.Contains(summary, "電話番号を数字で入力してください") || !strings.Contains(beside, "電話番号を数字で入力してください") {
		t.Fatalf("error summary %q, beside the field %q", summary, beside)
	}
	kept := js[bool](t, ctx, `document.querySelector("#f-contact_name").value === "山田 花子" &&
		document.querySelector("#f-phone").value === "090-1234-567" &&
		document.querySelector("#f-relationship").value === "子" &&
		document.querySelector("#f-care_level").value === "要介護3" &&
		document.querySelector('input[name="medical"][value="irou"]').checked &&
		document.querySelector("#f-note").value === "来月に退院予定です" &&
		document.querySelector("#f-consent").checked &&
		document.querySelector('input[name="facility"]').checked`)
	if !kept {
		t.Fatal("the input was not kept on the re-displayed form")
	}
	if js[string](t, ctx, `document.querySelector('#error-summary a').getAttribute("href")`) != "#f-phone" {
		t.Fatal("the summary does not link to the field")
	}
	screenshot(t, ctx, "consultation-error-phone")

	js[bool](t, ctx, `(document.querySelector("#f-phone").value = "", true)`)
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#f-phone"), "０９０ー１２３４ー５６７８"),
		chromedp.Click(chromedp.CSS(`.intake-form button[type="submit"]`)),
	); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `location.pathname.startsWith("/consultation/done/") && !!document.querySelector("#ref")`)
	ref := js[string](t, ctx, `document.querySelector("#ref").textContent`)
	if !regexp.MustCompile(`^[2-9A-Z]{5}-[2-9A-Z]{5}$`).MatchString(ref) || !strings.HasSuffix(js[string](t, ctx, "location.pathname"), ref) {
		t.Fatalf("reference %q", ref)
	}
	if next := js[string](t, ctx, `document.querySelector("#next-step").textContent`); !strings.Contains(next, "翌営業日までに入居相談員からお電話します") {
		t.Fatalf("what happens next: %q", next)
	}
	if !strings.Contains(js[string](t, ctx, `document.body.textContent`), facilityName) {
		t.Fatal("the confirmation does not name the facility")
	}
	screenshot(t, ctx, "consultation-done-phone")
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}
