package postgres_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"carematch/audit"
	"carematch/casework"
	"carematch/facility"
	"carematch/intake"
	"carematch/postgres"
	"carematch/proposal"
)

type proposalFixture struct {
	db     *postgres.DB
	caseID int64
	ev     audit.Event
	facs   []facility.Facility
}

func newProposalFixture(t *testing.T) proposalFixture {
	t.Helper()
	db, caseID, ev := caseworkFixture(t)
	a, b := fullFacility(), fullFacility()
	b.Name = "二軒目ホーム"
	fs := []facility.Facility{a, b}
	if err := db.InsertFacilities(context.Background(), fs); err != nil {
		t.Fatal(err)
	}
	return proposalFixture{db, caseID, ev, fs}
}

func (f proposalFixture) draft(key string) proposal.Draft {
	return proposal.Draft{CaseID: f.caseID, Salutation: "佐藤様", Message: "ご検討ください。", IdempotencyKey: key,
		Items: []proposal.Item{{FacilityID: f.facs[0].ID, Comment: "駅から近く、看取りまで対応"}, {FacilityID: f.facs[1].ID}}}
}

func (f proposalFixture) create(t *testing.T, expires time.Time) (string, proposal.Created) {
	t.Helper()
	tok, hash := proposal.NewToken()
	c, err := f.db.CreateProposal(context.Background(), f.draft(intake.NewIdempotencyKey()), expires, hash, "https://example.jp/p/"+tok, f.ev)
	if err != nil {
		t.Fatal(err)
	}
	return tok, c
}

func count(t *testing.T, db *postgres.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCreateProposalIdempotent: eight concurrent submits of one rendered
// form make one proposal, one set of items, one mail, one timeline entry
// and one audit event; exactly one submit is told it created it.
func TestCreateProposalIdempotent(t *testing.T) {
	f := newProposalFixture(t)
	ctx := context.Background()
	key := intake.NewIdempotencyKey()
	expires := time.Now().Add(30 * 24 * time.Hour)
	var wg sync.WaitGroup
	res := make([]proposal.Created, 8)
	errs := make([]error, 8)
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, hash := proposal.NewToken()
			res[i], errs[i] = f.db.CreateProposal(ctx, f.draft(key), expires, hash, "https://example.jp/p/"+tok, f.ev)
		}()
	}
	wg.Wait()
	created := 0
	for i := range res {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if res[i].ID != res[0].ID {
			t.Errorf("submit %d ended in proposal %d, not %d", i, res[i].ID, res[0].ID)
		}
		if res[i].New {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d submits created the proposal, want 1", created)
	}
	for sql, want := range map[string]int{
		`SELECT count(*) FROM proposals WHERE case_id = $1`:                                                       1,
		`SELECT count(*) FROM proposal_items i JOIN proposals p ON p.id = i.proposal_id WHERE p.case_id = $1`:     2,
		`SELECT count(*) FROM outbox WHERE case_id = $1 AND purpose = 'proposal_link'`:                            1,
		`SELECT count(*) FROM case_activities WHERE case_id = $1 AND kind = 'proposal'`:                           1,
		`SELECT count(*) FROM audit_events WHERE case_id = $1 AND action = 'create' AND 'proposal' = ANY(fields)`: 1,
	} {
		if n := count(t, f.db, sql, f.caseID); n != want {
			t.Errorf("%s: %d, want %d", sql, n, want)
		}
	}
	// the mail goes to the case's address, opens with the salutation and
	// carries the link of the proposal stored (the one whose hash is kept)
	var to, body string
	if err := f.db.Pool.QueryRow(ctx, `SELECT recipient, body FROM outbox WHERE case_id = $1`, f.caseID).Scan(&to, &body); err != nil {
		t.Fatal(err)
	}
	if to != "ichiro@example.jp" || !strings.HasPrefix(body, "佐藤様\n") {
		t.Errorf("mail to %q:\n%s", to, body)
	}
	i := strings.Index(body, "/p/")
	tok := body[i+3 : i+3+43]
	p, err := f.db.OpenProposal(ctx, proposal.HashToken(tok), time.Now())
	if err != nil || p.ID != res[0].ID {
		t.Fatalf("the mailed link opens %d, %v; want proposal %d", p.ID, err, res[0].ID)
	}
	if len(p.Items) != 2 || p.Items[0].Name != "テストホーム" || p.Items[0].Comment != "駅から近く、看取りまで対応" || p.CreatedByName != "佐藤" {
		t.Errorf("opened proposal %+v", p)
	}
}

