package posts

// Limits bound what one post may make a build write. They belong to whoever
// runs publishbot (serve's configuration may raise them); nothing in the
// content repository can change them. A post beyond a limit gets a
// limit-exceeded error naming the limit, and is left out of the site.
//
// The zero value of a field means its default.
type Limits struct {
	// MaxTags is how many different tags (tags, categories and category
	// together) one post may have: each is a page of the site, in every
	// build. 0 means DefaultMaxTags.
	MaxTags int
	// MaxAliases is how many aliases (aliases and redirect_from together)
	// one post may have: each is a redirect page. 0 means DefaultMaxAliases.
	MaxAliases int
}

// Defaults of Limits.
const (
	DefaultMaxTags    = 100
	DefaultMaxAliases = 100
)

// withDefaults fills the zero (or negative) fields with their defaults.
func (l Limits) withDefaults() Limits {
	if l.MaxTags <= 0 {
		l.MaxTags = DefaultMaxTags
	}
	if l.MaxAliases <= 0 {
		l.MaxAliases = DefaultMaxAliases
	}
	return l
}

// Fixed bounds on what parsing a post may cost. Unlike Limits they are not
// settings: every honest post is far inside them, and they keep the time and
// memory of a build near-linear in the size of its content.
const (
	// maxFrontMatterSize bounds the front matter (or publish.yaml) handed to
	// a YAML or TOML decoder: a hundred times the largest honest one.
	maxFrontMatterSize = 1 << 20
	// valueBudget bounds how many values front matter (or publish.yaml) may
	// hold, counting every scalar, list, mapping and key, and how many YAML
	// aliases may expand to.
	valueBudget = 10000
	// maxDepth bounds how deeply front matter values may nest.
	maxDepth = 100
	// maxBlockDepth bounds how deeply Markdown blocks may nest: blockquotes,
	// list items and footnotes inside one another.
	maxBlockDepth = 100
	// maxInlineDepth bounds how deeply Markdown inlines may nest: emphasis,
	// strikethrough, links and images inside one another.
	maxInlineDepth = 100
	// maxFootnotes and maxFootnoteRefs bound the footnote definitions and
	// references of a post.
	maxFootnotes    = 1000
	maxFootnoteRefs = 10000
	// maxDelimiters bounds the emphasis and strikethrough delimiters that
	// may close in one paragraph (or heading, or table cell): goldmark's
	// work on them grows with the square of their number (see
	// delimiterGuard).
	maxDelimiters = 500
	// failedLinkFactor and failedLinkBudget bound what the inline links
	// that fail may cost in one paragraph: that many times its length, plus
	// that many bytes (see linkGuard).
	failedLinkFactor = 4
	failedLinkBudget = 4 << 10
	// refWindow is how many lines of a paragraph goldmark's link reference
	// transformer reads at a time (see windowedLinkRefs).
	refWindow = 100
	// minTableCells is the table size (rows times columns) always allowed;
	// beyond it, a table may have at most as many cells as its text has
	// bytes (see boundedTable).
	minTableCells = 10000
)
