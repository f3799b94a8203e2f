package referral

import (
	"fmt"
	"slices"
	"time"
)

// Tour statuses. A family's request arrives as requested (with the
// family's wished slots); the consultant proposes 1–3 slots to the
// facility (proposed); the facility confirms one (confirmed) or offers
// others (countered), which the consultant accepts (confirmed) or answers
// with new slots (proposed). Either side may cancel until it took place;
// after it the consultant records the outcome (done).
const (
	Requested = "requested"
	Proposed  = "proposed"
	Countered = "countered"
	Confirmed = "confirmed"
	Done      = "done"
	Cancelled = "cancelled"
)

// TourStatusLabel names a tour status.
func TourStatusLabel(s string) string {
	switch s {
	case Requested:
		return "見学希望（日程調整前）"
	case Proposed:
		return "施設の回答待ち"
	case Countered:
		return "施設から別日程の提案"
	case Confirmed:
		return "日程確定"
	case Done:
		return "見学済み"
	case Cancelled:
		return "取り消し"
	}
	return s
}

// tourMoves is the state machine: from → to → the side that may make the move.
var tourMoves = map[string]map[string][]Side{
	Requested: {Proposed: {Consultant}, Cancelled: {Consultant}},
	Proposed:  {Confirmed: {Facility}, Countered: {Facility}, Proposed: {Consultant}, Cancelled: {Consultant, Facility}},
	Countered: {Confirmed: {Consultant}, Proposed: {Consultant}, Cancelled: {Consultant, Facility}},
	Confirmed: {Done: {Consultant}, Cancelled: {Consultant, Facility}},
	Done:      {},
	Cancelled: {},
}

// TourNext lists the statuses side may move a tour in from to.
func TourNext(from string, side Side) []string {
	var out []string
	for _, to := range []string{Proposed, Countered, Confirmed, Done, Cancelled} {
		if slices.Contains(tourMoves[from][to], side) {
			out = append(out, to)
		}
	}
	return out
}

// CheckTourMove returns nil when side may move a tour from → to, else a
// *Problem saying why in words.
func CheckTourMove(from, to string, side Side) error {
	if slices.Contains(tourMoves[from][to], side) {
		return nil
	}
	if len(tourMoves[from]) == 0 {
		return &Problem{fmt.Sprintf("この見学は「%s」のため、変更できません。", TourStatusLabel(from))}
	}
	return &Problem{fmt.Sprintf("「%s」の見学を「%s」にはできません。画面を開き直して、最新の状況を確認してください。", TourStatusLabel(from), TourStatusLabel(to))}
}

// MaxSlots is how many slots one proposal offers at most.
const MaxSlots = 3

// CheckSlots validates proposed start times: 1–3, distinct, in the future,
// between 8:00 and 20:00 in Japan.
func CheckSlots(slots []time.Time, now time.Time) error {
	if len(slots) == 0 || len(slots) > MaxSlots {
		return &Problem{"見学の候補日時を1〜3件入力してください。"}
	}
	seen := map[int64]bool{}
	for _, s := range slots {
		if !s.After(now) {
			return &Problem{"見学の候補日時は、これから先の日時にしてください。"}
		}
		if h := s.In(Tokyo).Hour(); h < 8 || h >= 20 {
			return &Problem{"見学の候補日時は 8:00〜20:00 の間にしてください。"}
		}
		if seen[s.Unix()] {
			return &Problem{"同じ候補日時が重なっています。"}
		}
		seen[s.Unix()] = true
	}
	return nil
}

// Tour outcomes.
var Outcomes = []string{"interested", "undecided", "declined", "no_show"}

// OutcomeLabel names an outcome.
func OutcomeLabel(o string) string {
	switch o {
	case "interested":
		return "入居を前向きに検討"
	case "undecided":
		return "検討中"
	case "declined":
		return "見送り"
	case "no_show":
		return "見学されなかった"
	}
	return o
}

// CheckOutcome validates the outcome recorded after a tour.
func CheckOutcome(o string) error {
	if !slices.Contains(Outcomes, o) {
		return &Problem{"見学の結果を一覧から選んでください。"}
	}
	return nil
}

