package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"carematch/facility"
	"carematch/mhlw"

	"github.com/jackc/pgx/v5"
)

// facilityColumns is what every facility read selects, in scanFacility's order.
const facilityColumns = `id, COALESCE(office_number, ''), type, name, kana, operator, corporate_number,
	pref_code, muni_code, address, building, lat, lng, phone, fax, url, capacity, opened_on,
	COALESCE(initial_cost, -1), rent, management, food, utilities, care_extra, other,
	care_levels, dementia, array_to_string(medical, ''), features, partner, demo, updated_at`

// scanFacility reads one row of facilityColumns. Vacancies are loaded apart.
func scanFacility(row pgx.Row, f *facility.Facility) error {
	var (
		typ                 string
		pref, careLevels    int16
		dementia            int16
		medical             string
		features            int32
		openedOn            *time.Time
		m                   = &f.Monthly
		capacity            int32
		lat, lng            float64
		initial             int64
		partner, demo       bool
		updatedAt           time.Time
		id                  int64
		office, name, kana  string
		operator, corp      string
		muni, addr, bldg    string
		phone, fax, website string
	)
	err := row.Scan(&id, &office, &typ, &name, &kana, &operator, &corp,
		&pref, &muni, &addr, &bldg, &lat, &lng, &phone, &fax, &website, &capacity, &openedOn,
		&initial, &m.Rent, &m.Management, &m.Food, &m.Utilities, &m.CareExtra, &m.Other,
		&careLevels, &dementia, &medical, &features, &partner, &demo, &updatedAt)
	if err != nil {
		return err
	}
	f.ID, f.OfficeNumber, f.Type, f.Name, f.Kana, f.Operator, f.CorporateNumber = id, office, facility.Type(typ), name, kana, operator, corp
	f.PrefCode, f.MuniCode, f.Address, f.Building, f.Lat, f.Lng = int(pref), muni, addr, bldg, lat, lng
	f.Phone, f.Fax, f.URL, f.Capacity = phone, fax, website, int(capacity)
	if openedOn != nil {
		f.OpenedOn = *openedOn
	}
	f.InitialCost = initial
	f.CareLevels = facility.CareLevels(careLevels)
	f.Dementia = facility.Accept(dementia)
	setMedical(f, medical)
	f.Features = facility.Features(features)
	f.Partner, f.Demo, f.UpdatedAt = partner, demo, updatedAt
	return nil
}

// queryFacilities runs a facilities query and a vacancies query (both
// filtered the same way) and joins them in Go: two round trips however many
// facilities there are.
func queryFacilities(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, facilitiesSQL, vacanciesSQL string, args ...any) ([]facility.Facility, error) {
	rows, err := q.Query(ctx, facilitiesSQL, args...)
	if err != nil {
		return nil, err
	}
	var out []facility.Facility
	for rows.Next() {
		out = append(out, facility.Facility{})
		if err := scanFacility(rows, &out[len(out)-1]); err != nil {
			rows.Close()
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	at := make(map[int64]int, len(out))
	for i := range out {
		at[out[i].ID] = i
	}
	rows, err = q.Query(ctx, vacanciesSQL, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		id int64
		v  facility.Vacancy
	)
	for rows.Next() {
		if err := rows.Scan(&id, &v.RoomType, &v.Available, &v.ConfirmedAt); err != nil {
			return nil, err
		}
		if i, ok := at[id]; ok { // a facility inserted between the two queries is left for the next load
			out[i].Vacancies = append(out[i].Vacancies, v)
		}
	}
	return out, rows.Err()
}

// AllFacilities loads the whole catalog with vacancies, in id order. It
// feeds the in-memory search index at start-up. The id range is split over
// a few connections; each part reads its facilities and their vacancies in
// one repeatable-read snapshot, so a facility always comes with its own
// vacancies (facility_load.go).
func (db *DB) AllFacilities(ctx context.Context) ([]facility.Facility, error) {
	out, err := db.loadAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("all facilities: %w", err)
	}
	return out, nil
}

// FacilitiesChangedSince loads the facilities updated at or after t (a
// vacancy change bumps updated_at too).
func (db *DB) FacilitiesChangedSince(ctx context.Context, t time.Time) ([]facility.Facility, error) {
	var out []facility.Facility
	err := pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		out, err = queryFacilities(ctx, tx,
			`SELECT `+facilityColumns+` FROM facilities WHERE updated_at >= $1 ORDER BY id`,
			`SELECT v.facility_id, v.room_type, v.available, v.confirmed_at
			   FROM facility_vacancies v JOIN facilities f ON f.id = v.facility_id
			  WHERE f.updated_at >= $1 ORDER BY v.facility_id, v.room_type`, t)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("facilities changed since %s: %w", t.Format(time.RFC3339), err)
	}
	return out, nil
}

