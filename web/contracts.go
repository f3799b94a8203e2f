package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"carematch/auth"
	"carematch/billing"
	"carematch/intake"
)

// Contracts and billing for managers and admins (/staff/contracts…,
// /staff/billing…, /staff/invoices…), and the invoices of a facility in
// the portal. The rules are in package billing; every write is one
// transaction in the store.

// BillingStore is the storage of contracts, accruals and invoices
// (implemented by postgres.DB). Unknown rows are billing.ErrNotFound.
type BillingStore interface {
	ContractList(ctx context.Context, today time.Time) ([]billing.ContractSummary, error)
	Contract(ctx context.Context, id int64) (billing.Contract, map[int64]string, error)
	CreateContract(ctx context.Context, name string, scope billing.Scope, facilityIDs []int64, t billing.Terms, key string, by int64) (int64, error)
	AmendContract(ctx context.Context, contractID int64, t billing.Terms, key string, by int64) (int, error)
	Accruals(ctx context.Context, f billing.AccrualFilter) ([]billing.Accrual, error)
	Invoices(ctx context.Context, f billing.InvoiceFilter) ([]billing.Invoice, error)
	// Invoice: with facilityIDs non-nil, only an invoice of a contract
	// covering one of them (else billing.ErrNotFound).
	Invoice(ctx context.Context, id int64, facilityIDs []int64) (billing.Invoice, error)
	MarkInvoicePaid(ctx context.Context, id int64, paidOn time.Time, by int64) error
}

// billingStaff: who keeps contracts and invoices.
var billingStaff = staffOnly(auth.Manager, auth.Admin)

// contractFields is the order of the contract form's fields (for the
// error summary).
var contractFields = []string{"name", "scope", "facility_ids", "effective_from", "starts_on", "ends_on", "trigger", "fee_kind",
	"fee_yen", "fee_months", "fee_percent", "cap_yen", "basis", "payee", "validity_months", "refund_steps", "tax",
	"recipient_name", "recipient_address", "recipient_email"}

type fieldMessage struct{ Field, Message string }

type contractFormView struct {
	Form     billing.Form
	Errors   billing.FieldErrors
	Summary  []fieldMessage
	Key      string
	Action   string
	Amend    bool
	Contract billing.Contract
	Names    map[int64]string
	Accruals []billing.Accrual
	Current  billing.Version
	Notice   string
	Steps    []int
}

func (v *contractFormView) setErrors(e billing.FieldErrors) {
	v.Errors = e
	for _, f := range contractFields {
		if m, ok := e[f]; ok {
			v.Summary = append(v.Summary, fieldMessage{f, m})
		}
	}
}

func (s *Server) billingReady(w http.ResponseWriter, r *http.Request) bool {
	if s.billing == nil {
		s.unavailable(w, r)
		return false
	}
	return true
}

func (s *Server) billingFail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, billing.ErrNotFound) {
		s.notFound(w, r)
		return
	}
	s.serverError(w, r, err)
}

func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

// contractList is GET /staff/contracts.
func (s *Server) contractList(w http.ResponseWriter, r *http.Request) {
	if !s.billingReady(w, r) {
		return
	}
	list, err := s.billing.ContractList(r.Context(), billing.Today(s.now()))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "staff_contracts", "契約", struct {
		Contracts []billing.ContractSummary
		Created   bool
	}{list, r.URL.Query().Get("created") != ""})
}

// contractNew is GET /staff/contracts/new.
func (s *Server) contractNew(w http.ResponseWriter, r *http.Request) {
	if !s.billingReady(w, r) {
		return
	}
	f := billing.NewForm(billing.Today(s.now()))
	if id := r.URL.Query().Get("facility"); id != "" {
		f.FacilityIDs = narrowDigits(id)
	}
	s.renderContractForm(w, r, http.StatusOK, &contractFormView{Form: f, Key: intake.NewIdempotencyKey(), Action: "/staff/contracts"})
}

func (s *Server) renderContractForm(w http.ResponseWriter, r *http.Request, status int, v *contractFormView) {
	v.Steps = make([]int, billing.RefundRows)
	for i := range v.Steps {
		v.Steps[i] = i
	}
	title := "契約の登録"
	if v.Amend {
		title = v.Contract.Name
	}
	s.render(w, r, status, "staff_contract", title, v)
}

