// Package searchwords splits text into the words of the site's search
// index, folded the way the search script compares them: lower case,
// without accents, CJK characters one word each. posts uses it to keep
// each post's words with its cached render, templates to build the index:
// a change here must change posts' renderVersion too.
package searchwords

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"
)

// Words shorter than MinRunes or longer than MaxRunes are left out (the
// script ignores shorter query terms too), except single CJK characters.
const (
	MinRunes = 2
	MaxRunes = 24
)

// Fold is how the index and the script compare words: lower case,
// without accents (NFD, marks dropped), so "Café" finds "cafe".
func Fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s) // returns s itself when it has no upper case
	}
	s = norm.NFD.String(strings.ToLower(s))
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, s)
}

// isCJK says whether r is written without spaces between words: each such
// character is a word of the index.
func isCJK(r rune) bool {
	return r >= 0x1100 && unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// Each calls add for every word of text, folded (see Fold).
func Each(text string, add func(string)) {
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := Fold(text[start:end])
		start = -1
		if n := utf8.RuneCountInString(w); n >= MinRunes && n <= MaxRunes {
			add(w)
		}
	}
	for i, r := range text {
		switch {
		case r < utf8.RuneSelf:
			if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
				if start < 0 {
					start = i
				}
			} else {
				flush(i)
			}
		case isCJK(r):
			flush(i)
			add(string(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			if start < 0 {
				start = i
			}
		default:
			flush(i)
		}
	}
	flush(len(text))
}

// Append calls add for every word of text, folded, exactly as
// Each does, without allocating for words of ASCII letters and
// digits, the most of a text: the word add gets is only valid during the
// call, and add must not change it. buf is text with its ASCII letters in
// lower case, whose slices are those words; it is returned for the next
// call to reuse. Other words go through Each's folding (ASCII
// letters in lower case first fold the same).
func Append(buf []byte, text string, add func([]byte)) []byte {
	buf = slices.Grow(buf[:0], len(text))[:len(text)]
	for i := 0; i < len(text); i++ {
		c := text[i]
		buf[i] = c | asciiCase[c]
	}
	var other []byte // a word outside ASCII, folded
	addOther := func(w string) { other = append(other[:0], w...); add(other) }
	i := 0
	for i < len(buf) {
		c := buf[i]
		if !isASCIIWordByte(c) {
			if c < utf8.RuneSelf {
				i++
				continue
			}
			// a word, or CJK, or a separator outside ASCII: Each's way
			// from here to the next ASCII separator (a word never spans one)
			j := i + 1
			for j < len(buf) && (buf[j] >= utf8.RuneSelf || isASCIIWordByte(buf[j])) {
				j++
			}
			Each(text[i:j], addOther)
			i = j
			continue
		}
		j := i + 1
		for j < len(buf) && isASCIIWordByte(buf[j]) {
			j++
		}
		if j < len(buf) && buf[j] >= utf8.RuneSelf {
			// the word goes on outside ASCII (or meets CJK): Each's way
			// to the next ASCII separator
			for j < len(buf) && (buf[j] >= utf8.RuneSelf || isASCIIWordByte(buf[j])) {
				j++
			}
			Each(text[i:j], addOther)
			i = j
			continue
		}
		if n := j - i; n >= MinRunes && n <= MaxRunes {
			add(buf[i:j:j])
		}
		i = j
	}
	return buf
}

// asciiWord is 1 at the ASCII letters and digits; asciiCase is the bit
// that turns an ASCII upper-case letter into lower case at the letter, 0
// elsewhere.
var asciiWord, asciiCase = func() (w, c [256]byte) {
	for b := 0; b < 256; b++ {
		switch {
		case 'a' <= b && b <= 'z', '0' <= b && b <= '9':
			w[b] = 1
		case 'A' <= b && b <= 'Z':
			w[b] = 1
			c[b] = 'a' - 'A'
		}
	}
	return w, c
}()

func isASCIIWordByte(c byte) bool { return asciiWord[c] != 0 }

// Unique is the words of text (as Each gives them) without repeats, in the
// order they first appear, each followed by a NUL byte: one string for a
// post's words, which Range walks.
func Unique(text string) string {
	seen := map[string]bool{}
	var out strings.Builder
	Append(nil, text, func(w []byte) {
		if seen[string(w)] {
			return
		}
		s := string(w)
		seen[s] = true
		out.WriteString(s)
		out.WriteByte(0)
	})
	return out.String()
}

// Range calls fn with every word of a list Unique made; the word is only
// valid during the call and must not be changed.
func Range(list string, fn func(w []byte)) {
	for len(list) > 0 {
		i := strings.IndexByte(list, 0)
		if i < 0 {
			i = len(list)
		}
		if i > 0 {
			fn(unsafe.Slice(unsafe.StringData(list), i))
		}
		list = list[min(i+1, len(list)):]
	}
}
