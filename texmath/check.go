package texmath

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/net/html"
)

// mathElements are the elements Temml writes: MathML Core, the few it
// uses beyond it (menclose), and span.
var mathElements = map[string]bool{
	"math": true, "semantics": true, "annotation": true, "mrow": true, "mi": true, "mn": true, "mo": true,
	"ms": true, "mtext": true, "mspace": true, "msub": true, "msup": true, "msubsup": true, "munder": true,
	"mover": true, "munderover": true, "mfrac": true, "msqrt": true, "mroot": true, "mstyle": true,
	"merror": true, "mpadded": true, "mphantom": true, "mtable": true, "mtr": true, "mtd": true,
	"mlabeledtr": true, "mmultiscripts": true, "mprescripts": true, "none": true, "menclose": true,
	"maction": true,
	"span":    true, // in mtext: equation numbers (tml-eqn, counted by Temml's CSS)
}

// mathAttrs are the attributes it may carry. No URL attribute (href, src,
// xlink:href) and no event handler is in the list.
var mathAttrs = map[string]bool{
	"class": true, "style": true, "id": true, "display": true, "xmlns": true, "width": true, "height": true,
	"depth": true, "voffset": true, "lspace": true, "rspace": true, "notation": true, "stretchy": true,
	"scriptlevel": true, "mathvariant": true, "displaystyle": true, "fence": true, "form": true,
	"minsize": true, "maxsize": true, "mathsize": true, "mathcolor": true, "mathbackground": true,
	"linethickness": true, "linebreak": true, "symmetric": true, "separator": true, "rowspacing": true,
	"columnspacing": true, "columnalign": true, "rowalign": true, "columnlines": true, "rowlines": true,
	"frame": true, "movablelimits": true, "largeop": true, "encoding": true, "accent": true,
	"accentunder": true, "dir": true, "columnspan": true, "rowspan": true, "align": true, "numalign": true,
	"denomalign": true, "bevelled": true, "actiontype": true, "selection": true,
}

// checkMathML makes sure s is one <math> element of MathML elements and
// attributes only, with no style that loads anything: what Temml writes
// with trust off. It is a second line behind Temml's own escaping, since
// the MathML goes into pages as it is.
func checkMathML(s string) error {
	if !strings.HasPrefix(s, "<math") {
		return errors.New("it does not start with <math>")
	}
	z := html.NewTokenizer(strings.NewReader(s))
	depth, closed := 0, false
	for {
		tt := z.Next()
		if closed && tt != html.ErrorToken {
			return errors.New("it is not one <math> element")
		}
		switch tt {
		case html.ErrorToken:
			if depth != 0 {
				return errors.New("an element is not closed")
			}
			return nil
		case html.StartTagToken, html.SelfClosingTagToken:
			name, more := z.TagName()
			if depth == 0 && string(name) != "math" {
				return errors.New("it is not one <math> element")
			}
			if !mathElements[string(name)] {
				return fmt.Errorf("element <%s> is not MathML", name)
			}
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				if !mathAttrs[string(k)] {
					return fmt.Errorf("attribute %s is not allowed", k)
				}
				if string(k) == "style" && !safeStyle(string(v)) {
					return fmt.Errorf("style %q is not allowed", v)
				}
			}
			if tt == html.StartTagToken {
				depth++
			}
		case html.EndTagToken:
			depth--
			if depth < 0 {
				return errors.New("an element is closed twice")
			}
			closed = depth == 0
		case html.TextToken:
			if depth == 0 {
				return errors.New("it has text outside <math>")
			}
		default:
			return errors.New("it has a comment or doctype")
		}
	}
}

// safeStyle reports a style value that only sets properties: no url(),
// no escapes, no at-rules, no markup.
func safeStyle(v string) bool {
	l := strings.ToLower(v)
	for _, bad := range []string{"url(", "expression", "\\", "@", "<", ">", "javascript", "image("} {
		if strings.Contains(l, bad) {
			return false
		}
	}
	return true
}
