package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// BillingLoad adds synthetic billing data for the invoice benchmark and
// the job's crash tests: facilities partner facilities, each under its own
// contract (the fee rule cycles through fixed, months of rent and a
// percentage with a cap; every tenth contract is 非課税), and moveIns
// move-ins spread over the month (every twentieth leaves ten days later,
// which earns a refund). Set-based SQL, one transaction.
func (db *DB) BillingLoad(ctx context.Context, facilities, moveIns int, month time.Time) error {
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		var uid int64
		if err := tx.QueryRow(ctx, `
			INSERT INTO staff_users (email, name, role, password_hash) VALUES ('billing-load@example.jp', '請求ロード', 'manager', '$argon2id$load')
			ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name RETURNING id`).Scan(&uid); err != nil {
			return err
		}
		var first int64
		if err := tx.QueryRow(ctx, `
			WITH f AS (
				INSERT INTO facilities (type, name, pref_code, muni_code, address, lat, lng, partner)
				SELECT 'kaigo_yuryo', '請求ロード施設' || g, 13, '131016', '東京都千代田区千代田' || g, 35.68, 139.75, true
				FROM generate_series(1, $1) g RETURNING id)
			SELECT min(id) FROM f`, facilities).Scan(&first); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			WITH c AS (
				INSERT INTO contracts (name, scope, created_by, idempotency_key)
				SELECT '請求ロード契約' || (f - $1 + 1), 'facility', $2, md5('contract' || f || clock_timestamp())
				FROM generate_series($1::bigint, $1 + $3 - 1) f
				RETURNING id, substring(name FROM 8)::bigint + $1 - 1 AS facility_id)
			, cf AS (INSERT INTO contract_facilities (contract_id, facility_id) SELECT id, facility_id FROM c)
			INSERT INTO contract_versions (contract_id, version, effective_from, starts_on, fee_kind, fee_yen, fee_months100,
				fee_bp, cap_yen, trigger, validity_months, refund_steps, tax, recipient_name, recipient_address, idempotency_key)
			SELECT id, 1, $4::date - 365, $4::date - 365,
				(ARRAY['fixed', 'months_rent', 'percent_rent'])[facility_id % 3 + 1], 215000, 150, 8000,
				CASE WHEN facility_id % 3 = 2 THEN 200000 ELSE 0 END, 'move_in', 6,
				'[{"up_to_days":30,"percent":100},{"up_to_days":90,"percent":50}]',
				CASE WHEN facility_id % 10 = 0 THEN 'exempt' ELSE 'standard' END,
				'運営法人' || facility_id || ' 経理部', '東京都千代田区千代田' || facility_id, md5('version' || id || clock_timestamp())
			FROM c`, first, uid, facilities, month); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			WITH k AS (
				INSERT INTO cases (ref, kind, idempotency_key, privacy_version, privacy_hash, consented_at, relationship, contact_name, phone)
				SELECT substr(r, 1, 5) || '-' || substr(r, 6, 5), 'consultation', md5('case' || g || clock_timestamp()), 'v1', repeat('0', 64), now(),
					'子', '請求ロード', '0312345678'
				FROM generate_series(1, $1) g, LATERAL (SELECT translate(lpad(g::text, 10, '0'), '0123456789', 'QRSTUVWXYZ') AS r) x
				ON CONFLICT DO NOTHING
				RETURNING id)
			, kn AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM k)
			INSERT INTO move_ins (case_id, facility_id, moved_in_on, room_type, monthly_fee, monthly_rent, recorded_by, exited_on)
			SELECT k.id, $2 + (k.n - 1) % $3, $4::date + ((k.n % 28)::int), '個室', 180000 + (k.n % 50) * 1000, 80000 + (k.n % 50) * 1000, $5,
				CASE WHEN k.n % 20 = 0 THEN $4::date + ((k.n % 28)::int) + 10 END
			FROM kn k`, moveIns, first, facilities, month, uid); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: billing load: %w", err)
	}
	return nil
}
