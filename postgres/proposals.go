package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"carematch/audit"
	"carematch/casework"
	"carematch/proposal"
)

// Proposals to families (tables proposals and proposal_items) and the tour
// requests families make from them (tours, tour_slots). The link's token
// is never stored, only its SHA-256.

// ProposalCase is what the new-proposal form needs of a case: its
// reference, the contact's name for the default salutation and whether a
// mail can carry the link. Reading it is an audited view of those fields.
func (db *DB) ProposalCase(ctx context.Context, caseID int64, ev audit.Event) (proposal.Case, error) {
	var c proposal.Case
	err := db.audited(ctx, true, func(tx *auditTx) error {
		err := tx.QueryRow(ctx, `SELECT id, ref, contact_name, email <> '' FROM cases WHERE id = $1`, caseID).
			Scan(&c.ID, &c.Ref, &c.ContactName, &c.HasEmail)
		if errors.Is(err, pgx.ErrNoRows) {
			return casework.ErrNotFound
		}
		if err != nil {
			return err
		}
		return tx.record(ctx, ev.With(caseID, audit.View, "contact_name", "email"))
	})
	if err != nil {
		return proposal.Case{}, fmt.Errorf("proposal case %d: %w", caseID, err)
	}
	return c, nil
}

// CreateProposal stores a proposal with its facilities, a timeline entry,
// the audit event and — when the case has an e-mail address — the mail
// with the link, in one transaction. A second submit of the same form
// (same idempotency key, even concurrently) writes nothing and returns the
// first proposal with New false; its link cannot be shown again (only its
// hash is stored), so the caller offers to issue a new one.
func (db *DB) CreateProposal(ctx context.Context, d proposal.Draft, expires time.Time, tokenHash []byte, link string, ev audit.Event) (proposal.Created, error) {
	var out proposal.Created
	err := db.audited(ctx, false, func(tx *auditTx) error {
		var email string
		err := tx.QueryRow(ctx, `SELECT email FROM cases WHERE id = $1 FOR UPDATE`, d.CaseID).Scan(&email)
		if errors.Is(err, pgx.ErrNoRows) {
			return casework.ErrNotFound
		}
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `
			INSERT INTO proposals (case_id, token_hash, salutation, message, created_by, created_at, expires_at, idempotency_key)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
			d.CaseID, tokenHash, d.Salutation, d.Message, ev.UserID, ev.At, expires, d.IdempotencyKey).Scan(&out.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			var caseID int64
			if err := tx.QueryRow(ctx, `SELECT id, case_id FROM proposals WHERE idempotency_key = $1`, d.IdempotencyKey).Scan(&out.ID, &caseID); err != nil {
				return err
			}
			if caseID != d.CaseID {
				return fmt.Errorf("idempotency key of another case's proposal")
			}
			return nil
		}
		if err != nil {
			return err
		}
		out.New = true
		for i, it := range d.Items {
			if _, err := tx.Exec(ctx, `
				INSERT INTO proposal_items (proposal_id, position, facility_id, comment) VALUES ($1, $2, $3, $4)`,
				out.ID, i+1, it.FacilityID, it.Comment); err != nil {
				return fmt.Errorf("proposal item: %w", err)
			}
		}
		body := fmt.Sprintf("提案を作成しました（%d施設、%sまで有効）", len(d.Items), expires.Add(-time.Second).In(proposal.Tokyo).Format("2006年1月2日"))
		if email != "" {
			p, err := readProposal(ctx, tx, `p.id = $1`, out.ID)
			if err != nil {
				return err
			}
			if err := enqueueMail(ctx, tx, d.CaseID, proposal.Mail(email, p, link)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE cases SET last_contact_at = $2 WHERE id = $1`, d.CaseID, ev.At); err != nil {
				return err
			}
			body += "。リンクをメールで送りました"
		}
		if err := addActivity(ctx, tx, d.CaseID, ev, casework.Activity{Kind: casework.ProposalKind, Body: body}, 0); err != nil {
			return err
		}
		fields := []string{"proposal"}
		if email != "" {
			fields = append(fields, "email")
		}
		return tx.record(ctx, ev.With(d.CaseID, audit.Create, fields...))
	})
	if err != nil {
		return proposal.Created{}, fmt.Errorf("create proposal for case %d: %w", d.CaseID, err)
	}
	return out, nil
}

const proposalColumns = `p.id, p.case_id, c.ref, p.salutation, p.message, p.created_by, coalesce(u.name, ''),
	p.created_at, p.expires_at, p.revoked_at, p.first_opened_at`

