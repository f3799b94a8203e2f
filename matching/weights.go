package matching

// The soft score, in points, and the margins that make a near miss. This
// is the only place they are set; docs/matching.md explains each and why.
// None of them is, or can be, a referral fee: the score reads the Needs
// and facility.Facility only.
const (
	// WeightMonthly: the monthly total against the monthly budget. Half the
	// points for being within budget, the other half for the room left
	// under it (a facility at 70% of the budget gets 0.5+0.5·0.3).
	WeightMonthly = 25
	// WeightInitial: the same for 入居一時金 / 入居時費用.
	WeightInitial = 10
	// WeightDistance: closeness to the preferred area (its town halls) or
	// to the 住民票 municipality: full points at the centre, none at
	// DistanceReachKm (or the radius asked for, if larger).
	WeightDistance = 20
	// WeightVacancy: a room available now, scaled by how fresh the
	// confirmation is (full within VacancyFreshDays, nothing after
	// VacancyStaleDays).
	WeightVacancy = 20
	// WeightFeatures: the share of the features asked for that the
	// facility has.
	WeightFeatures = 15
	// WeightPartner: a partner facility (提携施設) keeps its vacancies and
	// acceptance current and answers referrals in the portal. Small on
	// purpose: it breaks ties between equals, never outweighs fit to the
	// person (2 points is a monthly total 16% of the budget cheaper).
	WeightPartner = 2
	// PenaltyConsult is taken off for each condition met only 要相談 (△).
	PenaltyConsult = 4
)

const (
	// DistanceReachKm is where the distance points reach zero.
	DistanceReachKm = 20.0
	// VacancyFreshDays: a confirmation this recent counts in full.
	VacancyFreshDays = 7
	// VacancyStaleDays: a confirmation this old counts no more.
	VacancyStaleDays = 60
	// NearMonthlyYen: a monthly total over budget by at most this is a near
	// miss (shown on request with the reason), more is not a candidate.
	NearMonthlyYen = 20_000
	// NearMonthlyShare: … or by at most this share of the budget, if larger.
	NearMonthlyShare = 0.10
	// NearInitialYen and NearInitialShare: the same for the initial cost.
	NearInitialYen   = 300_000
	NearInitialShare = 0.10
	// NearAreaKm: a facility outside the preferred area but within this
	// distance of it (of a preferred municipality's town hall, beyond the
	// radius asked for) is a near miss.
	NearAreaKm = 8.0
)
