package templates

import (
	"unicode/utf8"
)

// The feeds carry each post's body, escaped as XML character data; a post
// is in several feeds (the site's Atom and RSS feeds, its tags' and its
// section's), so its body is escaped once per render (feedText) and
// written into them as it is.

// xmlText is character data already escaped (appendXMLText): encoding/xml
// writes it as it is, where a string would be escaped.
type xmlText struct {
	Escaped string `xml:",innerxml"`
}

// atomRawText is atomText with its body already escaped.
type atomRawText struct {
	Type    string `xml:"type,attr,omitempty"`
	Escaped string `xml:",innerxml"`
}

// feedText is d's body with absolute URLs (feedHTML), escaped as XML
// character data; computed once per post and render.
func (b *build) feedText(d *PostData) string {
	if s, ok := b.feedXML[d]; ok {
		return s
	}
	if b.feedXML == nil {
		b.feedXML = map[*PostData]string{}
	}
	s := string(appendXMLText(nil, b.feedHTML[d]))
	b.feedXML[d] = s
	return s
}

// xmlEscapes are the escapes of the ASCII bytes that encoding/xml escapes
// in character data; the control characters XML does not allow become
// U+FFFD.
var xmlEscapes = func() (e [utf8.RuneSelf]string) {
	for c := range byte(0x20) {
		e[c] = "\uFFFD"
	}
	e['"'], e['\''], e['&'], e['<'], e['>'] = "&#34;", "&#39;", "&amp;", "&lt;", "&gt;"
	e['\t'], e['\n'], e['\r'] = "&#x9;", "&#xA;", "&#xD;"
	return e
}()

// appendXMLText appends s escaped exactly as encoding/xml's EscapeText
// escapes character data: the five markup characters and tab, newline
// and carriage return by reference, and each character XML does not
// allow (other controls, U+FFFE, U+FFFF, a byte of invalid UTF-8) as
// U+FFFD.
func appendXMLText(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if esc := xmlEscapes[c]; esc != "" {
				dst = append(dst, s[last:i]...)
				dst = append(dst, esc...)
				last = i + 1
			}
			i++
			continue
		}
		r, width := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && width == 1 || r == 0xFFFE || r == 0xFFFF {
			dst = append(dst, s[last:i]...)
			dst = append(dst, "\uFFFD"...)
			last = i + width
		}
		i += width
	}
	return append(dst, s[last:]...)
}