// TestProposalWithoutEmailSendsNoMail: a case reached by phone only gets
// no mail; the consultant passes the link on.
func TestProposalWithoutEmailSendsNoMail(t *testing.T) {
	f := newProposalFixture(t)
	ctx := context.Background()
	if _, err := f.db.Pool.Exec(ctx, `UPDATE cases SET email = '' WHERE id = $1`, f.caseID); err != nil {
		t.Fatal(err)
	}
	c, err := f.db.ProposalCase(ctx, f.caseID, f.ev)
	if err != nil || c.HasEmail || c.ContactName != "佐藤 一郎" {
		t.Fatalf("proposal case %+v, %v", c, err)
	}
	f.create(t, time.Now().Add(time.Hour))
	if n := count(t, f.db, `SELECT count(*) FROM outbox WHERE case_id = $1 AND purpose = 'proposal_link'`, f.caseID); n != 0 {
		t.Errorf("%d mails for a case without an address", n)
	}
	if _, err := f.db.ProposalCase(ctx, 999999, f.ev); !errors.Is(err, casework.ErrNotFound) {
		t.Errorf("unknown case: %v", err)
	}
}

// TestOpenProposalRefusesExpiredRevokedUnknown: the three are the same
// not-found; the first opening is stamped once and put on the timeline.
func TestOpenProposalRefusesExpiredRevokedUnknown(t *testing.T) {
	f := newProposalFixture(t)
	ctx := context.Background()
	now := time.Now()
	live, liveC := f.create(t, now.Add(time.Hour))
	expired, _ := f.create(t, now.Add(time.Hour))
	revoked, revokedC := f.create(t, now.Add(time.Hour))
	if err := f.db.RevokeProposal(ctx, f.caseID, revokedC.ID, f.ev); err != nil {
		t.Fatal(err)
	}
	if err := f.db.RevokeProposal(ctx, f.caseID, revokedC.ID, f.ev); err != nil {
		t.Fatalf("second revoke: %v", err)
	}
	if err := f.db.RevokeProposal(ctx, f.caseID+1, liveC.ID, f.ev); !errors.Is(err, proposal.ErrNotFound) {
		t.Errorf("revoke through another case: %v", err)
	}
	unknown, _ := proposal.NewToken()
	for name, tok := range map[string]string{"expired": expired, "revoked": revoked, "unknown": unknown} {
		at := now
		if name == "expired" {
			at = now.Add(time.Hour) // the instant it expires
		}
		if _, err := f.db.OpenProposal(ctx, proposal.HashToken(tok), at); !errors.Is(err, proposal.ErrNotFound) {
			t.Errorf("%s: %v, want proposal.ErrNotFound", name, err)
		}
	}
	for range 2 {
		p, err := f.db.OpenProposal(ctx, proposal.HashToken(live), now)
		if err != nil {
			t.Fatal(err)
		}
		if p.FirstOpenedAt == nil || p.FirstOpenedAt.Sub(now).Abs() > time.Millisecond {
			t.Errorf("first opened %v, want %v", p.FirstOpenedAt, now)
		}
	}
	if n := count(t, f.db, `SELECT count(*) FROM case_activities WHERE case_id = $1 AND kind = 'proposal' AND user_id IS NULL`, f.caseID); n != 1 {
		t.Errorf("%d timeline entries for the first opening, want 1", n)
	}
	if n := count(t, f.db, `SELECT count(*) FROM case_activities WHERE case_id = $1 AND body LIKE '%取り消し%'`, f.caseID); n != 1 {
		t.Errorf("%d timeline entries for one revocation revoked twice, want 1", n)
	}

	list, err := f.db.CaseProposals(ctx, f.caseID)
	if err != nil || len(list) != 3 {
		t.Fatalf("case proposals: %d, %v", len(list), err)
	}
	st := map[int64]string{}
	for _, p := range list {
		st[p.ID] = p.Status(now)
	}
	if st[liveC.ID] != proposal.Active || st[revokedC.ID] != proposal.Revoked {
		t.Errorf("statuses %v", st)
	}

	// a new link replaces the old one; a revoked proposal gets none
	tok, hash := proposal.NewToken()
	if err := f.db.ReissueProposalLink(ctx, f.caseID, liveC.ID, hash, f.ev); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.OpenProposal(ctx, proposal.HashToken(live), now); !errors.Is(err, proposal.ErrNotFound) {
		t.Errorf("old link after reissue: %v", err)
	}
	if p, err := f.db.OpenProposal(ctx, proposal.HashToken(tok), now); err != nil || p.ID != liveC.ID {
		t.Errorf("new link: %d, %v", p.ID, err)
	}
	_, hash2 := proposal.NewToken()
	if err := f.db.ReissueProposalLink(ctx, f.caseID, revokedC.ID, hash2, f.ev); !errors.Is(err, proposal.ErrNotFound) {
		t.Errorf("reissue of a revoked proposal: %v", err)
	}
}

