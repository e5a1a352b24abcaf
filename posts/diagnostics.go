package posts

import (
	"cmp"
	"fmt"
	"slices"
)

// Diagnostic codes. They are stable: tools and tests match on them. The
// severity of each is fixed (see codeSeverity); an error means the post (or,
// for publish.yaml, the site) cannot be published as written, a warning means
// it is published but a reader may notice something.
const (
	CodeConfigMissing  = "config-missing"        // warning: no publish.yaml; defaults are used
	CodeConfigSyntax   = "config-syntax"         // error: publish.yaml is not valid YAML or not a mapping
	CodeConfigInvalid  = "config-invalid"        // error: a publish.yaml value has the wrong type or an impossible value
	CodeUnknownPopular = "unknown-popular"       // warning: popular names a slug that is not a post
	CodeFMSyntax       = "front-matter-syntax"   // error: front matter is not valid YAML/TOML or not a mapping
	CodeFMUnclosed     = "front-matter-unclosed" // error: the opening --- or +++ has no closing line
	CodeAliasBomb      = "yaml-alias-bomb"       // error: YAML aliases expand beyond a safe size (or loop)
	CodeLimit          = "limit-exceeded"        // error: beyond a limit that keeps a build small and fast: tags or aliases per post, front matter size or values, Markdown nesting, table size
	CodeMissingTitle   = "missing-title"         // error: no title (in a post, or in publish.yaml)
	CodeMissingDate    = "missing-date"          // error: no date field and no date in the file name
	CodeInvalidDate    = "invalid-date"          // error: date or updated is not a date we can read
	CodeDateMismatch   = "date-mismatch"         // warning: front matter date differs from the file name's date
	CodeDateFallback   = "date-fallback"         // warning: the date field cannot be read; the file name's (or Zola path's) date is used
	CodeDuplicateURL   = "duplicate-url"         // error: two posts, pages, sections or redirects would be published at the same address
	CodeInvalidAddress = "invalid-address"       // error: a post's or section's address (its permalink, url, path, or the site's pattern) cannot be written there
	CodeOutputConflict = "output-conflict"       // error: a static or bundle file would be written over, under or at another page or file of the site
	CodeBadRedirect    = "invalid-redirect"      // error: a redirect_to or redirect that is not a URL or site path
	CodeInvalidSlug    = "invalid-slug"          // error: no usable URL segment from slug, file name or title
	CodeUnknownField   = "unknown-field"         // warning: a field publishbot does not know is ignored
	CodeDuplicateField = "duplicate-field"       // error: a field is given twice; which one wins is unclear
	CodeInvalidField   = "invalid-field"         // error: a field has the wrong type (e.g. draft: "yes")
	CodeInvalidTag     = "invalid-tag"           // warning: a tag with no letters or digits is dropped
	CodeInvalidAlias   = "invalid-alias"         // error: an alias is not a site path, or would replace another page
	CodeDuplicateAlias = "duplicate-alias"       // error: two posts claim the same alias
	CodeBrokenLink     = "broken-link"           // warning: a local link points at no post or published file
	CodeLinkToDraft    = "link-to-draft"         // warning: a published post links to a draft or future post
	CodeMissingImage   = "missing-image"         // warning: a local image (or cover image) does not exist
	CodeImageAlt       = "image-alt"             // warning: an image has no alt text
	CodeLiquid         = "liquid"                // warning: Jekyll Liquid is not supported and is shown literally
	CodeRawHTML        = "raw-html"              // warning: part of the raw HTML was removed by the sanitiser (a script, an event handler, an unsafe URL...); the message names it
	CodeCodeOption     = "code-option"           // warning: a code block option is unknown or not readable and is ignored
	CodeUnsafeURL      = "unsafe-url"            // warning: a javascript:/vbscript:/data:/file: URL was removed
	CodeInvalidUTF8    = "invalid-utf8"          // error: the file is not UTF-8 text
	CodeSymlink        = "symlink"               // error: a symbolic link; never followed
	CodeSpecialFile    = "special-file"          // error: a device, pipe or socket in the tree; never read
	CodeInvalidPath    = "invalid-path"          // error: a path with "..", a control character or a backslash
	CodeFileTooLarge   = "file-too-large"        // error: a file over 10 MiB; not read
	CodeUnreadable     = "unreadable"            // error: the file could not be read from the tree
	CodeInternal       = "internal-error"        // error: publishbot failed on this file (a bug; please report)
	CodeTemplate       = "template"              // error: a template override in templates/ does not parse or fails to render
	CodeNotCarried     = "not-carried-over"      // warning: a file made by another generator's own template (Zola's template = "…") is left out
	CodeReservedURL    = "reserved-url"          // error: a page would take the address of a file the site writes itself (index, archive, tags, feeds)
	CodeMenuURL        = "menu-url"              // error: a menu entry's url leads to no page, post or file of the site; the entry is left out
	CodeExpired        = "expired"               // warning: the post's expiryDate has passed; it is left out of the site
	CodeSearchOff      = "search-off"            // warning: the blog has its own page or files at /search/, so the built-in search is off
	CodeMath           = "math"                  // warning: a formula (math: true) cannot be converted and is shown as written
)

