package locale

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// Every table gives every key, with the English entry's placeholders: a
// missing one would show English in the middle of a German page.
func TestEveryTableIsComplete(t *testing.T) {
	for lang, tb := range tables {
		for key, en := range english {
			if strings.HasPrefix(key, "post_count.") || key == "json_feed" {
				continue // plural forms differ per language (checked below); JSON Feed is a name
			}
			s, ok := tb.strings[key]
			if !ok {
				t.Errorf("%s: no %q", lang, key)
				continue
			}
			if verbs(s) != verbs(en) {
				t.Errorf("%s: %q = %q has placeholders %q, English has %q", lang, key, s, verbs(s), verbs(en))
			}
		}
		for key := range tb.strings {
			base, _, _ := strings.Cut(key, ".")
			if _, ok := english[key]; !ok && base != "post_count" {
				t.Errorf("%s: %q is not an English key", lang, key)
			}
		}
		l := For(lang, nil)
		for n := range 30 {
			if got := l.T("post_count", n); !strings.Contains(got, strconv.Itoa(n)) || strings.Contains(got, "%!") {
				t.Errorf("%s: post_count %d = %q", lang, n, got)
			}
		}
	}
}

func TestDatesAndPlurals(t *testing.T) {
	d := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct{ lang, date string }{
		{"en", "May 1, 2026"}, {"en-GB", "May 1, 2026"}, {"de", "1. Mai 2026"}, {"fr", "1 mai 2026"},
		{"es", "1 de mayo de 2026"}, {"pt-BR", "1 de maio de 2026"}, {"it", "1 maggio 2026"},
		{"nl", "1 mei 2026"}, {"pl", "1 maja 2026"}, {"ja", "2026年5月1日"}, {"zh-Hans", "2026年5月1日"},
		{"ar", "May 1, 2026"},
	} {
		if got := For(c.lang, nil).Date(d); got != c.date {
			t.Errorf("%s: Date = %q, want %q", c.lang, got, c.date)
		}
	}
	pl := For("pl", nil)
	for n, want := range map[int]string{1: "1 wpis", 2: "2 wpisy", 5: "5 wpisów", 12: "12 wpisów", 22: "22 wpisy"} {
		if got := pl.T("post_count", n); got != want {
			t.Errorf("pl post_count %d = %q, want %q", n, got, want)
		}
	}
	en := For("en", nil)
	if got := en.T("post_count", 1) + " / " + en.T("post_count", 2); got != "1 post / 2 posts" {
		t.Errorf("en post_count = %q", got)
	}
	if For("ar", nil).Dir != "rtl" || For("he-IL", nil).Dir != "rtl" || For("de", nil).Dir != "" {
		t.Error("dir: want rtl for ar and he-IL only")
	}
}

func TestOverrides(t *testing.T) {
	l := For("de", map[string]string{"min_read": "%d Minuten", "date_format": "02.01.2006"})
	if got := l.T("min_read", 3); got != "3 Minuten" {
		t.Errorf("override: %q", got)
	}
	if got := l.T("archive"); got != "Archiv" {
		t.Errorf("table entry under an override: %q", got)
	}
	if got := l.Date(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)); got != "01.05.2026" {
		t.Errorf("date_format override: %q", got)
	}
	if got := l.T("no-such-key"); got != "no-such-key" {
		t.Errorf("unknown key: %q", got)
	}
	for _, c := range []struct{ k, v, want string }{
		{"min_read", "%d Minuten", ""},
		{"min_read", "Minuten", "placeholders"},
		{"archve", "x", "no entry"},
		{"date_format", "gestern", "no date"},
		{"date_format", "2 Jan 2006", ""},
	} {
		got := Check(c.k, c.v)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("Check(%q, %q) = %q, want containing %q", c.k, c.v, got, c.want)
		}
	}
}

func TestReadingMinutes(t *testing.T) {
	if got := For("en", nil).ReadingMinutes(1000); got != 5 {
		t.Errorf("en 1000 words: %d min", got)
	}
	if got := For("ja", nil).ReadingMinutes(2000); got != 5 {
		t.Errorf("ja 2000 characters: %d min", got)
	}
	if got := For("de", nil).ReadingMinutes(0); got != 1 {
		t.Errorf("empty: %d min", got)
	}
}
