package referral

import (
	"bytes"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Invitation is one calendar event (a confirmed tour) as an .ics file.
// It carries no personal health data: a calendar is synchronised to many
// places.
type Invitation struct {
	UID         string // stable across updates of the same tour
	Stamp       time.Time
	Start, End  time.Time
	Summary     string
	Location    string // the facility's address
	Description string
	Sequence    int  // bumped by each update of the same UID
	Cancelled   bool // a cancellation of an earlier invitation
	// UTC writes the times in UTC instead of Asia/Tokyo with its VTIMEZONE.
	UTC bool
}

// ICS renders the invitation as RFC 5545 iCalendar: METHOD:PUBLISH, one
// VEVENT, times in Asia/Tokyo (with a VTIMEZONE; Japan has no daylight
// saving time) or UTC, TEXT values escaped, lines folded at 75 octets
// without splitting a UTF-8 character, CRLF line ends.
func (iv Invitation) ICS() []byte {
	var b bytes.Buffer
	line := func(s string) { fold(&b, s) }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//carematch//tour//JA")
	line("CALSCALE:GREGORIAN")
	if iv.Cancelled {
		line("METHOD:CANCEL")
	} else {
		line("METHOD:PUBLISH")
	}
	if !iv.UTC {
		line("BEGIN:VTIMEZONE")
		line("TZID:Asia/Tokyo")
		line("BEGIN:STANDARD")
		line("DTSTART:19700101T000000")
		line("TZOFFSETFROM:+0900")
		line("TZOFFSETTO:+0900")
		line("TZNAME:JST")
		line("END:STANDARD")
		line("END:VTIMEZONE")
	}
	line("BEGIN:VEVENT")
	line("UID:" + escapeText(iv.UID))
	line("DTSTAMP:" + iv.Stamp.UTC().Format("20060102T150405Z"))
	line("DTSTART" + icsTime(iv.Start, iv.UTC))
	line("DTEND" + icsTime(iv.End, iv.UTC))
	line("SEQUENCE:" + strconv.Itoa(iv.Sequence))
	line("SUMMARY:" + escapeText(iv.Summary))
	if iv.Location != "" {
		line("LOCATION:" + escapeText(iv.Location))
	}
	if iv.Description != "" {
		line("DESCRIPTION:" + escapeText(iv.Description))
	}
	if iv.Cancelled {
		line("STATUS:CANCELLED")
	} else {
		line("STATUS:CONFIRMED")
	}
	line("TRANSP:OPAQUE")
	line("END:VEVENT")
	line("END:VCALENDAR")
	return b.Bytes()
}

func icsTime(t time.Time, utc bool) string {
	if utc {
		return ":" + t.UTC().Format("20060102T150405Z")
	}
	return ";TZID=Asia/Tokyo:" + t.In(Tokyo).Format("20060102T150405")
}

// escapeText escapes a TEXT value (RFC 5545 3.3.11).
func escapeText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`, "\r", `\n`).Replace(s)
}

// fold writes one content line, folded so that no physical line exceeds
// 75 octets (the continuation's leading space counts), never inside a
// UTF-8 character.
func fold(b *bytes.Buffer, s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = 74
	}
	b.WriteString(s)
	b.WriteString("\r\n")
}
