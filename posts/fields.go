package posts

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// knownFields are the post front matter fields (design.md), which
// suggestField offers for a misspelt one. Jekyll's fields are accepted too
// (see applyFields): categories and category become tags, redirect_from
// becomes aliases, published: false means draft, layout is ignored (the
// theme decides). So are Hugo's, Zola's and Eleventy's: authors (a list)
// and by beside author, lastmod (or modified) for updated, publishDate
// (the date when there is none) and expiryDate. A post's own address is
// its permalink (Jekyll), url (Hugo) or path (Zola); redirect_to
// (jekyll-redirect-from) and redirect (the Go blog) make the file a
// redirect.
var knownFields = []string{
	"title", "date", "updated", "summary", "description", "tags", "draft", "slug",
	"author", "image", "image_alt", "featured", "aliases", "toc", "permalink", "url", "path",
	"math",
}

// dateLayouts are tried in order. Layouts without a zone are read in the
// site's time zone.
var dateLayouts = []struct {
	layout string
	zoned  bool
}{
	{"2006-01-02", false},
	{time.RFC3339Nano, true},
	{"2006-01-02T15:04:05", false},
	{"2006-01-02T15:04", false},
	{"2006-01-02 15:04:05 -0700", true}, // Jekyll
	{"2006-01-02 15:04:05 -07:00", true},
	{"2006-01-02 15:04:05Z07:00", true},
	{"2006-01-02 15:04:05 MST", true},
	{"2006-01-02 15:04 -0700", true},
	{"2006-01-02 15:04:05", false},
	{"2006-01-02 15:04", false},
	{"2006-01-02t15:04:05Z07:00", true},
}

// parseDate reads a front matter date. It returns the time, whether it
// carried its own zone, and whether it could be read.
func parseDate(s string, loc *time.Location) (t time.Time, zoned, ok bool) {
	s = strings.TrimSpace(s)
	for _, l := range dateLayouts {
		var t time.Time
		var err error
		if l.zoned {
			t, err = time.Parse(l.layout, s)
		} else {
			t, err = time.ParseInLocation(l.layout, s, loc)
		}
		if err == nil {
			return t, l.zoned, true
		}
	}
	return parseLooseTimestamp(s, loc)
}

var (
	isoDayRE   = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})`)
	looseDayRE = regexp.MustCompile(`^(\d{4})([-/.])(\d{1,2})[-/.](\d{1,2})\b`)
	usDayRE    = regexp.MustCompile(`^\d{1,2}[/.-]\d{1,2}[/.-]\d{4}\b`)
)

// dateHint says what is wrong with a date value that parseDate cannot read,
// when it is a near miss: ": there is no such day", ": write ... as
// 2026-01-02". "" otherwise.
func dateHint(v *fmValue) string {
	if v.kind != vScalar {
		return ""
	}
	s := strings.TrimSpace(v.s)
	if m := isoDayRE.FindStringSubmatch(s); m != nil {
		if _, err := time.Parse("2006-01-02", m[0]); err != nil {
			return ": there is no such day (" + m[0] + ")"
		}
		return ""
	}
	if m := looseDayRE.FindStringSubmatch(s); m != nil {
		month, _ := strconv.Atoi(m[3])
		day, _ := strconv.Atoi(m[4])
		fixed := fmt.Sprintf("%s-%02d-%02d", m[1], month, day)
		if m[2] != "-" {
			return ": write the day with dashes, as " + fixed
		}
		return ": write the month and the day with two digits each, as " + fixed
	}
	if usDayRE.MatchString(s) {
		return ": day and month in this order are ambiguous; write year-month-day, as 2026-01-02"
	}
	return ""
}

var fileDateRE = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})(?:-(.*))?$`)

// nameParts splits a file or folder name ("2026-06-14-hello" without its
// extension) into its date (zero if none) and the rest.
func nameParts(base string, loc *time.Location) (time.Time, string) {
	m := fileDateRE.FindStringSubmatch(base)
	if m == nil {
		return time.Time{}, base
	}
	t, err := time.ParseInLocation("2006-01-02", m[1], loc)
	if err != nil {
		return time.Time{}, base
	}
	return t, m[2]
}

// postMeta is what the front matter says, before links are resolved and
// addresses are given.
type postMeta struct {
	imageRaw              string
	imageLine, imageCol   int
	slugRaw               string // the slug as written: Jekyll's :title
	slugLine, slugCol     int
	aliasPos              [][2]int
	dateLine, dateCol     int
	categories            []string // Jekyll's categories and category, for :categories
	own                   *fmText  // the post's own address: permalink, url or path
	nameSlug              string   // the file (or bundle) name without its date and extension, case kept
	fileName              string   // the file (or bundle) name without its extension
	redirect              *fmText  // redirect_to or redirect: the file is a redirect
	expiryLine, expiryCol int      // where expiryDate is written
	toc                   *bool    // the post's toc field; nil: the site's setting
	math                  *bool    // the post's math field; nil: the site's setting
}

