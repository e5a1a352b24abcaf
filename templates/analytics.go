package templates

import (
	"html/template"
	"strings"

	"github.com/publishbot/publishbot/posts"
)

// analyticsTag is the script tag of publish.yaml's analytics provider, as
// each provider documents it; "" for none. Every value is escaped for its
// attribute, and LoadConfig already refused anything but an https script
// address and a site name without quotes or spaces.
func analyticsTag(a *posts.Analytics) template.HTML {
	if a == nil {
		return ""
	}
	esc := template.HTMLEscapeString
	var b strings.Builder
	switch a.Provider {
	case "plausible":
		src := "https://plausible.io/js/script.js"
		if a.Script != "" {
			src = a.Script
		}
		b.WriteString(`<script defer data-domain="` + esc(a.Site) + `" src="` + esc(src) + `"></script>`)
	case "goatcounter":
		count := "https://" + a.Site + ".goatcounter.com/count"
		if a.Script != "" {
			count = a.Script
		}
		b.WriteString(`<script data-goatcounter="` + esc(count) + `" async src="https://gc.zgo.at/count.js"></script>`)
	case "umami":
		src := "https://cloud.umami.is/script.js"
		if a.Script != "" {
			src = a.Script
		}
		b.WriteString(`<script defer src="` + esc(src) + `" data-website-id="` + esc(a.Site) + `"></script>`)
	default:
		return ""
	}
	return template.HTML(b.String()) // built from escaped values above
}
