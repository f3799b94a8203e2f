package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"carematch/billing"
)

// Invoices (適格請求書): one per contract and month, numbered per year
// without gaps.
//
// Numbering: invoice_counters holds the last number of each year. Each
// batch of invoices takes the year's counter row with FOR UPDATE, numbers
// its invoices from it and writes the new last number in the same
// transaction. A batch that fails or is killed rolls back its invoices and
// its counter update together, so no number is ever skipped or used twice;
// and the row lock makes a second, concurrent run wait and then find the
// invoices already made (UNIQUE (contract_id, billing_month) backs this).

// InvoiceRunResult is what a monthly run did.
type InvoiceRunResult struct {
	Month           time.Time
	Accrued         billing.AccrueResult
	Created         int
	AlreadyInvoiced int // recipients of the month invoiced by an earlier run
	First, Last     string
}

// Summary is the run's line in job_runs.
func (r InvoiceRunResult) Summary() string {
	acc := fmt.Sprintf("計上 %d件・返金 %d件", r.Accrued.Fees, r.Accrued.Refunds)
	if r.Created == 0 {
		if r.AlreadyInvoiced > 0 {
			return fmt.Sprintf("%s分は請求済み（%d件）：新しい請求書はありません（%s）", billing.MonthLabel(r.Month), r.AlreadyInvoiced, acc)
		}
		return fmt.Sprintf("%s分の請求対象はありません（%s）", billing.MonthLabel(r.Month), acc)
	}
	s := fmt.Sprintf("%s分の請求書 %d件を発行（%s〜%s）", billing.MonthLabel(r.Month), r.Created, r.First, r.Last)
	if r.AlreadyInvoiced > 0 {
		s += fmt.Sprintf("、請求済み %d件", r.AlreadyInvoiced)
	}
	return s + "（" + acc + "）"
}

// InvoiceRun configures RunInvoices.
type InvoiceRun struct {
	Month  time.Time // the billed month (its first day)
	Issued time.Time // issue date
	Issuer billing.Issuer
	// Batch is how many invoices one transaction issues (default 100).
	Batch int
	// Progress, when set, is told after each committed batch.
	Progress func(done, total int)
}

