// Package reminder is what the daily jobs tell people: facility staff whose
// vacancies have not been confirmed for a while, and consultants with tasks
// due (tour reminders are package referral's, TourMailContext.Reminder). It decides who is due and words
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
	signature            = "\n--\nケアマッチ（安心介護紹介センター）\nこのメールは送信専用です。\n"
	portalPath           = "/portal"
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
	b.WriteString("変更がない場合も、施設ポータルで確認済みにしてください。\n\n")
	fmt.Fprintf(&b, "施設ポータル: %s%s/facilities/%d\n", publicURL, portalPath, f.ID)
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

// NoContactTitle is the title of the task made for a case nobody has
// called or written to for days.
func NoContactTitle(days int) string {
	return fmt.Sprintf("%d日以上連絡がありません：状況確認の連絡をする", days)
}