// FacilitiesByID loads the given facilities; ids that do not exist are
// simply absent from the result.
func (db *DB) FacilitiesByID(ctx context.Context, ids []int64) ([]facility.Facility, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []facility.Facility
	err := pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		out, err = queryFacilities(ctx, tx,
			`SELECT `+facilityColumns+` FROM facilities WHERE id = ANY ($1) ORDER BY id`,
			`SELECT facility_id, room_type, available, confirmed_at FROM facility_vacancies
			  WHERE facility_id = ANY ($1) ORDER BY facility_id, room_type`, ids)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("facilities by id: %w", err)
	}
	return out, nil
}

// notFound wraps both the domain's and this package's not-found errors.
func notFound(what string) error {
	return fmt.Errorf("%s: %w (%w)", what, facility.ErrNotFound, ErrNotFound)
}

// Facility loads one facility with its vacancies. A missing id is an error
// matching facility.ErrNotFound (and ErrNotFound).
func (db *DB) Facility(ctx context.Context, id int64) (facility.Facility, error) {
	fs, err := db.FacilitiesByID(ctx, []int64{id})
	if err != nil {
		return facility.Facility{}, fmt.Errorf("facility %d: %w", id, err)
	}
	if len(fs) == 0 {
		return facility.Facility{}, notFound(fmt.Sprintf("facility %d", id))
	}
	return fs[0], nil
}

// FacilityByOfficeNumber loads one facility by its 事業所番号.
func (db *DB) FacilityByOfficeNumber(ctx context.Context, office string) (facility.Facility, error) {
	var id int64
	err := db.Pool.QueryRow(ctx, `SELECT id FROM facilities WHERE office_number = $1`, office).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return facility.Facility{}, notFound("facility " + office)
	}
	if err != nil {
		return facility.Facility{}, fmt.Errorf("facility %s: %w", office, err)
	}
	return db.Facility(ctx, id)
}

// importLock serialises open-data imports and demo seeding.
const importLock int64 = 0x636d696d706f7274

