// Package load drives a running carematch server with traffic that looks
// like real use: mostly families searching and reading facility pages, some
// of them sending a consultation, brochure or tour request through the real
// form (page, fill time, submit), consultants working cases in the
// workspace, and facility staff confirming vacancies in the portal. Requests
// arrive open-loop at a fixed rate (a slow server does not slow the
// arrivals, as on the internet), and every answer is recorded per route.
//
// `make load` (cmd/loadgen), the chaos tests and the short load test in
// `make test` all run this one workload.
package load

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"carematch/facility"
	"carematch/search"
)

// Account is a staff member the workload signs in as.
type Account struct {
	Email, Password string
	// Facility is the facility a facility-staff account keeps current.
	Facility int64
}

// Config describes one run.
type Config struct {
	Base     string        // http://127.0.0.1:PORT
	Rate     float64       // arrivals per second
	Duration time.Duration // how long arrivals continue
	// MaxRequests stops arrivals earlier (0: no limit).
	MaxRequests int
	// Facilities is the catalog the families browse (ids, areas, search
	// filters drawn from it).
	Facilities []facility.Facility
	// Consultants work cases; FacilityStaff confirm their facility's
	// vacancies in the portal (one facility each). Without them that part
	// of the mix is left out.
	Consultants   []Account
	FacilityStaff []Account
	// Weights of the mix by scenario name (Scenarios lists them); nil:
	// DefaultWeights.
	Weights map[string]int
	// MaxInFlight bounds concurrent requests; an arrival beyond it is
	// counted as shed (an error: the server no longer keeps up).
	MaxInFlight int
	// Seed makes the sequence of requests repeatable.
	Seed uint64
	// Timeout of one request (default 10s).
	Timeout time.Duration
	// Observe, when set, is called with every answer (status 0: no
	// answer), for tests that judge answers by when they came (a database
	// outage).
	Observe func(route string, status int, at time.Time, err error)
}

// Scenario names.
const (
	Top         = "top"
	Search      = "search"
	AreaPage    = "area"
	FacilityPg  = "facility"
	APISearch   = "api_search"
	APIFacility = "api_facility"
	Intake      = "intake"
	CaseWork    = "casework"
	Vacancy     = "vacancy"
)

// DefaultWeights is the mix of a normal day: families reading (mostly from
// search and area pages and facility pages), a few sending a request,
// consultants working the cases, facility staff confirming vacancies.
var DefaultWeights = map[string]int{
	Top: 6, Search: 28, AreaPage: 16, FacilityPg: 24, APISearch: 5, APIFacility: 4,
	Intake: 5, CaseWork: 10, Vacancy: 2,
}

// Result is what a run saw.
type Result struct {
	mu      sync.Mutex
	Start   time.Time
	Elapsed time.Duration
	Routes  map[string]*RouteStats
	Shed    int64
	// Accepted are the 受付番号 of the requests the server accepted
	// (303 to /KIND/done/REF): each must be in the database.
	Accepted []string
	// PersonalData are the distinctive personal values the families sent
	// (names, phones, e-mails, notes): none may appear in the server's log.
	PersonalData []string
	// AuditedReads counts the consultants' successful reads and changes of
	// case data (lists, searches, case pages, notes): each must have left
	// exactly one audit event.
	AuditedReads int64
	// Errors are examples of failed requests (at most 20).
	Errors []string
	// errCount is every failure, example or not.
	errCount int64
	observe  func(route string, status int, at time.Time, err error)
}

// RouteStats are the answers of one route.
type RouteStats struct {
	Latencies []time.Duration
	Status    map[int]int64 // by HTTP status; 0 = transport error
	Failures  int64         // transport errors and unexpected statuses
}

// Requests is the number of answered or failed requests.
func (r *Result) Requests() int64 {
	var n int64
	for _, s := range r.Routes {
		for _, c := range s.Status {
			n += c
		}
	}
	return n
}