// TestRequestTourOnce: a family's tour request makes one tour (requested,
// from the proposal) with the family's slots, one timeline entry and one
// mail to the assigned consultant, however often it is sent; a facility
// not in the proposal, or a revoked proposal, is refused.
func TestRequestTourOnce(t *testing.T) {
	f := newProposalFixture(t)
	ctx := context.Background()
	if err := f.db.AssignCase(ctx, f.caseID, f.ev.UserID, f.ev); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, c := f.create(t, now.Add(24*time.Hour))
	hash := proposal.HashToken(tok)
	slots := []time.Time{now.Add(72 * time.Hour).Truncate(time.Hour), now.Add(96 * time.Hour).Truncate(time.Hour)}
	req := proposal.TourRequest{ProposalID: c.ID, FacilityID: f.facs[1].ID, Slots: slots, Note: "車椅子です",
		IdempotencyKey: intake.NewIdempotencyKey(), At: now}
	caseURL := func(id int64) string { return "https://example.jp/staff/cases/" + itoa(id) }
	var first proposal.TourCreated
	for i := range 3 {
		got, err := f.db.RequestTour(ctx, hash, req, "", caseURL)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = got
			if !got.New || got.CaseID != f.caseID {
				t.Fatalf("first request %+v", got)
			}
		} else if got.New || got.TourID != first.TourID {
			t.Errorf("repeat %d: %+v, want tour %d not new", i, got, first.TourID)
		}
	}
	var status, note string
	var propID, facID int64
	if err := f.db.Pool.QueryRow(ctx, `SELECT status, family_note, proposal_id, facility_id FROM tours WHERE case_id = $1`, f.caseID).
		Scan(&status, &note, &propID, &facID); err != nil {
		t.Fatal(err)
	}
	if status != "requested" || note != "車椅子です" || propID != c.ID || facID != f.facs[1].ID {
		t.Errorf("tour %s %q proposal %d facility %d", status, note, propID, facID)
	}
	for sql, want := range map[string]int{
		`SELECT count(*) FROM tours WHERE case_id = $1`: 1,
		`SELECT count(*) FROM tour_slots s JOIN tours t ON t.id = s.tour_id WHERE t.case_id = $1 AND s.proposed_by = 'family' AND s.created_by IS NULL`: 2,
		`SELECT count(*) FROM case_activities WHERE case_id = $1 AND kind = 'tour'`:                                                                     1,
		`SELECT count(*) FROM outbox WHERE case_id = $1 AND purpose = 'tour_request' AND recipient = 'sato@example.jp'`:                                 1,
	} {
		if n := count(t, f.db, sql, f.caseID); n != want {
			t.Errorf("%s: %d, want %d", sql, n, want)
		}
	}
	var body string
	if err := f.db.Pool.QueryRow(ctx, `SELECT body FROM outbox WHERE purpose = 'tour_request'`).Scan(&body); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(body, "車椅子") || strings.Contains(body, "佐藤 一郎") || !strings.Contains(body, "/staff/cases/"+itoa(f.caseID)) {
		t.Errorf("consultant mail carries more than the case ref and link:\n%s", body)
	}
	tours, err := f.db.ProposalTours(ctx, c.ID)
	if err != nil || len(tours) != 1 || len(tours[0].Slots) != 2 || !slices.EqualFunc(tours[0].Slots, slots, time.Time.Equal) {
		t.Errorf("proposal tours %+v, %v", tours, err)
	}

	other := req
	other.IdempotencyKey, other.FacilityID = intake.NewIdempotencyKey(), f.facs[1].ID+1000
	if _, err := f.db.RequestTour(ctx, hash, other, "", caseURL); !errors.Is(err, proposal.ErrNotFound) {
		t.Errorf("facility outside the proposal: %v", err)
	}
	if err := f.db.RevokeProposal(ctx, f.caseID, c.ID, f.ev); err != nil {
		t.Fatal(err)
	}
	other.FacilityID = f.facs[0].ID
	if _, err := f.db.RequestTour(ctx, hash, other, "", caseURL); !errors.Is(err, proposal.ErrNotFound) {
		t.Errorf("revoked proposal: %v", err)
	}
	if n := count(t, f.db, `SELECT count(*) FROM tours WHERE case_id = $1`, f.caseID); n != 1 {
		t.Errorf("%d tours after refused requests", n)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
