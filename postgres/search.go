package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"carematch/area"
	"carematch/facility"
	"carematch/search"
)

// SearchFacilities is the facility search written as SQL: the same filters,
// orders, tie-breaks, pagination and 相場 figures as search.Index.Search,
// in one statement. The public pages search in memory; this twin is what
// the in-memory index is measured and checked against (cmd/benchsearch and
// the engine comparison test), and a fallback for tools.
func (db *DB) SearchFacilities(ctx context.Context, q search.Query) (search.Result, error) {
	stmt, args := searchSQL(q)
	page, perPage := q.Page, q.PerPage
	if page < 1 {
		page = 1
	}
	if perPage < 1 {
		perPage = search.DefaultPerPage
	}
	res := search.Result{Page: page, PerPage: min(perPage, search.MaxPerPage)}
	var nM, nI int
	var meanM, medM, meanI, medI *int64
	var byType, byMuni, pageJSON []byte
	err := db.Pool.QueryRow(ctx, stmt, args...).Scan(&res.Total, &res.WithVacancy,
		&nM, &meanM, &medM, &nI, &meanI, &medI, &byType, &byMuni, &pageJSON)
	if err != nil {
		return search.Result{}, fmt.Errorf("search facilities: %w", err)
	}
	res.Monthly = search.Stats{N: nM, Unknown: res.Total - nM, Mean: deref(meanM), Median: deref(medM)}
	res.Initial = search.Stats{N: nI, Unknown: res.Total - nI, Mean: deref(meanI), Median: deref(medI)}

	var pairs [][2]json.RawMessage
	if byType != nil {
		if err := json.Unmarshal(byType, &pairs); err != nil {
			return search.Result{}, fmt.Errorf("search facilities: counts by type: %w", err)
		}
		counts := map[facility.Type]int{}
		for _, p := range pairs {
			var t string
			var n int
			json.Unmarshal(p[0], &t)
			json.Unmarshal(p[1], &n)
			counts[facility.Type(t)] = n
		}
		for _, ti := range facility.Types {
			if n := counts[ti.Type]; n > 0 {
				res.ByType = append(res.ByType, search.TypeCount{Type: ti.Type, Count: n})
			}
		}
	}
	if byMuni != nil {
		pairs = pairs[:0]
		if err := json.Unmarshal(byMuni, &pairs); err != nil {
			return search.Result{}, fmt.Errorf("search facilities: counts by municipality: %w", err)
		}
		for _, p := range pairs {
			var mc search.MuniCount
			json.Unmarshal(p[0], &mc.Muni)
			json.Unmarshal(p[1], &mc.Count)
			res.ByMuni = append(res.ByMuni, mc)
		}
		slices.SortFunc(res.ByMuni, func(a, b search.MuniCount) int { return cmp.Compare(a.Muni, b.Muni) })
	}
	if pageJSON != nil {
		var rows []searchRow
		if err := json.Unmarshal(pageJSON, &rows); err != nil {
			return search.Result{}, fmt.Errorf("search facilities: page: %w", err)
		}
		res.Hits = make([]search.Hit, len(rows))
		for i, r := range rows {
			f := r.facility()
			h := search.Hit{Facility: f, DistanceM: -1}
			if r.Dist != nil {
				h.DistanceM = *r.Dist
			}
			for _, m := range q.Medical {
				if f.Medical[m] == facility.Consult {
					h.Consult = append(h.Consult, m)
				}
			}
			h.DementiaConsult = q.Dementia && f.Dementia == facility.Consult
			res.Hits[i] = h
		}
	}
	return res, nil
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// searchRow is one facility of the page as the statement returns it.
type searchRow struct {
	ID              int64     `json:"id"`
	OfficeNumber    *string   `json:"office_number"`
	Type            string    `json:"type"`
	Name            string    `json:"name"`
	Kana            string    `json:"kana"`
	Operator        string    `json:"operator"`
	CorporateNumber string    `json:"corporate_number"`
	PrefCode        int       `json:"pref_code"`
	MuniCode        string    `json:"muni_code"`
	Address         string    `json:"address"`
	Building        string    `json:"building"`
	Lat             float64   `json:"lat"`
	Lng             float64   `json:"lng"`
	Phone           string    `json:"phone"`
	Fax             string    `json:"fax"`
	URL             string    `json:"url"`
	Capacity        int       `json:"capacity"`
	OpenedOn        *string   `json:"opened_on"`
	InitialCost     *int64    `json:"initial_cost"`
	Rent            int64     `json:"rent"`
	Management      int64     `json:"management"`
	Food            int64     `json:"food"`
	Utilities       int64     `json:"utilities"`
	CareExtra       int64     `json:"care_extra"`
	Other           int64     `json:"other"`
	CareLevels      uint8     `json:"care_levels"`
	Dementia        uint8     `json:"dementia"`
	Medical         []int     `json:"medical"`
	Features        uint32    `json:"features"`
	Partner         bool      `json:"partner"`
	Demo            bool      `json:"demo"`
	UpdatedAt       time.Time `json:"updated_at"`
	Dist            *int      `json:"dist"`
	Vacancies       []struct {
		RoomType    string    `json:"room_type"`
		Available   int       `json:"available"`
		ConfirmedAt time.Time `json:"confirmed_at"`
	} `json:"vacancies"`
}

func (r *searchRow) facility() *facility.Facility {
	f := &facility.Facility{
		ID: r.ID, Type: facility.Type(r.Type), Name: r.Name, Kana: r.Kana, Operator: r.Operator,
		CorporateNumber: r.CorporateNumber, PrefCode: r.PrefCode, MuniCode: r.MuniCode, Address: r.Address,
		Building: r.Building, Lat: r.Lat, Lng: r.Lng, Phone: r.Phone, Fax: r.Fax, URL: r.URL, Capacity: r.Capacity,
		InitialCost: -1,
		Monthly: facility.Monthly{Rent: r.Rent, Management: r.Management, Food: r.Food, Utilities: r.Utilities,
			CareExtra: r.CareExtra, Other: r.Other},
		CareLevels: facility.CareLevels(r.CareLevels), Dementia: facility.Accept(r.Dementia),
		Features: facility.Features(r.Features), Partner: r.Partner, Demo: r.Demo, UpdatedAt: r.UpdatedAt,
	}
	if r.OfficeNumber != nil {
		f.OfficeNumber = *r.OfficeNumber
	}
	if r.OpenedOn != nil {
		f.OpenedOn, _ = time.Parse(time.DateOnly, *r.OpenedOn)
	}
	if r.InitialCost != nil {
		f.InitialCost = *r.InitialCost
	}
	for i, a := range r.Medical {
		if i < facility.NumMedical {
			f.Medical[i] = facility.Accept(a)
		}
	}
	for _, v := range r.Vacancies {
		f.Vacancies = append(f.Vacancies, facility.Vacancy{RoomType: v.RoomType, Available: v.Available, ConfirmedAt: v.ConfirmedAt})
	}
	return f
}

// searchSQL builds the statement for q. Filters on the facilities table
// come first (they can use the indexes of migration 0003); the vacancy sums
// are looked up per remaining facility; the result set is materialised once
// and feeds the counts, the 相場 figures and the page.
func searchSQL(q search.Query) (string, []any) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	const monthly = `(f.rent + f.management + f.food + f.utilities + f.care_extra + f.other)`
	var where, after []string
	if q.Pref != 0 {
		where = append(where, "f.pref_code = "+arg(q.Pref))
	}
	if q.Muni != "" {
		codes := []string{q.Muni}
		for _, w := range area.Wards(q.Muni) {
			codes = append(codes, w.Code)
		}
		where = append(where, "f.muni_code = ANY("+arg(codes)+"::text[])")
	}
	if len(q.Types) > 0 {
		ts := make([]string, len(q.Types))
		for i, t := range q.Types {
			ts[i] = string(t)
		}
		where = append(where, "f.type = ANY("+arg(ts)+"::text[])")
	}
	if q.MaxMonthly > 0 {
		where = append(where, monthly+" BETWEEN 1 AND "+arg(q.MaxMonthly))
	}
	if q.HasMaxInit {
		where = append(where, "f.initial_cost <= "+arg(q.MaxInitial))
	}
	if q.HasCare {
		where = append(where, fmt.Sprintf("f.care_levels & %d <> 0", 1<<q.Care))
	}
	if q.Dementia {
		where = append(where, "f.dementia > 0")
	}
	for _, m := range q.Medical {
		where = append(where, fmt.Sprintf("f.medical[%d] > 0", m+1))
	}
	if q.Features != 0 {
		where = append(where, fmt.Sprintf("f.features & %d = %d", q.Features, q.Features))
	}
	dist := "NULL::integer"
	if q.HasCenter {
		lat, lng := arg(q.Lat)+"::float8", arg(q.Lng)+"::float8"
		// The haversine distance in whole metres, written exactly as the
		// in-memory index computes it (search.distanceM) so both agree.
		dist = fmt.Sprintf(`round(12742017.6::float8 * asin(sqrt(
			sin(radians(f.lat - %[1]s) / 2) * sin(radians(f.lat - %[1]s) / 2)
			+ cos(radians(%[1]s)) * cos(radians(f.lat)) * sin(radians(f.lng - %[2]s) / 2) * sin(radians(f.lng - %[2]s) / 2))))::integer`, lat, lng)
		if q.RadiusM > 0 {
			minLat, maxLat, minLng, maxLng := search.BBox(q.Lat, q.Lng, q.RadiusM)
			where = append(where, fmt.Sprintf("point(f.lng, f.lat) <@ box(point(%s, %s), point(%s, %s))",
				arg(minLng), arg(minLat), arg(maxLng), arg(maxLat)))
			after = append(after, "dist <= "+arg(q.RadiusM))
		}
	}
	if q.VacancyOnly {
		after = append(after, "rooms > 0")
	}
	whereSQL, afterSQL := "", ""
	if len(where) > 0 {
		whereSQL = "WHERE " + strings.Join(where, "\n\t  AND ")
	}
	if len(after) > 0 {
		afterSQL = "WHERE " + strings.Join(after, " AND ")
	}

	var order string
	so := q.Sort
	if so == "" || so == search.SortDistance && !q.HasCenter {
		so = search.SortRecommended
	}
	switch so {
	case search.SortMonthly:
		order = "p.monthly = 0, p.monthly, p.id"
	case search.SortInitial:
		order = "p.initial_cost NULLS LAST, p.id"
	case search.SortNewest:
		order = "p.opened_on DESC NULLS LAST, p.id DESC"
	case search.SortDistance:
		order = "p.dist, p.id"
	default:
		order = "p.rooms > 0 DESC, (p.monthly > 0 AND p.initial_cost IS NOT NULL) DESC, p.confirmed DESC NULLS LAST, p.id"
	}
	page, perPage := max(q.Page, 1), q.PerPage
	if perPage < 1 {
		perPage = search.DefaultPerPage
	}
	perPage = min(perPage, search.MaxPerPage)
	limit, offset := arg(perPage), arg((page-1)*perPage)

	stmt := `
WITH m AS MATERIALIZED (
	SELECT f.id, f.office_number, f.type, f.name, f.kana, f.operator, f.corporate_number, f.pref_code,
	       f.muni_code, f.address, f.building, f.lat, f.lng, f.phone, f.fax, f.url, f.capacity, f.opened_on,
	       f.initial_cost, f.rent, f.management, f.food, f.utilities, f.care_extra, f.other, f.care_levels,
	       f.dementia, f.medical, f.features, f.partner, f.demo, f.updated_at,
	       ` + monthly + ` AS monthly, coalesce(v.rooms, 0) AS rooms, v.confirmed, ` + dist + ` AS dist
	FROM facilities f
	LEFT JOIN LATERAL (
		SELECT sum(available) AS rooms, max(confirmed_at) AS confirmed
		FROM facility_vacancies WHERE facility_id = f.id
	) v ON true
	` + whereSQL + `
), r AS MATERIALIZED (
	SELECT * FROM m ` + afterSQL + `
), agg AS (
	SELECT count(*) AS total,
	       count(*) FILTER (WHERE rooms > 0) AS with_vacancy,
	       count(*) FILTER (WHERE monthly > 0) AS n_monthly,
	       round(avg(monthly) FILTER (WHERE monthly > 0))::bigint AS mean_monthly,
	       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY monthly) FILTER (WHERE monthly > 0))::numeric)::bigint AS median_monthly,
	       count(initial_cost) AS n_initial,
	       round(avg(initial_cost))::bigint AS mean_initial,
	       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY initial_cost))::numeric)::bigint AS median_initial
	FROM r
)
SELECT agg.*,
       (SELECT json_agg(json_build_array(type, n)) FROM (SELECT type, count(*) AS n FROM r GROUP BY type) t),
       (SELECT json_agg(json_build_array(muni_code, n)) FROM (SELECT muni_code, count(*) AS n FROM r GROUP BY muni_code) t),
       (SELECT json_agg(p ORDER BY ` + order + `) FROM (
		SELECT r.*, (SELECT json_agg(json_build_object('room_type', room_type, 'available', available,
		                                               'confirmed_at', confirmed_at) ORDER BY room_type)
		             FROM facility_vacancies WHERE facility_id = r.id) AS vacancies
		FROM r
		ORDER BY ` + strings.ReplaceAll(order, "p.", "r.") + `
		LIMIT ` + limit + ` OFFSET ` + offset + `
	) p)
FROM agg`
	return stmt, args
}