// UpsertOpenData implements mhlw.Store: in one transaction, the facilities
// are copied into a temporary table and merged into facilities by
// office_number. A column named in a row's edited_fields keeps its value;
// rows whose open-data columns are all equal are not touched (updated_at
// stays, no notification). Costs, acceptance, features, vacancies and the
// partner/demo flags are not in the statement at all.
func (db *DB) UpsertOpenData(ctx context.Context, fs []facility.Facility) (mhlw.UpsertResult, error) {
	var res mhlw.UpsertResult
	for i := range fs {
		if fs[i].OfficeNumber == "" {
			return res, fmt.Errorf("upsert open data: facility %q has no office number", fs[i].Name)
		}
		if err := fs[i].Validate(); err != nil {
			return res, fmt.Errorf("upsert open data: %s: %w", fs[i].OfficeNumber, err)
		}
	}
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, importLock); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			CREATE TEMPORARY TABLE import_facilities (
			    office_number text PRIMARY KEY, type text, name text, kana text, operator text,
			    corporate_number text, pref_code smallint, muni_code text, address text, building text,
			    lat double precision, lng double precision, phone text, fax text, url text, capacity integer
			) ON COMMIT DROP`)
		if err != nil {
			return err
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"import_facilities"},
			[]string{"office_number", "type", "name", "kana", "operator", "corporate_number", "pref_code", "muni_code",
				"address", "building", "lat", "lng", "phone", "fax", "url", "capacity"},
			pgx.CopyFromSlice(len(fs), func(i int) ([]any, error) {
				f := &fs[i]
				return []any{f.OfficeNumber, string(f.Type), f.Name, f.Kana, f.Operator, f.CorporateNumber, int16(f.PrefCode), f.MuniCode,
					f.Address, f.Building, f.Lat, f.Lng, f.Phone, f.Fax, f.URL, int32(f.Capacity)}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy: %w", err)
		}
		rows, err := tx.Query(ctx, `
			WITH merged AS (
			    SELECT i.office_number,
			           i.type,
			           CASE WHEN 'name'     = ANY (f.edited_fields) THEN f.name     ELSE i.name     END AS name,
			           CASE WHEN 'kana'     = ANY (f.edited_fields) THEN f.kana     ELSE i.kana     END AS kana,
			           CASE WHEN 'operator' = ANY (f.edited_fields) THEN f.operator ELSE i.operator END AS operator,
			           i.corporate_number, i.pref_code, i.muni_code,
			           CASE WHEN 'address'  = ANY (f.edited_fields) THEN f.address  ELSE i.address  END AS address,
			           CASE WHEN 'building' = ANY (f.edited_fields) THEN f.building ELSE i.building END AS building,
			           CASE WHEN 'address'  = ANY (f.edited_fields) THEN f.lat      ELSE i.lat      END AS lat,
			           CASE WHEN 'address'  = ANY (f.edited_fields) THEN f.lng      ELSE i.lng      END AS lng,
			           CASE WHEN 'phone'    = ANY (f.edited_fields) THEN f.phone    ELSE i.phone    END AS phone,
			           CASE WHEN 'fax'      = ANY (f.edited_fields) THEN f.fax      ELSE i.fax      END AS fax,
			           CASE WHEN 'url'      = ANY (f.edited_fields) THEN f.url      ELSE i.url      END AS url,
			           CASE WHEN 'capacity' = ANY (f.edited_fields) THEN f.capacity ELSE i.capacity END AS capacity
			      FROM import_facilities i
			      LEFT JOIN facilities f ON f.office_number = i.office_number
			)
			INSERT INTO facilities AS f (office_number, type, name, kana, operator, corporate_number, pref_code, muni_code,
			                             address, building, lat, lng, phone, fax, url, capacity)
			SELECT office_number, type, name, kana, operator, corporate_number, pref_code, muni_code,
			       address, building, lat, lng, phone, fax, url, capacity
			  FROM merged
			ON CONFLICT (office_number) DO UPDATE SET
			    type = EXCLUDED.type, name = EXCLUDED.name, kana = EXCLUDED.kana, operator = EXCLUDED.operator,
			    corporate_number = EXCLUDED.corporate_number, pref_code = EXCLUDED.pref_code, muni_code = EXCLUDED.muni_code,
			    address = EXCLUDED.address, building = EXCLUDED.building, lat = EXCLUDED.lat, lng = EXCLUDED.lng,
			    phone = EXCLUDED.phone, fax = EXCLUDED.fax, url = EXCLUDED.url, capacity = EXCLUDED.capacity,
			    updated_at = now()
			WHERE (f.type, f.name, f.kana, f.operator, f.corporate_number, f.pref_code, f.muni_code,
			       f.address, f.building, f.lat, f.lng, f.phone, f.fax, f.url, f.capacity)
			      IS DISTINCT FROM
			      (EXCLUDED.type, EXCLUDED.name, EXCLUDED.kana, EXCLUDED.operator, EXCLUDED.corporate_number,
			       EXCLUDED.pref_code, EXCLUDED.muni_code, EXCLUDED.address, EXCLUDED.building, EXCLUDED.lat,
			       EXCLUDED.lng, EXCLUDED.phone, EXCLUDED.fax, EXCLUDED.url, EXCLUDED.capacity)
			RETURNING f.office_number, (f.xmax = 0) AS inserted`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var office string
			var inserted bool
			if err := rows.Scan(&office, &inserted); err != nil {
				return err
			}
			if inserted {
				res.Inserted = append(res.Inserted, office)
			} else {
				res.Updated = append(res.Updated, office)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return mhlw.UpsertResult{}, fmt.Errorf("upsert open data: %w", err)
	}
	slices.Sort(res.Inserted)
	slices.Sort(res.Updated)
	return res, nil
}

// InsertFacilities bulk-inserts new facilities (ID and UpdatedAt are
// assigned; the given slice is updated with the ids) and their vacancies
// with COPY, in one transaction. It is the demo seed's writer: 60,000
// facilities take a couple of seconds. The rows are not announced on
// facility_changed (servers see them at their next reconcile).
func (db *DB) InsertFacilities(ctx context.Context, fs []facility.Facility) error {
	for i := range fs {
		if err := fs[i].Validate(); err != nil {
			return fmt.Errorf("insert facilities: %s: %w", fs[i].Name, err)
		}
	}
	if len(fs) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(fs))
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, importLock); err != nil {
			return err
		}
		// No NOTIFY per row for a bulk load (see migration 0002): running
		// servers pick the rows up at their next reconcile.
		if _, err := tx.Exec(ctx, `SET LOCAL carematch.bulk_load = 'on'`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT nextval('facilities_id_seq') FROM generate_series(1, $1)`, len(fs))
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) != len(fs) {
			return fmt.Errorf("got %d ids for %d facilities", len(ids), len(fs))
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"facilities"},
			[]string{"id", "office_number", "type", "name", "kana", "operator", "corporate_number", "pref_code", "muni_code",
				"address", "building", "lat", "lng", "phone", "fax", "url", "capacity", "opened_on",
				"initial_cost", "rent", "management", "food", "utilities", "care_extra", "other",
				"care_levels", "dementia", "medical", "features", "partner", "demo"},
			pgx.CopyFromSlice(len(fs), func(i int) ([]any, error) {
				f := &fs[i]
				return append([]any{ids[i], nullString(f.OfficeNumber), string(f.Type), f.Name, f.Kana, f.Operator, f.CorporateNumber,
					int16(f.PrefCode), f.MuniCode, f.Address, f.Building, f.Lat, f.Lng, f.Phone, f.Fax, f.URL, int32(f.Capacity),
					nullDate(f.OpenedOn)}, detailValues(f)...), nil
			}))
		if err != nil {
			return fmt.Errorf("copy facilities: %w", err)
		}
		return copyVacancies(ctx, tx, fs, ids)
	})
	if err != nil {
		return fmt.Errorf("insert facilities: %w", err)
	}
	for i := range fs {
		fs[i].ID = ids[i]
	}
	if len(fs) >= 1000 {
		// Set the freshly copied rows' hint bits and statistics now rather
		// than on the first full load (which is the servers' start-up).
		// Best effort: a role that does not own the tables may not vacuum,
		// and the data is committed either way.
		_, _ = db.Pool.Exec(ctx, `VACUUM (ANALYZE) facilities, facility_vacancies`)
	}
	return nil
}

