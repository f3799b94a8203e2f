package load

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// staffClient is a signed-in browser of one staff member.
type staffClient struct {
	c    *http.Client
	jar  *cookiejar.Jar
	base *url.URL
	// facility is the facility of a facility-staff member; busy makes
	// them do one thing at a time, as a person does.
	facility int64
	busy     sync.Mutex
}

func (sc *staffClient) csrf() string {
	for _, c := range sc.jar.Cookies(sc.base) {
		if c.Name == "cm_csrf" {
			return c.Value
		}
	}
	return ""
}

// signIn signs a staff member in through the real sign-in form (a
// consultant without a second factor ends fully signed in).
func (rn *runner) signIn(ctx context.Context, a Account) (*staffClient, error) {
	jar, _ := cookiejar.New(nil)
	base, err := url.Parse(rn.cfg.Base)
	if err != nil {
		return nil, err
	}
	sc := &staffClient{jar: jar, base: base, c: &http.Client{Jar: jar, Timeout: rn.cfg.Timeout, Transport: rn.client.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	req, _ := http.NewRequestWithContext(ctx, "GET", rn.cfg.Base+"/staff/login", nil)
	resp, err := sc.c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("load: sign-in page: %w", err)
	}
	resp.Body.Close()
	form := url.Values{"email": {a.Email}, "password": {a.Password}, "csrf_token": {sc.csrf()}}
	req, _ = http.NewRequestWithContext(ctx, "POST", rn.cfg.Base+"/staff/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = sc.c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("load: sign in: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || strings.HasPrefix(resp.Header.Get("Location"), "/staff/login") {
		return nil, fmt.Errorf("load: sign-in of a staff account answered %d → %q (a consultant without a second factor is expected)",
			resp.StatusCode, resp.Header.Get("Location"))
	}
	return sc, nil
}

var caseLinkRe = regexp.MustCompile(`href="/staff/cases/(\d+)"`)

// casework is a consultant at work: the case list (most often), a search
// by the phone number of a family that calls, a case page, a note on the
// timeline. Each successful one is a read or change of personal data and
// must leave exactly one audit event.
func (rn *runner) casework(ctx context.Context, rng *rand.Rand) {
	sc := rn.staff[rng.IntN(len(rn.staff))]
	id, phone := rn.cases.pick(rng)
	audited := func(ok bool) {
		if ok {
			rn.res.note(func(r *Result) { r.AuditedReads++ })
		}
	}
	switch n := rng.IntN(10); {
	case n < 3 || id == 0:
		body, ok := rn.get(ctx, sc.c, "GET /staff/cases", "/staff/cases?view=all", nil)
		audited(ok)
		var ids []int64
		for _, m := range caseLinkRe.FindAllStringSubmatch(body, 50) {
			if v, err := strconv.ParseInt(m[1], 10, 64); err == nil {
				ids = append(ids, v)
			}
		}
		rn.cases.add(ids)
	case n < 4 && phone != "":
		_, ok := rn.get(ctx, sc.c, "GET /staff/cases (search)", "/staff/cases?view=all&q="+url.QueryEscape(phone), nil)
		audited(ok)
	case n < 8:
		_, ok := rn.get(ctx, sc.c, "GET /staff/cases/{id}", fmt.Sprintf("/staff/cases/%d", id), nil)
		audited(ok)
	default:
		form := url.Values{"kind": {"note"}, "body": {fmt.Sprintf("折り返し電話の予定を確認（負荷試験%x）", rng.Uint32())}, "csrf_token": {sc.csrf()}}
		_, _, ok := rn.post(ctx, sc.c, "POST /staff/cases/{id}/activities", fmt.Sprintf("/staff/cases/%d/activities", id), form, nil, http.StatusSeeOther)
		audited(ok)
	}
}

// vacancy is a facility's staff member between other duties: the portal
// page of their facility, then one tap on "空室は変わっていません" (confirm
// the vacancies as they are). The confirmation reaches every server's
// search index through the change notification.
func (rn *runner) vacancy(ctx context.Context, rng *rand.Rand) {
	sc := rn.facStaff[rng.IntN(len(rn.facStaff))]
	sc.busy.Lock()
	defer sc.busy.Unlock()
	path := fmt.Sprintf("/portal/facilities/%d", sc.facility)
	page, ok := rn.get(ctx, sc.c, "GET /portal/facilities/{facility}", path, nil)
	if !ok {
		return
	}
	i := strings.Index(page, `action="`+path+`/vacancies/confirm"`)
	if i < 0 {
		rn.res.record("POST /portal/facilities/{facility}/vacancies/confirm", 0, 0, fmt.Errorf("the portal page has no confirm button"))
		return
	}
	form := url.Values{}
	end := strings.Index(page[i:], "</form>")
	for _, m := range hiddenRe.FindAllStringSubmatch(page[i:i+max(end, 0)], -1) {
		form.Set(m[1], m[2])
	}
	rn.post(ctx, sc.c, "POST /portal/facilities/{facility}/vacancies/confirm", path+"/vacancies/confirm", form, nil, http.StatusSeeOther)
}
