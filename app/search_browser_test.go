package app_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"carematch/postgres"
)

// seededServer is a server on a fresh database holding the real open data
// plus demo values (about 6,000 facilities).
func seededServer(t *testing.T) *process {
	t.Helper()
	db := postgres.TestDatabase(t)
	files, _ := filepath.Glob(filepath.Join("..", "data", "mhlw", "*.csv"))
	args := append([]string{"seed", "demo", "--total", "6000"}, files...)
	if out, err := run(t, []string{"DATABASE_URL=" + db}, args...); err != nil {
		t.Fatalf("seed demo: %v\n%s", err, out)
	}
	return startServe(t, db)
}

// js evaluates a JavaScript expression in the page.
func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitJS polls until a JavaScript condition holds.
func waitJS(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond)); err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s (at %s)", cond, js[string](t, ctx, "location.href"))
}

// htmxSettled holds once htmx has swapped and settled the new results and
// set up the new form (a change before that would be lost).
const htmxSettled = `(() => { const f = document.querySelector("form.search-form");
	return !!f && !!f["htmx-internal-data"] && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling") })()`

// choose selects an option the way a user's pick does: the value changes
// and a change event bubbles (htmx listens on the form).
func choose(t *testing.T, ctx context.Context, selector, value string) {
	t.Helper()
	js[bool](t, ctx, fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q;
		s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`, selector, value))
}

// TestBrowserSearchJourney: a family on a phone searches by prefecture and
// care level, narrows by a medical item, opens a facility, and comes back
// to the same results.
func TestBrowserSearchJourney(t *testing.T) {
	p := seededServer(t)
	ctx := newBrowser(t, 390, 844)
	if err := chromedp.Do(ctx, chromedp.Navigate(p.base+"/search"), chromedp.WaitVisible(chromedp.CSS("#f-pref"))); err != nil {
		t.Fatal(err)
	}
	// htmx is a deferred script: a change before it has set itself up
	// would be lost, as it would be for a user (who then presses 探す).
	waitJS(t, ctx, `document.readyState === "complete" && !!window.htmx`)
	screenshot(t, ctx, "search-phone")

	choose(t, ctx, "#f-pref", "13")
	waitJS(t, ctx, `location.pathname === "/search/13" && document.querySelector("h1").textContent.includes("東京都")`)
	waitJS(t, ctx, htmxSettled)
	choose(t, ctx, "#f-care", "要介護3")
	waitJS(t, ctx, `new URLSearchParams(location.search).get("care") === "要介護3"`)
	waitJS(t, ctx, htmxSettled)
	before := js[int](t, ctx, `+document.querySelector("#result-total").textContent`)

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`input[name="med"][value="irou"]`))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `new URLSearchParams(location.search).get("med") === "irou"`)
	waitJS(t, ctx, `document.querySelector('input[name="med"][value="irou"]').checked`)
	waitJS(t, ctx, htmxSettled)
	total := js[int](t, ctx, `+document.querySelector("#result-total").textContent`)
	if total == 0 || total > before {
		t.Fatalf("narrowing by 胃ろう: %d results, before %d", total, before)
	}
	resultsURL := js[string](t, ctx, "location.href")
	first := js[string](t, ctx, `document.querySelector(".hit h3 a").textContent`)
	screenshot(t, ctx, "search-results-phone")

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".hit h3 a"))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `location.pathname.startsWith("/facilities/")`)
	waitJS(t, ctx, `document.querySelector("h1") && document.querySelector("h1").textContent === `+fmt.Sprintf("%q", first))
	row := js[string](t, ctx, `[...document.querySelectorAll(".accept-table tr")].find(r => r.textContent.includes("胃ろう")).textContent`)
	if !strings.Contains(row, "受入可") && !strings.Contains(row, "要相談") {
		t.Fatalf("the facility found for 胃ろう says %q", row)
	}
	screenshot(t, ctx, "facility-phone")

	// The back button (the page may come from the back-forward cache, which
	// fires no load event, so wait on the page's state instead).
	js[bool](t, ctx, `(history.back(), true)`)
	waitJS(t, ctx, fmt.Sprintf(`location.href === %q && !!document.querySelector("#result-total")`, resultsURL))
	if got := js[int](t, ctx, `+document.querySelector("#result-total").textContent`); got != total {
		t.Fatalf("back to %d results, want %d", got, total)
	}
	if got := js[string](t, ctx, `document.querySelector(".hit h3 a").textContent`); got != first {
		t.Fatalf("back to a list starting with %q, want %q", got, first)
	}
	if !js[bool](t, ctx, `document.querySelector('input[name="med"][value="irou"]').checked && document.querySelector("#f-care").value === "要介護3"`) {
		t.Fatal("the filters were not restored")
	}
}

// TestBrowserDeskLayout renders the main pages at a desk size for people to
// look at, and checks the base font size older readers need.
func TestBrowserDeskLayout(t *testing.T) {
	p := seededServer(t)
	ctx := newBrowser(t, 1280, 800)
	if err := chromedp.Do(ctx, chromedp.Navigate(p.base+"/"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	if px := js[float64](t, ctx, `parseFloat(getComputedStyle(document.body).fontSize)`); px < 16 {
		t.Fatalf("body font size %.1fpx, want at least 16px", px)
	}
	screenshot(t, ctx, "top-desk")
	if err := chromedp.Do(ctx, chromedp.Navigate(p.base+"/search/13/13101"), chromedp.WaitVisible(chromedp.CSS("#result-total"))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "search-desk")
}
