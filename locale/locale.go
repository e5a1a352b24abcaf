// Package locale owns the words the theme shows a reader and how it writes
// dates and counts reading time, per language: a table for English,
// German, French, Spanish, Portuguese, Italian, Dutch, Polish, Japanese and
// Chinese, chosen by publish.yaml's language, with strings: overriding any
// entry. Month names and date order come from goodsign/monday; plural forms
// follow CLDR's rules (golang.org/x/text/feature/plural).
package locale

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/goodsign/monday"
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

// Locale is one language's table, ready to use. The zero value is not
// usable; get one from For.
type Locale struct {
	Tag  string // the language tag as configured, "pt-BR"
	Base string // the table it uses, "pt"
	// Dir is "rtl" for a language written right to left, "" otherwise
	// (the theme writes dir only when it is set).
	Dir string
	// WordsPerMinute is the reading speed behind a post's reading time;
	// for Japanese and Chinese it counts characters (posts counts each
	// Han, Hiragana and Katakana character as a word).
	WordsPerMinute int

	table      *table
	strings    map[string]string
	pluralTag  language.Tag
	dateLayout string
}

// table is one language's built-in entries.
type table struct {
	monday     monday.Locale
	dateLayout string // Go layout, month names translated by monday
	wpm        int
	strings    map[string]string
}

// rtl are the languages written right to left: their pages get dir="rtl"
// (their words stay English until a table is added or strings: gives them).
var rtl = map[string]bool{"ar": true, "he": true, "fa": true, "ur": true, "yi": true, "ps": true, "sd": true, "ug": true, "dv": true, "ckb": true}

// For returns the locale of a language tag ("de", "pt-BR", "zh-Hans"),
// with overrides (publish.yaml's strings:) replacing entries. A language
// without a table uses English words. Unknown override keys are ignored
// here; Check reports them.
func For(tag string, overrides map[string]string) *Locale {
	base := strings.ToLower(tag)
	if i := strings.IndexAny(base, "-_"); i >= 0 {
		base = base[:i]
	}
	t, ok := tables[base]
	if !ok {
		t = tables["en"]
	}
	l := &Locale{Tag: tag, Base: base, table: t, WordsPerMinute: t.wpm, dateLayout: t.dateLayout}
	if !ok {
		l.Base = "en"
	}
	if rtl[base] {
		l.Dir = "rtl"
	}
	if pt, err := language.Parse(tag); err == nil {
		l.pluralTag = pt
	} else {
		l.pluralTag = language.English
	}
	if len(overrides) > 0 {
		l.strings = make(map[string]string, len(overrides))
		for k, v := range overrides {
			if k == "date_format" {
				l.dateLayout = v
				continue
			}
			l.strings[k] = v
		}
	}
	return l
}

// Keys are every entry a table has (the keys strings: may set), sorted.
func Keys() []string {
	keys := make([]string, 0, len(english)+1)
	for k := range english {
		keys = append(keys, k)
	}
	keys = append(keys, "date_format")
	sort.Strings(keys)
	return keys
}

// Languages are the languages with a table of their own, sorted.
func Languages() []string {
	out := make([]string, 0, len(tables))
	for k := range tables {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// T is the entry key with args filled in (fmt verbs, as in "%d min read").
// A key with plural forms ("post_count") picks the form for the first
// argument. A key no table has is returned as it is, so a typo in a theme
// override shows on the page instead of failing the build.
func (l *Locale) T(key string, args ...any) string {
	if len(args) > 0 {
		if n, ok := args[0].(int); ok {
			var buf [64]byte // "key.form" without a string for it
			k := append(append(buf[:0], key...), '.')
			if s, ok := l.lookupBytes(append(k, l.pluralForm(n)...)); ok {
				return fmt.Sprintf(s, args...)
			}
			if s, ok := l.lookupBytes(append(k, "other"...)); ok {
				return fmt.Sprintf(s, args...)
			}
		}
	}
	s, ok := l.lookup(key)
	if !ok {
		return key
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// lookupBytes is lookup of a key held in bytes.
func (l *Locale) lookupBytes(key []byte) (string, bool) {
	if s, ok := l.strings[string(key)]; ok {
		return s, true
	}
	if s, ok := l.table.strings[string(key)]; ok {
		return s, true
	}
	s, ok := english[string(key)]
	return s, ok
}

func (l *Locale) lookup(key string) (string, bool) {
	if s, ok := l.strings[key]; ok {
		return s, true
	}
	if s, ok := l.table.strings[key]; ok {
		return s, true
	}
	s, ok := english[key]
	return s, ok
}

// pluralForm is CLDR's cardinal category of n in this language: "one",
// "few", "many" or "other" (the forms the tables use).
func (l *Locale) pluralForm(n int) string {
	if n < 0 {
		n = -n
	}
	switch plural.Cardinal.MatchPlural(l.pluralTag, n, 0, 0, 0, 0) {
	case plural.Zero:
		return "zero"
	case plural.One:
		return "one"
	case plural.Two:
		return "two"
	case plural.Few:
		return "few"
	case plural.Many:
		return "many"
	}
	return "other"
}

// Date writes t the way the language writes a date on a page: "May 1,
// 2026", "1. Mai 2026", "1 maja 2026", "2026年5月1日".
func (l *Locale) Date(t time.Time) string {
	if l.table.monday == monday.LocaleEnUS {
		return t.Format(l.dateLayout)
	}
	return monday.Format(t, l.dateLayout, l.table.monday)
}

// ReadingMinutes is the reading time of a text of words words (characters
// for Japanese and Chinese), at least one minute.
func (l *Locale) ReadingMinutes(words int) int {
	return max(1, (words+l.WordsPerMinute/2)/l.WordsPerMinute)
}

// Override is strings:'s entry for key, if it gave one.
func (l *Locale) Override(key string) (string, bool) {
	if key == "date_format" && l.dateLayout != l.table.dateLayout {
		return l.dateLayout, true
	}
	s, ok := l.strings[key]
	return s, ok
}