// detailValues are the kept-by-facility columns in the order of
// InsertFacilities and FillDemoDetails: initial_cost, rent, management,
// food, utilities, care_extra, other, care_levels, dementia, medical,
// features, partner, demo.
func detailValues(f *facility.Facility) []any {
	var initial any
	if f.InitialCost >= 0 {
		initial = f.InitialCost
	}
	med := make([]int16, facility.NumMedical)
	for i, a := range f.Medical {
		med[i] = int16(a)
	}
	m := f.Monthly
	return []any{initial, m.Rent, m.Management, m.Food, m.Utilities, m.CareExtra, m.Other,
		int16(f.CareLevels), int16(f.Dementia), med, int32(f.Features), f.Partner, f.Demo}
}

func copyVacancies(ctx context.Context, tx pgx.Tx, fs []facility.Facility, ids []int64) error {
	var rows [][]any
	for i := range fs {
		for _, v := range fs[i].Vacancies {
			rows = append(rows, []any{ids[i], v.RoomType, int32(v.Available), v.ConfirmedAt})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"facility_vacancies"},
		[]string{"facility_id", "room_type", "available", "confirmed_at"}, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("copy vacancies: %w", err)
	}
	return nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullDate(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// costFields are the columns FillDemoDetails writes; a facility that edited
// any of them is left alone.
var costFields = []string{"initial_cost", "rent", "management", "food", "utilities", "care_extra", "other",
	"care_levels", "dementia", "medical", "features"}

// FillDemoDetails writes demo costs, acceptance, features and the partner
// flag of existing facilities (by ID) and marks them demo, in one
// transaction; vacancies are added only to facilities that have none. A
// facility whose staff edited any of those fields, or whose values are
// already the same, is not touched. It returns how many facilities
// changed.
func (db *DB) FillDemoDetails(ctx context.Context, fs []facility.Facility) (int, error) {
	if len(fs) == 0 {
		return 0, nil
	}
	var changed int
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, importLock); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			CREATE TEMPORARY TABLE demo_details (
			    id bigint PRIMARY KEY, initial_cost bigint, rent bigint, management bigint, food bigint,
			    utilities bigint, care_extra bigint, other bigint, care_levels smallint, dementia smallint,
			    medical smallint[], features integer, partner boolean, demo boolean
			) ON COMMIT DROP`)
		if err != nil {
			return err
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"demo_details"},
			[]string{"id", "initial_cost", "rent", "management", "food", "utilities", "care_extra", "other",
				"care_levels", "dementia", "medical", "features", "partner", "demo"},
			pgx.CopyFromSlice(len(fs), func(i int) ([]any, error) {
				return append([]any{fs[i].ID}, detailValues(&fs[i])...), nil
			}))
		if err != nil {
			return fmt.Errorf("copy: %w", err)
		}
		tag, err := tx.Exec(ctx, `
			UPDATE facilities f
			   SET initial_cost = d.initial_cost, rent = d.rent, management = d.management, food = d.food,
			       utilities = d.utilities, care_extra = d.care_extra, other = d.other,
			       care_levels = d.care_levels, dementia = d.dementia, medical = d.medical,
			       features = d.features, partner = d.partner, demo = d.demo, updated_at = now()
			  FROM demo_details d
			 WHERE f.id = d.id
			   AND NOT (f.edited_fields && $1::text[])
			   AND (f.initial_cost, f.rent, f.management, f.food, f.utilities, f.care_extra, f.other,
			        f.care_levels, f.dementia, f.medical, f.features, f.partner, f.demo)
			       IS DISTINCT FROM
			       (d.initial_cost, d.rent, d.management, d.food, d.utilities, d.care_extra, d.other,
			        d.care_levels, d.dementia, d.medical, d.features, d.partner, d.demo)`, costFields)
		if err != nil {
			return err
		}
		changed = int(tag.RowsAffected())
		// Vacancies only where there are none: a facility's own vacancy
		// reports are never replaced by demo values.
		var rows [][]any
		for i := range fs {
			for _, v := range fs[i].Vacancies {
				rows = append(rows, []any{fs[i].ID, v.RoomType, int32(v.Available), v.ConfirmedAt})
			}
		}
		if len(rows) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE demo_vacancies (LIKE facility_vacancies) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"demo_vacancies"},
			[]string{"facility_id", "room_type", "available", "confirmed_at"}, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("copy vacancies: %w", err)
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO facility_vacancies (facility_id, room_type, available, confirmed_at)
			SELECT d.facility_id, d.room_type, d.available, d.confirmed_at
			  FROM demo_vacancies d
			  JOIN facilities f ON f.id = d.facility_id AND NOT ('vacancies' = ANY (f.edited_fields))
			 WHERE NOT EXISTS (SELECT 1 FROM facility_vacancies v WHERE v.facility_id = d.facility_id)`)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("fill demo details: %w", err)
	}
	return changed, nil
}