// readProposal reads one proposal with its items (facility names from the
// catalog) in tx.
func readProposal(ctx context.Context, tx pgx.Tx, where string, args ...any) (proposal.Proposal, error) {
	var p proposal.Proposal
	err := tx.QueryRow(ctx, `SELECT `+proposalColumns+`
		FROM proposals p JOIN cases c ON c.id = p.case_id LEFT JOIN staff_users u ON u.id = p.created_by
		WHERE `+where, args...).Scan(&p.ID, &p.CaseID, &p.CaseRef, &p.Salutation, &p.Message, &p.CreatedBy, &p.CreatedByName,
		&p.CreatedAt, &p.ExpiresAt, &p.RevokedAt, &p.FirstOpenedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, proposal.ErrNotFound
	}
	if err != nil {
		return p, err
	}
	p.Items, err = proposalItems(ctx, tx, p.ID)
	return p, err
}

func proposalItems(ctx context.Context, tx pgx.Tx, id int64) ([]proposal.Item, error) {
	rows, err := tx.Query(ctx, `
		SELECT i.facility_id, f.name, i.comment FROM proposal_items i JOIN facilities f ON f.id = i.facility_id
		WHERE i.proposal_id = $1 ORDER BY i.position`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (proposal.Item, error) {
		var it proposal.Item
		return it, row.Scan(&it.FacilityID, &it.Name, &it.Comment)
	})
}

// CaseProposals lists a case's proposals, newest first, for the case page
// (which records its own view).
func (db *DB) CaseProposals(ctx context.Context, caseID int64) ([]proposal.Proposal, error) {
	var out []proposal.Proposal
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+proposalColumns+`
			FROM proposals p JOIN cases c ON c.id = p.case_id LEFT JOIN staff_users u ON u.id = p.created_by
			WHERE p.case_id = $1 ORDER BY p.created_at DESC, p.id DESC`, caseID)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (proposal.Proposal, error) {
			var p proposal.Proposal
			return p, row.Scan(&p.ID, &p.CaseID, &p.CaseRef, &p.Salutation, &p.Message, &p.CreatedBy, &p.CreatedByName,
				&p.CreatedAt, &p.ExpiresAt, &p.RevokedAt, &p.FirstOpenedAt)
		})
		if err != nil {
			return err
		}
		for i := range out {
			if out[i].Items, err = proposalItems(ctx, tx, out[i].ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("proposals of case %d: %w", caseID, err)
	}
	return out, nil
}

// CaseProposal reads one proposal of a case for staff (the PDF download),
// recording the view of its salutation.
func (db *DB) CaseProposal(ctx context.Context, caseID, id int64, ev audit.Event) (proposal.Proposal, error) {
	var p proposal.Proposal
	err := db.audited(ctx, true, func(tx *auditTx) error {
		var err error
		if p, err = readProposal(ctx, tx, `p.id = $1 AND p.case_id = $2`, id, caseID); err != nil {
			return err
		}
		return tx.record(ctx, ev.With(caseID, audit.View, "proposal", "salutation"))
	})
	if err != nil {
		return proposal.Proposal{}, fmt.Errorf("proposal %d: %w", id, err)
	}
	return p, nil
}

// RevokeProposal ends a proposal's link now. Revoking twice changes
// nothing the second time; an unknown proposal is proposal.ErrNotFound.
func (db *DB) RevokeProposal(ctx context.Context, caseID, id int64, ev audit.Event) error {
	err := db.audited(ctx, false, func(tx *auditTx) error {
		tag, err := tx.Exec(ctx, `UPDATE proposals SET revoked_at = $3 WHERE id = $1 AND case_id = $2 AND revoked_at IS NULL`, id, caseID, ev.At)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM proposals WHERE id = $1 AND case_id = $2)`, id, caseID).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return proposal.ErrNotFound
			}
			return nil // revoked before
		}
		if err := addActivity(ctx, tx, caseID, ev, casework.Activity{Kind: casework.ProposalKind, Body: "提案のリンクを取り消しました（提案 " + strconv.FormatInt(id, 10) + "）"}, 0); err != nil {
			return err
		}
		return tx.record(ctx, ev.With(caseID, audit.Update, "proposal"))
	})
	if err != nil {
		return fmt.Errorf("revoke proposal %d: %w", id, err)
	}
	return nil
}

// ReissueProposalLink gives a proposal a new token (the old link stops
// working), for a consultant who lost the link or whose first response
// never arrived. A revoked or expired proposal is not reopened:
// proposal.ErrNotFound.
func (db *DB) ReissueProposalLink(ctx context.Context, caseID, id int64, tokenHash []byte, ev audit.Event) error {
	err := db.audited(ctx, false, func(tx *auditTx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE proposals SET token_hash = $3
			WHERE id = $1 AND case_id = $2 AND revoked_at IS NULL AND expires_at > $4`, id, caseID, tokenHash, ev.At)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return proposal.ErrNotFound
		}
		if err := addActivity(ctx, tx, caseID, ev, casework.Activity{Kind: casework.ProposalKind, Body: "提案のリンクを再発行しました（提案 " + strconv.FormatInt(id, 10) + "、以前のリンクは無効）"}, 0); err != nil {
			return err
		}
		return tx.record(ctx, ev.With(caseID, audit.Update, "proposal"))
	})
	if err != nil {
		return fmt.Errorf("reissue proposal %d: %w", id, err)
	}
	return nil
}

