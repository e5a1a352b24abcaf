package ghapi

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/publishbot/publishbot/logmask"
	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/publisher"
	"github.com/publishbot/publishbot/queue"
)

// Marker is the hidden HTML comment that identifies publishbot's comment on a
// pull request. Exactly one comment per pull request carries it.
const Marker = "<!-- publishbot:preview -->"

// MaxCommentLen is GitHub's limit on a comment body (and a check run's
// summary), in characters. Bodies are measured in bytes, which is never less.
const MaxCommentLen = 65536

// commentBudget leaves room under MaxCommentLen for GitHub's own counting.
const commentBudget = MaxCommentLen - 1024

const (
	maxTitleLen   = 200  // bytes of a title in a table cell
	maxMessageLen = 1000 // bytes of one diagnostic message
	maxErrLen     = 4000 // bytes of a failure's error text
)

// CommentBody renders the pull-request comment for a preview or clean-up
// result: a pure function of r, always ending in Marker and never longer than
// MaxCommentLen bytes.
func CommentBody(r publisher.Result) string {
	var body string
	switch {
	case r.Job.Kind == queue.KindCleanup && r.Outcome != publisher.OutcomeFailed:
		body = removedBody(r)
	case r.Job.Kind == queue.KindCleanup:
		body = fmt.Sprintf("❌ **publishbot** · the preview of #%d could not be removed\n\n%s\n\nClosing or reopening the pull request tries again.\n\n%s\n",
			r.Job.PR, errorBlock(r.Err), Marker)
	case r.Outcome == publisher.OutcomeFailed:
		body = failedBody(r)
	default:
		body = previewBody(r)
	}
	return body
}

func removedBody(r publisher.Result) string {
	return fmt.Sprintf("🧹 **publishbot** · the preview of #%d was removed: the pull request is closed.\n\n%s\n", r.Job.PR, Marker)
}

func failedBody(r publisher.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "❌ **publishbot** · the preview of #%d%s failed\n\n", r.Job.PR, atSHA(r))
	b.WriteString(errorBlock(r.Err))
	b.WriteString("\n\nNothing was published for this commit; a previous preview, if any, is unchanged. Pushing to the pull request tries again.\n\n")
	if r.Total > 0 {
		fmt.Fprintf(&b, "Failed after %.1f s · ", r.Total.Seconds())
	}
	fmt.Fprintf(&b, "%s\n", Marker)
	return b.String()
}

// errorBlock shows an error's text in a fenced block, scrubbed of anything
// that looks like a credential and cut to maxErrLen.
func errorBlock(err error) string {
	text := "unknown error"
	if err != nil {
		text = err.Error()
	}
	var mask logmask.Masker // the zero Masker: credential-shaped text
	text = truncate(mask.String(strings.ToValidUTF8(text, "\uFFFD")), maxErrLen)
	fence := "```"
	for strings.Contains(text, fence) {
		fence += "`"
	}
	return fence + "text\n" + text + "\n" + fence
}

func previewBody(r publisher.Result) string {
	var errs, warns []posts.Diagnostic
	for _, d := range r.Diagnostics {
		if d.Severity == posts.SeverityError {
			errs = append(errs, d)
		} else {
			warns = append(warns, d)
		}
	}

	icon := "✅"
	switch {
	case len(errs) > 0:
		icon = "❌"
	case len(warns) > 0:
		icon = "⚠️"
	}
	preview := "preview"
	if r.SiteURL != "" {
		preview = "[preview](" + escapeURL(r.SiteURL) + ")"
	}
	head := fmt.Sprintf("%s **publishbot** · %s of #%d%s — %s\n\n", icon, preview, r.Job.PR, atSHA(r), tally(len(r.Changed), len(errs), len(warns))) + pagesLine(r) + setupLines(r)
	foot := buildTime(r) + Marker + "\n"

	rows := make([]string, len(r.Changed))
	for i, p := range r.Changed {
		rows[i] = postRow(p)
	}
	errLines := diagnosticLines(r, errs)
	warnLines := diagnosticLines(r, warns)

	sections := []*section{
		{lines: errLines, head: "**Errors** (the preview leaves these posts out)\n", more: "errors"},
		{lines: rows, head: "| post | preview | |\n|---|---|---|\n", more: "changed posts"},
		{lines: warnLines, head: "**Warnings**\n", more: "warnings"},
		{lines: leftOutLines(r.LeftOut), head: "**Left out of the preview**\n", more: "files left out"},
	}
	budget := commentBudget - len(head) - len(foot)
	for _, s := range sections {
		if len(s.lines) > 0 {
			budget -= len(s.head) + 1 // heading and the blank line after the section
		}
	}
	fitSections(sections, budget)

	var b strings.Builder
	b.WriteString(head)
	for _, s := range []*section{sections[1], sections[0], sections[3], sections[2]} { // posts, errors, left out, warnings
		s.write(&b)
	}
	b.WriteString(foot)
	return b.String()
}