// fmText is a front matter text value with its key and position.
type fmText struct {
	key, s    string
	line, col int
}

// pathDate is the date a Zola path gives ("inside-rust/2020/07/27/x":
// 2020-07-27): its first run of segments YYYY/MM/DD; zero for none, or
// for a run that is no date. (A regular expression did this at a fifth of
// the front matter's cost.)
func pathDate(p string, loc *time.Location) time.Time {
	digits := func(s string) bool {
		for i := range len(s) {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return true
	}
	for i := 0; i+10 <= len(p); i++ {
		if i > 0 && p[i-1] != '/' {
			continue
		}
		r := p[i : i+10]
		if r[4] != '/' || r[7] != '/' || !digits(r[:4]) || !digits(r[5:7]) || !digits(r[8:]) || i+10 < len(p) && p[i+10] != '/' {
			continue
		}
		t, err := time.ParseInLocation("2006/01/02", r, loc)
		if err != nil {
			return time.Time{}
		}
		return t
	}
	return time.Time{}
}

// applyFields fills p from the front matter fields and returns diagnostics.
// fileDate is the date from the file name (zero if none). lim (with its
// defaults filled in) bounds the tags and aliases.
func applyFields(p *Post, meta *postMeta, fields []fmField, fileDate time.Time, cfg *Config, fmLine int, lim Limits) []Diagnostic {
	var ds []Diagnostic
	add := func(line, col int, code, format string, args ...any) {
		ds = append(ds, newDiag(p.Path, line, col, code, fmt.Sprintf(format, args...)))
	}
	tagSlugs := map[string]bool{}
	var tagsOver, aliasesOver *fmValue // the value where a limit was passed
	aliases := 0
	seen := map[string]int{}
	var summary, description string
	var title string
	hasTitle := false
	titleLine, titleCol := 0, 0
	var dateVal *fmValue
	var published *bool
	var updatedVal, publishVal, expiryVal *fmValue // updated (or lastmod), publishDate, expiryDate
	var authors []Person
	for i := range fields {
		f := &fields[i]
		if repeatedField(seen, f, add) {
			continue
		}
		v := &f.value
		str := func() (string, bool) { return textField(f, add) }
		boolean := func() (bool, bool) { return boolField(f, add) }
		switch f.key {
		case "title":
			if s, ok := str(); ok {
				title = strings.TrimSpace(s)
				hasTitle = true
				titleLine, titleCol = v.line, v.col
			}
		case "date":
			dateVal = v
			meta.dateLine, meta.dateCol = v.line, v.col
		case "updated", "lastmod", "modified":
			// Hugo's lastmod (or modified) is updated; updated wins.
			if updatedVal == nil || f.key == "updated" {
				updatedVal = v
			}
		case "publishDate", "publishdate", "pubdate":
			if publishVal == nil {
				publishVal = v
			}
		case "expiryDate", "expirydate", "unpublishdate":
			if expiryVal == nil {
				expiryVal = v
			}
		case "summary":
			if s, ok := str(); ok {
				summary = strings.TrimSpace(s)
			}
		case "description":
			if s, ok := str(); ok {
				description = strings.TrimSpace(s)
			}
		case "tags", "categories", "category":
			for _, t := range stringList(v, f.key, add) {
				t = strings.TrimSpace(t)
				if f.key != "tags" && t != "" && len(meta.categories) < lim.MaxTags {
					meta.categories = append(meta.categories, t)
				}
				if TagSlug(t) == "" {
					add(v.line, v.col, CodeInvalidTag, "tag %q has no letters or digits and is left out", t)
					continue
				}
				slug := TagSlug(t)
				if tagSlugs[slug] {
					continue
				}
				tagSlugs[slug] = true
				if len(tagSlugs) > lim.MaxTags {
					if tagsOver == nil {
						tagsOver = v
					}
					continue
				}
				p.Tags = append(p.Tags, t)
			}
		case "draft":
			if b, ok := boolean(); ok {
				p.Draft = p.Draft || b
			}
		case "published":
			// Jekyll's published is true or false; Hugo's is a date, its
			// publishDate.
			if v.kind == vScalar && !strings.EqualFold(v.s, "true") && !strings.EqualFold(v.s, "false") {
				if _, _, ok := fieldDate(v, cfg.Location); ok {
					if publishVal == nil {
						publishVal = v
					}
					continue
				}
			}
			if b, ok := boolean(); ok {
				published = &b
			}
		case "featured":
			if b, ok := boolean(); ok {
				p.Featured = b
			}
		case "slug":
			if s, ok := str(); ok && strings.TrimSpace(s) != "" {
				p.Slug = slugify(s)
				meta.slugRaw = strings.TrimSpace(s)
				meta.slugLine, meta.slugCol = v.line, v.col
				if p.Slug == "" {
					add(v.line, v.col, CodeInvalidSlug, "slug %q has no letters or digits", s)
				}
			}
		case "author", "authors", "by":
			if more := authorEntries(v, f.key, add); authors == nil {
				authors = more
			} else {
				authors = append(authors, more...)
			}
			if len(authors) > maxPostAuthors {
				add(v.line, v.col, CodeLimit, "this post has more than %d authors", maxPostAuthors)
				authors = authors[:maxPostAuthors]
			}
		case "image":
			imageField(p, meta, f, add)
		case "image_alt":
			if s, ok := str(); ok {
				p.ImageAlt = strings.TrimSpace(s)
			}
		case "aliases", "redirect_from":
			for _, a := range stringList(v, f.key, add) {
				if aliases++; aliases > lim.MaxAliases {
					if aliasesOver == nil {
						aliasesOver = v
					}
					continue
				}
				p.Aliases = append(p.Aliases, a)
				meta.aliasPos = append(meta.aliasPos, [2]int{v.line, v.col})
			}
		case "toc":
			if b, ok := boolean(); ok && v.kind != vNull {
				meta.toc = &b
			}
		case "math":
			if b, ok := boolean(); ok && v.kind != vNull {
				meta.math = &b
			}
		case "permalink", "url", "path":
			s, ok := str()
			if !ok || strings.TrimSpace(s) == "" {
				continue
			}
			if meta.own != nil {
				add(v.line, v.col, CodeDuplicateField, "%s and %s (line %d) both give this post's address; keep one", f.key, meta.own.key, meta.own.line)
				continue
			}
			meta.own = &fmText{key: f.key, s: strings.TrimSpace(s), line: v.line, col: v.col}
		case "redirect_to", "redirect":
			s, ok := stringOrFirst(v, f.key, add)
			if !ok || strings.TrimSpace(s) == "" {
				continue
			}
			if meta.redirect != nil {
				add(v.line, v.col, CodeDuplicateField, "%s and %s (line %d) both say where this file redirects; keep one", f.key, meta.redirect.key, meta.redirect.line)
				continue
			}
			meta.redirect = &fmText{key: f.key, s: strings.TrimSpace(s), line: v.line, col: v.col}
		case "layout":
			// Jekyll's layout: the theme decides; nothing to do.
		case "extra", "params":
			ownParams(p, v, f.key, add)
		default:
			msg := fmt.Sprintf("field %q is not used by publishbot and is ignored", f.key)
			if s := suggestField(f.key); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			add(f.line, f.col, CodeUnknownField, "%s", msg)
		}
	}
	if tagsOver != nil {
		add(tagsOver.line, tagsOver.col, CodeLimit, "this post has %d tags; the limit is %d tags per post, each of which is a page of the site", len(tagSlugs), lim.MaxTags)
	}
	if aliasesOver != nil {
		add(aliasesOver.line, aliasesOver.col, CodeLimit, "this post has %d aliases; the limit is %d aliases per post, each of which is a redirect page of the site", aliases, lim.MaxAliases)
	}
	if published != nil && !*published {
		p.Draft = true
	}
	if summary == "" {
		summary = description
	}
	p.Summary = summary
	if hasTitle && title == "" && titleLine > 0 {
		add(titleLine, max(titleCol, 1), CodeMissingTitle, "title is empty: write the post's title after \"title:\"")
	} else if !hasTitle || title == "" {
		add(fmLine, 1, CodeMissingTitle, "title is required: add a line like \"title: My post\" to the front matter")
	}
	p.Title = title

	if updatedVal != nil && updatedVal.kind != vNull {
		if t, _, ok := fieldDate(updatedVal, cfg.Location); ok {
			p.Updated = t.In(cfg.Location)
		} else {
			add(updatedVal.line, updatedVal.col, CodeInvalidDate, "updated %s is not a date%s; use 2006-01-02, 2006-01-02T15:04:05Z07:00 or 2006-01-02 15:04:05 -0700", describe(updatedVal), dateHint(updatedVal))
		}
	}
	// Hugo's publishDate is the date when there is no date.
	if (dateVal == nil || dateVal.kind == vNull) && publishVal != nil && publishVal.kind != vNull {
		dateVal = publishVal
		meta.dateLine, meta.dateCol = publishVal.line, publishVal.col
	}
	// A Zola path gives the date when nothing else does.
	var fromPath time.Time
	if meta.own != nil && meta.own.key == "path" {
		fromPath = pathDate(meta.own.s, cfg.Location)
	}
	switch {
	case dateVal != nil && dateVal.kind != vNull:
		t, _, ok := fieldDate(dateVal, cfg.Location)
		if !ok {
			// A date that cannot be read falls back on the file name's
			// (or the path's): the post is published, on that day.
			for _, fb := range []struct {
				t    time.Time
				what string
			}{{fileDate, "the file name"}, {fromPath, "the path"}} {
				if !fb.t.IsZero() {
					p.Date = fb.t
					add(dateVal.line, dateVal.col, CodeDateFallback, "date %s is not a date%s; the date in %s (%s) is used instead: write it as 2006-01-02 or 2006-01-02 15:04:05 -0700",
						describe(dateVal), dateHint(dateVal), fb.what, fb.t.Format("2006-01-02"))
					break
				}
			}
			if p.Date.IsZero() {
				add(dateVal.line, dateVal.col, CodeInvalidDate, "date %s is not a date%s; use 2006-01-02, 2006-01-02T15:04:05Z07:00 or 2006-01-02 15:04:05 -0700", describe(dateVal), dateHint(dateVal))
			}
			break
		}
		p.Date = t.In(cfg.Location)
		if !fileDate.IsZero() {
			if !nearDay(t, fileDate) {
				add(dateVal.line, dateVal.col, CodeDateMismatch, "date %s is more than a day from the date in the file name (%s); the front matter date is used",
					t.Format("2006-01-02"), fileDate.Format("2006-01-02"))
			}
		}
	case !fileDate.IsZero():
		p.Date = fileDate
	case !fromPath.IsZero():
		p.Date = fromPath
	default:
		add(fmLine, 1, CodeMissingDate, "date is required: add \"date: 2006-01-02\" to the front matter or start the file name with the date")
	}
	schedule(p, meta, dateVal, publishVal, expiryVal, cfg.Location, add)
	p.Authors = resolveAuthors(authors, cfg.Authors)
	p.Author = joinNames(p.Authors)
	if p.Author == "" && cfg.Author != "" {
		p.Author = cfg.Author
		p.Authors = []Person{{Name: cfg.Author}}
	}
	return ds
}

// fieldDate reads a date value: a YAML scalar or a TOML date-time. zoned
// says whether the value carried its own UTC offset.
func fieldDate(v *fmValue, loc *time.Location) (t time.Time, zoned, ok bool) {
	if v.kind != vScalar {
		return time.Time{}, false, false
	}
	if v.hasTime {
		t := v.t
		if v.localTime {
			return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc), false, true
		}
		return t, true, true
	}
	return parseDate(v.s, loc)
}

