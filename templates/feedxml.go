package templates

import (
	"net/url"
	"slices"
	"unicode/utf8"

	"github.com/publishbot/publishbot/posts"
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

// feedBody is d's body with absolute URLs (absoluteHTML), as the feeds
// carry it; computed once per post and render.
func (b *build) feedBody(d *PostData) string {
	if s, ok := b.feedHTML[d]; ok {
		return s
	}
	if b.feedHTML == nil {
		b.feedHTML = map[*PostData]string{}
	}
	s := absoluteBody(d)
	b.feedHTML[d] = s
	return s
}

// absoluteBody is d's body with its URLs made absolute against the post's.
func absoluteBody(d *PostData) string {
	base, err := url.Parse(d.AbsURL)
	if err != nil {
		base = nil
	}
	return absoluteHTML(d.Post.HTML(), base)
}

// feedText is feedBody escaped as XML character data; computed once per
// post and render.
func (b *build) feedText(d *PostData) string {
	if s, ok := b.feedXML[d]; ok {
		return s
	}
	if b.feedXML == nil {
		b.feedXML = map[*PostData]string{}
	}
	s := string(appendXMLText(nil, b.feedBody(d)))
	b.feedXML[d] = s
	return s
}

// startFeedBodies computes feedBody and feedText of every post a feed
// will carry (the site's, its tags' and its sections') on a goroutine of
// its own while the pages render; waitFeedBodies waits for it, and then
// the feeds find them made. It reads of the prepared posts only their
// address and Post.HTML, which stay as they are.
func (b *build) startFeedBodies(sections []*posts.Section) {
	need := slices.Clone(b.feedPosts())
	for _, tag := range b.tags {
		need = append(need, b.tagFeedList(tag.Slug)...)
	}
	for _, sec := range sections {
		need = append(need, b.sectionFeedList(sec)...)
	}
	j := &feedJob{done: make(chan struct{}), html: map[*PostData]string{}, text: map[*PostData]string{}}
	b.feedJob = j
	go func() {
		defer close(j.done)
		var buf []byte
		for _, d := range need {
			if _, ok := j.html[d]; ok || b.ctx.Err() != nil {
				continue
			}
			h := absoluteBody(d)
			buf = appendXMLText(buf[:0], h)
			j.html[d], j.text[d] = h, string(buf)
		}
	}()
}

// feedJob is the feeds' bodies being computed (startFeedBodies): html and
// text are feedHTML and feedXML once done is closed.
type feedJob struct {
	done       chan struct{}
	html, text map[*PostData]string
}

// waitFeedBodies waits for the bodies startFeedBodies computes, if it
// started, and makes them the feeds'.
func (b *build) waitFeedBodies() {
	if j := b.feedJob; j != nil {
		<-j.done
		b.feedJob = nil
		b.feedHTML, b.feedXML = j.html, j.text
	}
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
