package search

import "carematch/facility"

// Result is one page of a search with figures over the whole result set.
type Result struct {
	Total   int // facilities matching every filter
	Page    int // 1-based page returned
	PerPage int
	Hits    []Hit // the page, in the query's order

	ByType      []TypeCount // per type over the whole result set, facility.Types order, zero counts left out
	ByMuni      []MuniCount // per municipality over the whole result set, by code, zero counts left out
	WithVacancy int         // facilities with at least one room available

	// The 相場 table: mean and median over the result set, facilities whose
	// cost is unknown left out (and counted in Unknown, so the page can say so).
	Monthly Stats
	Initial Stats
}

// Pages is the number of pages.
func (r *Result) Pages() int {
	if r.PerPage <= 0 {
		return 0
	}
	return (r.Total + r.PerPage - 1) / r.PerPage
}

// Hit is one facility of the page.
type Hit struct {
	Facility *facility.Facility // read-only
	// DistanceM is the distance from the query's centre in metres, -1
	// without a centre.
	DistanceM int
	// Consult lists the required medical items the facility answers with
	// △ (要相談), in facility.MedicalItems order.
	Consult []facility.Medical
	// DementiaConsult is true when 認知症 was required and the facility
	// answers △ (要相談).
	DementiaConsult bool
}

// TypeCount is the number of results of one type.
type TypeCount struct {
	Type  facility.Type
	Count int
}

// MuniCount is the number of results in one municipality (6-digit code).
type MuniCount struct {
	Muni  string
	Count int
}

// Stats summarises one cost over a result set.
type Stats struct {
	N       int   // facilities whose cost is known
	Unknown int   // facilities left out because the cost is unknown
	Mean    int64 // yen, rounded half up; 0 when N is 0
	// Median is the middle value, the mean of the two middle values
	// (rounded half up) when N is even; 0 when N is 0.
	Median int64
}

// meanOf rounds sum/n half up (amounts are never negative).
func meanOf(sum int64, n int) int64 {
	if n == 0 {
		return 0
	}
	return (2*sum + int64(n)) / (2 * int64(n))
}

// medianOf2 is the rounded mean of the two middle values.
func medianOf2(a, b int64) int64 { return (a + b + 1) / 2 }
