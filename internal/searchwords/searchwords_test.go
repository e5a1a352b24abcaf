package searchwords

import (
	"slices"
	"testing"
)

// Append must give exactly Each's words: Each is
// its oracle.
func checkSearchWords(t *testing.T, text string) {
	t.Helper()
	var want, got []string
	Each(text, func(w string) { want = append(want, w) })
	Append(nil, text, func(w []byte) { got = append(got, string(w)) })
	if !slices.Equal(got, want) {
		t.Fatalf("Append(%q) = %q, Each = %q", text, got, want)
	}
}

func TestAppend(t *testing.T) {
	for _, text := range []string{
		"", "a", "ab", "Hello, World!", "café Crème", "naïve-approach x2 42",
		"東京タワーに行きました hello東京", "abc\u0301def", "ÀB", "x\xffy", "go1.26 ok",
		"aaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbb", "ÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉ",
		"a\u2028b", "Straße ǅ İstanbul", "x\u0300", "\u0300\u0301", "fi ﬁ",
	} {
		checkSearchWords(t, text)
	}
}

func FuzzAppend(f *testing.F) {
	f.Add("Hello, café 東京 x\xffy")
	f.Add("ÀB naïve-approach 42")
	f.Fuzz(checkSearchWords)
}

// TestUniqueRange: Range walks Unique's list: Each's words, each once, in
// the order they first appear.
func TestUniqueRange(t *testing.T) {
	for _, text := range []string{"", "a", "Hello hello HELLO world, Café cafe 東京東", "x\xffy ab ab"} {
		var want []string
		seen := map[string]bool{}
		Each(text, func(w string) {
			if !seen[w] {
				seen[w] = true
				want = append(want, w)
			}
		})
		var got []string
		Range(Unique(text), func(w []byte) { got = append(got, string(w)) })
		if !slices.Equal(got, want) {
			t.Errorf("Unique(%q) = %q, want %q", text, got, want)
		}
	}
}
