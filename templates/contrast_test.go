package templates

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// cssVars reads the custom properties of the light (:root) and dark
// (prefers-color-scheme: dark) palettes of the stylesheet.
func cssVars(t *testing.T, css string) (light, dark map[string]string) {
	t.Helper()
	re := regexp.MustCompile(`--([a-z-]+):\s*(#[0-9a-fA-F]{6})[;}]`)
	parse := func(block string) map[string]string {
		m := map[string]string{}
		for _, g := range re.FindAllStringSubmatch(block, -1) {
			m[g[1]] = g[2]
		}
		return m
	}
	i := strings.Index(css, "@media (prefers-color-scheme: dark)")
	if i < 0 {
		t.Fatal("stylesheet has no dark palette")
	}
	return parse(css[:i]), parse(css[i:])
}

func luminance(hex string) float64 {
	var c [3]float64
	for i := range c {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		s := float64(v) / 255
		if s <= 0.03928 {
			c[i] = s / 12.92
		} else {
			c[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
}

func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// TestContrastAA checks every text colour of the theme against the
// backgrounds it is used on, in both palettes: WCAG AA for normal text is 4.5:1.
func TestContrastAA(t *testing.T) {
	r, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	light, dark := cssVars(t, string(r.Stylesheet()))
	pairs := [][2]string{
		{"fg", "bg"}, {"muted", "bg"}, {"link", "bg"},
		{"fg", "soft"}, {"muted", "soft"}, {"link", "soft"},
		{"draft-fg", "draft-bg"}, {"sched-fg", "sched-bg"}, {"banner-fg", "banner-bg"},
		{"bg", "fg"},                  // the skip link
		{"fg", "hl"}, {"muted", "hl"}, // a highlighted code line and its number
	}
	for name, palette := range map[string]map[string]string{"light": light, "dark": dark} {
		for _, p := range pairs {
			fg, bg := palette[p[0]], palette[p[1]]
			if fg == "" || bg == "" {
				t.Errorf("%s palette lacks --%s or --%s", name, p[0], p[1])
				continue
			}
			if c := contrast(fg, bg); c < 4.5 {
				t.Errorf("%s: --%s %s on --%s %s has contrast %.2f:1, want at least 4.5:1", name, p[0], fg, p[1], bg, c)
			} else {
				t.Logf("%s: --%s on --%s %.2f:1", name, p[0], p[1], c)
			}
		}
	}
}
