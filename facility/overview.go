package facility

import "time"

// VacancyStaleAfter is how long a facility's vacancy report may go
// unconfirmed before the portal asks its staff to confirm it (families see
// "N日前に確認" on every facility page, and a week-old figure is a guess).
const VacancyStaleAfter = 7 * 24 * time.Hour

// Overview is one facility as its staff see it on the portal's home page:
// the figures and the things waiting for them. The counts of the issue-5
// work on referrals, tours and invoices are filled by the storage query that
// builds it (0 until that work exists).
type Overview struct {
	ID                 int64
	Type               Type
	Name               string
	Address            string
	RoomTypes          int       // vacancy rows (room types) listed
	AvailableRooms     int       // free rooms over all room types
	VacancyConfirmedAt time.Time // latest confirmation of any room type; zero: never
	UpdatedAt          time.Time
	NewReferrals       int // referrals sent to the facility and not yet answered
	TourRequests       int // tours waiting for the facility's answer
	OpenInvoices       int // invoices issued and not yet paid
}

// VacancyStale says whether the vacancy report needs confirming at now: it
// was never confirmed, or not for VacancyStaleAfter.
func (o Overview) VacancyStale(now time.Time) bool {
	return o.VacancyConfirmedAt.IsZero() || now.Sub(o.VacancyConfirmedAt) >= VacancyStaleAfter
}

// NeedsAttention says whether anything waits for the facility's staff.
func (o Overview) NeedsAttention(now time.Time) bool {
	return o.VacancyStale(now) || o.NewReferrals > 0 || o.TourRequests > 0 || o.OpenInvoices > 0
}