// Failures counts every failed request (and shed arrivals).
func (r *Result) Failures() int64 { return r.errCount + r.Shed }

// Rate is the request rate achieved.
func (r *Result) Rate() float64 { return float64(r.Requests()) / r.Elapsed.Seconds() }

// Percentile of a route's latencies (all routes for route "").
func (r *Result) Percentile(route string, p float64) time.Duration {
	var lat []time.Duration
	for name, s := range r.Routes {
		if route == "" || name == route {
			lat = append(lat, s.Latencies...)
		}
	}
	return percentile(lat, p)
}

func percentile(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	lat = slices.Clone(lat)
	slices.Sort(lat)
	return lat[min(len(lat)-1, int(p*float64(len(lat))))]
}

// RouteNames lists the routes seen, sorted.
func (r *Result) RouteNames() []string {
	var out []string
	for k := range r.Routes {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Table is the per-route summary as text.
func (r *Result) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-52s %8s %9s %9s %9s %8s  %s\n", "route", "requests", "p50", "p99", "max", "failed", "statuses")
	for _, name := range r.RouteNames() {
		s := r.Routes[name]
		var n int64
		var st []string
		for code, c := range s.Status {
			n += c
			st = append(st, fmt.Sprintf("%d×%d", code, c))
		}
		sort.Strings(st)
		fmt.Fprintf(&b, "%-52s %8d %9s %9s %9s %8d  %s\n", name, n, ms(percentile(s.Latencies, .5)), ms(percentile(s.Latencies, .99)),
			ms(percentile(s.Latencies, 1)), s.Failures, strings.Join(st, " "))
	}
	fmt.Fprintf(&b, "%-52s %8d %9s %9s %9s %8d  shed %d\n", "all", r.Requests(), ms(r.Percentile("", .5)), ms(r.Percentile("", .99)),
		ms(r.Percentile("", 1)), r.errCount, r.Shed)
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

// record notes one answer. want lists the statuses that count as success.
func (r *Result) record(route string, status int, d time.Duration, err error, want ...int) bool {
	if r.observe != nil {
		r.observe(route, status, time.Now(), err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.Routes[route]
	if s == nil {
		s = &RouteStats{Status: map[int]int64{}}
		r.Routes[route] = s
	}
	s.Status[status]++
	ok := err == nil && slices.Contains(want, status)
	if ok {
		s.Latencies = append(s.Latencies, d)
		return true
	}
	s.Failures++
	r.errCount++
	if len(r.Errors) < 20 {
		msg := fmt.Sprintf("%s: status %d", route, status)
		if err != nil {
			msg = fmt.Sprintf("%s: %v", route, err)
		}
		r.Errors = append(r.Errors, msg)
	}
	return false
}

func (r *Result) note(f func(r *Result)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r)
}

// runner is one run's state.
type runner struct {
	cfg      Config
	res      *Result
	client   *http.Client // no cookies: the public pages
	urls     struct{ top, search, area, facility, apiSearch, apiFacility []string }
	kinds    []string
	families atomic.Int64
	staff    []*staffClient
	facStaff []*staffClient
	cases    *caseIDs
	pending  sync.WaitGroup
	weights  []weighted
	// arrivals ends when no new visitor should come (a family filling in
	// a form then does not send it).
	arrivals context.Context
}

type weighted struct {
	name string
	upto int
}

// Run signs the staff in, then sends arrivals at cfg.Rate until
// cfg.Duration or cfg.MaxRequests or ctx ends, and waits for every request
// in flight (an intake submit comes a few seconds after its form).
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 512
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Weights == nil {
		cfg.Weights = DefaultWeights
	}
	if cfg.Rate <= 0 {
		return nil, fmt.Errorf("load: rate must be positive")
	}
	if len(cfg.Facilities) == 0 {
		return nil, fmt.Errorf("load: no facilities to browse (seed the catalog first)")
	}
	rn := &runner{cfg: cfg, res: &Result{Routes: map[string]*RouteStats{}, observe: cfg.Observe}, cases: &caseIDs{}, arrivals: ctx}
	rn.client = &http.Client{Timeout: cfg.Timeout, Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 512},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	rn.buildURLs(cfg.Seed)
	rn.kinds = []string{"consultation", "consultation", "brochure", "tour"}
	for _, a := range cfg.Consultants {
		sc, err := rn.signIn(ctx, a)
		if err != nil {
			return nil, err
		}
		rn.staff = append(rn.staff, sc)
	}
	for _, a := range cfg.FacilityStaff {
		sc, err := rn.signIn(ctx, a)
		if err != nil {
			return nil, err
		}
		sc.facility = a.Facility
		rn.facStaff = append(rn.facStaff, sc)
	}
	total := 0
	for _, name := range Scenarios() {
		w := cfg.Weights[name]
		if name == CaseWork && len(rn.staff) == 0 || name == Vacancy && len(rn.facStaff) == 0 || w <= 0 {
			continue
		}
		total += w
		rn.weights = append(rn.weights, weighted{name, total})
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x10ad))
	sem := make(chan struct{}, cfg.MaxInFlight)
	start := time.Now()
	rn.res.Start = start
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	var wg sync.WaitGroup
	for i := 0; ; i++ {
		if cfg.MaxRequests > 0 && i >= cfg.MaxRequests {
			break
		}
		at := start.Add(time.Duration(i) * interval)
		if at.Sub(start) >= cfg.Duration {
			break
		}
		if d := time.Until(at); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
		if ctx.Err() != nil {
			break
		}
		pick := rng.IntN(total)
		seed := rng.Uint64()
		name := rn.weights[sort.Search(len(rn.weights), func(i int) bool { return rn.weights[i].upto > pick })].name
		select {
		case sem <- struct{}{}:
		default:
			rn.res.note(func(r *Result) { r.Shed++ })
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			// A request once sent runs to its end; ctx only stops arrivals.
			rn.do(context.WithoutCancel(ctx), name, rand.New(rand.NewPCG(seed, 1)))
		})
	}
	wg.Wait()
	rn.pending.Wait()
	rn.res.Elapsed = time.Since(start)
	return rn.res, nil
}