// nearDay reports whether the date t (as written, in its own zone) is within
// a day of fileDate. A day's slack absorbs time zones (the file name does not
// say which zone its date is in) and the common habit of naming the file the
// day before publishing; a wrong month or year is what the warning is for.
func nearDay(t time.Time, fileDate time.Time) bool {
	y, m, d := t.Date()
	written := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	fy, fm, fd := fileDate.Date()
	named := time.Date(fy, fm, fd, 0, 0, 0, 0, time.UTC)
	diff := written.Sub(named)
	return diff <= 24*time.Hour && diff >= -24*time.Hour
}

// stringOrFirst reads text, or the first item of a list of text (a
// redirect_to list: the first is where to go).
func stringOrFirst(v *fmValue, key string, add func(line, col int, code, format string, args ...any)) (string, bool) {
	if v.kind == vList {
		if l := stringList(v, key, add); len(l) > 0 {
			return l[0], true
		}
		return "", false
	}
	if v.kind == vMap {
		add(v.line, v.col, CodeInvalidField, "%s must be text, not a %s", key, kindName(v.kind))
		return "", false
	}
	return v.s, v.kind == vScalar
}

// stringList reads a scalar (one item) or a list of scalars.
func stringList(v *fmValue, key string, add func(line, col int, code, format string, args ...any)) []string {
	switch v.kind {
	case vNull:
		return nil
	case vScalar:
		if strings.TrimSpace(v.s) == "" {
			return nil
		}
		return []string{v.s}
	case vList:
		out := make([]string, 0, len(v.list))
		for _, e := range v.list {
			if e.kind != vScalar {
				add(e.line, e.col, CodeInvalidField, "%s must be a list of text, not contain a %s", key, kindName(e.kind))
				continue
			}
			out = append(out, e.s)
		}
		return out
	}
	add(v.line, v.col, CodeInvalidField, "%s must be a list like [a, b], not a %s", key, kindName(v.kind))
	return nil
}