// RunInvoices accrues what is owed, then issues the month's invoices: for
// every contract not yet invoiced for the month, one invoice with all its
// accruals not yet invoiced up to the end of the month (a move-in reported
// late goes on the next invoice of its contract). Invoices are issued in
// batches, each its own transaction.
func (db *DB) RunInvoices(ctx context.Context, run InvoiceRun) (InvoiceRunResult, error) {
	res := InvoiceRunResult{Month: billing.MonthOf(run.Month)}
	if !billing.ValidRegistration(run.Issuer.Registration) || run.Issuer.Name == "" {
		return res, errors.New("postgres: invoices: the issuer's name and registration number (T + 13 digits) are required")
	}
	if run.Batch <= 0 {
		run.Batch = 100
	}
	var err error
	if res.Accrued, err = db.Accrue(ctx); err != nil {
		return res, err
	}
	if res.Accrued.Fees+res.Accrued.Refunds > 1000 {
		// A month's accruals arrive at once: without fresh statistics the
		// planner takes fee_accruals for empty and the batches below crawl
		// (nested loops over it). A role that does not own the table gets
		// a warning, not an error.
		if _, err := db.Pool.Exec(ctx, `ANALYZE fee_accruals`); err != nil {
			return res, fmt.Errorf("postgres: invoices: analyze: %w", err)
		}
	}
	end := res.Month.AddDate(0, 1, 0)
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM invoices WHERE billing_month = $1`, res.Month).Scan(&res.AlreadyInvoiced); err != nil {
		return res, fmt.Errorf("postgres: invoices: %w", err)
	}
	rows, err := db.Pool.Query(ctx, `
		SELECT DISTINCT a.contract_id FROM fee_accruals a
		WHERE a.invoice_id IS NULL AND a.occurred_on < $1
		  AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.contract_id = a.contract_id AND i.billing_month = $2)
		ORDER BY 1`, end, res.Month)
	if err != nil {
		return res, fmt.Errorf("postgres: invoices: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return res, fmt.Errorf("postgres: invoices: %w", err)
	}
	for start := 0; start < len(ids); start += run.Batch {
		batch := ids[start:min(start+run.Batch, len(ids))]
		var made []string
		err := db.InTx(ctx, func(tx pgx.Tx) error {
			var err error
			made, err = issueBatch(ctx, tx, run, res.Month, batch)
			return err
		})
		if err != nil {
			return res, fmt.Errorf("postgres: invoices: %w", err)
		}
		if len(made) > 0 {
			if res.First == "" {
				res.First = made[0]
			}
			res.Last = made[len(made)-1]
			res.Created += len(made)
		}
		if run.Progress != nil {
			run.Progress(start+len(batch), len(ids))
		}
	}
	return res, nil
}

// issueBatch issues the invoices of some contracts in one transaction and
// returns their numbers.
func issueBatch(ctx context.Context, tx pgx.Tx, run InvoiceRun, month time.Time, contracts []int64) ([]string, error) {
	year := run.Issued.Year()
	if _, err := tx.Exec(ctx, `INSERT INTO invoice_counters (year, last) VALUES ($1, 0) ON CONFLICT (year) DO NOTHING`, year); err != nil {
		return nil, err
	}
	var last int64
	if err := tx.QueryRow(ctx, `SELECT last FROM invoice_counters WHERE year = $1 FOR UPDATE`, year).Scan(&last); err != nil {
		return nil, err
	}
	// Under the counter lock, which every invoicing transaction takes
	// first: what is still to do (a concurrent run may have issued some of
	// these while this one waited; its commit is visible to this statement).
	// The lock also keeps the accruals read here from being invoiced twice,
	// so they need no row locks of their own.
	end := month.AddDate(0, 1, 0)
	rows, err := tx.Query(ctx, `
		SELECT a.id, a.contract_id, a.occurred_on, a.description, a.amount, a.tax_rate_bp
		FROM fee_accruals a
		WHERE a.contract_id = ANY($1) AND a.invoice_id IS NULL AND a.occurred_on < $2
		  AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.contract_id = a.contract_id AND i.billing_month = $3)
		ORDER BY a.contract_id, a.occurred_on, a.id`, contracts, end, month)
	if err != nil {
		return nil, err
	}
	lines := map[int64][]billing.Line{}
	var order []int64
	for rows.Next() {
		var l billing.Line
		var cid int64
		if err := rows.Scan(&l.AccrualID, &cid, &l.OccurredOn, &l.Description, &l.Amount, &l.RateBP); err != nil {
			rows.Close()
			return nil, err
		}
		if _, ok := lines[cid]; !ok {
			order = append(order, cid)
		}
		lines[cid] = append(lines[cid], l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(order) == 0 {
		return nil, nil
	}
	cs, err := loadContracts(ctx, tx, order)
	if err != nil {
		return nil, err
	}
	var (
		numbers                                           []string
		cContract, cSeq, cNetStd, cTaxStd, cNetEx, cTotal []int64
		cNumber, cRecName, cRecAddr, cRecEmail            []string
		lInvoiceIdx, lPos, lAccrual, lAmount, lRate       []int64
		lOn                                               []time.Time
		lDesc                                             []string
		due                                               = billing.DueDate(run.Issued)
	)
	for i, cid := range order {
		c := cs[cid]
		// The recipient of the terms in force on the issue date (or the
		// latest, after the contract ended).
		v, ok := c.InForce(run.Issued)
		if !ok {
			v = c.Latest()
		}
		rates, _, _ := billing.Totals(lines[cid])
		var netStd, taxStd, netEx int64
		for _, r := range rates {
			if r.RateBP == billing.StandardRateBP {
				netStd, taxStd = r.Net, r.Tax
			} else {
				netEx = r.Net
			}
		}
		seq := last + int64(i) + 1
		no := billing.InvoiceNumber(year, seq)
		numbers = append(numbers, no)
		cContract = append(cContract, cid)
		cSeq = append(cSeq, seq)
		cNumber = append(cNumber, no)
		cNetStd, cTaxStd, cNetEx = append(cNetStd, netStd), append(cTaxStd, taxStd), append(cNetEx, netEx)
		cTotal = append(cTotal, netStd+taxStd+netEx)
		cRecName = append(cRecName, v.Terms.RecipientName)
		cRecAddr = append(cRecAddr, v.Terms.RecipientAddress)
		cRecEmail = append(cRecEmail, v.Terms.RecipientEmail)
		for p, l := range lines[cid] {
			lInvoiceIdx = append(lInvoiceIdx, int64(i))
			lPos = append(lPos, int64(p+1))
			lAccrual = append(lAccrual, l.AccrualID)
			lOn = append(lOn, l.OccurredOn)
			lDesc = append(lDesc, l.Description)
			lAmount = append(lAmount, l.Amount)
			lRate = append(lRate, l.RateBP)
		}
	}
	rows, err = tx.Query(ctx, `
		INSERT INTO invoices (number, year, seq, contract_id, billing_month, issued_on, due_on,
			issuer_name, issuer_registration, issuer_address, recipient_name, recipient_address, recipient_email,
			net_standard, tax_standard, net_exempt, total)
		SELECT n, $1, s, c, $2, $3, $4, $5, $6, $7, rn, ra, re, ns, ts, ne, t
		FROM unnest($8::text[], $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::text[],
			$14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[]) AS x(n, s, c, rn, ra, re, ns, ts, ne, t)
		RETURNING id, seq`,
		year, month, run.Issued, due, run.Issuer.Name, run.Issuer.Registration, run.Issuer.Address,
		cNumber, cSeq, cContract, cRecName, cRecAddr, cRecEmail, cNetStd, cTaxStd, cNetEx, cTotal)
	if err != nil {
		return nil, err
	}
	bySeq := map[int64]int64{}
	for rows.Next() {
		var id, seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			rows.Close()
			return nil, err
		}
		bySeq[seq] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(bySeq) != len(order) {
		return nil, fmt.Errorf("inserted %d invoices of %d", len(bySeq), len(order))
	}
	lInvoice := make([]int64, len(lInvoiceIdx))
	for i, idx := range lInvoiceIdx {
		lInvoice[i] = bySeq[cSeq[idx]]
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO invoice_lines (invoice_id, position, accrual_id, occurred_on, description, amount, tax_rate_bp)
		SELECT * FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::date[], $5::text[], $6::bigint[], $7::int[])`,
		lInvoice, lPos, lAccrual, lOn, lDesc, lAmount, lRate); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `
		UPDATE fee_accruals a SET invoice_id = x.inv FROM unnest($1::bigint[], $2::bigint[]) AS x(acc, inv)
		WHERE a.id = x.acc`, lAccrual, lInvoice); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE invoice_counters SET last = $2 WHERE year = $1`, year, last+int64(len(order))); err != nil {
		return nil, err
	}
	return numbers, nil
}

// Invoices lists invoices, newest first, without their lines.
func (db *DB) Invoices(ctx context.Context, f billing.InvoiceFilter) ([]billing.Invoice, error) {
	var month any
	if !f.Month.IsZero() {
		month = billing.MonthOf(f.Month)
	}
	rows, err := db.Pool.Query(ctx, `
		SELECT `+invoiceColumns+` FROM invoices i JOIN contracts c ON c.id = i.contract_id
		WHERE ($1::date IS NULL OR i.billing_month = $1)
		  AND ($2::bigint[] IS NULL OR EXISTS (SELECT 1 FROM contract_facilities cf WHERE cf.contract_id = i.contract_id AND cf.facility_id = ANY($2)))
		  AND (NOT $3 OR i.paid_on IS NULL)
		ORDER BY i.billing_month DESC, i.year DESC, i.seq DESC
		LIMIT 2000`, month, f.FacilityIDs, f.Unpaid)
	if err != nil {
		return nil, fmt.Errorf("postgres: invoices: %w", err)
	}
	defer rows.Close()
	var out []billing.Invoice
	for rows.Next() {
		inv, err := scanInvoice(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: invoices: %w", err)
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

const invoiceColumns = `i.id, i.number, i.contract_id, c.name, i.billing_month, i.issued_on, i.due_on,
	i.issuer_name, i.issuer_registration, i.issuer_address, i.recipient_name, i.recipient_address, i.recipient_email,
	i.net_standard, i.tax_standard, i.net_exempt, i.total, i.paid_on`

func scanInvoice(row pgx.Row) (billing.Invoice, error) {
	var (
		inv                   billing.Invoice
		netStd, taxStd, netEx int64
		paid                  *time.Time
	)
	err := row.Scan(&inv.ID, &inv.Number, &inv.ContractID, &inv.ContractName, &inv.Month, &inv.IssuedOn, &inv.DueOn,
		&inv.IssuerName, &inv.IssuerRegistration, &inv.IssuerAddress, &inv.RecipientName, &inv.RecipientAddress, &inv.RecipientEmail,
		&netStd, &taxStd, &netEx, &inv.Total, &paid)
	if err != nil {
		return inv, err
	}
	if paid != nil {
		inv.PaidOn = *paid
	}
	if netStd != 0 || taxStd != 0 || netEx == 0 {
		inv.Rates = append(inv.Rates, billing.RateTotal{RateBP: billing.StandardRateBP, Net: netStd, Tax: taxStd})
	}
	if netEx != 0 {
		inv.Rates = append(inv.Rates, billing.RateTotal{RateBP: 0, Net: netEx})
	}
	inv.Net, inv.Tax = netStd+netEx, taxStd
	return inv, nil
}

// Invoice reads one invoice with its lines. With facilityIDs non-nil the
// invoice must be for a contract covering one of them (facility staff),
// otherwise it is billing.ErrNotFound.
func (db *DB) Invoice(ctx context.Context, id int64, facilityIDs []int64) (billing.Invoice, error) {
	inv, err := scanInvoice(db.Pool.QueryRow(ctx, `
		SELECT `+invoiceColumns+` FROM invoices i JOIN contracts c ON c.id = i.contract_id
		WHERE i.id = $1
		  AND ($2::bigint[] IS NULL OR EXISTS (SELECT 1 FROM contract_facilities cf WHERE cf.contract_id = i.contract_id AND cf.facility_id = ANY($2)))`,
		id, facilityIDs))
	if errors.Is(err, pgx.ErrNoRows) {
		return inv, billing.ErrNotFound
	}
	if err != nil {
		return inv, fmt.Errorf("postgres: invoice: %w", err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT accrual_id, occurred_on, description, amount, tax_rate_bp FROM invoice_lines WHERE invoice_id = $1 ORDER BY position`, id)
	if err != nil {
		return inv, fmt.Errorf("postgres: invoice lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l billing.Line
		if err := rows.Scan(&l.AccrualID, &l.OccurredOn, &l.Description, &l.Amount, &l.RateBP); err != nil {
			return inv, fmt.Errorf("postgres: invoice lines: %w", err)
		}
		inv.Lines = append(inv.Lines, l)
	}
	return inv, rows.Err()
}

// MarkInvoicePaid records the payment date of an invoice. Repeating it
// keeps the first date (the form may be sent twice).
func (db *DB) MarkInvoicePaid(ctx context.Context, id int64, paidOn time.Time, by int64) error {
	tag, err := db.Pool.Exec(ctx, `UPDATE invoices SET paid_on = coalesce(paid_on, $2), paid_by = coalesce(paid_by, $3) WHERE id = $1`, id, paidOn, nullID(by))
	if err != nil {
		return fmt.Errorf("postgres: mark paid: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return billing.ErrNotFound
	}
	return nil
}
