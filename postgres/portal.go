package postgres

import (
	"context"
	"fmt"
	"time"

	"carematch/auth"
	"carematch/facility"
)

// The facility portal's storage: who may act for which facility, and what
// waits for a facility's staff.

// MayActFor says whether the staff user may act for the facility in the
// portal: the facility exists, the account is not disabled, and the user is
// linked to it (staff_facilities) or has a role that acts for every
// facility (auth.Role.ActsForEveryFacility: managers, admins). An unknown
// facility and someone else's facility give the same false, so the portal
// answers both with the same 404.
func (db *DB) MayActFor(ctx context.Context, userID, facilityID int64) (bool, error) {
	var ok bool
	err := db.Pool.QueryRow(ctx, `
		SELECT EXISTS (
		    SELECT 1 FROM staff_users u JOIN facilities f ON f.id = $2
		     WHERE u.id = $1 AND u.disabled_at IS NULL
		       AND (u.role = ANY ($3::text[])
		            OR EXISTS (SELECT 1 FROM staff_facilities sf WHERE sf.user_id = u.id AND sf.facility_id = f.id)))`,
		userID, facilityID, auth.RolesActingForEveryFacility()).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("may act for facility %d: %w", facilityID, err)
	}
	return ok, nil
}

// FacilityOverviews lists the facilities the user is linked to, by name,
// with their vacancy figures and what waits for their staff: referrals
// not yet answered, tours whose proposed slots wait for the facility.
func (db *DB) FacilityOverviews(ctx context.Context, userID int64) ([]facility.Overview, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT f.id, f.type, f.name, f.address, f.updated_at,
		       count(v.room_type)::int, COALESCE(sum(v.available), 0)::int, max(v.confirmed_at),
		       (SELECT count(*) FROM referrals r WHERE r.facility_id = f.id AND r.status = 'sent')::int,
		       (SELECT count(*) FROM tours t WHERE t.facility_id = f.id AND t.status = 'proposed')::int
		  FROM staff_facilities sf
		  JOIN facilities f ON f.id = sf.facility_id
		  LEFT JOIN facility_vacancies v ON v.facility_id = f.id
		 WHERE sf.user_id = $1
		 GROUP BY f.id
		 ORDER BY f.name, f.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("facility overviews: %w", err)
	}
	defer rows.Close()
	var out []facility.Overview
	for rows.Next() {
		var o facility.Overview
		var typ string
		var confirmed *time.Time
		if err := rows.Scan(&o.ID, &typ, &o.Name, &o.Address, &o.UpdatedAt, &o.RoomTypes, &o.AvailableRooms, &confirmed,
			&o.NewReferrals, &o.TourRequests); err != nil {
			return nil, fmt.Errorf("facility overviews: %w", err)
		}
		o.Type = facility.Type(typ)
		if confirmed != nil {
			o.VacancyConfirmedAt = *confirmed
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("facility overviews: %w", err)
	}
	return out, nil
}
