package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"carematch/billing"
)

// Contracts: referral-fee contracts with their versions and facilities.

// CreateContract stores a new contract with its first version. A repeat
// of the same form (idempotency key) returns the first contract's id. A
// facility that does not exist or is under another contract is a field
// error on facility_ids.
func (db *DB) CreateContract(ctx context.Context, name string, scope billing.Scope, facilityIDs []int64, t billing.Terms, key string, by int64) (int64, error) {
	var id int64
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT id FROM contracts WHERE idempotency_key = $1`, key).Scan(&id)
		if err == nil {
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var missing []int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(x ORDER BY x), '{}') FROM unnest($1::bigint[]) x WHERE NOT EXISTS (SELECT 1 FROM facilities f WHERE f.id = x)`, facilityIDs).Scan(&missing); err != nil {
			return err
		}
		if len(missing) > 0 {
			return billing.FieldErrors{"facility_ids": fmt.Sprintf("施設ID %v は登録されていません。", missing)}
		}
		var taken []string
		if err := tx.QueryRow(ctx, `
			SELECT coalesce(array_agg(f.name || '（ID ' || f.id || '：' || c.name || '）' ORDER BY f.id), '{}')
			FROM contract_facilities cf JOIN facilities f ON f.id = cf.facility_id JOIN contracts c ON c.id = cf.contract_id
			WHERE cf.facility_id = ANY($1)`, facilityIDs).Scan(&taken); err != nil {
			return err
		}
		if len(taken) > 0 {
			return billing.FieldErrors{"facility_ids": fmt.Sprintf("すでに契約があります：%v。条件の変更はその契約の「改定」で行ってください。", taken)}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO contracts (name, scope, created_by, idempotency_key) VALUES ($1, $2, $3, $4) RETURNING id`,
			name, scope, nullID(by), key).Scan(&id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO contract_facilities (contract_id, facility_id) SELECT $1, unnest($2::bigint[])`, id, facilityIDs); err != nil {
			return err
		}
		return insertVersion(ctx, tx, id, 1, t, key, by)
	})
	if err != nil {
		var fe billing.FieldErrors
		if errors.As(err, &fe) {
			return 0, fe
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "contract_facilities_facility_id_key" {
			return 0, billing.FieldErrors{"facility_ids": "この施設には、たった今ほかの契約が登録されました。一覧を確認してください。"}
		}
		return 0, fmt.Errorf("postgres: create contract: %w", err)
	}
	return id, nil
}

