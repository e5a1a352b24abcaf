package posts

import (
	"html"
	"strings"

	"github.com/yuin/goldmark/util"
)

// tocEntry is an h2 or h3 heading of a post, for its table of contents.
type tocEntry struct {
	level int
	id    []byte
	text  string
}

// renderTOC writes a post's table of contents: a nav landmark named
// title ("Contents" in English) holding a list of its h2 headings, each with a nested list of
// the h3 headings under it (an h3 before any h2 is listed at the top), each
// item a link to its heading's anchor. "" when there is no entry.
func renderTOC(entries []tocEntry, title string) string {
	if len(entries) == 0 {
		return ""
	}
	var b strings.Builder
	t := html.EscapeString(title)
	b.WriteString("<nav class=\"toc\" aria-label=\"" + t + "\">\n<p class=\"toc-title\" aria-hidden=\"true\">" + t + "</p>\n<ul>\n")
	pending := false // a top-level <li> is not closed yet
	underH2 := false // that <li> is an h2's, so h3s nest in it
	nested := false  // its nested <ul> is open
	closeTop := func() {
		if nested {
			b.WriteString("</ul>\n")
		}
		if pending {
			b.WriteString("</li>\n")
		}
		pending, nested = false, false
	}
	for _, e := range entries {
		if e.level == 3 && underH2 {
			if !nested {
				b.WriteString("\n<ul>\n")
				nested = true
			}
			writeTOCLink(&b, e)
			b.WriteString("</li>\n")
			continue
		}
		closeTop()
		writeTOCLink(&b, e)
		pending, underH2 = true, e.level == 2
	}
	closeTop()
	b.WriteString("</ul>\n</nav>\n")
	return b.String()
}

func writeTOCLink(b *strings.Builder, e tocEntry) {
	b.WriteString("<li><a href=\"#")
	b.Write(util.EscapeHTML(e.id))
	b.WriteString("\">")
	b.Write(util.EscapeHTML([]byte(e.text)))
	b.WriteString("</a>")
}
