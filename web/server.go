// Package web is carematch's HTTP layer: routes, handlers (one file per page
// or action), middleware, templates and static assets embedded in the binary.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"carematch/auth"
	"carematch/facility"
	"carematch/intake"
	"carematch/matching"
	"carematch/metrics"
	"carematch/search"
)

// ReadyCheck is one condition of readiness (database reachable, an
// in-memory index loaded, …). It returns nil when ready.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
	// Degraded marks a dependency the task can serve without: its failure
	// is reported by /readyz but keeps the status 200. The database is one:
	// public search and facility pages answer from memory, and a 503 would
	// make the load balancer and ECS take every task out of service (and
	// replace them) during a database outage.
	Degraded bool
}

// Server holds the dependencies of every handler.
type Server struct {
	log          *slog.Logger
	metrics      *metrics.Registry
	ready        []ReadyCheck
	maxBodyBytes int64
	now          func() time.Time
	pages        *pages
	assets       *assets
	index        *search.Index
	form         *searchForm
	cache        *pageCache
	draining     atomic.Bool
	routes       []route
	staff        StaffStore
	publicURL    string
	intake       *intakeDeps
	cases        CaseStore
	portal       PortalStore
	referrals    ReferralStore
	proposals    ProposalStore
	// proposalLimiter bounds requests to the family's proposal links per IP.
	proposalLimiter *rateLimiter
	matches         matching.Cache // the catalog matching ranks, per index version
	billing         BillingStore
}

// Options configures a Server.
type Options struct {
	Log          *slog.Logger
	Metrics      *metrics.Registry
	Ready        []ReadyCheck
	MaxBodyBytes int64
	Now          func() time.Time
	// Index is the in-memory facility index that public search and facility
	// pages read (so they keep working when the database does not answer).
	Index *search.Index
	// PageCacheBytes bounds the cache of rendered search pages; 0 disables it.
	PageCacheBytes int
	// Staff is the storage of staff accounts and sessions. Without it
	// every staff route answers 503 (public pages do not need it).
	Staff StaffStore
	// PublicURL is the site's base URL, for links in mails.
	PublicURL string
	// Intake configures the public request forms (相談・資料請求・見学).
	Intake IntakeOptions
	// Cases is the storage of the consultants' case workspace; without it
	// the workspace answers 503.
	Cases CaseStore
	// Billing is the storage of contracts, accruals and invoices; without
	// it those pages answer 503.
	Billing BillingStore
	// Portal is the storage of the facility portal; without it the portal
	// answers 503.
	Portal PortalStore
	// Referrals is the storage of referrals, tours and move-ins (the case
	// page's section and the portal's); without it they answer 503.
	Referrals ReferralStore
	// Proposals is the storage of proposals to families; without it their
	// routes answer 503.
	Proposals ProposalStore
}

// New builds a server, parsing templates and hashing assets once.
func New(o Options) (*Server, error) {
	a, err := loadAssets()
	if err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Metrics == nil {
		o.Metrics = metrics.New()
	}
	s := &Server{
		log: o.Log, metrics: o.Metrics, ready: o.Ready, maxBodyBytes: o.MaxBodyBytes,
		now: o.Now, assets: a, index: o.Index, form: newSearchForm(),
		cache: newPageCache(o.PageCacheBytes),
		staff: o.Staff, publicURL: o.PublicURL,
		intake:    newIntakeDeps(o.Intake),
		cases:     o.Cases,
		portal:    o.Portal,
		referrals: o.Referrals,
		proposals: o.Proposals, proposalLimiter: newProposalLimiter(),
		billing: o.Billing,
	}
	if s.index == nil {
		s.index = search.NewIndex()
	}
	if s.pages, err = parsePages(a, s.formatFuncs()); err != nil {
		return nil, err
	}
	s.routes = s.routeTable()
	return s, nil
}

// Drain marks the server as shutting down: /readyz answers 503 from now on
// so the load balancer stops sending new requests.
func (s *Server) Drain() { s.draining.Store(true) }

// route is one entry of the route table. Every route is listed here with
// who may use it, so the authorisation middleware and the authorisation
// matrix test walk the same table: a route without a rule cannot exist.
type route struct {
	Pattern string // Go 1.22 ServeMux pattern, with method
	Handler http.HandlerFunc
	Access  Access
}

// Access says who may use a route.
type Access struct {
	Public bool     // anyone, signed in or not
	Roles  []string // staff roles allowed (values of the staff role type); empty with Public false: nobody
}

// public is the access of pages anyone may see.
var public = Access{Public: true}

