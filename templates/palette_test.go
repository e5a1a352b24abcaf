package templates

import (
	"strings"
	"testing"
)

func TestPalette(t *testing.T) {
	p, err := Palette()
	if err != nil {
		t.Fatal(err)
	}
	s := string(p)
	for _, want := range []string{"--bg:", "--fg:", "--link:", "--font:", "prefers-color-scheme: dark"} {
		if !strings.Contains(s, want) {
			t.Errorf("palette lacks %q:\n%s", want, s)
		}
	}
	if strings.Count(s, "{") != strings.Count(s, "}") {
		t.Errorf("palette braces do not balance:\n%s", s)
	}
}
