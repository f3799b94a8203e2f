package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"carematch/billing"
)

// Accruals: fees earned by move-ins and arranged tours, and the credits of
// early exits, computed by package billing from the contract version in
// force on the event's day. (source, source_id) is unique, so accruing is
// safe to repeat and to run from several places at once.

// Accrue adds every accrual owed and not yet recorded, in one transaction:
// move-in fees (first-referral attribution: one fee per first referral;
// only within the referral's validity period), tour fees (contracts whose
// trigger is the tour, once the tour's time is confirmed), and refunds of
// early exits under the version the fee was computed with.
func (db *DB) Accrue(ctx context.Context) (billing.AccrueResult, error) {
	var res billing.AccrueResult
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		res, err = accrue(ctx, tx)
		return err
	})
	if err != nil {
		return billing.AccrueResult{}, fmt.Errorf("postgres: accrue: %w", err)
	}
	return res, nil
}

type newAccrual struct {
	contractID, versionID, facilityID int64
	kind, source                      string
	sourceID                          int64
	moveInID, tourID, refundsID       *int64
	on                                time.Time
	desc                              string
	amount, rateBP                    int64
}

func accrue(ctx context.Context, tx pgx.Tx) (billing.AccrueResult, error) {
	var res billing.AccrueResult
	cs, err := loadContracts(ctx, tx, nil)
	if err != nil {
		return res, err
	}
	var add []newAccrual

	// Move-ins under a contract without a fee yet. A move-in through a
	// referral is keyed by the person's first referral to the facility.
	rows, err := tx.Query(ctx, `
		SELECT m.id, m.facility_id, f.name, m.moved_in_on, m.monthly_rent, m.room_type, cf.contract_id,
		       fr.id, (fr.sent_at AT TIME ZONE 'Asia/Tokyo')::date
		FROM move_ins m
		JOIN contract_facilities cf ON cf.facility_id = m.facility_id
		JOIN facilities f ON f.id = m.facility_id
		LEFT JOIN referrals r ON r.id = m.referral_id
		LEFT JOIN referrals fr ON fr.id = coalesce(r.first_referral_id, r.id)
		WHERE NOT EXISTS (SELECT 1 FROM fee_accruals a WHERE a.move_in_id = m.id AND a.kind = 'fee')
		  AND NOT EXISTS (SELECT 1 FROM fee_accruals a WHERE a.source = 'referral' AND a.source_id = fr.id)
		ORDER BY m.id`)
	if err != nil {
		return res, err
	}
	seen := map[int64]bool{} // first referrals taken in this pass
	for rows.Next() {
		var (
			moveID, facID, contractID, rent int64
			facName, room                   string
			movedIn                         time.Time
			firstRef                        *int64
			sentOn                          *time.Time
		)
		if err := rows.Scan(&moveID, &facID, &facName, &movedIn, &rent, &room, &contractID, &firstRef, &sentOn); err != nil {
			rows.Close()
			return res, err
		}
		c := cs[contractID]
		v, ok := c.InForce(movedIn)
		if !ok || !v.Terms.Covers(movedIn) || v.Terms.Trigger != billing.TriggerMoveIn {
			continue
		}
		source, sourceID := billing.SourceMoveIn, moveID
		if firstRef != nil {
			if seen[*firstRef] {
				continue
			}
			if sentOn != nil && movedIn.After(sentOn.AddDate(0, v.Terms.ValidityMonths, 0)) {
				continue // the referral expired before the move-in
			}
			seen[*firstRef] = true
			source, sourceID = billing.SourceReferral, *firstRef
		}
		id := moveID
		add = append(add, newAccrual{
			contractID: contractID, versionID: v.ID, facilityID: facID, kind: billing.KindFee,
			source: source, sourceID: sourceID, moveInID: &id, on: movedIn,
			desc:   fmt.Sprintf("入居紹介手数料 %s（%s入居・%s・入居番号%d）", facName, billing.DateLabel(movedIn), room, moveID),
			amount: v.Terms.Fee(rent), rateBP: v.Terms.Tax.RateBP(),
		})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, err
	}

	// Arranged tours (time confirmed) under a contract whose trigger is the tour.
	rows, err = tx.Query(ctx, `
		SELECT t.id, t.facility_id, f.name, (t.confirmed_at AT TIME ZONE 'Asia/Tokyo')::date, cf.contract_id
		FROM tours t
		JOIN contract_facilities cf ON cf.facility_id = t.facility_id
		JOIN facilities f ON f.id = t.facility_id
		WHERE t.status IN ('confirmed', 'done') AND t.confirmed_at IS NOT NULL
		  AND NOT EXISTS (SELECT 1 FROM fee_accruals a WHERE a.source = 'tour' AND a.source_id = t.id)
		ORDER BY t.id`)
	if err != nil {
		return res, err
	}
	for rows.Next() {
		var (
			tourID, facID, contractID int64
			facName                   string
			on                        time.Time
		)
		if err := rows.Scan(&tourID, &facID, &facName, &on, &contractID); err != nil {
			rows.Close()
			return res, err
		}
		v, ok := cs[contractID].InForce(on)
		if !ok || !v.Terms.Covers(on) || v.Terms.Trigger != billing.TriggerTour {
			continue
		}
		id := tourID
		add = append(add, newAccrual{
			contractID: contractID, versionID: v.ID, facilityID: facID, kind: billing.KindFee,
			source: billing.SourceTour, sourceID: tourID, tourID: &id, on: on,
			desc:   fmt.Sprintf("見学設定手数料 %s（%s見学・見学番号%d）", facName, billing.DateLabel(on), tourID),
			amount: v.Terms.Fee(0), rateBP: v.Terms.Tax.RateBP(),
		})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, err
	}

	// Fees first, so an exit recorded together with its move-in finds
	// the fee to refund.
	f, r, err := insertAccruals(ctx, tx, add)
	if err != nil {
		return res, err
	}
	res.Fees, res.Refunds, add = f, r, nil

	// Early exits: a fee accrual of a move-in that has ended, without a
	// refund yet, under the version the fee was computed with.
	rows, err = tx.Query(ctx, `
		SELECT a.id, a.contract_id, a.contract_version_id, a.facility_id, a.amount, a.tax_rate_bp, f.name,
		       m.id, m.moved_in_on, m.exited_on, coalesce(i.number, '')
		FROM fee_accruals a
		JOIN move_ins m ON m.id = a.move_in_id
		JOIN facilities f ON f.id = a.facility_id
		LEFT JOIN invoices i ON i.id = a.invoice_id
		WHERE a.kind = 'fee' AND m.exited_on IS NOT NULL
		  AND NOT EXISTS (SELECT 1 FROM fee_accruals r WHERE r.source = 'exit' AND r.source_id = a.id)
		ORDER BY a.id`)
	if err != nil {
		return res, err
	}
	for rows.Next() {
		var (
			feeID, contractID, versionID, facID, fee, rate, moveID int64
			facName, invoiceNo                                     string
			movedIn, exited                                        time.Time
		)
		if err := rows.Scan(&feeID, &contractID, &versionID, &facID, &fee, &rate, &facName, &moveID, &movedIn, &exited, &invoiceNo); err != nil {
			rows.Close()
			return res, err
		}
		var v billing.Version
		for _, cv := range cs[contractID].Versions {
			if cv.ID == versionID {
				v = cv
			}
		}
		days := billing.DaysBetween(movedIn, exited)
		refund := v.Terms.Refund(fee, days)
		if refund <= 0 {
			continue
		}
		ref := ""
		if invoiceNo != "" {
			ref = "・請求書" + invoiceNo
		}
		fid, mid := feeID, moveID
		add = append(add, newAccrual{
			contractID: contractID, versionID: versionID, facilityID: facID, kind: billing.KindRefund,
			source: billing.SourceExit, sourceID: feeID, moveInID: &mid, refundsID: &fid, on: exited,
			desc: fmt.Sprintf("短期退去による返金 %s（%s入居・%s退去・%d日・返金%d%%・入居番号%d%s）",
				facName, billing.DateLabel(movedIn), billing.DateLabel(exited), days, v.Terms.RefundPercent(days), moveID, ref),
			amount: -refund, rateBP: rate,
		})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, err
	}
	f, r, err = insertAccruals(ctx, tx, add)
	res.Fees += f
	res.Refunds += r
	return res, err
}

