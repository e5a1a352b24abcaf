package templates

import (
	"bytes"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// urlAttrs are the attributes whose value is one URL.
var urlAttrs = map[string]bool{"href": true, "src": true, "poster": true, "cite": true}

// absoluteHTML rewrites the relative URLs of a post body (links, images,
// srcset candidates) against base, the post's absolute URL, so the body
// reads the same outside the site: in feed readers. The rest of the markup
// is kept byte for byte. body is posts.Load's sanitised HTML.
func absoluteHTML(body string, base *url.URL) string {
	if base == nil || !strings.ContainsAny(body, "=") {
		return body
	}
	var out bytes.Buffer
	out.Grow(len(body) + len(body)/8)
	z := html.NewTokenizer(strings.NewReader(body))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return out.String() // io.EOF: the whole body was read
		case html.StartTagToken, html.SelfClosingTagToken:
			raw := z.Raw()
			if !mayHoldURLAttr(raw) {
				out.Write(raw) // most tags: the spans of highlighted code
				continue
			}
			tok := z.Token()
			changed := false
			for i, a := range tok.Attr {
				switch {
				case a.Namespace != "":
				case urlAttrs[a.Key]:
					if v, ok := resolveURL(base, a.Val); ok {
						tok.Attr[i].Val, changed = v, true
					}
				case a.Key == "srcset":
					if v, ok := resolveSrcset(base, a.Val); ok {
						tok.Attr[i].Val, changed = v, true
					}
				}
			}
			if changed {
				out.WriteString(tok.String())
			} else {
				out.Write(raw)
			}
		default:
			out.Write(z.Raw())
		}
	}
}

// mayHoldURLAttr says whether a tag as written may have an attribute that
// absoluteHTML rewrites: one of urlAttrs or srcset, whose names the
// tokenizer lower-cases, so only a tag holding one of them in any ASCII
// case can. (The tokenizer does not change the tag's raw bytes.)
func mayHoldURLAttr(tag []byte) bool {
	for i, c := range tag {
		var name string
		switch c | 0x20 { // ASCII lower case
		case 'h':
			name = "href"
		case 's':
			name = "src" // and srcset
		case 'p':
			name = "poster"
		case 'c':
			name = "cite"
		default:
			continue
		}
		if hasASCIIPrefixFold(tag[i:], name) {
			return true
		}
	}
	return false
}

// hasASCIIPrefixFold says whether b starts with lower, a lower-case ASCII
// word, in any ASCII case.
func hasASCIIPrefixFold(b []byte, lower string) bool {
	if len(b) < len(lower) {
		return false
	}
	for i := 0; i < len(lower); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// resolveURL makes ref absolute against base (a footnote's "#fn:1" too:
// outside the page it must name the page); ok is false when ref is already
// absolute or not a URL.
func resolveURL(base *url.URL, ref string) (string, bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", false
	}
	u, err := url.Parse(ref)
	if err != nil || u.Scheme != "" {
		return "", false
	}
	return base.ResolveReference(u).String(), true
}

func resolveSrcset(base *url.URL, set string) (string, bool) {
	parts := strings.Split(set, ",")
	changed := false
	for i, p := range parts {
		f := strings.Fields(p)
		if len(f) == 0 {
			continue
		}
		if v, ok := resolveURL(base, f[0]); ok {
			f[0], changed = v, true
			parts[i] = strings.Join(f, " ")
		}
	}
	return strings.Join(parts, ", "), changed
}