// Scenarios lists the scenario names in a fixed order.
func Scenarios() []string {
	return []string{Top, Search, AreaPage, FacilityPg, APISearch, APIFacility, Intake, CaseWork, Vacancy}
}

func (rn *runner) buildURLs(seed uint64) {
	facs := rn.cfg.Facilities
	rng := rand.New(rand.NewPCG(seed, 0x0a11))
	rn.urls.top = []string{"/"}
	for _, q := range search.QueryMix(facs, 2000, seed+1) {
		rn.urls.search = append(rn.urls.search, "/search?"+q.Values().Encode())
		if len(rn.urls.apiSearch) < 500 {
			rn.urls.apiSearch = append(rn.urls.apiSearch, "/api/v1/search?"+q.Values().Encode())
		}
	}
	seen := map[string]bool{}
	for range 3000 {
		f := facs[rng.IntN(len(facs))]
		u := fmt.Sprintf("/search/%d", f.PrefCode)
		if f.MuniCode != "" && rng.IntN(2) == 0 {
			u += "/" + f.MuniCode
		}
		if rng.IntN(4) == 0 {
			u += "?care=" + url.QueryEscape([]string{"要介護1", "要介護3", "要介護5"}[rng.IntN(3)])
		}
		if !seen[u] {
			seen[u] = true
			rn.urls.area = append(rn.urls.area, u)
		}
	}
	for range 5000 {
		f := facs[rng.IntN(len(facs))]
		rn.urls.facility = append(rn.urls.facility, fmt.Sprintf("/facilities/%d", f.ID))
		rn.urls.apiFacility = append(rn.urls.apiFacility, fmt.Sprintf("/api/v1/facilities/%d", f.ID))
	}
}

