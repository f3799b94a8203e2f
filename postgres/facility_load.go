package postgres

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"carematch/facility"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Loading the whole catalog is on the start-up path of every server, so it
// decodes PostgreSQL's binary row format directly instead of going through
// Scan (which halves the time), and splits the id range over a few
// connections.

func setMedical(f *facility.Facility, digits string) {
	for i := range f.Medical {
		if i < len(digits) && digits[i] >= '0' && digits[i] <= '2' {
			f.Medical[i] = facility.Accept(digits[i] - '0')
		} else {
			f.Medical[i] = facility.No
		}
	}
}

// pgEpoch is the zero of PostgreSQL's binary date and timestamp values.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// facilityOIDs are the types of facilityColumns in order, as the binary
// decoder expects them.
var facilityOIDs = []uint32{
	20, 25, 25, 25, 25, 25, 25, // id, office_number, type, name, kana, operator, corporate_number
	21, 25, 25, 25, 701, 701, 25, 25, 25, 23, 1082, // pref_code … opened_on
	20, 20, 20, 20, 20, 20, 20, // initial_cost … other
	21, 21, 25, 23, 16, 16, 1184, // care_levels, dementia, medical, features, partner, demo, updated_at
}

// textColumns are the indexes of the text columns of facilityColumns.
var textColumns = [textColumnsLen]int{1, 2, 3, 4, 5, 6, 8, 9, 10, 13, 14, 15, 27}

func binaryLayout(fds []pgconn.FieldDescription) bool {
	if len(fds) != len(facilityOIDs) {
		return false
	}
	for i, fd := range fds {
		if fd.DataTypeOID != facilityOIDs[i] || (fd.Format != pgx.BinaryFormatCode && fd.DataTypeOID != 25) {
			return false
		}
	}
	return true
}

// decodeFacility fills f from one binary row of facilityColumns. All text
// columns share one allocation.
func decodeFacility(raw [][]byte, f *facility.Facility, buf []byte) ([]byte, error) {
	for _, i := range []int{0, 7, 11, 12, 16, 18, 19, 20, 21, 22, 23, 24, 25, 26, 28, 29, 30, 31} {
		if raw[i] == nil {
			return buf, fmt.Errorf("unexpected NULL in column %d", i)
		}
	}
	buf = buf[:0]
	var ends [textColumnsLen]int
	for k, i := range textColumns {
		buf = append(buf, raw[i]...)
		ends[k] = len(buf)
	}
	all := string(buf)
	str := func(k int) string {
		start := 0
		if k > 0 {
			start = ends[k-1]
		}
		return all[start:ends[k]]
	}
	i64 := func(i int) int64 { return int64(binary.BigEndian.Uint64(raw[i])) }
	i32 := func(i int) int32 { return int32(binary.BigEndian.Uint32(raw[i])) }
	i16 := func(i int) int16 { return int16(binary.BigEndian.Uint16(raw[i])) }
	f64 := func(i int) float64 { return math.Float64frombits(binary.BigEndian.Uint64(raw[i])) }

	f.ID = i64(0)
	f.OfficeNumber, f.Type, f.Name, f.Kana, f.Operator, f.CorporateNumber = str(0), facility.Type(str(1)), str(2), str(3), str(4), str(5)
	f.PrefCode = int(i16(7))
	f.MuniCode, f.Address, f.Building = str(6), str(7), str(8)
	f.Lat, f.Lng = f64(11), f64(12)
	f.Phone, f.Fax, f.URL = str(9), str(10), str(11)
	f.Capacity = int(i32(16))
	f.OpenedOn = time.Time{}
	if len(raw[17]) == 4 {
		days := i32(17)
		if days != math.MaxInt32 && days != math.MinInt32 { // ±infinity
			f.OpenedOn = pgEpoch.AddDate(0, 0, int(days))
		}
	}
	f.InitialCost = i64(18)
	f.Monthly = facility.Monthly{Rent: i64(19), Management: i64(20), Food: i64(21), Utilities: i64(22), CareExtra: i64(23), Other: i64(24)}
	f.CareLevels = facility.CareLevels(i16(25))
	f.Dementia = facility.Accept(i16(26))
	setMedical(f, str(12))
	f.Features = facility.Features(i32(28))
	f.Partner = raw[29][0] == 1
	f.Demo = raw[30][0] == 1
	f.UpdatedAt = pgEpoch.Add(time.Duration(i64(31)) * time.Microsecond).Local()
	return buf, nil
}

const textColumnsLen = 13

// loadRange loads facilities with lo <= id < hi and their vacancies in one
// repeatable-read snapshot.
func (db *DB) loadRange(ctx context.Context, lo, hi int64) ([]facility.Facility, error) {
	var out []facility.Facility
	err := pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+facilityColumns+` FROM facilities WHERE id >= $1 AND id < $2 ORDER BY id`, lo, hi)
		if err != nil {
			return err
		}
		fast := binaryLayout(rows.FieldDescriptions())
		var buf []byte
		for rows.Next() {
			out = append(out, facility.Facility{})
			f := &out[len(out)-1]
			if fast {
				buf, err = decodeFacility(rows.RawValues(), f, buf)
			} else {
				err = scanFacility(rows, f)
			}
			if err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		at := make(map[int64]int, len(out))
		for i := range out {
			at[out[i].ID] = i
		}
		rows, err = tx.Query(ctx, `SELECT facility_id, room_type, available, confirmed_at
		                             FROM facility_vacancies WHERE facility_id >= $1 AND facility_id < $2
		                            ORDER BY facility_id, room_type`, lo, hi)
		if err != nil {
			return err
		}
		defer rows.Close()
		var (
			id int64
			v  facility.Vacancy
		)
		for rows.Next() {
			if err := rows.Scan(&id, &v.RoomType, &v.Available, &v.ConfirmedAt); err != nil {
				return err
			}
			if i, ok := at[id]; ok {
				out[i].Vacancies = append(out[i].Vacancies, v)
			}
		}
		return rows.Err()
	})
	return out, err
}

// loadParts is how many connections AllFacilities loads over.
const loadParts = 4

func (db *DB) loadAll(ctx context.Context) ([]facility.Facility, error) {
	var lo, hi int64
	if err := db.Pool.QueryRow(ctx, `SELECT COALESCE(min(id), 0), COALESCE(max(id), 0) FROM facilities`).Scan(&lo, &hi); err != nil {
		return nil, err
	}
	hi++ // exclusive; rows added meanwhile above hi are picked up by the next reload
	parts := loadParts
	if hi-lo < 2000 {
		parts = 1
	}
	step := (hi - lo + int64(parts) - 1) / int64(parts)
	type part struct {
		fs  []facility.Facility
		err error
	}
	results := make([]part, parts)
	done := make(chan struct{}, parts)
	for p := 0; p < parts; p++ {
		go func() {
			a := lo + int64(p)*step
			b := min(hi, a+step)
			if p == parts-1 {
				b = math.MaxInt64
			}
			results[p].fs, results[p].err = db.loadRange(ctx, a, b)
			done <- struct{}{}
		}()
	}
	for range parts {
		<-done
	}
	n := 0
	for _, r := range results {
		if r.err != nil {
			return nil, r.err
		}
		n += len(r.fs)
	}
	out := make([]facility.Facility, 0, n)
	for _, r := range results {
		out = append(out, r.fs...)
	}
	return out, nil
}