func kindName(k valueKind) string {
	switch k {
	case vList:
		return "list"
	case vMap:
		return "mapping"
	case vNull:
		return "empty value"
	}
	return "value"
}

func describe(v *fmValue) string {
	if v.kind == vScalar {
		s := v.s
		if len(s) > 60 {
			s = s[:57] + "..."
		}
		return fmt.Sprintf("%q", s)
	}
	return "a " + kindName(v.kind)
}

// suggestField names a known field close to key (a typo or a case slip).
func suggestField(key string) string {
	lk := strings.ToLower(key)
	best, bestD := "", 3
	for _, f := range knownFields {
		if f == lk {
			return f
		}
		if d := editDistance(lk, f); d < bestD && d <= max(1, len(f)/3) {
			best, bestD = f, d
		}
	}
	return best
}

// editDistance is the optimal-string-alignment distance: insertions,
// deletions, substitutions and swaps of two neighbours ("titel") cost 1.
func editDistance(a, b string) int {
	if len(a) > 40 || len(b) > 40 {
		return 99
	}
	// three rows of the table (the swap looks two rows back), on the stack:
	// every unknown front matter field is measured against every known one
	var rows [3][41]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

func sortStrings(s []string) { slices.Sort(s) }

// addDiag is how the field readers report: a diagnostic at a line and column.
type addDiag func(line, col int, code, format string, args ...any)

// repeatedField reports (and records) a field given twice; seen maps keys
// to the line of their first appearance.
func repeatedField(seen map[string]int, f *fmField, add addDiag) bool {
	if prev, ok := seen[f.key]; ok {
		add(f.line, f.col, CodeDuplicateField, "field %q is given twice (first on line %d); keep one", f.key, prev)
		return true
	}
	seen[f.key] = f.line
	return false
}

// textField reads a text field: "" for an empty one; a list or a mapping
// is an invalid-field diagnostic.
func textField(f *fmField, add addDiag) (string, bool) {
	v := &f.value
	switch v.kind {
	case vNull:
		return "", true
	case vScalar:
		return v.s, true
	}
	add(v.line, v.col, CodeInvalidField, "%s must be text, not a %s", f.key, kindName(v.kind))
	return "", false
}

// boolField reads a true/false field: false for an empty one.
func boolField(f *fmField, add addDiag) (bool, bool) {
	v := &f.value
	if v.kind == vNull {
		return false, true
	}
	if v.kind == vScalar {
		switch strings.ToLower(v.s) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	add(v.line, v.col, CodeInvalidField, "%s must be true or false, not %s", f.key, describe(v))
	return false, false
}

// imageField reads a cover image: a URL, or {src (or url), alt}.
func imageField(p *Post, meta *postMeta, f *fmField, add addDiag) {
	v := &f.value
	if v.kind != vMap {
		if s, ok := textField(f, add); ok {
			meta.imageRaw, meta.imageLine, meta.imageCol = strings.TrimSpace(s), v.line, v.col
		}
		return
	}
	for _, sub := range v.fields {
		switch sub.key {
		case "src", "url":
			if sub.value.kind == vScalar {
				meta.imageRaw, meta.imageLine, meta.imageCol = strings.TrimSpace(sub.value.s), sub.value.line, sub.value.col
			}
		case "alt":
			if sub.value.kind == vScalar {
				p.ImageAlt = strings.TrimSpace(sub.value.s)
			}
		default:
			add(sub.line, sub.col, CodeUnknownField, "image field %q is not used; image takes src and alt", sub.key)
		}
	}
}

// ownParams keeps extra (Zola) or params (Hugo): the author's own
// variables, which publishbot does not read but a theme override may.
func ownParams(p *Post, v *fmValue, key string, add addDiag) {
	if v.kind != vMap {
		add(v.line, v.col, CodeUnknownField, "%s must be a mapping of your own variables (like %s: {series: intro}); this one is ignored", key, key)
		return
	}
	var ds []Diagnostic
	m, _ := paramsValue(v, 1, &ds).(map[string]any)
	if len(ds) > 0 {
		add(v.line, v.col, CodeUnknownField, "%s: nested deeper than %d levels; ignored", key, maxParamsDepth)
		return
	}
	if p.Params == nil {
		p.Params = m // made for this post by paramsValue: one map per post, not two
		return
	}
	for k, x := range m {
		p.Params[k] = x
	}
}
