// Package reminder is what the daily jobs tell people: facility staff whose
// vacancies have not been confirmed for a while, consultants with tasks due,
// and the people going on a tour tomorrow. It decides who is due and words
// the mails; storage (and the outbox the mails go through) is in package
// postgres, the schedule in package app.
//
// Mails never carry health or care information (mail is not a safe channel
// for it) and name a case only by its 受付番号: the reader opens the
// workspace for the rest.
package reminder

import (
	"fmt"
	"strings"
	"time"
)

// jst is Asia/Tokyo (no daylight saving), where every day here is counted.
var jst = time.FixedZone("Asia/Tokyo", 9*60*60)

// Today is the calendar day in Asia/Tokyo at now, as midnight UTC of that
// date (the form PostgreSQL's date type round-trips).
func Today(now time.Time) time.Time {
	y, m, d := now.In(jst).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Mail is one message for the outbox.
type Mail struct {
	Purpose string
	To      string
	Subject string
	Body    string
}

// The purposes recorded in outbox.purpose.
const (
	PurposeVacancy       = "vacancy_reminder"
	PurposeTaskDigest    = "task_digest"
	PurposeTourStaff     = "tour_reminder_staff"
	PurposeTourFamily    = "tour_reminder_family"
	signature            = "\n--\nケアマッチ（安心介護紹介センター）\nこのメールは送信専用です。\n"
	staffLoginPath       = "/staff/login"
	staffTasksPath       = "/staff/tasks"
	staffCasePathPattern = "/staff/cases/%d"
)

// Facility is a facility whose vacancies are due for confirmation.
type Facility struct {
	ID            int64
	Name          string
	LastConfirmed time.Time // zero: never confirmed
}

// VacancyMail asks facility staff to confirm their vacancies.
func VacancyMail(publicURL, to string, f Facility, days int, today time.Time) Mail {
	var b strings.Builder
	fmt.Fprintf(&b, "%s ご担当者様\n\n", f.Name)
	if f.LastConfirmed.IsZero() {
		b.WriteString("空室状況がまだ登録されていません。\n")
	} else {
		fmt.Fprintf(&b, "空室状況の最終確認日は %s（%d日前）です。\n",
			f.LastConfirmed.In(jst).Format("2006年1月2日"), int(today.Sub(Today(f.LastConfirmed)).Hours()/24))
	}
	fmt.Fprintf(&b, "ご相談中のご家族に正確な情報をお伝えするため、%d日に一度は空室状況のご確認をお願いしております。\n", days)
	b.WriteString("変更がない場合も、施設ポータルで「変更なし」として確認してください。\n\n")
	fmt.Fprintf(&b, "施設ポータル: %s%s\n", publicURL, staffLoginPath)
	b.WriteString(signature)
	return Mail{Purpose: PurposeVacancy, To: to,
		Subject: fmt.Sprintf("【ケアマッチ】空室状況のご確認のお願い（%s）", f.Name), Body: b.String()}
}

// Task is an open task in a consultant's digest.
type Task struct {
	CaseID  int64
	CaseRef string
	DueOn   time.Time
}

// DigestMail lists a consultant's open tasks due today or earlier. Task
// titles are not repeated (a consultant may have typed a name or a health
// detail into one): the mail says which cases and when, the workspace says what.
func DigestMail(publicURL, to string, tasks []Task, today time.Time) Mail {
	var b strings.Builder
	overdue := 0
	for _, t := range tasks {
		if t.DueOn.Before(today) {
			overdue++
		}
	}
	fmt.Fprintf(&b, "本日（%s）期限のタスクが %d 件あります", today.Format("1月2日"), len(tasks)-overdue)
	if overdue > 0 {
		fmt.Fprintf(&b, "（ほかに期限切れ %d 件）", overdue)
	}
	b.WriteString("。\n\n")
	for _, t := range tasks {
		label := "本日"
		if t.DueOn.Before(today) {
			label = "期限切れ " + t.DueOn.Format("1月2日")
		}
		fmt.Fprintf(&b, "・受付番号 %s（%s） %s"+staffCasePathPattern+"\n", t.CaseRef, label, publicURL, t.CaseID)
	}
	fmt.Fprintf(&b, "\nタスク一覧: %s%s\n", publicURL, staffTasksPath)
	b.WriteString(signature)
	return Mail{Purpose: PurposeTaskDigest, To: to,
		Subject: fmt.Sprintf("【ケアマッチ】本日のタスク %d 件", len(tasks)), Body: b.String()}
}

// Tour is a confirmed tour tomorrow.
type Tour struct {
	ID           int64
	CaseID       int64
	CaseRef      string
	FacilityName string
	Address      string // the facility's
	Phone        string // the facility's
	StartsAt     time.Time
	Minutes      int
}

func tourWhen(t Tour) string {
	s := t.StartsAt.In(jst)
	return s.Format("1月2日 15:04") + "〜" + s.Add(time.Duration(t.Minutes)*time.Minute).Format("15:04")
}

// TourStaffMail reminds the consultant of a tour tomorrow.
func TourStaffMail(publicURL, to string, t Tour) Mail {
	var b strings.Builder
	fmt.Fprintf(&b, "明日 %s に見学があります。\n\n", tourWhen(t))
	fmt.Fprintf(&b, "施設: %s\n受付番号: %s\n案件: %s"+staffCasePathPattern+"\n", t.FacilityName, t.CaseRef, publicURL, t.CaseID)
	b.WriteString(signature)
	return Mail{Purpose: PurposeTourStaff, To: to,
		Subject: fmt.Sprintf("【ケアマッチ】明日の見学（受付番号 %s）", t.CaseRef), Body: b.String()}
}

// TourFamilyMail reminds the family of their tour tomorrow.
func TourFamilyMail(to string, t Tour) Mail {
	var b strings.Builder
	b.WriteString("ケアマッチをご利用いただきありがとうございます。\n")
	fmt.Fprintf(&b, "明日 %s に、次の施設の見学をご予約いただいています。\n\n", tourWhen(t))
	fmt.Fprintf(&b, "施設: %s\n", t.FacilityName)
	if t.Address != "" {
		fmt.Fprintf(&b, "所在地: %s\n", t.Address)
	}
	fmt.Fprintf(&b, "受付番号: %s\n\n", t.CaseRef)
	b.WriteString("ご都合が悪くなった場合は、担当の相談員までご連絡ください。\n")
	if t.Phone != "" {
		fmt.Fprintf(&b, "当日の道順などは施設（%s）へお問い合わせいただけます。\n", t.Phone)
	}
	b.WriteString(signature)
	return Mail{Purpose: PurposeTourFamily, To: to,
		Subject: fmt.Sprintf("【ケアマッチ】明日の施設見学のご案内（受付番号 %s）", t.CaseRef), Body: b.String()}
}

// NoContactTitle is the title of the task made for a case nobody has
// called or written to for days.
func NoContactTitle(days int) string {
	return fmt.Sprintf("%d日以上連絡がありません：状況確認の連絡をする", days)
}