// AmendContract adds a version to a contract, taking effect on
// t.EffectiveFrom. Accruals already made keep their version. A repeat of
// the same form returns the version it made.
func (db *DB) AmendContract(ctx context.Context, contractID int64, t billing.Terms, key string, by int64) (int, error) {
	var n int
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT version FROM contract_versions WHERE idempotency_key = $1 AND contract_id = $2`, key, contractID).Scan(&n)
		if err == nil {
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		// Lock the contract so two amendments get consecutive numbers.
		if err := tx.QueryRow(ctx, `SELECT id FROM contracts WHERE id = $1 FOR UPDATE`, contractID).Scan(new(int64)); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return billing.ErrNotFound
			}
			return err
		}
		var clash bool
		if err := tx.QueryRow(ctx, `SELECT max(version), bool_or(effective_from = $2) FROM contract_versions WHERE contract_id = $1`, contractID, t.EffectiveFrom).Scan(&n, &clash); err != nil {
			return err
		}
		if clash {
			return billing.FieldErrors{"effective_from": "この適用開始日の版がすでにあります。別の日付を入力してください。"}
		}
		n++
		return insertVersion(ctx, tx, contractID, n, t, key, by)
	})
	if err != nil {
		var fe billing.FieldErrors
		if errors.As(err, &fe) || errors.Is(err, billing.ErrNotFound) {
			return 0, err
		}
		return 0, fmt.Errorf("postgres: amend contract: %w", err)
	}
	return n, nil
}

func insertVersion(ctx context.Context, tx pgx.Tx, contractID int64, n int, t billing.Terms, key string, by int64) error {
	steps, err := json.Marshal(t.RefundSteps)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO contract_versions (contract_id, version, effective_from, starts_on, ends_on, fee_kind, fee_yen,
			fee_months100, fee_bp, cap_yen, trigger, validity_months, refund_steps, tax,
			recipient_name, recipient_address, recipient_email, note, created_by, idempotency_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
		contractID, n, t.EffectiveFrom, t.StartsOn, nullDate(t.EndsOn), t.FeeKind, t.FeeYen,
		t.FeeMonths100, t.FeeBP, t.CapYen, t.Trigger, t.ValidityMonths, steps, t.Tax,
		t.RecipientName, t.RecipientAddress, t.RecipientEmail, t.Note, nullID(by), key)
	return err
}

const versionColumns = `v.id, v.contract_id, v.version, v.effective_from, v.starts_on, v.ends_on, v.fee_kind, v.fee_yen,
	v.fee_months100, v.fee_bp, v.cap_yen, v.trigger, v.validity_months, v.refund_steps, v.tax,
	v.recipient_name, v.recipient_address, v.recipient_email, v.note, v.created_at`

func scanVersion(row pgx.Row) (int64, billing.Version, error) {
	var (
		v          billing.Version
		contractID int64
		ends       *time.Time
		steps      []byte
	)
	t := &v.Terms
	err := row.Scan(&v.ID, &contractID, &v.Number, &t.EffectiveFrom, &t.StartsOn, &ends, &t.FeeKind, &t.FeeYen,
		&t.FeeMonths100, &t.FeeBP, &t.CapYen, &t.Trigger, &t.ValidityMonths, &steps, &t.Tax,
		&t.RecipientName, &t.RecipientAddress, &t.RecipientEmail, &t.Note, &v.Created)
	if err != nil {
		return 0, v, err
	}
	if ends != nil {
		t.EndsOn = *ends
	}
	t.Basis, t.Payee = billing.BasisNone, billing.PayeeNone
	if err := json.Unmarshal(steps, &t.RefundSteps); err != nil {
		return 0, v, fmt.Errorf("refund steps of version %d: %w", v.ID, err)
	}
	return contractID, v, nil
}

// loadContracts reads contracts (all, or those with the given ids) with
// their facilities and versions.
func loadContracts(ctx context.Context, q querier, ids []int64) (map[int64]*billing.Contract, error) {
	out := map[int64]*billing.Contract{}
	rows, err := q.Query(ctx, `
		SELECT c.id, c.name, c.scope, coalesce(array_agg(cf.facility_id ORDER BY cf.facility_id) FILTER (WHERE cf.facility_id IS NOT NULL), '{}')
		FROM contracts c LEFT JOIN contract_facilities cf ON cf.contract_id = c.id
		WHERE $1::bigint[] IS NULL OR c.id = ANY($1)
		GROUP BY c.id`, ids)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		c := &billing.Contract{}
		if err := rows.Scan(&c.ID, &c.Name, &c.Scope, &c.FacilityIDs); err != nil {
			rows.Close()
			return nil, err
		}
		out[c.ID] = c
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.Query(ctx, `SELECT `+versionColumns+` FROM contract_versions v WHERE $1::bigint[] IS NULL OR v.contract_id = ANY($1) ORDER BY v.contract_id, v.version`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		cid, v, err := scanVersion(rows)
		if err != nil {
			return nil, err
		}
		if c := out[cid]; c != nil {
			c.Versions = append(c.Versions, v)
		}
	}
	return out, rows.Err()
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Contract reads one contract with its versions and the names of its
// facilities (by id).
func (db *DB) Contract(ctx context.Context, id int64) (billing.Contract, map[int64]string, error) {
	cs, err := loadContracts(ctx, db.Pool, []int64{id})
	if err != nil {
		return billing.Contract{}, nil, fmt.Errorf("postgres: contract: %w", err)
	}
	c, ok := cs[id]
	if !ok {
		return billing.Contract{}, nil, billing.ErrNotFound
	}
	names, err := facilityNames(ctx, db.Pool, c.FacilityIDs)
	return *c, names, err
}

func facilityNames(ctx context.Context, q querier, ids []int64) (map[int64]string, error) {
	names := map[int64]string{}
	rows, err := q.Query(ctx, `SELECT id, name FROM facilities WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: facility names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n string
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		names[id] = n
	}
	return names, rows.Err()
}

// ContractList lists every contract with the terms in force today.
func (db *DB) ContractList(ctx context.Context, today time.Time) ([]billing.ContractSummary, error) {
	cs, err := loadContracts(ctx, db.Pool, nil)
	if err != nil {
		return nil, fmt.Errorf("postgres: contracts: %w", err)
	}
	open := map[int64]int64{}
	rows, err := db.Pool.Query(ctx, `SELECT contract_id, sum(amount) FROM fee_accruals WHERE invoice_id IS NULL GROUP BY contract_id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: contracts: %w", err)
	}
	for rows.Next() {
		var id, sum int64
		if err := rows.Scan(&id, &sum); err != nil {
			rows.Close()
			return nil, err
		}
		open[id] = sum
	}
	rows.Close()
	var all []int64
	for _, c := range cs {
		all = append(all, c.FacilityIDs...)
	}
	names, err := facilityNames(ctx, db.Pool, all)
	if err != nil {
		return nil, err
	}
	var out []billing.ContractSummary
	for _, c := range cs {
		cur, ok := c.InForce(today)
		if !ok {
			cur = c.Versions[0]
		}
		s := billing.ContractSummary{ID: c.ID, Name: c.Name, Scope: c.Scope, Current: cur, Versions: len(c.Versions), OpenYen: open[c.ID]}
		for _, f := range c.FacilityIDs {
			s.Facilities = append(s.Facilities, names[f])
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b billing.ContractSummary) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// ReferralValidityMonths is how long a referral to the facility stays
// valid under the contract in force on day; without a contract, the
// default (billing.DefaultValidityMonths).
func ReferralValidityMonths(ctx context.Context, q querier, facilityID int64, day time.Time) (int, error) {
	var months int
	err := q.QueryRow(ctx, `
		SELECT v.validity_months FROM contract_facilities cf
		JOIN contract_versions v ON v.contract_id = cf.contract_id AND v.effective_from <= $2
		WHERE cf.facility_id = $1
		ORDER BY v.effective_from DESC LIMIT 1`, facilityID, day).Scan(&months)
	if errors.Is(err, pgx.ErrNoRows) {
		return billing.DefaultValidityMonths, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: referral validity: %w", err)
	}
	return months, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
