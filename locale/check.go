package locale

import (
	"fmt"
	"strings"
	"time"
)

// Check reports what is wrong with one strings: entry: a key no table
// has, a value whose fmt verbs differ from the English entry's (the page
// would show "%!d(MISSING)"), or a date_format Go cannot use. "" when it is
// fine.
func Check(key, value string) string {
	if key == "date_format" {
		if value == "" || time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC).Format(value) == value {
			return fmt.Sprintf("date_format %q has no date in it: write it as Go writes January 2, 2006 (e.g. \"2 January 2006\")", value)
		}
		return ""
	}
	en, ok := english[key]
	if !ok {
		return fmt.Sprintf("strings has no entry %q", key)
	}
	if verbs(en) != verbs(value) {
		return fmt.Sprintf("strings.%s must keep the placeholders of %q", key, en)
	}
	return ""
}

// verbs are the fmt verbs of s in order: "%d%s".
func verbs(s string) string {
	var b strings.Builder
	for i := 0; i < len(s)-1; i++ {
		if s[i] == '%' {
			if s[i+1] == '%' {
				i++
				continue
			}
			b.WriteByte('%')
			b.WriteByte(s[i+1])
			i++
		}
	}
	return b.String()
}
