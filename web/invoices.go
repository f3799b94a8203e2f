package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"

	"carematch/billing"
	"carematch/pdfdoc"
)

// Accruer records what is owed now (the invoice job does the same first).
type Accruer interface {
	Accrue(ctx context.Context) (billing.AccrueResult, error)
}

// accrualList is GET /staff/billing/accruals: fees and credits, newest
// event first; ?open=1 only those not yet invoiced.
func (s *Server) accrualList(w http.ResponseWriter, r *http.Request) {
	if !s.billingReady(w, r) {
		return
	}
	open := r.URL.Query().Get("open") == "1"
	list, err := s.billing.Accruals(r.Context(), billing.AccrualFilter{Open: open})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	var sum int64
	for _, a := range list {
		if a.InvoiceID == 0 {
			sum += a.Amount
		}
	}
	notice := ""
	if q := r.URL.Query(); q.Has("fees") {
		notice = fmt.Sprintf("計上を更新しました：手数料 %s件、返金 %s件を追加しました。", q.Get("fees"), q.Get("refunds"))
	}
	s.render(w, r, http.StatusOK, "staff_accruals", "計上（手数料・返金）", struct {
		Accruals []billing.Accrual
		Open     bool
		OpenSum  int64
		Notice   string
	}{list, open, sum, notice})
}

// accrueNow is POST /staff/billing/accruals/run: records the fees and
// refunds owed for move-ins, tours and exits reported so far (safe to
// repeat: each event accrues once).
func (s *Server) accrueNow(w http.ResponseWriter, r *http.Request) {
	if !s.billingReady(w, r) {
		return
	}
	acc, ok := s.billing.(Accruer)
	if !ok {
		s.unavailable(w, r)
		return
	}
	res, err := acc.Accrue(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/staff/billing/accruals?fees=%d&refunds=%d", res.Fees, res.Refunds), http.StatusSeeOther)
}

type invoiceListView struct {
	Invoices []billing.Invoice
	Month    string // YYYY-MM filter
	Unpaid   bool
	Total    int64
	Query    string
}

func monthParam(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, true
	}
	t, err := time.Parse("2006-01", narrowDigits(v))
	return t, err == nil
}

// invoiceList is GET /staff/invoices?month=YYYY-MM&unpaid=1.
func (s *Server) invoiceList(w http.ResponseWriter, r *http.Request) {
	if !s.billingReady(w, r) {
		return
	}
	q := r.URL.Query()
	month, ok := monthParam(q.Get("month"))
	if !ok {
		month = time.Time{}
	}
	v := invoiceListView{Unpaid: q.Get("unpaid") == "1", Query: r.URL.RawQuery}
	if !month.IsZero() {
		v.Month = month.Format("2006-01")
	}
	list, err := s.billing.Invoices(r.Context(), billing.InvoiceFilter{Month: month, Unpaid: v.Unpaid})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	v.Invoices = list
	for _, i := range list {
		v.Total += i.Total
	}
	s.render(w, r, http.StatusOK, "staff_invoices", "請求書", v)
}

// invoicePage is GET /staff/invoices/{id}.
func (s *Server) invoicePage(w http.ResponseWriter, r *http.Request) {
	if !s.billingReady(w, r) {
		return
	}
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	inv, err := s.billing.Invoice(r.Context(), id, nil)
	if err != nil {
		s.billingFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "staff_invoice", "請求書 "+inv.Number, struct {
		Invoice billing.Invoice
		Today   string
		Notice  string
		PDF     string
	}{inv, billing.Today(s.now()).Format(time.DateOnly), map[bool]string{true: "入金を記録しました。"}[r.URL.Query().Get("paid") != ""],
		"/staff/invoices/" + strconv.FormatInt(id, 10) + "/pdf"})
}

// invoicePaid is POST /staff/invoices/{id}/paid: records the payment date
// (a repeat keeps the first date).
func (s *Server) invoicePaid(w http.ResponseWriter, r *http.Request) {
	if !s.billingReady(w, r) {
		return
	}
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	d, ok := billing.ParseDate(r.PostFormValue("paid_on"))
	if !ok {
		d = billing.Today(s.now())
	}
	u, _ := Staff(r)
	if err := s.billing.MarkInvoicePaid(r.Context(), id, d, u.ID); err != nil {
		s.billingFail(w, r, err)
		return
	}
	s.log.Info("invoice marked paid", "request_id", RequestID(r.Context()), "user_id", u.ID, "invoice_id", id)
	http.Redirect(w, r, "/staff/invoices/"+strconv.FormatInt(id, 10)+"?paid=1", http.StatusSeeOther)
}