// UpdateVacancies replaces the vacancies of a facility (what its staff or a
// consultant just confirmed), records that the facility keeps them itself
// and bumps updated_at so every server's index picks it up.
func (db *DB) UpdateVacancies(ctx context.Context, id int64, vs []facility.Vacancy) error {
	for _, v := range vs {
		if v.RoomType == "" || v.Available < 0 || v.ConfirmedAt.IsZero() {
			return fmt.Errorf("update vacancies of facility %d: invalid vacancy %+v", id, v)
		}
	}
	err := db.InTx(ctx, func(tx pgx.Tx) error { return replaceVacancies(ctx, tx, id, vs) })
	if err != nil {
		return fmt.Errorf("update vacancies of facility %d: %w", id, err)
	}
	return nil
}

// replaceVacancies is UpdateVacancies inside a transaction.
func replaceVacancies(ctx context.Context, tx pgx.Tx, id int64, vs []facility.Vacancy) error {
	tag, err := tx.Exec(ctx, `
		UPDATE facilities
		   SET updated_at = now(),
		       edited_fields = CASE WHEN 'vacancies' = ANY (edited_fields) THEN edited_fields
		                            ELSE array_append(edited_fields, 'vacancies') END
		 WHERE id = $1`, id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return notFound(fmt.Sprintf("facility %d", id))
	}
	if _, err := tx.Exec(ctx, `DELETE FROM facility_vacancies WHERE facility_id = $1`, id); err != nil {
		return err
	}
	for _, v := range vs {
		if _, err := tx.Exec(ctx, `
			INSERT INTO facility_vacancies (facility_id, room_type, available, confirmed_at)
			VALUES ($1, $2, $3, $4)`, id, v.RoomType, v.Available, v.ConfirmedAt); err != nil {
			return err
		}
	}
	return nil
}

// UpdateFacilityDetails writes the named fields (column names from
// facility.EditableFields) of f to facility f.ID, records them in
// edited_fields so that imports leave them alone, and bumps updated_at.
func (db *DB) UpdateFacilityDetails(ctx context.Context, f facility.Facility, fields []string) error {
	if len(fields) == 0 {
		return nil
	}
	for _, name := range fields {
		if !facility.IsEditableField(name) {
			return fmt.Errorf("update facility %d: field %q is not editable", f.ID, name)
		}
	}
	if err := f.Validate(); err != nil {
		return fmt.Errorf("update facility %d: %w", f.ID, err)
	}
	err := db.InTx(ctx, func(tx pgx.Tx) error { return updateDetails(ctx, tx, f, fields) })
	if err != nil {
		return fmt.Errorf("update facility %d: %w", f.ID, err)
	}
	return nil
}

