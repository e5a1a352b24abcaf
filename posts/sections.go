package posts

import (
	"fmt"
	"strings"
)

// sectionFields are the front matter fields of an _index.md that
// publishbot reads; draft, date, updated, weight and layout are Hugo's and
// Zola's and say nothing publishbot shows, so they are read silently.
var sectionFields = []string{"title", "description", "summary", "aliases", "redirect_from", "permalink", "url", "path"}

// applySectionFields fills p (the section's stand-in while it is read and
// rendered like a post) from the front matter of an _index.md: its title,
// summary, own address and aliases. An _index.md is never an error for
// what it leaves out: it has no required field, and fields publishbot
// does not use (Zola's sort_by, template, [extra]) are warnings.
func applySectionFields(p *Post, meta *postMeta, fields []fmField, lim Limits) []Diagnostic {
	var ds []Diagnostic
	add := func(line, col int, code, format string, args ...any) {
		ds = append(ds, newDiag(p.Path, line, col, code, fmt.Sprintf(format, args...)))
	}
	seen := map[string]int{}
	var summary, description string
	aliases := 0
	for i := range fields {
		f := &fields[i]
		if repeatedField(seen, f, add) {
			continue
		}
		v := &f.value
		text := func() string {
			if v.kind == vScalar {
				return strings.TrimSpace(v.s)
			}
			if v.kind != vNull {
				add(v.line, v.col, CodeInvalidField, "%s must be text, not a %s", f.key, kindName(v.kind))
			}
			return ""
		}
		switch f.key {
		case "title":
			p.Title = text()
		case "description":
			description = text()
		case "summary":
			summary = text()
		case "permalink", "url", "path":
			if s := text(); s != "" {
				if meta.own != nil {
					add(v.line, v.col, CodeDuplicateField, "%s and %s (line %d) both give this section's address; keep one", f.key, meta.own.key, meta.own.line)
					continue
				}
				meta.own = &fmText{key: f.key, s: s, line: v.line, col: v.col}
			}
		case "aliases", "redirect_from":
			for _, a := range stringList(v, f.key, add) {
				if aliases++; aliases > lim.MaxAliases {
					add(v.line, v.col, CodeLimit, "this section has more than %d aliases; the limit is %d aliases, each of which is a redirect page of the site", lim.MaxAliases, lim.MaxAliases)
					break
				}
				p.Aliases = append(p.Aliases, a)
				meta.aliasPos = append(meta.aliasPos, [2]int{v.line, v.col})
			}
		case "draft", "date", "updated", "lastmod", "weight", "layout", "type", "extra", "params":
			// Hugo's and Zola's, meaning nothing here.
		default:
			add(f.line, f.col, CodeUnknownField, "field %q of a section is not used by publishbot and is ignored (a section has %s)", f.key, strings.Join(sectionFields, ", "))
		}
	}
	if summary == "" {
		summary = description
	}
	p.Summary = summary
	return ds
}
