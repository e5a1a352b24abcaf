package posts

import (
	"bytes"
	"strings"

	xhtml "golang.org/x/net/html"
)

// urlAttrs are the attributes whose values browsers treat as URLs.
var urlAttrs = map[string]bool{
	"href": true, "src": true, "action": true, "formaction": true, "poster": true,
	"background": true, "cite": true, "data": true, "xlink:href": true, "longdesc": true,
	"usemap": true, "lowsrc": true, "dynsrc": true, "manifest": true, "codebase": true,
	"archive": true, "profile": true, "classid": true, "icon": true, "ping": true,
}

// cleanHTML is raw HTML (allowed by unsafe_html) with every dangerous URL
// attribute value (see dangerousURL) replaced by "#". unsafe_html trusts the
// author's markup otherwise; it does not remove scripts or event handlers.
func cleanHTML(b []byte) []byte {
	if !bytes.ContainsAny(b, "=") {
		return b
	}
	z := xhtml.NewTokenizer(bytes.NewReader(b))
	var out bytes.Buffer
	out.Grow(len(b))
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			out.Write(z.Raw())
			return out.Bytes()
		}
		raw := append([]byte(nil), z.Raw()...)
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			out.Write(raw)
			continue
		}
		tok := z.Token()
		changed := false
		for i, a := range tok.Attr {
			if unsafeAttr(a) {
				tok.Attr[i].Val = "#"
				changed = true
			}
		}
		if changed {
			out.WriteString(tok.String())
		} else {
			out.Write(raw)
		}
	}
}

func unsafeAttr(a xhtml.Attribute) bool {
	key := strings.ToLower(a.Key)
	if a.Namespace != "" {
		key = a.Namespace + ":" + key
	}
	switch {
	case urlAttrs[key]:
		return dangerousURL([]byte(a.Val))
	case key == "srcset" || key == "imagesrcset":
		for _, c := range strings.Split(a.Val, ",") {
			if dangerousURL([]byte(strings.TrimSpace(c))) {
				return true
			}
		}
	case key == "style":
		l := strings.ToLower(a.Val)
		return strings.Contains(l, "javascript:") || strings.Contains(l, "expression(")
	}
	return false
}