// OpenProposal is the family opening a link: the proposal whose token hash
// is hash, if it is neither revoked nor expired at now. Unknown, revoked
// and expired all are proposal.ErrNotFound through the same single
// indexed lookup, so neither the answer nor its timing tells them apart.
// The first opening is stamped and put on the case's timeline.
func (db *DB) OpenProposal(ctx context.Context, hash []byte, now time.Time) (proposal.Proposal, error) {
	var p proposal.Proposal
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		p, err = readProposal(ctx, tx, `p.token_hash = $1 AND p.revoked_at IS NULL AND p.expires_at > $2`, hash, now)
		if err != nil || p.FirstOpenedAt != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE proposals SET first_opened_at = $2 WHERE id = $1 AND first_opened_at IS NULL`, p.ID, now)
		if err != nil || tag.RowsAffected() == 0 { // another request stamped it first
			return err
		}
		p.FirstOpenedAt = &now
		return familyActivity(ctx, tx, p.CaseID, now, casework.ProposalKind, "ご家族が提案のページを初めて開きました（提案 "+strconv.FormatInt(p.ID, 10)+"）")
	})
	if err != nil {
		if errors.Is(err, proposal.ErrNotFound) {
			return proposal.Proposal{}, proposal.ErrNotFound
		}
		return proposal.Proposal{}, fmt.Errorf("open proposal: %w", err)
	}
	return p, nil
}

// familyActivity puts something the family did on the timeline (no staff
// user).
func familyActivity(ctx context.Context, tx pgx.Tx, caseID int64, at time.Time, kind, body string) error {
	if _, err := tx.Exec(ctx, `INSERT INTO case_activities (case_id, at, kind, body) VALUES ($1, $2, $3, $4)`, caseID, at, kind, body); err != nil {
		return fmt.Errorf("activity: %w", err)
	}
	return nil
}

// ProposalTours lists the tours asked for from a proposal (what the
// family's page shows back: facility, status and wished times).
func (db *DB) ProposalTours(ctx context.Context, proposalID int64) ([]proposal.TourSummary, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT t.id, t.facility_id, t.status, t.created_at,
			coalesce(array_agg(s.starts_at ORDER BY s.starts_at) FILTER (WHERE s.proposed_by = 'family'), '{}')
		FROM tours t LEFT JOIN tour_slots s ON s.tour_id = t.id
		WHERE t.proposal_id = $1 GROUP BY t.id ORDER BY t.created_at, t.id`, proposalID)
	if err != nil {
		return nil, fmt.Errorf("proposal tours: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (proposal.TourSummary, error) {
		var t proposal.TourSummary
		return t, row.Scan(&t.ID, &t.FacilityID, &t.Status, &t.CreatedAt, &t.Slots)
	})
	if err != nil {
		return nil, fmt.Errorf("proposal tours: %w", err)
	}
	return out, nil
}