// section is one list of the comment that may be cut to fit.
type section struct {
	head  string
	lines []string // each ends in "\n"
	more  string   // "…and N more <more>"
	n     int      // lines that fit
}

func (s *section) moreLine(hidden int) string {
	return "\n…and " + strconv.Itoa(hidden) + " more " + s.more + "\n"
}

// moreLen is len(s.moreLine(hidden)) without building it.
func (s *section) moreLen(hidden int) int {
	digits := 1
	for n := hidden; n >= 10; n /= 10 {
		digits++
	}
	return len("\n…and ") + digits + len(" more ") + len(s.more) + 1
}

// fit returns how many lines fit in budget bytes, counting the "…and N
// more" line when some are left out, and the bytes they take.
func (s *section) fit(budget int) (int, int) {
	used := 0
	for i, l := range s.lines {
		rest := 0
		if i+1 < len(s.lines) {
			rest = s.moreLen(len(s.lines) - i - 1)
		}
		if used+len(l)+rest > budget {
			if i == 0 {
				return 0, s.moreLen(len(s.lines))
			}
			return i, used + s.moreLen(len(s.lines)-i)
		}
		used += len(l)
	}
	return len(s.lines), used
}

// fitSections shares budget between sections: first equally, then what is
// left goes to the sections that were cut, in order (errors first).
func fitSections(ss []*section, budget int) {
	share := budget / len(ss)
	used := make([]int, len(ss))
	total := 0
	for i, s := range ss {
		s.n, used[i] = s.fit(share)
		total += used[i]
	}
	for i, s := range ss {
		if s.n == len(s.lines) {
			continue
		}
		left := budget - total
		if left <= 0 {
			break
		}
		n, u := s.fit(used[i] + left)
		if n > s.n {
			total += u - used[i]
			s.n, used[i] = n, u
		}
	}
}

func (s *section) write(b *strings.Builder) {
	if len(s.lines) == 0 {
		return
	}
	b.WriteString(s.head)
	for _, l := range s.lines[:s.n] {
		b.WriteString(l)
	}
	if s.n < len(s.lines) {
		b.WriteString(s.moreLine(len(s.lines) - s.n))
	}
	b.WriteString("\n")
}

func postRow(p publisher.ChangedPost) string {
	title := cell(p.Title)
	if title == "" {
		title = codeCell(p.Path)
	}
	if p.OldTitle != "" && p.OldTitle != p.Title {
		title = cell(p.OldTitle) + " → " + title
	}
	link := "left out (see errors)"
	switch {
	case p.Status == "removed":
		link = "—"
	case p.URL != "":
		link = escapeURL(p.URL)
	}
	var notes []string
	switch p.Status {
	case "added":
		notes = append(notes, "new")
	case "removed":
		notes = append(notes, "removed")
	default:
		notes = append(notes, "edited")
	}
	if p.Status != "removed" && p.URL != "" {
		if p.ReadingTime > 0 {
			notes = append(notes, fmt.Sprintf("%d min read", p.ReadingTime))
		}
		switch {
		case p.Draft:
			notes = append(notes, "draft, not on the index")
		case p.Future:
			notes = append(notes, "scheduled, not on the index before its date")
		case p.IndexPage > 0:
			notes = append(notes, fmt.Sprintf("page %d of the index", p.IndexPage))
		}
	}
	return "| " + title + " | " + link + " | " + strings.Join(notes, " · ") + " |\n"
}

