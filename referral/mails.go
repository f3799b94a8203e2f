package referral

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"carematch/intake"
)

// TourMailContext is what the tour mails say: no health or care data
// (mail and calendars are not safe channels for it), only the case's
// reference number, the facility, the time and whom to call.
type TourMailContext struct {
	Tour           Tour
	CaseRef        string
	FamilyName     string // the contact's name, for the salutation ("" none)
	FamilyEmail    string // "" when the family gave none
	FacilityEmails []string
	Consultant     string
	ConsultantMail string
	PublicURL      string // base URL, for the portal link
	Host           string // for the invitation's UID
	Now            time.Time
}

// Invitation is the calendar event of the confirmed tour.
func (c TourMailContext) Invitation(cancelled bool) Invitation {
	start := time.Time{}
	if c.Tour.ConfirmedAt != nil {
		start = *c.Tour.ConfirmedAt
	}
	minutes := c.Tour.Minutes
	if minutes <= 0 {
		minutes = 60
	}
	host := c.Host
	if host == "" {
		host = "carematch"
	}
	return Invitation{
		UID:   "tour-" + strconv.FormatInt(c.Tour.ID, 10) + "@" + host,
		Stamp: c.Now, Start: start, End: start.Add(time.Duration(minutes) * time.Minute),
		Summary:     "施設見学：" + c.Tour.Facility + "（受付番号 " + c.CaseRef + "）",
		Location:    c.Tour.Address,
		Description: "担当：ケアマッチ 入居相談員 " + c.Consultant + "\n" + c.ConsultantMail,
		Sequence:    c.Tour.Version, Cancelled: cancelled,
	}
}

// When is the tour's time in words (2026年12月10日（木）14:00〜15:00).
func (c TourMailContext) When() string {
	if c.Tour.ConfirmedAt == nil {
		return ""
	}
	s := c.Tour.ConfirmedAt.In(Tokyo)
	e := s.Add(time.Duration(max(c.Tour.Minutes, 15)) * time.Minute)
	return s.Format("2006年1月2日") + "（" + weekdays[s.Weekday()] + "）" + s.Format("15:04") + "〜" + e.Format("15:04")
}

var weekdays = [...]string{"日", "月", "火", "水", "木", "金", "土"}

// Confirmation is the mails a confirmed tour sends, each with the
// invitation: to the consultant, to the facility's staff, and to the
// family when they gave an e-mail address.
func (c TourMailContext) Confirmation() []intake.Mail {
	return c.tourMails("tour_confirmed", "見学の日程が決まりました",
		"以下の日時で施設見学の日程が確定しました。添付のカレンダー（.ics）をご予定に追加できます。")
}

// Cancellation is the pair of mails of a cancelled confirmed tour.
func (c TourMailContext) Cancellation() []intake.Mail {
	return c.tourMails("tour_cancelled", "施設見学が取り消されました",
		"以下の施設見学は取り消されました。添付のカレンダー（.ics）でご予定から削除できます。")
}

// Reminder is the pair of mails the day before the tour.
func (c TourMailContext) Reminder() []intake.Mail {
	return c.tourMails("tour_reminder", "明日は施設見学の日です",
		"明日の施設見学のご案内です。ご都合が悪くなった場合は、担当の入居相談員までご連絡ください。")
}

func (c TourMailContext) tourMails(purpose, subject, lead string) []intake.Mail {
	var out []intake.Mail
	facts := fmt.Sprintf("施設：%s\n所在地：%s\n日時：%s\n受付番号：%s\n担当：ケアマッチ 入居相談員 %s（%s）\n",
		c.Tour.Facility, c.Tour.Address, c.When(), c.CaseRef, c.Consultant, c.ConsultantMail)
	if c.FamilyEmail != "" {
		var b strings.Builder
		if c.FamilyName != "" {
			fmt.Fprintf(&b, "%s 様\n\n", c.FamilyName)
		}
		fmt.Fprintf(&b, "%s\n\n%s\nご不明な点は担当の入居相談員までお問い合わせください。\n\nケアマッチ 入居相談窓口\n%s\n", lead, facts, c.PublicURL)
		out = append(out, intake.Mail{Purpose: purpose, To: c.FamilyEmail,
			Subject: "【ケアマッチ】" + subject + "（受付番号 " + c.CaseRef + "）", Body: b.String()})
	}
	if c.ConsultantMail != "" {
		var b strings.Builder
		fmt.Fprintf(&b, "%s さん\n\n%s\n\n%s\n案件：%s/staff/cases（受付番号で開いてください）\n", c.Consultant, lead, facts, strings.TrimSuffix(c.PublicURL, "/"))
		out = append(out, intake.Mail{Purpose: purpose, To: c.ConsultantMail,
			Subject: "【見学】" + subject + "（受付番号 " + c.CaseRef + "）", Body: b.String()})
	}
	for _, to := range c.FacilityEmails {
		var b strings.Builder
		fmt.Fprintf(&b, "%s ご担当者様\n\n%s\n\n%s\nご本人の情報は施設ポータルのご紹介からご確認ください（メールには載せていません）。\n%s/portal\n",
			c.Tour.Facility, lead, facts, strings.TrimSuffix(c.PublicURL, "/"))
		out = append(out, intake.Mail{Purpose: purpose, To: to,
			Subject: "【ケアマッチ】" + subject + "（受付番号 " + c.CaseRef + "）", Body: b.String()})
	}
	return out
}

// ReferralNotice is the mail that tells a facility's staff a referral
// arrived: no personal data, only where to read it.
func ReferralNotice(facilityName, caseRef, to, publicURL string) intake.Mail {
	return intake.Mail{Purpose: "referral_notice", To: to,
		Subject: "【ケアマッチ】新しいご紹介があります（受付番号 " + caseRef + "）",
		Body: fmt.Sprintf("%s ご担当者様\n\nケアマッチからご入居希望の方をご紹介します。\nご本人の情報とご回答は施設ポータルからお願いします（メールには個人情報を載せていません）。\n\n受付番号：%s\n%s/portal\n",
			facilityName, caseRef, strings.TrimSuffix(publicURL, "/"))}
}
