package posts

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// looseTimestampRE is YAML 1.1's timestamp, widened the way Jekyll (Ruby's
// Time.parse) reads front matter dates: a one-digit hour,
// optional seconds and fraction, a space or T between date and time, and an
// offset written Z, -4, -04, -0400 or -04:00 (with or without a space
// before it), or a zone abbreviation such as UTC or PST.
var looseTimestampRE = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})(?:(?:[Tt]|[ \t]+)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:[ \t]*(Z|z|[-+]\d{1,2}(?::?\d{2})?|[A-Z]{3,4}))?)?$`)

// zoneAbbrevs are the zone abbreviations Jekyll blogs write, with their
// offsets; anything else is not guessed at.
var zoneAbbrevs = map[string]int{
	"UTC": 0, "GMT": 0, "Z": 0,
	"EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
	"CET": 1, "CEST": 2, "BST": 1, "IST": 5, "JST": 9,
}

// parseLooseTimestamp reads the timestamp forms YAML 1.1 and Jekyll accept
// that Go's layouts do not. It returns the time, whether it carried its own
// zone, and whether it could be read; a time without a zone is in loc.
func parseLooseTimestamp(s string, loc *time.Location) (t time.Time, zoned, ok bool) {
	m := looseTimestampRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return time.Time{}, false, false
	}
	num := func(i int) int { n, _ := strconv.Atoi(m[i]); return n }
	year, month, day := num(1), num(2), num(3)
	hour, minute, sec, nsec := 0, 0, 0, 0
	if m[4] != "" {
		hour, minute = num(4), num(5)
		if m[6] != "" {
			sec = num(6)
		}
		if m[7] != "" {
			frac := (m[7] + "000000000")[:9]
			nsec, _ = strconv.Atoi(frac)
		}
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false, false
	}
	zone := loc
	if z := m[8]; z != "" {
		offset, ok := zoneOffset(z)
		if !ok {
			return time.Time{}, false, false
		}
		zone = time.FixedZone("", offset)
		zoned = true
	}
	t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, zone)
	// time.Date normalises 2023-02-30 to March 2: that is no such day.
	if t.Day() != day || int(t.Month()) != month {
		return time.Time{}, false, false
	}
	return t, zoned, true
}

// zoneOffset is the offset in seconds of Z, ±H, ±HH, ±HHMM, ±HH:MM or a
// known abbreviation.
func zoneOffset(z string) (int, bool) {
	if h, ok := zoneAbbrevs[strings.ToUpper(z)]; ok {
		return h * 3600, true
	}
	sign := 1
	switch z[0] {
	case '-':
		sign = -1
	case '+':
	default:
		return 0, false
	}
	digits := strings.ReplaceAll(z[1:], ":", "")
	var h, mnt int
	switch len(digits) {
	case 1, 2:
		h, _ = strconv.Atoi(digits)
	case 3, 4:
		h, _ = strconv.Atoi(digits[:len(digits)-2])
		mnt, _ = strconv.Atoi(digits[len(digits)-2:])
	default:
		return 0, false
	}
	if h > 14 || mnt > 59 {
		return 0, false
	}
	return sign * (h*3600 + mnt*60), true
}
