package postgres_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"carematch/audit"
	"carematch/auth"
	"carematch/casework"
	"carematch/intake"
	"carematch/postgres"
)

func caseworkFixture(t *testing.T) (*postgres.DB, int64, audit.Event) {
	t.Helper()
	db := postgres.TestDB(t)
	ctx := context.Background()
	c := testCase(t, intake.NewIdempotencyKey())
	st, err := db.CreateCase(ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := auth.HashPassword("correct horse battery staple")
	uid, err := db.CreateStaffUser(ctx, auth.User{Email: "sato@example.jp", Name: "佐藤", Role: auth.Consultant, PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	return db, st.ID, audit.Event{At: time.Now(), UserID: uid, Role: "consultant", IP: "192.0.2.7", RequestID: "req-1"}
}

func auditRows(t *testing.T, db *postgres.DB, caseID int64) []audit.Record {
	t.Helper()
	rows, err := db.AuditEvents(context.Background(), audit.Filter{CaseID: caseID})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestAuditEventsAreAppendOnly: the table refuses UPDATE, DELETE and
// TRUNCATE even for its owner (the role tests connect as).
func TestAuditEventsAreAppendOnly(t *testing.T) {
	db, id, ev := caseworkFixture(t)
	ctx := context.Background()
	if _, err := db.OpenCase(ctx, id, ev); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		`UPDATE audit_events SET user_id = 999`,
		`DELETE FROM audit_events`,
		`TRUNCATE audit_events`,
	} {
		if _, err := db.Pool.Exec(ctx, sql); err == nil {
			t.Errorf("%s succeeded", sql)
		}
	}
	if rows := auditRows(t, db, id); len(rows) != 1 || rows[0].UserID != ev.UserID {
		t.Fatalf("audit rows after the refused changes: %+v", rows)
	}
}

// TestEveryViewAndChangeIsAudited: opening, editing, moving, assigning
// and noting each write one audit event with who, what, where from.
func TestEveryViewAndChangeIsAudited(t *testing.T) {
	db, id, ev := caseworkFixture(t)
	ctx := context.Background()
	f, err := db.OpenCase(ctx, id, ev)
	if err != nil {
		t.Fatal(err)
	}
	h := f.Case.Hearing
	h.KeyPerson = "長女"
	h.Guarantor = "長男"
	if _, err := db.SaveHearing(ctx, id, f.Case.Version, h, ev); err != nil {
		t.Fatal(err)
	}
	if err := db.TransitionCase(ctx, id, casework.Interview, "", ev); err != nil {
		t.Fatal(err)
	}
	if err := db.AssignCase(ctx, id, ev.UserID, ev); err != nil {
		t.Fatal(err)
	}
	if err := db.AddActivity(ctx, id, casework.Call, "娘さんと電話", ev); err != nil {
		t.Fatal(err)
	}
	rows := auditRows(t, db, id)
	var got []string
	for _, r := range rows {
		got = append(got, string(r.Action))
		if r.UserID != ev.UserID || r.Role != "consultant" || r.IP != "192.0.2.7" || r.RequestID != "req-1" || r.CaseID != id {
			t.Errorf("event %+v", r)
		}
	}
	want := []string{"create", "assign", "transition", "update", "view"} // newest first
	if !slices.Equal(got, want) {
		t.Fatalf("actions %v, want %v", got, want)
	}
	if !slices.Equal(rows[3].Fields, []string{"key_person", "guarantor"}) {
		t.Errorf("update fields %v", rows[3].Fields)
	}
	if !slices.Contains(rows[4].Fields, "phone") || !slices.Contains(rows[4].Fields, "care_level") {
		t.Errorf("view fields %v", rows[4].Fields)
	}
	// A list and a search are audited too (without a case).
	if _, err := db.Cases(ctx, casework.Filter{Query: "０３－１２３４", Now: time.Now()}, ev); err != nil {
		t.Fatal(err)
	}
	all, _ := db.AuditEvents(ctx, audit.Filter{UserID: ev.UserID})
	if all[0].Action != audit.Search || all[0].CaseID != 0 {
		t.Errorf("search event %+v", all[0])
	}
}

// TestFailingAuditRollsTheChangeBack: when the audit row cannot be
// written the change is not made, and a view is not returned.
func TestFailingAuditRollsTheChangeBack(t *testing.T) {
	db, id, ev := caseworkFixture(t)
	ctx := context.Background()
	f, err := db.OpenCase(ctx, id, ev)
	if err != nil {
		t.Fatal(err)
	}
	// Make every further audit insert fail, as a full disk or a broken
	// grant would.
	if _, err := db.Pool.Exec(ctx, `ALTER TABLE audit_events ADD CONSTRAINT test_refuse CHECK (false) NOT VALID`); err != nil {
		t.Fatal(err)
	}
	h := f.Case.Hearing
	h.Guarantor = "長男"
	if _, err := db.SaveHearing(ctx, id, f.Case.Version, h, ev); err == nil {
		t.Fatal("save succeeded without its audit event")
	}
	if err := db.TransitionCase(ctx, id, casework.Interview, "", ev); err == nil {
		t.Fatal("transition succeeded without its audit event")
	}
	if err := db.AddActivity(ctx, id, casework.Note, "メモ", ev); err == nil {
		t.Fatal("note added without its audit event")
	}
	if _, err := db.OpenCase(ctx, id, ev); err == nil {
		t.Fatal("case shown without its audit event")
	}
	if _, err := db.Pool.Exec(ctx, `ALTER TABLE audit_events DROP CONSTRAINT test_refuse`); err != nil {
		t.Fatal(err)
	}
	after, err := db.OpenCase(ctx, id, ev)
	if err != nil {
		t.Fatal(err)
	}
	if after.Case.Hearing.Guarantor != "" || after.Case.Status != casework.Received || after.Case.Version != f.Case.Version || len(after.Activities) != 0 {
		t.Fatalf("a change without audit was kept: %+v", after.Case)
	}
}

// TestStaleSaveIsRefusedWithTheChangedFields: two consultants open
// version 1; the first saves; the second save is refused, names the field
// the first changed with both values, and overwrites nothing.
func TestStaleSaveIsRefusedWithTheChangedFields(t *testing.T) {
	db, id, ev := caseworkFixture(t)
	ctx := context.Background()
	a, _ := db.OpenCase(ctx, id, ev)
	b, _ := db.OpenCase(ctx, id, ev)
	ha := a.Case.Hearing
	ha.BudgetMonthly = "20万円まで"
	if _, err := db.SaveHearing(ctx, id, a.Case.Version, ha, ev); err != nil {
		t.Fatal(err)
	}
	hb := b.Case.Hearing
	hb.BudgetMonthly = "15万円まで"
	hb.KeyPerson = "次女"
	_, err := db.SaveHearing(ctx, id, b.Case.Version, hb, ev)
	var ce *casework.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("stale save: %v", err)
	}
	want := []casework.Change{{Field: "budget_monthly", Label: "月額予算", Theirs: "15万円まで", Current: "20万円まで"}}
	if !slices.Equal(ce.Changes, want) {
		t.Fatalf("changes %+v, want %+v", ce.Changes, want)
	}
	now, _ := db.OpenCase(ctx, id, ev)
	if now.Case.Hearing.BudgetMonthly != "20万円まで" || now.Case.Hearing.KeyPerson != "" || now.Case.Version != a.Case.Version+1 {
		t.Fatalf("after the refused save: %+v", now.Case.Hearing)
	}
}

func TestTransitionsFollowTheTable(t *testing.T) {
	db, id, ev := caseworkFixture(t)
	ctx := context.Background()
	err := db.TransitionCase(ctx, id, casework.Contract, "", ev)
	var te *casework.TransitionError
	if !errors.As(err, &te) || !errors.Is(err, casework.ErrIllegalTransition) {
		t.Fatalf("受付 → 契約: %v", err)
	}
	for _, to := range []string{casework.Interview, casework.Proposal, casework.OnHold, casework.Interview} {
		if err := db.TransitionCase(ctx, id, to, "", ev); err != nil {
			t.Fatalf("→ %s: %v", to, err)
		}
	}
	if err := db.TransitionCase(ctx, id, casework.Lost, "", ev); !errors.Is(err, casework.ErrReasonRequired) {
		t.Fatalf("失注 without reason: %v", err)
	}
	if err := db.TransitionCase(ctx, id, casework.Lost, "他社で決定", ev); err != nil {
		t.Fatal(err)
	}
	f, _ := db.OpenCase(ctx, id, ev)
	if f.Case.Status != casework.Lost || f.Case.LostReason != "他社で決定" {
		t.Fatalf("case %+v", f.Case)
	}
	var moves []string
	for _, a := range f.Activities {
		if a.Kind == casework.StatusKind {
			moves = append(moves, a.FromStatus+"→"+a.ToStatus+"/"+a.UserName)
		}
	}
	want := []string{"ヒアリング→失注/佐藤", "保留→ヒアリング/佐藤", "候補提案→保留/佐藤", "ヒアリング→候補提案/佐藤", "受付→ヒアリング/佐藤"}
	if !slices.Equal(moves, want) {
		t.Fatalf("timeline %v", moves)
	}
}

func TestCaseListsAndSearch(t *testing.T) {
	db, id, ev := caseworkFixture(t)
	ctx := context.Background()
	now := time.Now()
	inbox, err := db.Cases(ctx, casework.Filter{Inbox: true, Now: now}, ev)
	if err != nil || len(inbox) != 1 || inbox[0].ID != id {
		t.Fatalf("inbox %+v %v", inbox, err)
	}
	if err := db.AssignCase(ctx, id, ev.UserID, ev); err != nil {
		t.Fatal(err)
	}
	if inbox, _ = db.Cases(ctx, casework.Filter{Inbox: true, Now: now}, ev); len(inbox) != 0 {
		t.Fatal("an assigned case stays in the inbox")
	}
	for _, q := range []string{"佐藤一郎", "佐藤 一郎", "03-1234-5678", "０３１２３４５６７８", "1234-5678"} {
		got, err := db.Cases(ctx, casework.Filter{Query: q, Now: now}, ev)
		if err != nil || len(got) != 1 {
			t.Errorf("search %q: %d %v", q, len(got), err)
		}
	}
	for _, q := range []string{"鈴木", "090-9999-9999", "%"} {
		if got, _ := db.Cases(ctx, casework.Filter{Query: q, Now: now}, ev); len(got) != 0 {
			t.Errorf("search %q found %d", q, len(got))
		}
	}
	mine, _ := db.Cases(ctx, casework.Filter{AssignedTo: ev.UserID, Status: casework.Received, PrefCode: 13, Now: now}, ev)
	if len(mine) != 1 || mine[0].AssignedName != "佐藤" {
		t.Fatalf("mine %+v", mine)
	}
	if stale, _ := db.Cases(ctx, casework.Filter{NoContactFor: 3, Now: now}, ev); len(stale) != 0 {
		t.Fatal("a case received today has gone 3 days without contact")
	}
	if stale, _ := db.Cases(ctx, casework.Filter{NoContactFor: 3, Now: now.AddDate(0, 0, 4)}, ev); len(stale) != 1 {
		t.Fatal("a case without contact for 4 days is not found")
	}
	if err := db.AssignCase(ctx, id, 99999, ev); !errors.Is(err, casework.ErrNotAssignable) {
		t.Fatalf("assign to nobody: %v", err)
	}
	// Tasks due today.
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.Local)
	if err := db.AddTask(ctx, id, "折り返し電話", today, 0, ev); err != nil {
		t.Fatal(err)
	}
	if err := db.AddTask(ctx, id, "来週の見学", today.AddDate(0, 0, 7), 0, ev); err != nil {
		t.Fatal(err)
	}
	due, err := db.TasksDue(ctx, ev.UserID, today, ev)
	if err != nil || len(due) != 1 || due[0].Title != "折り返し電話" {
		t.Fatalf("due %+v %v", due, err)
	}
	if err := db.CompleteTask(ctx, id, due[0].ID, ev); err != nil {
		t.Fatal(err)
	}
	if due, _ = db.TasksDue(ctx, ev.UserID, today, ev); len(due) != 0 {
		t.Fatal("a done task is still due")
	}
}
