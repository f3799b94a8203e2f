package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"carematch/job"
	"carematch/postgres"
	"carematch/reminder"
	"carematch/retention"
)

// The storage of the scheduled jobs. Fixtures are written as the owner (the
// role tests connect as); the jobs run as carematch_app, the role the
// application logs in with in production, so these tests also prove its
// grants are enough for every job.

var jst = time.FixedZone("Asia/Tokyo", 9*3600)

type jobsFixture struct {
	owner *postgres.DB // the schema owner: fixtures and checks
	app   *postgres.DB // carematch_app: the jobs
	url   string
}

// asRole opens the test database as another role (SET ROLE at connect).
func asRole(t *testing.T, url, role string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url+"&options=-c%20role%3D"+role, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func newJobsFixture(t *testing.T) *jobsFixture {
	t.Helper()
	url := postgres.TestDatabase(t)
	owner, err := postgres.Open(context.Background(), url, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(owner.Close)
	return &jobsFixture{owner: owner, app: asRole(t, url, "carematch_app"), url: url}
}

func (f *jobsFixture) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := f.owner.Pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func (f *jobsFixture) int(t *testing.T, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.owner.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (f *jobsFixture) facility(t *testing.T, name string, partner bool) int64 {
	t.Helper()
	return f.int(t, `INSERT INTO facilities (type, name, pref_code, muni_code, address, lat, lng, partner)
		VALUES ('kaigo_yuryo', $1, 13, '131016', '東京都千代田区1-1', 35.68, 139.76, $2) RETURNING id`, name, partner)
}

func (f *jobsFixture) staff(t *testing.T, email, role string, facilities ...int64) int64 {
	t.Helper()
	id := f.int(t, `INSERT INTO staff_users (email, name, role, password_hash) VALUES ($1, '担当', $2, '$argon2id$test') RETURNING id`, email, role)
	for _, fid := range facilities {
		f.exec(t, `INSERT INTO staff_facilities (user_id, facility_id) VALUES ($1, $2)`, id, fid)
	}
	return id
}

var caseSeq int

// kase inserts a case with personal data everywhere, created at created.
func (f *jobsFixture) kase(t *testing.T, status string, assigned int64, pref int, created time.Time) int64 {
	t.Helper()
	caseSeq++
	ref := fmt.Sprintf("AAAAA-%05d", caseSeq)
	ref = strings.NewReplacer("0", "Z", "1", "Y").Replace(ref)
	var a any
	if assigned > 0 {
		a = assigned
	}
	var p any
	if pref > 0 {
		p = pref
	}
	return f.int(t, `INSERT INTO cases (ref, kind, status, idempotency_key, created_at, status_changed_at, privacy_version, privacy_hash, consented_at,
			relationship, contact_name, phone, email, postal_code, address, age_band, care_level, dementia, medical_needs, note,
			pref_code, municipality, assigned_to, person_name, person_kana, person_birth_date, adl_notes, guarantor, lost_reason)
		VALUES ($1, 'consultation', $2, md5($1), $3, $3, 'v1', repeat('a', 64), $3,
			'子', '佐藤 花子', '0312345678', 'hanako@example.jp', '150-0001', '渋谷区神宮前1-1', '80代', '要介護3', '軽度', '{insulin}', '夜間の介助が必要',
			$4, '渋谷区', $5, '佐藤 一郎', 'サトウ イチロウ', '1940-01-02', '歩行器', '長男', 'ご本人の意向')
		RETURNING id`, ref, status, created, p, a)
}

// must fails the test on a job's error: must(t)(db.SomeJob(…)).
func must(t *testing.T) func(job.Counts, error) job.Counts {
	return func(c job.Counts, err error) job.Counts {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

func TestVacancyRemindersOncePerPeriod(t *testing.T) {
	f := newJobsFixture(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, jst)
	stale := f.facility(t, "ひだまり苑", true)
	fresh := f.facility(t, "あおぞら", true)
	never := f.facility(t, "すずらん", false) // not a partner, but has staff
	noStaff := f.facility(t, "かえで", true)
	f.facility(t, "つばき", false) // neither partner nor staff: never reminded
	f.exec(t, `INSERT INTO facility_vacancies VALUES ($1, '個室', 1, $2), ($3, '個室', 0, $4), ($5, '個室', 2, $2)`,
		stale, now.AddDate(0, 0, -20), fresh, now.AddDate(0, 0, -3), noStaff)
	f.staff(t, "a@hidamari.example.jp", "facility_staff", stale)
	f.staff(t, "b@hidamari.example.jp", "facility_staff", stale, fresh)
	gone := f.staff(t, "c@hidamari.example.jp", "facility_staff", stale)
	f.exec(t, `UPDATE staff_users SET disabled_at = now() WHERE id = $1`, gone)
	f.staff(t, "d@suzuran.example.jp", "facility_staff", never)

	run := func(day time.Time) job.Counts {
		today := reminder.Today(day)
		return must(t)(f.app.VacancyReminders(ctx, today, 14, func(to string, fac reminder.Facility) reminder.Mail {
			return reminder.VacancyMail("https://carematch.example.jp", to, fac, 14, today)
		}))
	}
	got := run(now)
	want := job.Counts{"facilities_due": 3, "facilities_reminded": 2, "mails": 3, "skipped_no_staff": 1}
	if got.String() != want.String() {
		t.Fatalf("first run: %v, want %v", got, want)
	}
	if n := f.int(t, `SELECT count(*) FROM outbox WHERE purpose = 'vacancy_reminder' AND recipient LIKE '%hidamari%' AND body LIKE '%20日前%'`); n != 2 {
		t.Errorf("mails to ひだまり苑's two active staff saying 20日前: %d", n)
	}
	if n := f.int(t, `SELECT count(*) FROM outbox WHERE recipient = 'd@suzuran.example.jp' AND body LIKE '%まだ登録されていません%'`); n != 1 {
		t.Errorf("mail for the facility that never confirmed: %d", n)
	}
	// The same day again (EventBridge twice): nothing.
	for _, d := range []time.Time{now, now.Add(3 * time.Hour)} {
		if got := run(d); got["mails"] != 0 || got["facilities_reminded"] != 0 {
			t.Fatalf("rerun on %s: %v", d, got)
		}
	}
	// Thirteen days later only あおぞら (confirmed 16 days before) is due;
	// the ones reminded 13 days ago are not reminded again yet.
	if got := run(now.AddDate(0, 0, 13)); got["facilities_reminded"] != 1 ||
		f.int(t, `SELECT count(*) FROM vacancy_reminders WHERE facility_id = $1`, fresh) != 1 {
		t.Fatalf("13 days later: %v", got)
	}
	// Fourteen days later, still unconfirmed: reminded again.
	if got := run(now.AddDate(0, 0, 14)); got["facilities_reminded"] != 2 {
		t.Fatalf("after the period: %v", got)
	}
	// Confirmed in between: not due any more.
	f.exec(t, `UPDATE facility_vacancies SET confirmed_at = $2 WHERE facility_id = $1`, stale, now.AddDate(0, 0, 27))
	run(now.AddDate(0, 0, 28))
	if n := f.int(t, `SELECT count(*) FROM vacancy_reminders WHERE facility_id = $1`, stale); n != 2 {
		t.Fatalf("ひだまり苑 reminded %d times, want 2 (then it confirmed)", n)
	}
	if n := f.int(t, `SELECT count(*) FROM vacancy_reminders WHERE facility_id = $1`, never); n != 3 {
		t.Fatalf("すずらん reminded %d times, want 3", n)
	}
}

func TestCaseFollowups(t *testing.T) {
	f := newJobsFixture(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, jst)
	today := reminder.Today(now)
	sato := f.staff(t, "sato@carematch.example.jp", "consultant")
	kato := f.staff(t, "kato@carematch.example.jp", "consultant")
	stale := f.kase(t, "ヒアリング", sato, 13, now.AddDate(0, 0, -10))
	called := f.kase(t, "候補提案", sato, 13, now.AddDate(0, 0, -30))
	f.exec(t, `UPDATE cases SET last_contact_at = $2 WHERE id = $1`, called, now.AddDate(0, 0, -2))
	f.kase(t, "失注", sato, 13, now.AddDate(0, 0, -30)) // closed: no task
	f.kase(t, "受付", 0, 13, now.AddDate(0, 0, -30))    // nobody's: counted
	lost := f.kase(t, "見学調整", kato, 14, now.AddDate(0, 0, -8))

	c := must(t)(f.app.NoContactTasks(ctx, now, today, 7, reminder.NoContactTitle(7)))
	if c["no_contact_tasks"] != 2 || c["no_contact_unassigned"] != 1 {
		t.Fatalf("no-contact: %v", c)
	}
	if n := f.int(t, `SELECT count(*) FROM case_tasks WHERE origin = 'no_contact' AND case_id IN ($1, $2) AND due_on = $3 AND created_by IS NULL`, stale, lost, today); n != 2 {
		t.Fatalf("tasks: %d", n)
	}
	if n := f.int(t, `SELECT count(*) FROM audit_events WHERE user_id = 0 AND role = 'system' AND action = 'create' AND case_id IN ($1, $2)`, stale, lost); n != 2 {
		t.Errorf("audit events of the system: %d", n)
	}
	// Rerun: no second task, also not once the first is done within the period.
	if c := must(t)(f.app.NoContactTasks(ctx, now, today, 7, "x")); c["no_contact_tasks"] != 0 {
		t.Fatalf("rerun: %v", c)
	}
	f.exec(t, `UPDATE case_tasks SET done_at = now() WHERE case_id = $1`, stale)
	if c := must(t)(f.app.NoContactTasks(ctx, now.AddDate(0, 0, 3), today.AddDate(0, 0, 3), 7, "x")); c["no_contact_tasks"] != 0 {
		t.Fatalf("done task, same period: %v", c)
	}
	// A period later: the case whose task was done, and the one called 9 days ago.
	if c := must(t)(f.app.NoContactTasks(ctx, now.AddDate(0, 0, 7), today.AddDate(0, 0, 7), 7, "x")); c["no_contact_tasks"] != 2 {
		t.Fatalf("next period: %v", c)
	}

	// Digest: one mail per consultant with their tasks due today or before.
	f.exec(t, `INSERT INTO case_tasks (case_id, title, due_on, assigned_to) VALUES ($1, '山田様に電話', $2, NULL), ($1, '来週', $3, $4)`,
		called, today.AddDate(0, 0, -1), today.AddDate(0, 0, 7), sato)
	digest := func() job.Counts {
		return must(t)(f.app.TaskDigests(ctx, today, func(to string, ts []reminder.Task) reminder.Mail {
			return reminder.DigestMail("https://carematch.example.jp", to, ts, today)
		}))
	}
	if c := digest(); c["digests"] != 2 || c["digest_tasks"] != 2 {
		t.Fatalf("digests: %v", c)
	}
	var body string
	if err := f.owner.Pool.QueryRow(ctx, `SELECT body FROM outbox WHERE purpose = 'task_digest' AND recipient = 'sato@carematch.example.jp'`).Scan(&body); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "期限切れ 1 件") || strings.Contains(body, "山田") || !strings.Contains(body, fmt.Sprintf("/staff/cases/%d", called)) {
		t.Errorf("digest body:\n%s", body)
	}
	if c := digest(); c["digests"] != 0 {
		t.Fatalf("second digest the same day: %v", c)
	}
}

func TestRetentionAnonymisesClosedCases(t *testing.T) {
	f := newJobsFixture(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 5, 3, 0, 0, 0, jst)
	sato := f.staff(t, "sato@carematch.example.jp", "consultant")
	long := now.AddDate(-4, 0, 0)
	old := f.kase(t, "失注", sato, 13, long)
	oldFollow := f.kase(t, "フォロー", sato, 27, long)
	recent := f.kase(t, "短期退去", sato, 13, now.AddDate(0, -6, 0))
	openOld := f.kase(t, "保留", sato, 13, long)
	calledLately := f.kase(t, "失注", sato, 13, long)
	f.exec(t, `UPDATE cases SET last_contact_at = $2 WHERE id = $1`, calledLately, now.AddDate(0, -1, 0))
	f.exec(t, `UPDATE cases SET tokuyo_exception = true, wished_features = '{nurse24}' WHERE id = $1`, old)

	fac := f.facility(t, "ひだまり苑", true)
	f.exec(t, `INSERT INTO case_activities (case_id, kind, body) VALUES ($1, 'note', '長男から電話：入院した')`, old)
	f.exec(t, `INSERT INTO case_tasks (case_id, title, due_on) VALUES ($1, '佐藤様へ書類送付', '2022-12-01')`, old)
	f.exec(t, `INSERT INTO outbox (case_id, purpose, recipient, subject, body) VALUES ($1, 'case_confirmation', 'hanako@example.jp', '件名', '本文')`, old)
	prop := f.int(t, `INSERT INTO proposals (case_id, token_hash, salutation, message, created_by, expires_at, idempotency_key)
		VALUES ($1, sha256('x'), '佐藤様', 'お母様の胃ろうに対応できる施設です', $2, now() + interval '1 day', md5('p')) RETURNING id`, old, sato)
	f.exec(t, `INSERT INTO proposal_items VALUES ($1, 1, $2, 'インスリン対応可')`, prop, fac)
	consent := f.int(t, `INSERT INTO share_consents (case_id, facility_id, method, consented_on) VALUES ($1, $2, 'phone', '2022-11-01') RETURNING id`, old, fac)
	ref := f.int(t, `INSERT INTO referrals (case_id, facility_id, person_key, status, decline_reason, note, sent_by, idempotency_key)
		VALUES ($1, $2, 'digest-of-name-and-birth', 'declined', '医療依存度が高い', '夜間の吸引あり', $3, md5('r')) RETURNING id`, old, fac, sato)
	f.exec(t, `INSERT INTO provision_records (case_id, facility_id, referral_id, consent_id, fields, provided_by) VALUES ($1, $2, $3, $4, '{care_level,medical_needs}', $5)`,
		old, fac, ref, consent, sato)
	f.exec(t, `INSERT INTO tours (case_id, facility_id, status, family_note, outcome_note, idempotency_key) VALUES ($1, $2, 'done', '車椅子で伺います', '本人が気に入った', md5('t'))`, old, fac)
	f.exec(t, `INSERT INTO move_ins (case_id, facility_id, moved_in_on, room_type, monthly_fee, monthly_rent, recorded_by, exited_on, exit_reason)
		VALUES ($1, $2, '2022-10-01', '個室', 250000, 120000, $3, '2022-11-01', '入院のため')`, oldFollow, fac, sato)
	f.exec(t, `INSERT INTO audit_events (user_id, role, case_id, action) VALUES ($1, 'consultant', $2, 'view')`, sato, old)

	cutoff, err := retention.Cutoff(now, 1095)
	if err != nil {
		t.Fatal(err)
	}
	c := must(t)(f.app.AnonymiseCases(ctx, now, cutoff))
	if c["cases_anonymised"] != 2 {
		t.Fatalf("anonymised: %v", c)
	}
	// What the anonymised case still says, and that nothing personal is left.
	var status, ageBand, careBand, rel string
	var pref int
	if err := f.owner.Pool.QueryRow(ctx, `SELECT status, age_band, care_band, relationship, pref_code FROM cases WHERE id = $1`, old).Scan(&status, &ageBand, &careBand, &rel, &pref); err != nil {
		t.Fatal(err)
	}
	if status != "失注" || ageBand != "80代" || careBand != "要介護3-5" || rel != "子" || pref != 13 {
		t.Errorf("kept facts: %s %s %s %s %d", status, ageBand, careBand, rel, pref)
	}
	for _, id := range []int64{old, oldFollow} {
		var row string
		if err := f.owner.Pool.QueryRow(ctx, `SELECT c::text FROM cases c WHERE id = $1`, id).Scan(&row); err != nil {
			t.Fatal(err)
		}
		for _, personal := range []string{"佐藤", "サトウ", "0312345678", "hanako", "150-0001", "神宮前", "1940", "要介護3,", "insulin", "nurse24", ",t,", "夜間", "歩行器", "長男", "意向", "渋谷"} {
			if strings.Contains(row, personal) {
				t.Errorf("case %d still holds %q: %s", id, personal, row)
			}
		}
	}
	var leftovers string
	if err := f.owner.Pool.QueryRow(ctx, `SELECT concat_ws('|',
			(SELECT string_agg(body, ',') FROM case_activities WHERE case_id = $1),
			(SELECT string_agg(title, ',') FROM case_tasks WHERE case_id = $1),
			(SELECT count(*)::text FROM outbox WHERE case_id = $1),
			(SELECT salutation || message || (revoked_at IS NOT NULL)::text FROM proposals WHERE case_id = $1),
			(SELECT string_agg(comment, ',') FROM proposal_items WHERE proposal_id = $3),
			(SELECT note || decline_reason || person_key FROM referrals WHERE case_id = $1),
			(SELECT family_note || outcome_note FROM tours WHERE case_id = $1),
			(SELECT exit_reason FROM move_ins WHERE case_id = $2))`, old, oldFollow, prop).Scan(&leftovers); err != nil {
		t.Fatal(err)
	}
	for _, personal := range []string{"長男", "佐藤", "胃ろう", "インスリン", "digest", "吸引", "医療", "車椅子", "気に入った", "入院"} {
		if strings.Contains(leftovers, personal) {
			t.Errorf("related rows still hold %q: %s", personal, leftovers)
		}
	}
	if n := f.int(t, `SELECT count(*) FROM outbox WHERE case_id = $1`, old); n != 0 {
		t.Errorf("%d mails of the anonymised case left", n)
	}
	// Records the law requires stay; the audit log gains one event per case.
	if n := f.int(t, `SELECT count(*) FROM provision_records WHERE case_id = $1 AND fields = '{care_level,medical_needs}'`, old); n != 1 {
		t.Error("provision record changed")
	}
	if n := f.int(t, `SELECT count(*) FROM share_consents WHERE case_id = $1`, old); n != 1 {
		t.Error("consent record removed")
	}
	if n := f.int(t, `SELECT count(*) FROM move_ins WHERE case_id = $1 AND monthly_fee = 250000 AND exited_on = '2022-11-01'`, oldFollow); n != 1 {
		t.Error("move-in facts changed")
	}
	if n := f.int(t, `SELECT count(*) FROM audit_events WHERE user_id = 0 AND role = 'system' AND action = 'anonymise' AND case_id IN ($1, $2) AND 'person_name' = ANY(fields)`, old, oldFollow); n != 2 {
		t.Errorf("anonymise audit events: %d", n)
	}
	if n := f.int(t, `SELECT count(*) FROM audit_events WHERE case_id = $1 AND action = 'view'`, old); n != 1 {
		t.Error("older audit events changed")
	}
	// Untouched: closed lately, not closed, called lately.
	if n := f.int(t, `SELECT count(*) FROM cases WHERE id IN ($1, $2, $3) AND anonymised_at IS NULL AND contact_name = '佐藤 花子'`, recent, openOld, calledLately); n != 3 {
		t.Errorf("cases that must keep their data: %d of 3", n)
	}
	// Idempotent.
	if c := must(t)(f.app.AnonymiseCases(ctx, now, cutoff)); c["cases_anonymised"] != 0 {
		t.Fatalf("rerun: %v", c)
	}
	if _, err := retention.Cutoff(now, 90); !errors.Is(err, retention.ErrPeriod) {
		t.Errorf("a 90-day period: %v", err)
	}
}

func TestKPISnapshot(t *testing.T) {
	f := newJobsFixture(t)
	ctx := context.Background()
	day := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return time.Date(2026, 12, 3, h, 0, 0, 0, jst) }
	sato := f.staff(t, "sato@carematch.example.jp", "consultant")
	kato := f.staff(t, "kato@carematch.example.jp", "consultant")
	a := f.kase(t, "見学", sato, 13, at(1)) // 01:00 JST on the 3rd is still the 2nd in UTC
	b := f.kase(t, "入居", sato, 14, at(10))
	f.kase(t, "受付", kato, 13, at(23))
	f.kase(t, "受付", 0, 0, at(12))
	f.kase(t, "受付", sato, 13, at(25)) // the 4th
	fac := f.facility(t, "ひだまり苑", true)
	f.exec(t, `INSERT INTO proposals (case_id, token_hash, salutation, created_by, created_at, expires_at, idempotency_key)
		VALUES ($1, sha256('x'), '様', $2, $3::timestamptz, $3::timestamptz + interval '7 days', md5('p'))`, a, sato, at(11))
	f.exec(t, `INSERT INTO tours (case_id, facility_id, status, confirmed_at, idempotency_key) VALUES
		($1, $3, 'done', $4, md5('t1')), ($2, $3, 'confirmed', $4, md5('t2')), ($2, $3, 'cancelled', $4, md5('t3'))`, a, b, fac, at(14))
	moveIn := f.int(t, `INSERT INTO move_ins (case_id, facility_id, moved_in_on, room_type, monthly_fee, monthly_rent, recorded_by) VALUES ($1, $2, $3, '個室', 1, 1, $4) RETURNING id`, b, fac, day, sato)
	// Billing's accruals feed the fees (0013): the fee on the move-in's
	// day, and a refund (of that fee) the day before the snapshot's last.
	contract := f.int(t, `INSERT INTO contracts (name, scope, idempotency_key) VALUES ('ひだまり会', 'facility', md5('c')) RETURNING id`)
	version := f.int(t, `INSERT INTO contract_versions (contract_id, version, effective_from, starts_on, fee_kind, fee_yen, trigger,
			validity_months, refund_steps, tax, recipient_name, recipient_address, idempotency_key)
		VALUES ($1, 1, '2026-01-01', '2026-01-01', 'fixed', 215000, 'move_in', 6, '[]', 'standard', 'ひだまり会', '東京都', md5('v')) RETURNING id`, contract)
	fee := f.int(t, `INSERT INTO fee_accruals (contract_id, contract_version_id, facility_id, kind, source, source_id, move_in_id, occurred_on, description, amount, tax_rate_bp)
		VALUES ($1, $2, $3, 'fee', 'move_in', $4, $4, $5, '入居紹介手数料', 215000, 1000) RETURNING id`, contract, version, fac, moveIn, day)
	f.exec(t, `INSERT INTO fee_accruals (contract_id, contract_version_id, facility_id, kind, source, source_id, refunds_accrual_id, occurred_on, description, amount, tax_rate_bp)
		VALUES ($1, $2, $3, 'refund', 'exit', $4, $4, $5, '返金', -100000, 1000)`, contract, version, fac, fee, day.AddDate(0, 0, -1))

	snap := func() {
		t.Helper()
		must(t)(f.app.SnapshotKPI(ctx, day.AddDate(0, 0, -2), day, time.Now()))
	}
	snap()
	type row struct{ inq, prop, tours, moves int }
	get := func(consultant int64, pref int) row {
		var r row
		if err := f.owner.Pool.QueryRow(ctx, `SELECT inquiries, proposals, tours, move_ins FROM kpi_daily WHERE day = $1 AND consultant_id = $2 AND pref_code = $3`,
			day, consultant, pref).Scan(&r.inq, &r.prop, &r.tours, &r.moves); err != nil {
			t.Fatalf("kpi row %d/%d: %v", consultant, pref, err)
		}
		return r
	}
	checks := []struct {
		consultant int64
		pref       int
		want       row
	}{
		{0, 0, row{4, 1, 2, 1}},
		{sato, 0, row{2, 1, 2, 1}},
		{kato, 0, row{1, 0, 0, 0}},
		{-1, 0, row{1, 0, 0, 0}},
		{0, 13, row{2, 1, 1, 0}},
		{0, 14, row{1, 0, 1, 1}},
		{0, -1, row{1, 0, 0, 0}},
	}
	for _, c := range checks {
		if got := get(c.consultant, c.pref); got != c.want {
			t.Errorf("consultant %d pref %d: %+v, want %+v", c.consultant, c.pref, got, c.want)
		}
	}
	fees := func(d time.Time, consultant int64, pref int) int64 {
		return f.int(t, `SELECT fees FROM kpi_daily WHERE day = $1 AND consultant_id = $2 AND pref_code = $3`, d, consultant, pref)
	}
	if a, s, p, r := fees(day, 0, 0), fees(day, sato, 0), fees(day, 0, 14), fees(day.AddDate(0, 0, -1), 0, 14); a != 215000 || s != 215000 || p != 215000 || r != -100000 {
		t.Errorf("fees: all %d, sato %d, pref 14 %d, refund the day before %d", a, s, p, r)
	}
	// Days without events get a zero row; rates come from the view.
	if n := f.int(t, `SELECT count(*) FROM kpi_daily WHERE day = $1 AND consultant_id = 0 AND pref_code = 0 AND inquiries = 0`, day.AddDate(0, 0, -2)); n != 1 {
		t.Error("no zero row for a quiet day")
	}
	var rate float64
	if err := f.owner.Pool.QueryRow(ctx, `SELECT move_in_rate FROM reporting.kpi_daily WHERE day = $1 AND consultant_id = $2 AND pref_code = 0`, day, sato).Scan(&rate); err != nil || rate != 0.5 {
		t.Errorf("sato's move-in rate: %v %v", rate, err)
	}
	// A rerun gives the same table, also after a late change is counted.
	before := f.int(t, `SELECT count(*) FROM kpi_daily`)
	snap()
	if after := f.int(t, `SELECT count(*) FROM kpi_daily`); after != before {
		t.Fatalf("rerun changed the row count: %d → %d", before, after)
	}
	f.exec(t, `UPDATE cases SET assigned_to = $2 WHERE id = $1`, a, kato)
	snap()
	if got := get(kato, 0); got != (row{2, 1, 1, 0}) {
		t.Errorf("after reassignment: %+v", got)
	}
}

// TestReportingRoleReadsViewsOnly: carematch_readonly (Metabase) reads
// every reporting view and nothing in public; the views show no direct
// identifier.
func TestReportingRoleReadsViewsOnly(t *testing.T) {
	f := newJobsFixture(t)
	ctx := context.Background()
	sato := f.staff(t, "sato@carematch.example.jp", "consultant")
	f.kase(t, "受付", sato, 13, time.Now())
	ro := asRole(t, f.url, "carematch_readonly")

	rows, err := f.owner.Pool.Query(ctx, `SELECT table_name FROM information_schema.views WHERE table_schema = 'reporting' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var views []string
	for rows.Next() {
		var v string
		rows.Scan(&v)
		views = append(views, v)
	}
	if len(views) < 8 {
		t.Fatalf("reporting views: %v", views)
	}
	for _, v := range views {
		if _, err := ro.Pool.Exec(ctx, `SELECT * FROM reporting.`+v+` LIMIT 1`); err != nil {
			t.Errorf("readonly cannot read reporting.%s: %v", v, err)
		}
	}
	var n int
	if err := ro.Pool.QueryRow(ctx, `SELECT count(*) FROM reporting.cases`).Scan(&n); err != nil || n != 1 {
		t.Errorf("reporting.cases as readonly: %d %v", n, err)
	}
	for _, table := range []string{"cases", "staff_users", "audit_events", "case_activities", "outbox", "kpi_daily", "facilities"} {
		_, err := ro.Pool.Exec(ctx, `SELECT 1 FROM public.`+table+` LIMIT 1`)
		if pe := (*pgconn.PgError)(nil); !errors.As(err, &pe) || pe.Code != "42501" {
			t.Errorf("readonly reading public.%s: %v, want permission denied", table, err)
		}
	}
	if _, err := ro.Pool.Exec(ctx, `CREATE TABLE reporting.x (i int)`); err == nil {
		t.Error("readonly could create a table in reporting")
	}
	// No column of a reporting view is a direct identifier.
	cols, err := f.owner.Pool.Query(ctx, `SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'reporting'`)
	if err != nil {
		t.Fatal(err)
	}
	for cols.Next() {
		var c string
		cols.Scan(&c)
		for _, bad := range []string{"contact", "phone", "email", "address", "postal", "note", "birth", "person", "kana", "guarantor", "salutation", "message", "reason", "summary"} {
			if strings.Contains(c, bad) {
				t.Errorf("reporting column %s looks like personal data (%s)", c, bad)
			}
		}
	}
}

// TestAppRoleCannotRewriteAudit: the application's role adds and reads
// audit events but cannot change, remove or truncate them, nor write the
// migration record; its ordinary work is allowed.
func TestAppRoleCannotRewriteAudit(t *testing.T) {
	f := newJobsFixture(t)
	ctx := context.Background()
	if _, err := f.app.Pool.Exec(ctx, `INSERT INTO audit_events (user_id, role, action) VALUES (1, 'manager', 'view')`); err != nil {
		t.Fatalf("app cannot add an audit event: %v", err)
	}
	var n int
	if err := f.app.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("app reading audit events: %d %v", n, err)
	}
	// A GRANT by a role without grant option grants nothing (a warning).
	f.app.Pool.Exec(ctx, `GRANT UPDATE, DELETE ON audit_events TO carematch_app`)
	for _, sql := range []string{
		`UPDATE audit_events SET user_id = 2`,
		`DELETE FROM audit_events`,
		`TRUNCATE audit_events`,
		`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update`,
		`DROP TABLE audit_events`,
		`DELETE FROM schema_migrations`,
		`INSERT INTO schema_migrations (version, checksum) VALUES ('9999_x', 'x')`,
	} {
		_, err := f.app.Pool.Exec(ctx, sql)
		if pe := (*pgconn.PgError)(nil); !errors.As(err, &pe) || (pe.Code != "42501" && pe.Code != "0LP01") {
			t.Errorf("%s as carematch_app: %v, want permission denied", sql, err)
		}
	}
	if err := f.app.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE user_id = 1`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("audit event after the refused changes: %d %v", n, err)
	}
	// Its ordinary work: write and change a case, read migrations.
	sato := f.staff(t, "sato@carematch.example.jp", "consultant")
	id := f.kase(t, "受付", sato, 13, time.Now())
	if _, err := f.app.Pool.Exec(ctx, `UPDATE cases SET status = 'ヒアリング' WHERE id = $1`, id); err != nil {
		t.Errorf("app updating a case: %v", err)
	}
	if _, err := f.app.Pending(ctx); err != nil {
		t.Errorf("app reading the migration status: %v", err)
	}
}