// Staff access levels, named for who they admit.
var (
	// anyStaff: every signed-in staff member.
	anyStaff = staffOnly(auth.Consultant, auth.Manager, auth.Admin, auth.FacilityStaff)
	// caseWorkers: the staff who work on consultations (not facility staff).
	caseWorkers = staffOnly(auth.Consultant, auth.Manager, auth.Admin)
	// portalUsers: the facility portal, where facility staff keep their
	// facilities current and managers and admins may stand in for any
	// facility (auth.Role.ActsForEveryFacility). Every portal route also
	// passes the facility scope check (portal.go): 404 outside the scope.
	// What only the facility itself may do (e.g. answer a referral as the
	// facility) uses staffOnly(auth.FacilityStaff), with the scope check too.
	portalUsers = staffOnly(auth.FacilityStaff, auth.Manager, auth.Admin)
	// facilityOnly: answers only the facility itself gives (referrals,
	// tours, move-ins), with the portal's scope check.
	facilityOnly = staffOnly(auth.FacilityStaff)
)

func staffOnly(roles ...auth.Role) Access {
	a := Access{}
	for _, r := range roles {
		a.Roles = append(a.Roles, string(r))
	}
	return a
}

func (s *Server) routeTable() []route {
	return []route{
		{"GET /healthz", s.healthz, public},
		{"GET /readyz", s.readyz, public},
		{"GET /static/", s.static, public},
		{"GET /{$}", s.top, public},
		{"GET /search", s.search, public},
		{"GET /search/{pref}", s.search, public},
		{"GET /search/{pref}/{muni}", s.search, public},
		{"GET /facilities/{id}", s.facilityPage, public},
		{"GET /consultation", s.intakeForm(intake.Consultation), public},
		{"POST /consultation", s.intakeSubmit(intake.Consultation), public},
		{"GET /consultation/done/{ref}", s.intakeDone(intake.Consultation), public},
		{"GET /brochure", s.intakeForm(intake.Brochure), public},
		{"POST /brochure", s.intakeSubmit(intake.Brochure), public},
		{"GET /brochure/done/{ref}", s.intakeDone(intake.Brochure), public},
		{"GET /tour", s.intakeForm(intake.Tour), public},
		{"POST /tour", s.intakeSubmit(intake.Tour), public},
		{"GET /tour/done/{ref}", s.intakeDone(intake.Tour), public},
		{"GET /p/{token}", s.proposalPublic, public}, // a family's proposal: the token is the credential
		{"GET /p/{token}/pdf", s.proposalPublicPDF, public},
		{"POST /p/{token}/tours", s.proposalTour, public},
		{"GET /api/v1/search", s.apiSearch, public},
		{"GET /api/v1/facilities/{id}", s.apiFacility, public},
		{"GET /api/v1/staff/me", s.apiStaffMe, anyStaff},
		{"GET /staff", s.staffHome, caseWorkers},
		{"GET /staff/cases", s.caseList, caseWorkers},
		{"GET /staff/cases/{id}", s.casePage, caseWorkers},
		{"POST /staff/cases/{id}/hearing", s.caseHearing, caseWorkers},
		{"GET /staff/cases/{id}/matches", s.caseMatches, caseWorkers},
		{"POST /staff/cases/{id}/status", s.caseStatus, caseWorkers},
		{"POST /staff/cases/{id}/assign", s.caseAssign, caseWorkers},
		{"POST /staff/cases/{id}/activities", s.caseActivity, caseWorkers},
		{"POST /staff/cases/{id}/tasks", s.caseTask, caseWorkers},
		{"POST /staff/cases/{id}/tasks/{task}/done", s.caseTaskDone, caseWorkers},
		{"POST /staff/cases/{id}/consents", s.caseConsent, caseWorkers},
		{"POST /staff/cases/{id}/referrals", s.caseReferral, caseWorkers},
		{"POST /staff/cases/{id}/tours", s.caseTourNew, caseWorkers},
		{"POST /staff/cases/{id}/tours/{tour}/propose", s.caseTourPropose, caseWorkers},
		{"POST /staff/cases/{id}/tours/{tour}/confirm", s.caseTourConfirm, caseWorkers},
		{"POST /staff/cases/{id}/tours/{tour}/cancel", s.caseTourCancel, caseWorkers},
		{"POST /staff/cases/{id}/tours/{tour}/outcome", s.caseTourOutcome, caseWorkers},
		{"POST /staff/cases/{id}/move-ins", s.caseMoveIn, caseWorkers},
		{"POST /staff/cases/{id}/move-ins/{movein}/exit", s.caseExit, caseWorkers},
		{"GET /staff/cases/{id}/proposals/new", s.proposalNew, caseWorkers},
		{"POST /staff/cases/{id}/proposals", s.proposalCreate, caseWorkers},
		{"POST /staff/cases/{id}/proposals/{pid}/revoke", s.proposalRevoke, caseWorkers},
		{"POST /staff/cases/{id}/proposals/{pid}/link", s.proposalReissue, caseWorkers},
		{"GET /staff/cases/{id}/proposals/{pid}/pdf", s.proposalStaffPDF, caseWorkers},
		{"GET /staff/tasks", s.tasksDue, caseWorkers},
		{"GET /staff/audit", s.auditPage, staffOnly(auth.Manager, auth.Admin)},
		{"GET /portal", s.portalHome, portalUsers},
		{"GET /portal/facilities/{facility}", s.portalFacilityPage, portalUsers},
		{"POST /portal/facilities/{facility}/vacancies", s.portalSave(facility.SectionVacancies, false), portalUsers},
		{"POST /portal/facilities/{facility}/vacancies/confirm", s.portalSave(facility.SectionVacancies, true), portalUsers},
		{"GET /portal/facilities/{facility}/costs", s.portalSectionPage(facility.SectionCosts), portalUsers},
		{"POST /portal/facilities/{facility}/costs", s.portalSave(facility.SectionCosts, false), portalUsers},
		{"GET /portal/facilities/{facility}/acceptance", s.portalSectionPage(facility.SectionAcceptance), portalUsers},
		{"POST /portal/facilities/{facility}/acceptance", s.portalSave(facility.SectionAcceptance, false), portalUsers},
		{"GET /portal/facilities/{facility}/features", s.portalSectionPage(facility.SectionFeatures), portalUsers},
		{"POST /portal/facilities/{facility}/features", s.portalSave(facility.SectionFeatures, false), portalUsers},
		{"GET /portal/facilities/{facility}/referrals", s.portalReferrals, facilityOnly},
		{"GET /portal/facilities/{facility}/referrals/{referral}", s.portalReferral, facilityOnly},
		{"POST /portal/facilities/{facility}/referrals/{referral}/answer", s.portalAnswer, facilityOnly},
		{"POST /portal/facilities/{facility}/referrals/{referral}/move-in", s.portalMoveIn, facilityOnly},
		{"GET /portal/facilities/{facility}/tours/{tour}", s.portalTour, facilityOnly},
		{"POST /portal/facilities/{facility}/tours/{tour}/confirm", s.portalTourAction("confirmed"), facilityOnly},
		{"POST /portal/facilities/{facility}/tours/{tour}/counter", s.portalTourAction("countered"), facilityOnly},
		{"POST /portal/facilities/{facility}/tours/{tour}/cancel", s.portalTourAction("cancelled"), facilityOnly},
		{"POST /portal/facilities/{facility}/move-ins/{movein}/exit", s.portalExit, facilityOnly},
		{"GET /portal/facilities/{facility}/invoices", s.portalInvoices, portalUsers},
		{"GET /portal/facilities/{facility}/invoices/{invoice}/pdf", s.portalInvoicePDF, portalUsers},
		{"GET /staff/contracts", s.contractList, billingStaff},
		{"GET /staff/contracts/new", s.contractNew, billingStaff},
		{"POST /staff/contracts", s.contractCreate, billingStaff},
		{"GET /staff/contracts/{id}", s.contractPage, billingStaff},
		{"POST /staff/contracts/{id}/versions", s.contractAmend, billingStaff},
		{"GET /staff/billing/accruals", s.accrualList, billingStaff},
		{"POST /staff/billing/accruals/run", s.accrueNow, billingStaff},
		{"GET /staff/invoices", s.invoiceList, billingStaff},
		{"GET /staff/invoices/export.csv", s.invoiceCSV, billingStaff},
		{"GET /staff/invoices/{id}", s.invoicePage, billingStaff},
		{"GET /staff/invoices/{id}/pdf", s.invoicePDF, billingStaff},
		{"POST /staff/invoices/{id}/paid", s.invoicePaid, billingStaff},
		{"GET /staff/login", s.loginPage, public},
		{"POST /staff/login", s.login, public},
		{"GET /staff/login/totp", s.totpPage, public},    // needs a session half-way through sign-in
		{"POST /staff/login/totp", s.totpSubmit, public}, // (checked by the handler)
		{"GET /staff/login/enrol", s.enrolPage, public},
		{"POST /staff/login/enrol", s.enrolSubmit, public},
		{"POST /staff/logout", s.logout, anyStaff},
		{"GET /staff/account", s.accountPage, anyStaff},
		{"GET /staff/account/totp", s.accountTOTPPage, anyStaff},
		{"POST /staff/account/totp", s.accountTOTPSubmit, anyStaff},
		{"GET /staff/password/forgot", s.forgotPage, public},
		{"POST /staff/password/forgot", s.forgotSubmit, public},
		{"GET /staff/password/reset", s.resetPage, public},
		{"POST /staff/password/reset", s.resetSubmit, public},
		{"/api/", s.apiNotFound, public},
		{"/", s.notFound, public},
	}
}

// RouteInfo is a route's pattern and access, for tests that walk the route
// table (the authorisation matrix, CSRF on every unsafe route).
type RouteInfo struct {
	Pattern string
	Access  Access
}

// Routes lists the route table.
func (s *Server) Routes() []RouteInfo {
	out := make([]RouteInfo, len(s.routes))
	for i, r := range s.routes {
		out[i] = RouteInfo{r.Pattern, r.Access}
	}
	return out
}

// Patterns lists the route patterns.
func (s *Server) Patterns() []string {
	out := make([]string, len(s.routes))
	for i, r := range s.routes {
		out[i] = r.Pattern
	}
	return out
}

// Handler returns the public HTTP handler with all middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range s.routes {
		mux.HandleFunc(r.Pattern, s.guard(r))
	}
	return s.middleware(mux)
}
