package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed EventBridge Scheduler expression.
type Schedule struct {
	every time.Duration // rate(...)
	// cron(minutes hours day-of-month month day-of-week year)
	min, hour, dom, month, dow, year map[int]bool
	anyDom, anyDow                   bool
}

// Parse reads cron(...) and rate(...) expressions. The cron special
// characters L, W and # are not supported and are reported as errors.
func Parse(expr string) (*Schedule, error) {
	switch {
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		f := strings.Fields(expr[5 : len(expr)-1])
		if len(f) != 2 {
			return nil, fmt.Errorf("%s: want rate(N unit)", expr)
		}
		n, err := strconv.Atoi(f[0])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: bad count", expr)
		}
		unit := map[string]time.Duration{"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour, "hours": time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour}[f[1]]
		if unit == 0 {
			return nil, fmt.Errorf("%s: bad unit", expr)
		}
		return &Schedule{every: time.Duration(n) * unit}, nil
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
	default:
		return nil, fmt.Errorf("%q is not cron(...) or rate(...)", expr)
	}
	f := strings.Fields(expr[5 : len(expr)-1])
	if len(f) != 6 {
		return nil, fmt.Errorf("%s: want 6 fields, got %d", expr, len(f))
	}
	months := map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	days := map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
	s := &Schedule{anyDom: f[2] == "?", anyDow: f[4] == "?"}
	if s.anyDom == s.anyDow {
		return nil, fmt.Errorf("%s: exactly one of day-of-month and day-of-week must be ?", expr)
	}
	var err error
	if s.min, err = field(f[0], 0, 59, nil); err != nil {
		return nil, fmt.Errorf("%s minutes: %w", expr, err)
	}
	if s.hour, err = field(f[1], 0, 23, nil); err != nil {
		return nil, fmt.Errorf("%s hours: %w", expr, err)
	}
	if !s.anyDom {
		if s.dom, err = field(f[2], 1, 31, nil); err != nil {
			return nil, fmt.Errorf("%s day-of-month: %w", expr, err)
		}
	}
	if s.month, err = field(f[3], 1, 12, months); err != nil {
		return nil, fmt.Errorf("%s month: %w", expr, err)
	}
	if !s.anyDow {
		if s.dow, err = field(f[4], 1, 7, days); err != nil {
			return nil, fmt.Errorf("%s day-of-week: %w", expr, err)
		}
	}
	if s.year, err = field(f[5], 1970, 2199, nil); err != nil {
		return nil, fmt.Errorf("%s year: %w", expr, err)
	}
	return s, nil
}

func field(f string, lo, hi int, names map[string]int) (map[int]bool, error) {
	if strings.ContainsAny(f, "LW#") && names == nil || strings.Contains(f, "#") {
		return nil, fmt.Errorf("%q: L, W and # are not supported here", f)
	}
	num := func(s string) (int, error) {
		if n, ok := names[strings.ToUpper(s)]; ok {
			return n, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("%q is not in %d-%d", s, lo, hi)
		}
		return n, nil
	}
	out := map[int]bool{}
	for _, part := range strings.Split(f, ",") {
		step := 1
		if base, st, ok := strings.Cut(part, "/"); ok {
			n, err := strconv.Atoi(st)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%q: bad step", part)
			}
			part, step = base, n
		}
		from, to := lo, hi
		switch {
		case part == "*":
		case strings.Contains(part, "-"):
			a, b, _ := strings.Cut(part, "-")
			var err error
			if from, err = num(a); err != nil {
				return nil, err
			}
			if to, err = num(b); err != nil {
				return nil, err
			}
		default:
			n, err := num(part)
			if err != nil {
				return nil, err
			}
			from, to = n, n
			if step > 1 {
				to = hi
			}
		}
		for i := from; i <= to; i += step {
			out[i] = true
		}
	}
	return out, nil
}

// Next is the first time strictly after t (in t's location) that matches.
func (s *Schedule) Next(t time.Time) time.Time {
	if s.every > 0 {
		return t.Add(s.every).Truncate(time.Minute)
	}
	n := t.Truncate(time.Minute).Add(time.Minute)
	for limit := n.AddDate(5, 0, 0); n.Before(limit); n = n.Add(time.Minute) {
		if !s.year[n.Year()] || !s.month[int(n.Month())] {
			continue
		}
		if !s.anyDom && !s.dom[n.Day()] || !s.anyDow && !s.dow[int(n.Weekday())+1] {
			continue
		}
		if s.hour[n.Hour()] && s.min[n.Minute()] {
			return n
		}
	}
	return time.Time{}
}