func contractForm(r *http.Request) billing.Form {
	f := billing.Form{
		Name: r.PostFormValue("name"), Scope: r.PostFormValue("scope"), FacilityIDs: r.PostFormValue("facility_ids"),
		EffectiveFrom: r.PostFormValue("effective_from"), StartsOn: r.PostFormValue("starts_on"), EndsOn: r.PostFormValue("ends_on"),
		FeeKind: r.PostFormValue("fee_kind"), FeeYen: r.PostFormValue("fee_yen"), FeeMonths: r.PostFormValue("fee_months"),
		FeePercent: r.PostFormValue("fee_percent"), CapYen: r.PostFormValue("cap_yen"), Trigger: r.PostFormValue("trigger"),
		Basis: r.PostFormValue("basis"), Payee: r.PostFormValue("payee"), ValidityMonths: r.PostFormValue("validity_months"),
		Tax: r.PostFormValue("tax"), RecipientName: r.PostFormValue("recipient_name"),
		RecipientAddress: r.PostFormValue("recipient_address"), RecipientEmail: r.PostFormValue("recipient_email"),
		Note: r.PostFormValue("note"),
	}
	for i := range billing.RefundRows {
		f.RefundDays[i] = r.PostFormValue("refund_days_" + strconv.Itoa(i))
		f.RefundPercent[i] = r.PostFormValue("refund_percent_" + strconv.Itoa(i))
	}
	return f
}

func formKey(r *http.Request) string {
	if k := r.PostFormValue("key"); intake.ValidIdempotencyKey(k) {
		return k
	}
	return intake.NewIdempotencyKey()
}

// contractCreate is POST /staff/contracts.
func (s *Server) contractCreate(w http.ResponseWriter, r *http.Request) {
	if !s.billingReady(w, r) {
		return
	}
	f := contractForm(r)
	v := &contractFormView{Form: f, Key: formKey(r), Action: "/staff/contracts"}
	name, scope, ids, terms, errs := f.Contract()
	if errs != nil {
		v.setErrors(errs)
		s.renderContractForm(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	u, _ := Staff(r)
	id, err := s.billing.CreateContract(r.Context(), name, scope, ids, terms, v.Key, u.ID)
	var fe billing.FieldErrors
	if errors.As(err, &fe) {
		v.setErrors(fe)
		s.renderContractForm(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.log.Info("contract created", "request_id", RequestID(r.Context()), "user_id", u.ID, "contract_id", id)
	http.Redirect(w, r, "/staff/contracts/"+strconv.FormatInt(id, 10)+"?saved=1", http.StatusSeeOther)
}

// contractPage is GET /staff/contracts/{id}: the versions, the facilities,
// the accruals and the amendment form (filled with the latest terms).
func (s *Server) contractPage(w http.ResponseWriter, r *http.Request) {
	if !s.billingReady(w, r) {
		return
	}
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	v := &contractFormView{Key: intake.NewIdempotencyKey()}
	if !s.loadContractView(w, r, id, v) {
		return
	}
	v.Form = billing.FormOf(v.Contract, v.Contract.Latest().Terms)
	v.Form.EffectiveFrom = billing.Today(s.now()).Format(time.DateOnly)
	switch {
	case r.URL.Query().Get("saved") != "":
		v.Notice = "契約を登録しました。"
	case r.URL.Query().Get("amended") != "":
		v.Notice = "契約を改定しました。計上済みの手数料は、計上したときの版のままです。"
	}
	s.renderContractForm(w, r, http.StatusOK, v)
}

func (s *Server) loadContractView(w http.ResponseWriter, r *http.Request, id int64, v *contractFormView) bool {
	c, names, err := s.billing.Contract(r.Context(), id)
	if err != nil {
		s.billingFail(w, r, err)
		return false
	}
	acc, err := s.billing.Accruals(r.Context(), billing.AccrualFilter{ContractID: id, Limit: 200})
	if err != nil {
		s.serverError(w, r, err)
		return false
	}
	v.Amend, v.Contract, v.Names, v.Accruals = true, c, names, acc
	v.Action = "/staff/contracts/" + strconv.FormatInt(id, 10) + "/versions"
	if cur, ok := c.InForce(billing.Today(s.now())); ok {
		v.Current = cur
	} else {
		v.Current = c.Latest()
	}
	return true
}

// contractAmend is POST /staff/contracts/{id}/versions: a new version of
// the terms from its effective date.
func (s *Server) contractAmend(w http.ResponseWriter, r *http.Request) {
	if !s.billingReady(w, r) {
		return
	}
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	v := &contractFormView{Form: contractForm(r), Key: formKey(r)}
	if !s.loadContractView(w, r, id, v) {
		return
	}
	terms, errs := v.Form.Terms()
	if errs != nil {
		v.setErrors(errs)
		s.renderContractForm(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	u, _ := Staff(r)
	n, err := s.billing.AmendContract(r.Context(), id, terms, v.Key, u.ID)
	var fe billing.FieldErrors
	if errors.As(err, &fe) {
		v.setErrors(fe)
		s.renderContractForm(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	if err != nil {
		s.billingFail(w, r, err)
		return
	}
	s.log.Info("contract amended", "request_id", RequestID(r.Context()), "user_id", u.ID, "contract_id", id, "version", n)
	http.Redirect(w, r, "/staff/contracts/"+strconv.FormatInt(id, 10)+"?amended="+strconv.Itoa(n), http.StatusSeeOther)
}