// MaxFileSize is the largest file Load reads or copies (10 MiB).
const MaxFileSize = 10 << 20

var codeSeverity = map[string]Severity{
	CodeConfigMissing: SeverityWarning, CodeConfigSyntax: SeverityError, CodeConfigInvalid: SeverityError,
	CodeUnknownPopular: SeverityWarning, CodeFMSyntax: SeverityError, CodeFMUnclosed: SeverityError,
	CodeAliasBomb: SeverityError, CodeLimit: SeverityError, CodeMissingTitle: SeverityError, CodeMissingDate: SeverityError,
	CodeInvalidDate: SeverityError, CodeDateMismatch: SeverityWarning, CodeDateFallback: SeverityWarning, CodeNotCarried: SeverityWarning,
	CodeDuplicateURL: SeverityError, CodeInvalidAddress: SeverityError, CodeOutputConflict: SeverityError, CodeBadRedirect: SeverityError,
	CodeInvalidSlug: SeverityError, CodeUnknownField: SeverityWarning, CodeDuplicateField: SeverityError,
	CodeInvalidField: SeverityError, CodeInvalidTag: SeverityWarning, CodeInvalidAlias: SeverityError,
	CodeDuplicateAlias: SeverityError, CodeBrokenLink: SeverityWarning, CodeLinkToDraft: SeverityWarning,
	CodeMissingImage: SeverityWarning, CodeImageAlt: SeverityWarning, CodeLiquid: SeverityWarning,
	CodeRawHTML: SeverityWarning, CodeCodeOption: SeverityWarning, CodeUnsafeURL: SeverityWarning, CodeInvalidUTF8: SeverityError,
	CodeSymlink: SeverityError, CodeSpecialFile: SeverityError, CodeInvalidPath: SeverityError,
	CodeFileTooLarge: SeverityError, CodeUnreadable: SeverityError, CodeInternal: SeverityError,
	CodeReservedURL: SeverityError, CodeMenuURL: SeverityError, CodeExpired: SeverityWarning,
	CodeSearchOff: SeverityWarning,
	CodeMath:      SeverityWarning,
}

// CodeSeverity is the fixed severity of a diagnostic code, and false for a
// code this package never produces.
func CodeSeverity(code string) (Severity, bool) {
	s, ok := codeSeverity[code]
	return s, ok
}

// String is the diagnostic as one line of text, the form `publishbot
// check` prints and every command shows: "path:line:col: severity:
// message [code]", with line and column left out when the problem is about
// the whole file (a column of 0 on a known line shows as 1).
func (d Diagnostic) String() string {
	loc := d.File
	if d.Line > 0 {
		loc += fmt.Sprintf(":%d:%d", d.Line, max(d.Column, 1))
	}
	return fmt.Sprintf("%s: %s: %s [%s]", loc, d.Severity, d.Message, d.Code)
}

func newDiag(file string, line, col int, code, msg string) Diagnostic {
	sev, ok := codeSeverity[code]
	if !ok {
		sev = SeverityError
	}
	return Diagnostic{File: file, Line: line, Column: col, Severity: sev, Code: code, Message: msg}
}

// SortDiagnostics sorts by file, line, column, code, then message.
func SortDiagnostics(ds []Diagnostic) {
	slices.SortStableFunc(ds, func(a, b Diagnostic) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column), cmp.Compare(a.Code, b.Code), cmp.Compare(a.Message, b.Message))
	})
}

// HasErrors reports whether any diagnostic is an error.
func HasErrors(ds []Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}
