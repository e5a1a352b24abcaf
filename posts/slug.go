package posts

import (
	"strings"
	"unicode"
)

// TagSlug is the URL segment of a tag: /tags/<TagSlug(tag)>/. It lowercases
// (Unicode-aware), keeps letters and digits of any script, spells "#" and "+"
// right after a letter or digit as "-sharp" and "-plus" (so "C#" and "C++"
// stay apart from "C"; "#go" is "go"), and turns
// every other run of characters into one hyphen. It returns "" for a tag with
// no letters or digits. Safe for concurrent use.
func TagSlug(tag string) string { return slugify(tag) }

// slugify is the one slug function for post slugs, tag slugs and heading IDs.
func slugify(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	pendingHyphen := false
	word := func(w string) {
		if b.Len() > 0 {
			b.WriteByte('-')
		}
		b.WriteString(w)
		pendingHyphen = false
	}
	for _, r := range s {
		switch {
		case r == '\'' || r == '\u2019' || r == '\u2018':
			// apostrophes join: "don't" -> "dont"
		case r == '#' && b.Len() > 0 && !pendingHyphen:
			word("sharp") // "C#", not "#tag"
		case r == '+' && b.Len() > 0 && !pendingHyphen:
			word("plus") // "C++", not "a + b"
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r):
			if pendingHyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			pendingHyphen = false
			b.WriteRune(unicode.ToLower(r))
		default:
			pendingHyphen = true
		}
	}
	return b.String()
}