// RequestTour stores a family's tour request made from the proposal whose
// link hashes to hash: it must still be open and list the facility (else
// proposal.ErrNotFound). The tour, its wished slots, a timeline entry and a
// mail to the assigned consultant (or to fallbackTo when nobody is
// assigned; no mail when that is empty too) are written in one
// transaction; a repeated submit (same idempotency key) writes nothing.
// caseURL makes the link in that mail from the case id.
func (db *DB) RequestTour(ctx context.Context, hash []byte, req proposal.TourRequest, fallbackTo string, caseURL func(caseID int64) string) (proposal.TourCreated, error) {
	var out proposal.TourCreated
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		var caseID int64
		var caseRef, consultant string
		err := tx.QueryRow(ctx, `
			SELECT p.case_id, c.ref, coalesce(u.email, '')
			FROM proposals p JOIN cases c ON c.id = p.case_id
				JOIN proposal_items i ON i.proposal_id = p.id AND i.facility_id = $4
				LEFT JOIN staff_users u ON u.id = c.assigned_to AND u.disabled_at IS NULL
			WHERE p.token_hash = $1 AND p.id = $2 AND p.revoked_at IS NULL AND p.expires_at > $3
			FOR SHARE OF p`, hash, req.ProposalID, req.At, req.FacilityID).Scan(&caseID, &caseRef, &consultant)
		if errors.Is(err, pgx.ErrNoRows) {
			return proposal.ErrNotFound
		}
		if err != nil {
			return err
		}
		out.CaseID = caseID
		out.TourID, out.New, err = insertFamilyTour(ctx, tx, caseID, req)
		if err != nil || !out.New {
			return err
		}
		if err := familyActivity(ctx, tx, caseID, req.At, casework.TourKind,
			fmt.Sprintf("ご家族が提案のページから見学を希望しました（見学 %d、候補%d件）", out.TourID, len(req.Slots))); err != nil {
			return err
		}
		to := consultant
		if to == "" {
			to = fallbackTo
		}
		if to != "" {
			return enqueueMail(ctx, tx, caseID, proposal.TourMail(to, caseRef, caseURL(caseID)))
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, proposal.ErrNotFound) {
			return proposal.TourCreated{}, proposal.ErrNotFound
		}
		return proposal.TourCreated{}, fmt.Errorf("request tour: %w", err)
	}
	return out, nil
}

// insertFamilyTour inserts a tour the family asked for from a proposal:
// status requested, the family's note, and its wished start times as
// slots proposed by the family. It is idempotent on req.IdempotencyKey
// (new is false when that tour exists; nothing is written then). The
// referral work takes the tour from here (slots to the facility,
// confirmation, invitations).
func insertFamilyTour(ctx context.Context, tx pgx.Tx, caseID int64, req proposal.TourRequest) (id int64, new bool, err error) {
	err = tx.QueryRow(ctx, `
		INSERT INTO tours (case_id, facility_id, proposal_id, status, family_note, created_at, updated_at, idempotency_key)
		VALUES ($1, $2, $3, 'requested', $4, $5, $5, $6)
		ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
		caseID, req.FacilityID, req.ProposalID, req.Note, req.At, req.IdempotencyKey).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		err = tx.QueryRow(ctx, `SELECT id FROM tours WHERE idempotency_key = $1 AND proposal_id = $2`, req.IdempotencyKey, req.ProposalID).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, false, fmt.Errorf("idempotency key of another tour")
		}
		return id, false, err
	}
	if err != nil {
		return 0, false, err
	}
	for _, s := range req.Slots {
		if _, err := tx.Exec(ctx, `
			INSERT INTO tour_slots (tour_id, starts_at, proposed_by, created_at) VALUES ($1, $2, 'family', $3)`,
			id, s, req.At); err != nil {
			return 0, false, fmt.Errorf("tour slot: %w", err)
		}
	}
	return id, true, nil
}

// FindFacilities finds facilities whose name or kana contains q (spaces
// ignored), for adding one to a proposal by name; at most limit, shortest
// names first.
func (db *DB) FindFacilities(ctx context.Context, q string, limit int) ([]proposal.Item, error) {
	q = strings.Join(strings.Fields(strings.ReplaceAll(q, "　", " ")), "")
	if q == "" {
		return nil, nil
	}
	pattern := "%" + escapeLike(q) + "%"
	rows, err := db.Pool.Query(ctx, `
		SELECT id, name FROM facilities
		WHERE replace(replace(name, ' ', ''), '　', '') ILIKE $1 OR replace(replace(kana, ' ', ''), '　', '') ILIKE $1
		ORDER BY length(name), id LIMIT $2`, pattern, limit)
	if err != nil {
		return nil, fmt.Errorf("find facilities: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (proposal.Item, error) {
		var it proposal.Item
		return it, row.Scan(&it.FacilityID, &it.Name)
	})
	if err != nil {
		return nil, fmt.Errorf("find facilities: %w", err)
	}
	return out, nil
}