// updateDetails is UpdateFacilityDetails inside a transaction.
func updateDetails(ctx context.Context, tx pgx.Tx, f facility.Facility, fields []string) error {
	d := detailValues(&f)
	// Every editable column is in the statement; each is set to the new
	// value only when named in $2, so the SQL stays one visible statement.
	tag, err := tx.Exec(ctx, `
		UPDATE facilities SET
		    name         = CASE WHEN 'name'         = ANY ($2::text[]) THEN $3  ELSE name         END,
		    kana         = CASE WHEN 'kana'         = ANY ($2::text[]) THEN $4  ELSE kana         END,
		    operator     = CASE WHEN 'operator'     = ANY ($2::text[]) THEN $5  ELSE operator     END,
		    address      = CASE WHEN 'address'      = ANY ($2::text[]) THEN $6  ELSE address      END,
		    lat          = CASE WHEN 'address'      = ANY ($2::text[]) THEN $7  ELSE lat          END,
		    lng          = CASE WHEN 'address'      = ANY ($2::text[]) THEN $8  ELSE lng          END,
		    building     = CASE WHEN 'building'     = ANY ($2::text[]) THEN $9  ELSE building     END,
		    phone        = CASE WHEN 'phone'        = ANY ($2::text[]) THEN $10 ELSE phone        END,
		    fax          = CASE WHEN 'fax'          = ANY ($2::text[]) THEN $11 ELSE fax          END,
		    url          = CASE WHEN 'url'          = ANY ($2::text[]) THEN $12 ELSE url          END,
		    capacity     = CASE WHEN 'capacity'     = ANY ($2::text[]) THEN $13 ELSE capacity     END,
		    opened_on    = CASE WHEN 'opened_on'    = ANY ($2::text[]) THEN $14 ELSE opened_on    END,
		    initial_cost = CASE WHEN 'initial_cost' = ANY ($2::text[]) THEN $15 ELSE initial_cost END,
		    rent         = CASE WHEN 'rent'         = ANY ($2::text[]) THEN $16 ELSE rent         END,
		    management   = CASE WHEN 'management'   = ANY ($2::text[]) THEN $17 ELSE management   END,
		    food         = CASE WHEN 'food'         = ANY ($2::text[]) THEN $18 ELSE food         END,
		    utilities    = CASE WHEN 'utilities'    = ANY ($2::text[]) THEN $19 ELSE utilities    END,
		    care_extra   = CASE WHEN 'care_extra'   = ANY ($2::text[]) THEN $20 ELSE care_extra   END,
		    other        = CASE WHEN 'other'        = ANY ($2::text[]) THEN $21 ELSE other        END,
		    care_levels  = CASE WHEN 'care_levels'  = ANY ($2::text[]) THEN $22 ELSE care_levels  END,
		    dementia     = CASE WHEN 'dementia'     = ANY ($2::text[]) THEN $23 ELSE dementia     END,
		    medical      = CASE WHEN 'medical'      = ANY ($2::text[]) THEN $24 ELSE medical      END,
		    features     = CASE WHEN 'features'     = ANY ($2::text[]) THEN $25 ELSE features     END,
		    edited_fields = ARRAY(SELECT DISTINCT unnest(edited_fields || $2::text[]) ORDER BY 1),
		    updated_at   = now()
		WHERE id = $1`,
		f.ID, fields, f.Name, f.Kana, f.Operator, f.Address, f.Lat, f.Lng, f.Building, f.Phone, f.Fax, f.URL,
		int32(f.Capacity), nullDate(f.OpenedOn), d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10])
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return notFound(fmt.Sprintf("facility %d", f.ID))
	}
	return nil
}

// FacilityEditedFields returns the fields a facility edited itself.
func (db *DB) FacilityEditedFields(ctx context.Context, id int64) ([]string, error) {
	var fields []string
	err := db.Pool.QueryRow(ctx, `SELECT edited_fields FROM facilities WHERE id = $1`, id).Scan(&fields)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(fmt.Sprintf("facility %d", id))
	}
	if err != nil {
		return nil, fmt.Errorf("edited fields of facility %d: %w", id, err)
	}
	return fields, nil
}