// leftOutLines lists the files the preview does not publish: each path as
// code (a file name is the pull request's text, inert in a code span) and
// the publisher's reason, as inert text.
func leftOutLines(files []publisher.LeftOut) []string {
	lines := make([]string, len(files))
	for i, f := range files {
		lines[i] = "- " + codeSpan(truncate(f.Path, maxTitleLen)) + ": " + text(truncate(f.Reason, maxMessageLen)) + "\n"
	}
	return lines
}

func diagnosticLines(r publisher.Result, ds []posts.Diagnostic) []string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		loc := d.File
		if d.Line > 0 {
			loc += ":" + strconv.Itoa(d.Line)
		}
		ref := codeSpan(loc)
		if link := blobURL(r, d); link != "" {
			ref = "[" + ref + "](" + link + ")"
		}
		code := ""
		if d.Code != "" {
			code = " " + codeSpan(d.Code) + ":"
		}
		if d.File == "" {
			ref = ""
			code = strings.TrimPrefix(code, " ")
		}
		lines[i] = "- " + ref + code + " " + text(truncate(d.Message, maxMessageLen)) + "\n"
	}
	return lines
}

// blobURL links a diagnostic to its line in the pull request's source commit.
func blobURL(r publisher.Result, d posts.Diagnostic) string {
	sha := sourceSHA(r)
	if sha == "" || d.File == "" {
		return ""
	}
	base := strings.TrimSuffix(r.Job.Repo.HTMLURL, "/")
	if base == "" {
		if r.Job.Repo.FullName == "" {
			return ""
		}
		base = "https://github.com/" + r.Job.Repo.FullName
	}
	segs := strings.Split(d.File, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	u := base + "/blob/" + url.PathEscape(sha) + "/" + strings.Join(segs, "/")
	if d.Line > 0 {
		u += "#L" + strconv.Itoa(d.Line)
	}
	return escapeURL(u)
}

func sourceSHA(r publisher.Result) string {
	if r.SourceSHA != "" {
		return r.SourceSHA
	}
	return r.Job.SHA
}

func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

func atSHA(r publisher.Result) string {
	sha := shortSHA(sourceSHA(r))
	if sha == "" {
		return ""
	}
	return " at `" + inline(sha) + "`"
}

func buildTime(r publisher.Result) string {
	if r.Total <= 0 {
		return ""
	}
	return fmt.Sprintf("Built in %.1f s · ", r.Total.Seconds())
}

// tally is "2 posts changed, 1 error, 1 warning", leaving out what is zero.
func tally(changed, errs, warns int) string {
	parts := []string{"no posts changed"}
	if changed > 0 {
		parts[0] = plural(changed, "post changed", "posts changed")
	}
	if errs > 0 {
		parts = append(parts, plural(errs, "error", "errors"))
	}
	if warns > 0 {
		parts = append(parts, plural(warns, "warning", "warnings"))
	}
	if errs+warns == 0 {
		parts = append(parts, "no problems found")
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// inline makes outside text safe on one Markdown line: no line breaks, no
// HTML (so no hidden comments or markers), no @mentions that would notify.
// It is for code spans, where nothing else is read as Markdown; other
// outside text goes through text.
func inline(s string) string {
	return inlineReplacer.Replace(strings.ToValidUTF8(s, "\uFFFD"))
}

// Replacers are immutable and safe for concurrent use.
var (
	inlineReplacer = strings.NewReplacer(
		"\r\n", " ", "\n", " ", "\r", " ", "\t", " ",
		"&", "&amp;", "<", "&lt;", ">", "&gt;",
		"@", "@\u200b",
	)
	urlReplacer = strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "|", "%7C", "<", "%3C", ">", "%3E",
		"[", "%5B", "]", "%5D", "`", "%60", "\\", "%5C", "\n", "", "\r", "")
)

// zwsp (zero-width space) goes inside what GitHub would otherwise turn into
// a link or a notification: it is invisible, and not a letter, digit or
// punctuation to any of GitHub's patterns.
const zwsp = "\u200b"

// text makes outside text (a post's title, a message quoting content) inert
// on one Markdown line of a comment: it reads as the same characters, and
// as nothing else. No line breaks; no HTML (so no hidden comments or
// markers); no links, images, emphasis, code, strikethrough, math or table
// cells (their characters are escaped with a backslash); no autolinks
// (a zero-width space goes into "://", "www." and after "@", which also
// stops e-mail addresses); no @mentions; no references to issues, pull
// requests or commits ("#1", "owner/repo#1", "GH-1", a word of 7 or more
// hex digits, "owner/repo@sha": a zero-width space splits them).
func text(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isWordByte(c) && (i == 0 || !isWordByte(s[i-1])) {
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			word := s[i:j]
			switch {
			case len(word) >= 7 && isHex(word):
				// A commit SHA (or its prefix) to GitHub: cut into pieces of 6.
				for k := 0; k < len(word); k += 6 {
					if k > 0 {
						b.WriteString(zwsp)
					}
					b.WriteString(word[k:min(k+6, len(word))])
				}
				i = j - 1
				continue
			case strings.EqualFold(word, "www") && j < len(s) && s[j] == '.',
				strings.EqualFold(word, "gh") && j+1 < len(s) && s[j] == '-' && isDigit(s[j+1]):
				b.WriteString(word + zwsp)
				i = j - 1
				continue
			}
		}
		switch c {
		case '\r', '\n', '\t':
			b.WriteByte(' ')
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\\', '`', '*', '_', '[', ']', '~', '|', '$':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '@':
			b.WriteString("@" + zwsp)
		case '#':
			b.WriteByte(c)
			if i+1 < len(s) && isDigit(s[i+1]) {
				b.WriteString(zwsp)
			}
		case ':':
			b.WriteByte(c)
			if strings.HasPrefix(s[i+1:], "//") {
				b.WriteString(zwsp)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isWordByte(c byte) bool {
	return c == '_' || isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; !isDigit(s[i]) && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// cell is outside text safe in a table cell (text escapes "|").
func cell(s string) string {
	return text(truncate(s, maxTitleLen))
}

// codeSpan shows outside text as code: nothing in a code span is read as
// Markdown, so it only needs to stay on its line and keep its backticks
// from ending the span.
func codeSpan(s string) string {
	return "`" + strings.ReplaceAll(inline(s), "`", "'") + "`"
}

// codeCell is codeSpan in a table cell, where "|" ends the cell even in code.
func codeCell(s string) string {
	return strings.ReplaceAll(codeSpan(truncate(s, maxTitleLen)), "|", "\\|")
}

// escapeURL keeps a URL from closing the Markdown link or cell around it.
func escapeURL(u string) string {
	u = strings.ToValidUTF8(u, "%EF%BF%BD")
	return urlReplacer.Replace(u)
}

// truncate cuts s to at most n bytes on a rune boundary, ending in "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// pagesLine says how far GitHub Pages got with the preview.
func pagesLine(r publisher.Result) string {
	switch r.Pages {
	case publisher.PagesBuilding:
		return "⏳ GitHub Pages is building the preview; this comment says when it is live.\n\n"
	case publisher.PagesLive:
		return "🟢 The preview is live.\n\n"
	case publisher.PagesFailed:
		return "❌ GitHub Pages could not build the preview: " + text(oneLine(r.PagesError)) + "\n\n"
	case publisher.PagesUnknown:
		return "⏳ GitHub Pages had not built the preview when publishbot stopped watching; it may still go live.\n\n"
	}
	return ""
}

// setupLines lists setup problems found before the first job.
func setupLines(r publisher.Result) string {
	var b strings.Builder
	for _, p := range r.Setup {
		b.WriteString("⚠️ Setup: " + text(p) + "\n\n")
	}
	return b.String()
}