func insertAccruals(ctx context.Context, tx pgx.Tx, add []newAccrual) (fees, refunds int, err error) {
	if len(add) == 0 {
		return 0, 0, nil
	}
	cols := make([][]any, 13)
	for _, a := range add {
		for i, v := range []any{a.contractID, a.versionID, a.facilityID, a.kind, a.source, a.sourceID, a.moveInID, a.tourID, a.refundsID, a.on, a.desc, a.amount, a.rateBP} {
			cols[i] = append(cols[i], v)
		}
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO fee_accruals (contract_id, contract_version_id, facility_id, kind, source, source_id,
			move_in_id, tour_id, refunds_accrual_id, occurred_on, description, amount, tax_rate_bp)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::bigint[],
			$7::bigint[], $8::bigint[], $9::bigint[], $10::date[], $11::text[], $12::bigint[], $13::int[])
		ON CONFLICT (source, source_id) DO NOTHING
		RETURNING kind`, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7], cols[8], cols[9], cols[10], cols[11], cols[12])
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		if err := rows.Scan(&kind); err != nil {
			return 0, 0, err
		}
		if kind == billing.KindFee {
			fees++
		} else {
			refunds++
		}
	}
	return fees, refunds, rows.Err()
}

// Accruals lists accruals, newest event first.
func (db *DB) Accruals(ctx context.Context, f billing.AccrualFilter) ([]billing.Accrual, error) {
	if f.Limit <= 0 {
		f.Limit = 500
	}
	rows, err := db.Pool.Query(ctx, `
		SELECT a.id, a.contract_id, c.name, a.contract_version_id, v.version, a.facility_id, f.name, a.kind, a.source,
		       a.source_id, coalesce(a.move_in_id, 0), a.occurred_on, a.description, a.amount, a.tax_rate_bp,
		       coalesce(a.invoice_id, 0), coalesce(i.number, ''), coalesce(a.refunds_accrual_id, 0), a.created_at
		FROM fee_accruals a
		JOIN contracts c ON c.id = a.contract_id
		JOIN contract_versions v ON v.id = a.contract_version_id
		JOIN facilities f ON f.id = a.facility_id
		LEFT JOIN invoices i ON i.id = a.invoice_id
		WHERE ($1 = 0 OR a.contract_id = $1) AND (NOT $2 OR a.invoice_id IS NULL)
		ORDER BY a.occurred_on DESC, a.id DESC
		LIMIT $3`, f.ContractID, f.Open, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: accruals: %w", err)
	}
	defer rows.Close()
	var out []billing.Accrual
	for rows.Next() {
		var a billing.Accrual
		if err := rows.Scan(&a.ID, &a.ContractID, &a.ContractName, &a.VersionID, &a.Version, &a.FacilityID, &a.FacilityName, &a.Kind, &a.Source,
			&a.SourceID, &a.MoveInID, &a.OccurredOn, &a.Description, &a.Amount, &a.RateBP,
			&a.InvoiceID, &a.InvoiceNo, &a.RefundsID, &a.Created); err != nil {
			return nil, fmt.Errorf("postgres: accruals: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
