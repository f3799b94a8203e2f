-- Billing feeds the KPIs and the reporting views (issue 6). fee_events,
-- which kpi-snapshot sums per day and reporting.fees shows, now reads the
-- fee accruals of 0008: fees positive, early-exit refunds negative, yen
-- without tax, on the day of the event that earned or refunded them, each
-- attributed to its case through the move-in or tour behind it (a refund
-- through the fee it gives back).
CREATE OR REPLACE VIEW fee_events AS
    SELECT a.occurred_on AS day,
           COALESCE(m.case_id, t.case_id)::bigint AS case_id,
           a.facility_id::bigint AS facility_id,
           a.amount::bigint AS amount
    FROM fee_accruals a
    LEFT JOIN fee_accruals refunded ON refunded.id = a.refunds_accrual_id
    LEFT JOIN move_ins m ON m.id = COALESCE(a.move_in_id, refunded.move_in_id)
    LEFT JOIN tours t ON t.id = COALESCE(a.tour_id, refunded.tour_id);

-- Invoices and accruals for Metabase: amounts, months, contracts and
-- facilities; no recipient address or e-mail.
CREATE VIEW reporting.invoices AS
    SELECT i.id AS invoice_id, i.number, i.contract_id, i.billing_month, i.issued_on, i.due_on,
           i.net_standard, i.tax_standard, i.net_exempt, i.total, i.paid_on, i.created_at
    FROM invoices i;

CREATE VIEW reporting.fee_accruals AS
    SELECT a.id AS accrual_id, a.contract_id, a.facility_id, a.kind, a.source, a.move_in_id, a.tour_id,
           a.refunds_accrual_id, a.occurred_on, a.amount, a.tax_rate_bp, a.invoice_id, a.created_at
    FROM fee_accruals a;

CREATE VIEW reporting.contracts AS
    SELECT c.id AS contract_id, c.name, c.scope, c.created_at,
           (SELECT count(*) FROM contract_facilities cf WHERE cf.contract_id = c.id) AS facilities
    FROM contracts c;

-- 0009's default privileges grant these to both roles when the owner that
-- ran 0009 creates them; said again for a database migrated otherwise.
GRANT SELECT ON reporting.invoices, reporting.fee_accruals, reporting.contracts TO carematch_readonly, carematch_app;
