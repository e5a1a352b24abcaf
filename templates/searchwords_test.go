package templates

import (
	"slices"
	"testing"
)

// appendSearchWords must give exactly searchWords's words: searchWords is
// its oracle.
func checkSearchWords(t *testing.T, text string) {
	t.Helper()
	var want, got []string
	searchWords(text, func(w string) { want = append(want, w) })
	appendSearchWords(nil, text, func(w []byte) { got = append(got, string(w)) })
	if !slices.Equal(got, want) {
		t.Fatalf("appendSearchWords(%q) = %q, searchWords = %q", text, got, want)
	}
}

func TestAppendSearchWords(t *testing.T) {
	for _, text := range []string{
		"", "a", "ab", "Hello, World!", "café Crème", "naïve-approach x2 42",
		"東京タワーに行きました hello東京", "abc\u0301def", "ÀB", "x\xffy", "go1.26 ok",
		"aaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbb", "ÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉ",
		"a\u2028b", "Straße ǅ İstanbul", "x\u0300", "\u0300\u0301", "fi ﬁ",
	} {
		checkSearchWords(t, text)
	}
}

func FuzzAppendSearchWords(f *testing.F) {
	f.Add("Hello, café 東京 x\xffy")
	f.Add("ÀB naïve-approach 42")
	f.Fuzz(checkSearchWords)
}