func (rn *runner) do(ctx context.Context, name string, rng *rand.Rand) {
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	switch name {
	case Top:
		rn.get(ctx, rn.client, "GET /{$}", pick(rn.urls.top), nil)
	case Search:
		rn.get(ctx, rn.client, "GET /search", pick(rn.urls.search), nil)
	case AreaPage:
		u := pick(rn.urls.area)
		route := "GET /search/{pref}"
		if strings.Count(strings.SplitN(u, "?", 2)[0], "/") == 3 {
			route = "GET /search/{pref}/{muni}"
		}
		rn.get(ctx, rn.client, route, u, nil)
	case FacilityPg:
		rn.get(ctx, rn.client, "GET /facilities/{id}", pick(rn.urls.facility), nil)
	case APISearch:
		rn.get(ctx, rn.client, "GET /api/v1/search", pick(rn.urls.apiSearch), nil)
	case APIFacility:
		rn.get(ctx, rn.client, "GET /api/v1/facilities/{id}", pick(rn.urls.apiFacility), nil)
	case Intake:
		rn.intake(ctx, rng)
	case CaseWork:
		rn.casework(ctx, rng)
	case Vacancy:
		rn.vacancy(ctx, rng)
	}
}

// get sends one GET and records it; it returns the body of a 200.
func (rn *runner) get(ctx context.Context, c *http.Client, route, path string, header http.Header) (string, bool) {
	req, err := http.NewRequestWithContext(ctx, "GET", rn.cfg.Base+path, nil)
	if err != nil {
		rn.res.record(route, 0, 0, err)
		return "", false
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return rn.send(c, route, req, 200)
}

// post sends a form.
func (rn *runner) post(ctx context.Context, c *http.Client, route, path string, form url.Values, header http.Header, want ...int) (*http.Response, string, bool) {
	req, err := http.NewRequestWithContext(ctx, "POST", rn.cfg.Base+path, strings.NewReader(form.Encode()))
	if err != nil {
		rn.res.record(route, 0, 0, err)
		return nil, "", false
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	t0 := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		rn.res.record(route, 0, time.Since(t0), err)
		return nil, "", false
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	ok := rn.res.record(route, resp.StatusCode, time.Since(t0), err, want...)
	return resp, string(b), ok
}

func (rn *runner) send(c *http.Client, route string, req *http.Request, want ...int) (string, bool) {
	t0 := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		rn.res.record(route, 0, time.Since(t0), err)
		return "", false
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	ok := rn.res.record(route, resp.StatusCode, time.Since(t0), err, want...)
	return string(b), ok
}

var hiddenRe = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// intake is a family sending a request: the form page, the time it takes
// to fill it in (just over the server's minimum), then the submit. Each
// family comes from its own address (X-Forwarded-For, as the load balancer
// sets it), so the per-address limit of the forms does not apply.
func (rn *runner) intake(ctx context.Context, rng *rand.Rand) {
	n := rn.families.Add(1)
	kind := rn.kinds[rng.IntN(len(rn.kinds))]
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: rn.cfg.Timeout, Transport: rn.client.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	h := http.Header{"X-Forwarded-For": {fmt.Sprintf("10.%d.%d.%d", 100+n>>16&0x7f, n>>8&0xff, n&0xff)}}
	fac := rn.cfg.Facilities[rng.IntN(len(rn.cfg.Facilities))]
	page, ok := rn.get(ctx, c, "GET /"+kind, fmt.Sprintf("/%s?facility=%d", kind, fac.ID), h)
	if !ok {
		return
	}
	form := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], m[2])
	}
	p := newPerson(n, rng)
	rn.res.note(func(r *Result) { r.PersonalData = append(r.PersonalData, p.secrets()...) })
	p.fill(form, kind, fac.ID)
	rn.pending.Add(1)
	go func() {
		defer rn.pending.Done()
		select {
		case <-time.After(3200 * time.Millisecond): // the minimum fill time is 3 s
		case <-rn.arrivals.Done():
			return
		}
		resp, _, ok := rn.post(ctx, c, "POST /"+kind, "/"+kind, form, h, http.StatusSeeOther)
		if !ok {
			return
		}
		loc := resp.Header.Get("Location")
		ref, found := strings.CutPrefix(loc, "/"+kind+"/done/")
		if !found {
			rn.res.note(func(r *Result) { r.Errors = append(r.Errors, "intake redirected to "+loc); r.errCount++ })
			return
		}
		rn.res.note(func(r *Result) { r.Accepted = append(r.Accepted, ref) })
		rn.cases.addPhone(p.phone)
		rn.get(ctx, c, "GET /"+kind+"/done/{ref}", loc, h)
	}()
}