// Slot is a start time someone offered.
type Slot struct {
	ID         int64
	StartsAt   time.Time
	ProposedBy Side
}

// Tour is a visit of the family to a facility.
type Tour struct {
	ID          int64
	CaseID      int64
	CaseRef     string
	FacilityID  int64
	Facility    string
	Address     string // the facility's, for the invitation
	ReferralID  int64
	Status      string
	ConfirmedAt *time.Time
	Minutes     int
	FamilyNote  string
	Outcome     string
	OutcomeNote string
	Slots       []Slot
	Version     int
	CreatedAt   time.Time
}

// OpenSlots are the slots of the latest round, by the side that made it:
// what the other side answers.
func (t Tour) OpenSlots() []Slot {
	var by Side
	switch t.Status {
	case Requested:
		by = Family
	case Proposed:
		by = Consultant
	case Countered:
		by = Facility
	default:
		return nil
	}
	var out []Slot
	for _, s := range t.Slots {
		if s.ProposedBy == by {
			out = append(out, s)
		}
	}
	return out
}

// MoveIn is a person's move into a facility, and their early exit.
type MoveIn struct {
	ID          int64
	CaseID      int64
	CaseRef     string
	FacilityID  int64
	Facility    string
	ReferralID  int64
	MovedInOn   time.Time
	RoomType    string
	MonthlyFee  int64 // yen
	MonthlyRent int64 // yen, part of MonthlyFee
	ExitedOn    *time.Time
	ExitReason  string
}

// CheckMoveIn validates a move-in: a date, a room type, fees in whole yen
// with the rent not above the monthly total.
func CheckMoveIn(m MoveIn) FieldErrors {
	fe := FieldErrors{}
	if m.MovedInOn.IsZero() {
		fe["moved_in_on"] = "入居日を入力してください。"
	}
	if m.RoomType == "" {
		fe["room_type"] = "居室タイプを入力してください（例：個室 18㎡）。"
	}
	if m.MonthlyFee <= 0 {
		fe["monthly_fee"] = "月額費用の合計を円で入力してください（例：185000）。"
	}
	if m.MonthlyRent < 0 || m.MonthlyRent > m.MonthlyFee {
		fe["monthly_rent"] = "家賃は月額費用の合計以下の金額を円で入力してください。"
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// CheckExit validates an early exit (短期退去).
func CheckExit(m MoveIn, on time.Time, reason string) FieldErrors {
	fe := FieldErrors{}
	switch {
	case on.IsZero():
		fe["exited_on"] = "退去日を入力してください。"
	case on.In(Tokyo).Format("2006-01-02") < m.MovedInOn.Format("2006-01-02"): // dates, not instants (a stored date reads as UTC midnight)
		fe["exited_on"] = "退去日は入居日より後の日付にしてください。"
	}
	if reason == "" {
		fe["exit_reason"] = "退去の理由を入力してください。"
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// FieldErrors maps a form field to a message safe to show.
type FieldErrors map[string]string

func (fe FieldErrors) Error() string { return "referral: invalid input" }

// Owner says on whose behalf a tour or a move-in is changed: the
// consultant working on a case, or the facility a portal user acts for.
// Storage filters by it, so an object outside it is ErrNotFound.
type Owner struct {
	Side Side
	ID   int64 // the case (Consultant) or the facility (Facility)
}

// ForCase is the consultant working on case id.
func ForCase(id int64) Owner { return Owner{Consultant, id} }

// ForFacility is a portal user acting for facility id.
func ForFacility(id int64) Owner { return Owner{Facility, id} }

// CaseFile is what the case page shows of a case's referrals.
type CaseFile struct {
	Consents  []Consent
	Referrals []Referral
	Tours     []Tour
	MoveIns   []MoveIn
	// Choices are the facilities the consultant is likely to act on.
	Choices []FacilityChoice
}

// FacilityChoice is a facility in a form's list.
type FacilityChoice struct {
	ID   int64
	Name string
}
