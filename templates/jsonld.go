package templates

import (
	"strconv"
	"unicode/utf8"
)

// The JSON-LD of a post page, written by hand: it is on every post page,
// and encoding/json's reflection was a measurable part of a build. The
// bytes are exactly json.Marshal's (jsonld_test.go checks them against it,
// fuzzed), escapes for a script element included (see jsonLD).

// appendJSON is json.Marshal(v) appended to dst.
func (v *ldBlogPosting) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"@context":`...)
	dst = appendJSONString(dst, v.Context)
	dst = append(dst, `,"@type":`...)
	dst = appendJSONString(dst, v.Type)
	dst = append(dst, `,"headline":`...)
	dst = appendJSONString(dst, v.Headline)
	if v.Description != "" {
		dst = append(dst, `,"description":`...)
		dst = appendJSONString(dst, v.Description)
	}
	dst = append(dst, `,"url":`...)
	dst = appendJSONString(dst, v.URL)
	dst = append(dst, `,"mainEntityOfPage":`...)
	dst = appendJSONString(dst, v.MainEntity)
	dst = append(dst, `,"datePublished":`...)
	dst = appendJSONString(dst, v.DatePublished)
	dst = append(dst, `,"dateModified":`...)
	dst = appendJSONString(dst, v.DateModified)
	if v.Image != "" {
		dst = append(dst, `,"image":`...)
		dst = appendJSONString(dst, v.Image)
	}
	if len(v.Author) > 0 {
		dst = append(dst, `,"author":[`...)
		for i := range v.Author {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = v.Author[i].appendJSON(dst)
		}
		dst = append(dst, ']')
	}
	if len(v.Keywords) > 0 {
		dst = append(dst, `,"keywords":[`...)
		for i, k := range v.Keywords {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
		}
		dst = append(dst, ']')
	}
	if v.WordCount != 0 {
		dst = append(dst, `,"wordCount":`...)
		dst = strconv.AppendInt(dst, int64(v.WordCount), 10)
	}
	if v.InLanguage != "" {
		dst = append(dst, `,"inLanguage":`...)
		dst = appendJSONString(dst, v.InLanguage)
	}
	if v.IsPartOf != nil {
		dst = append(dst, `,"isPartOf":`...)
		dst = v.IsPartOf.appendJSON(dst)
	}
	return append(dst, '}')
}

// appendJSON is json.Marshal(v) appended to dst.
func (v *ldBlog) appendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	if v.Context != "" {
		dst = append(dst, `"@context":`...)
		dst = appendJSONString(dst, v.Context)
		dst = append(dst, ',')
	}
	dst = append(dst, `"@type":`...)
	dst = appendJSONString(dst, v.Type)
	dst = append(dst, `,"name":`...)
	dst = appendJSONString(dst, v.Name)
	if v.Description != "" {
		dst = append(dst, `,"description":`...)
		dst = appendJSONString(dst, v.Description)
	}
	dst = append(dst, `,"url":`...)
	dst = appendJSONString(dst, v.URL)
	if v.InLanguage != "" {
		dst = append(dst, `,"inLanguage":`...)
		dst = appendJSONString(dst, v.InLanguage)
	}
	if v.Author != nil {
		dst = append(dst, `,"author":`...)
		dst = v.Author.appendJSON(dst)
	}
	if v.Image != "" {
		dst = append(dst, `,"image":`...)
		dst = appendJSONString(dst, v.Image)
	}
	return append(dst, '}')
}

// appendJSON is json.Marshal(v) appended to dst.
func (v *ldPerson) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"@type":`...)
	dst = appendJSONString(dst, v.Type)
	dst = append(dst, `,"name":`...)
	dst = appendJSONString(dst, v.Name)
	if v.URL != "" {
		dst = append(dst, `,"url":`...)
		dst = appendJSONString(dst, v.URL)
	}
	return append(dst, '}')
}

// appendJSONString is s as a JSON string the way encoding/json writes it:
// ", \ and control characters escaped (\b, \f, \n, \r, \t by name), <, >
// and & as \u003c, \u003e, \u0026, U+2028 and U+2029 escaped, and each
// byte of invalid UTF-8 as \ufffd.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