// person is a family member with distinctive values, so a log scan finds
// any of them.
type person struct {
	name, phone, email, note, address string
}

func newPerson(n int64, rng *rand.Rand) person {
	kana := []rune("アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワ")
	var tag []rune
	for range 6 {
		tag = append(tag, kana[rng.IntN(len(kana))])
	}
	mid := 1000 + rng.IntN(9000)
	return person{
		name:    "負荷" + string(tag),
		phone:   fmt.Sprintf("080-%04d-%04d", mid, n%10000),
		email:   fmt.Sprintf("lt%d.%x@example.jp", n, rng.Uint32()),
		note:    fmt.Sprintf("試験用の相談内容%x胃ろうあり", rng.Uint64()),
		address: fmt.Sprintf("千代田区千代田%d丁目%d番負荷%s", 1+rng.IntN(9), n, string(tag)),
	}
}

func (p person) secrets() []string {
	return []string{p.name, p.phone, strings.ReplaceAll(p.phone, "-", ""), p.email, p.note, p.address}
}

func (p person) fill(v url.Values, kind string, facilityID int64) {
	v.Set("relationship", "子")
	v.Set("contact_name", p.name)
	v.Set("phone", p.phone)
	v.Set("email", p.email)
	v.Set("postal_code", "100-0001")
	v.Set("address", p.address)
	v.Set("age_band", "85〜89歳")
	v.Set("care_level", "要介護3")
	v.Set("dementia", "軽度・疑いあり")
	v["medical"] = []string{"irou"}
	v.Set("pref", "13")
	v.Set("municipality", "千代田区")
	v.Set("timing", "3か月以内")
	v.Set("note", p.note)
	v.Set("consent", "yes")
	v["facility"] = []string{strconv.FormatInt(facilityID, 10)}
	if kind == "tour" {
		d := time.Now().AddDate(0, 0, 7).Format("2006-01-02")
		v.Set("tour_date1", d)
		v.Set("tour_time", "午前")
	}
}

// caseIDs are the cases consultants have seen in lists, and the phones of
// accepted requests (what a consultant searches for when a family calls).
type caseIDs struct {
	mu     sync.Mutex
	ids    []int64
	phones []string
}

func (c *caseIDs) add(ids []int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		if !slices.Contains(c.ids, id) {
			c.ids = append(c.ids, id)
		}
	}
	if len(c.ids) > 500 {
		c.ids = c.ids[len(c.ids)-500:]
	}
}

func (c *caseIDs) addPhone(p string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.phones = append(c.phones, p)
	if len(c.phones) > 500 {
		c.phones = c.phones[1:]
	}
}

func (c *caseIDs) pick(rng *rand.Rand) (int64, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var id int64
	var phone string
	if len(c.ids) > 0 {
		id = c.ids[rng.IntN(len(c.ids))]
	}
	if len(c.phones) > 0 {
		phone = c.phones[rng.IntN(len(c.phones))]
	}
	return id, phone
}