// invoicePDF is GET /staff/invoices/{id}/pdf.
func (s *Server) invoicePDF(w http.ResponseWriter, r *http.Request) {
	if !s.billingReady(w, r) {
		return
	}
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	s.writeInvoicePDF(w, r, id, nil)
}

func (s *Server) writeInvoicePDF(w http.ResponseWriter, r *http.Request, id int64, facilities []int64) {
	inv, err := s.billing.Invoice(r.Context(), id, facilities)
	if err != nil {
		s.billingFail(w, r, err)
		return
	}
	b, err := InvoicePDF(inv)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="invoice-%s.pdf"`, inv.Number))
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// InvoicePDF lays out an invoice as a 適格請求書: the issuer with its
// registration number, the issue date, the recipient, each line with its
// date and tax rate, the amount and the tax per rate, and the total.
func InvoicePDF(inv billing.Invoice) ([]byte, error) {
	d := pdfdoc.New(pdfdoc.Meta{
		Title: "請求書", Subject: "紹介手数料 " + billing.MonthLabel(inv.Month) + "分", Author: inv.IssuerName,
		Created: inv.IssuedOn, Footer: inv.IssuerName + "　登録番号 " + inv.IssuerRegistration + "　請求書番号 " + inv.Number,
	})
	recipient := pdfdoc.Block{Name: inv.RecipientName + " 御中", Lines: []string{inv.RecipientAddress}}
	issuer := pdfdoc.Block{Name: inv.IssuerName, Lines: []string{"登録番号 " + inv.IssuerRegistration}}
	if inv.IssuerAddress != "" {
		issuer.Lines = append(issuer.Lines, inv.IssuerAddress)
	}
	d.Parties(recipient, issuer)
	d.KeyValues([]pdfdoc.KV{
		{Label: "請求書番号", Value: inv.Number},
		{Label: "発行日", Value: billing.DateLabel(inv.IssuedOn)},
		{Label: "対象月", Value: billing.MonthLabel(inv.Month) + "分（" + inv.ContractName + "）"},
		{Label: "お支払期限", Value: billing.DateLabel(inv.DueOn)},
		{Label: "ご請求金額（税込）", Value: pdfdoc.Yen(inv.Total)},
	})
	d.Heading("明細")
	t := pdfdoc.Table{Columns: []pdfdoc.Column{
		{Header: "取引日", Width: 32},
		{Header: "内容"},
		{Header: "税率", Width: 18, Align: pdfdoc.Center},
		{Header: "金額（税抜）", Width: 32, Align: pdfdoc.Right},
	}}
	for _, l := range inv.Lines {
		t.Rows = append(t.Rows, []string{billing.DateLabel(l.OccurredOn), l.Description, rateLabel(l.RateBP), pdfdoc.Yen(l.Amount)})
	}
	d.Table(t)
	var totals []pdfdoc.KV
	for _, rt := range inv.Rates {
		totals = append(totals, pdfdoc.KV{Label: "小計（" + rt.Label() + "）", Value: pdfdoc.Yen(rt.Net)})
		if rt.RateBP > 0 {
			totals = append(totals, pdfdoc.KV{Label: "消費税（" + rateLabel(rt.RateBP) + "）", Value: pdfdoc.Yen(rt.Tax)})
		}
	}
	totals = append(totals, pdfdoc.KV{Label: "ご請求金額（税込）", Value: pdfdoc.Yen(inv.Total)})
	d.Totals(totals, true)
	notes := []string{
		"消費税は税率ごとに合計した金額から一回だけ計算し、1円未満は切り捨てています。",
		"マイナスの行は、短期退去による返金（売上に係る対価の返還）です。返金のもとになった入居日・請求書番号を内容に記載しています。",
	}
	if inv.Total < 0 {
		notes = append(notes, "ご請求金額がマイナスのため、この金額を当社からお支払いします。")
	}
	d.Footnotes(notes)
	return d.Bytes()
}

func rateLabel(bp int64) string {
	if bp == 0 {
		return "非課税"
	}
	return strconv.FormatInt(bp/100, 10) + "%"
}

// invoiceCSV is GET /staff/invoices/export.csv?month=YYYY-MM: one row per
// invoice and tax rate, the form accounting software imports as sales
// (see docs/billing.md). Shift_JIS (CP932) by default, which every
// Japanese accounting package reads; ?encoding=utf8 gives UTF-8 with a BOM.
func (s *Server) invoiceCSV(w http.ResponseWriter, r *http.Request) {
	if !s.billingReady(w, r) {
		return
	}
	q := r.URL.Query()
	month, ok := monthParam(q.Get("month"))
	if !ok {
		s.renderError(w, r, http.StatusBadRequest)
		return
	}
	list, err := s.billing.Invoices(r.Context(), billing.InvoiceFilter{Month: month})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	utf8 := q.Get("encoding") == "utf8"
	b, err := InvoiceCSV(list, utf8)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	name := "invoices"
	if !month.IsZero() {
		name += "-" + month.Format("2006-01")
	}
	charset := "Shift_JIS"
	if utf8 {
		charset = "utf-8"
	}
	w.Header().Set("Content-Type", "text/csv; charset="+charset)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	w.Write(b)
}

// CSVHeader is the header row of the accounting export.
var CSVHeader = []string{"請求書番号", "発行日", "対象月", "支払期限", "請求先", "契約ID", "登録番号", "税区分", "税率", "税抜金額", "消費税額", "税込金額", "請求書合計", "入金日"}

// InvoiceCSV writes the accounting export: one row per invoice and tax
// rate, CRLF line ends; Shift_JIS unless utf8 (then with a BOM).
func InvoiceCSV(list []billing.Invoice, utf8 bool) ([]byte, error) {
	var buf bytes.Buffer
	var out io.Writer = &buf
	if utf8 {
		buf.WriteString("\uFEFF")
	} else {
		out = encoding.ReplaceUnsupported(japanese.ShiftJIS.NewEncoder()).Writer(&buf)
	}
	cw := csv.NewWriter(out)
	cw.UseCRLF = true
	cw.Write(CSVHeader)
	for i := len(list) - 1; i >= 0; i-- { // oldest first
		inv := list[i]
		paid := ""
		if !inv.PaidOn.IsZero() {
			paid = inv.PaidOn.Format("2006/01/02")
		}
		for _, rt := range inv.Rates {
			kind := "課税売上"
			if rt.RateBP == 0 {
				kind = "非課税売上"
			}
			cw.Write([]string{inv.Number, inv.IssuedOn.Format("2006/01/02"), inv.Month.Format("2006/01"), inv.DueOn.Format("2006/01/02"),
				inv.RecipientName, strconv.FormatInt(inv.ContractID, 10), inv.IssuerRegistration, kind, rateLabel(rt.RateBP),
				strconv.FormatInt(rt.Net, 10), strconv.FormatInt(rt.Tax, 10), strconv.FormatInt(rt.Net+rt.Tax, 10),
				strconv.FormatInt(inv.Total, 10), paid})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return nil, err
	}
	if c, ok := out.(io.Closer); ok {
		if err := c.Close(); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// portalInvoices is GET /portal/facilities/{facility}/invoices: the
// invoices of the contract covering the facility.
func (s *Server) portalInvoices(w http.ResponseWriter, r *http.Request) {
	fid, ok := s.portalScope(w, r)
	if !ok || !s.billingReady(w, r) {
		return
	}
	list, err := s.billing.Invoices(r.Context(), billing.InvoiceFilter{FacilityIDs: []int64{fid}})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "portal_invoices", "請求書", struct {
		FacilityID int64
		Invoices   []billing.Invoice
	}{fid, list})
}

// portalInvoicePDF is GET /portal/facilities/{facility}/invoices/{invoice}/pdf:
// 404 unless the invoice's contract covers the facility.
func (s *Server) portalInvoicePDF(w http.ResponseWriter, r *http.Request) {
	fid, ok := s.portalScope(w, r)
	if !ok || !s.billingReady(w, r) {
		return
	}
	id, ok := pathID(r, "invoice")
	if !ok {
		s.notFound(w, r)
		return
	}
	s.writeInvoicePDF(w, r, id, []int64{fid})
}
