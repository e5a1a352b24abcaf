package templates

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxDescription is the longest meta description, in characters: search
// engines show about this much.
const maxDescription = 160

// metaDescription cuts s to at most maxDescription characters at a word,
// with an ellipsis when anything was cut; runs of white space become one
// space. A short, clean text (the usual case) is returned as it is.
func metaDescription(s string) string {
	if len(s) <= maxDescription && tidy(s) {
		return s
	}
	var b strings.Builder
	b.Grow(min(len(s), 4*maxDescription))
	n, space, lastSpace := 0, false, -1
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		need := 1
		if space {
			need = 2
		}
		if n+need > maxDescription {
			// too long: cut at a word, leaving room for "…"
			cut := b.String()
			switch {
			case space && n < maxDescription:
			case lastSpace > 0:
				cut = cut[:lastSpace]
			default: // one word longer than the whole description
				for utf8.RuneCountInString(cut) >= maxDescription {
					_, size := utf8.DecodeLastRuneInString(cut)
					cut = cut[:len(cut)-size]
				}
			}
			return strings.TrimRight(cut, " ,;:.-–—") + "…"
		}
		if space {
			lastSpace = b.Len()
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// tidy says whether s has no white space but single spaces between words.
func tidy(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' && s[i+1] == ' ', c == '\n', c == '\t', c == '\r', c == '\f', c == '\v':
			return false
		case c >= utf8.RuneSelf:
			return false // let the full path judge other spaces
		}
	}
	return true
}

// prepareReaders fills in what the reader features need once the posts
// are known: the related posts of every post, the site's default social
// image and the search page's address.
func (b *build) prepareReaders() {
	if b.cfg.Search {
		b.site.SearchURL = b.base + searchDir
	}
	if img := b.cfg.SocialImage; img != "" {
		if u, err := url.Parse(img); err == nil && u.Scheme == "" {
			img = b.absURL(b.pathURL(strings.TrimPrefix(img, "/")))
		}
		b.site.SocialImage = img
	}
	if b.cfg.Related > 0 {
		b.relatedPosts(b.cfg.Related)
	}
}

// relatedPosts gives every post the n posts that share the most tags with
// it, newer first among equals, filled up with the newest other posts.
// Posts with the same tags share one ranking (computed with n+1 places,
// the post itself is then dropped from it): a blog whose posts mostly
// carry the same few tags costs one ranking per set of tags, not per post.
func (b *build) relatedPosts(n int) {
	index := make(map[*PostData]int, len(b.posts))
	for i, d := range b.posts {
		index[d] = i
	}
	byTag := make(map[string][]int, len(b.byTag)) // the posts of a tag by number, newest first
	for slug, list := range b.byTag {
		nums := make([]int, len(list))
		for i, d := range list {
			nums[i] = index[d]
		}
		byTag[slug] = nums
	}
	shared := make([]int, len(b.posts)) // per post: tags in common, reset after each ranking
	var touched []int
	rankings := map[string][]int{} // tag set -> the n+1 best posts, then the n+1 newest sharing none
	var key strings.Builder
	var slugs []string
	for i, d := range b.posts {
		slugs = slugs[:0]
		for _, t := range d.TagLinks {
			slugs = append(slugs, t.Slug)
		}
		slices.Sort(slugs)
		key.Reset()
		for _, s := range slugs {
			key.WriteString(s)
			key.WriteByte(0)
		}
		ranked, ok := rankings[key.String()]
		if !ok {
			touched = touched[:0]
			for _, s := range slugs {
				for _, j := range byTag[s] {
					if shared[j] == 0 {
						touched = append(touched, j)
					}
					shared[j]++
				}
			}
			ranked = make([]int, 0, 2*(n+1))
			// the n+1 best of touched: more tags in common, then newer (a lower number)
			for _, j := range touched {
				k := len(ranked)
				for k > 0 && (shared[j] > shared[ranked[k-1]] || shared[j] == shared[ranked[k-1]] && j < ranked[k-1]) {
					k--
				}
				if k < n+1 {
					if len(ranked) < n+1 {
						ranked = append(ranked, 0)
					}
					copy(ranked[k+1:], ranked[k:len(ranked)-1])
					ranked[k] = j
				}
			}
			best := len(ranked)
			for j := 0; j < len(b.posts) && len(ranked) < best+n+1; j++ {
				if shared[j] == 0 {
					ranked = append(ranked, j)
				}
			}
			for _, j := range touched {
				shared[j] = 0
			}
			rankings[key.String()] = ranked
		}
		list := make([]*PostData, 0, n)
		for _, j := range ranked {
			if len(list) == n {
				break
			}
			if j != i {
				list = append(list, b.posts[j])
			}
		}
		d.Related = list
	}
}

// jsonLD is v as JSON for a <script type="application/ld+json">: encoding/json
// escapes <, > and & (so no "</script>" can end the element early) and
// U+2028 and U+2029.
func jsonLD(v any) (template.JS, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode JSON-LD: %w", err)
	}
	return template.JS(data), nil // JSON escaped for a script element, see above
}

type ldPerson struct {
	Type string `json:"@type"`
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

type ldBlogPosting struct {
	Context       string     `json:"@context"`
	Type          string     `json:"@type"`
	Headline      string     `json:"headline"`
	Description   string     `json:"description,omitempty"`
	URL           string     `json:"url"`
	MainEntity    string     `json:"mainEntityOfPage"`
	DatePublished string     `json:"datePublished"`
	DateModified  string     `json:"dateModified"`
	Image         string     `json:"image,omitempty"`
	Author        []ldPerson `json:"author,omitempty"`
	Keywords      []string   `json:"keywords,omitempty"`
	WordCount     int        `json:"wordCount,omitempty"`
	InLanguage    string     `json:"inLanguage,omitempty"`
	IsPartOf      *ldBlog    `json:"isPartOf,omitempty"`
}

type ldBlog struct {
	Context     string    `json:"@context,omitempty"`
	Type        string    `json:"@type"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	URL         string    `json:"url"`
	InLanguage  string    `json:"inLanguage,omitempty"`
	Author      *ldPerson `json:"author,omitempty"`
	Image       string    `json:"image,omitempty"`
}

// postLD is everything the BlogPosting of a post page is made from: a
// post page's key holds it in place of the BlogPosting, which is made
// only when the page is rendered (most pages of an edit are kept).
type postLD struct {
	d                   *PostData
	image               string
	lang, blog, blogURL string
}

// postLD is what the BlogPosting of d's page, with the cover image, is made of.
func (b *build) postLD(d *PostData, image string) postLD {
	return postLD{d: d, image: image, lang: b.cfg.Language, blog: b.cfg.Title, blogURL: b.cfg.URL("")}
}

// jsonLD is the BlogPosting of a post page.
func (in postLD) jsonLD() template.JS {
	d := in.d
	v := ldBlogPosting{
		Context:       "https://schema.org",
		Type:          "BlogPosting",
		Headline:      d.Title,
		Description:   d.description,
		URL:           d.AbsURL,
		MainEntity:    d.AbsURL,
		DatePublished: d.DateISO,
		DateModified:  d.DateISO,
		Image:         in.image,
		WordCount:     d.Words,
		InLanguage:    in.lang,
		IsPartOf:      &ldBlog{Type: "Blog", Name: in.blog, URL: in.blogURL},
	}
	if d.UpdatedISO != "" && d.Updated.After(d.Date) {
		v.DateModified = d.UpdatedISO
	}
	for _, a := range d.Authors {
		v.Author = append(v.Author, ldPerson{Type: "Person", Name: a.Name, URL: a.AbsURL})
	}
	for _, t := range d.TagLinks {
		v.Keywords = append(v.Keywords, t.Name)
	}
	return template.JS(v.appendJSON(make([]byte, 0, 1024))) // escaped for a script element as jsonLD's (jsonld.go)
}

// blogJSONLD is the Blog of the index page.
func (b *build) blogJSONLD() (template.JS, error) {
	v := ldBlog{
		Context:     "https://schema.org",
		Type:        "Blog",
		Name:        b.cfg.Title,
		Description: b.cfg.Description,
		URL:         b.cfg.URL(""),
		InLanguage:  b.cfg.Language,
		Image:       b.site.SocialImage,
	}
	if b.cfg.Author != "" {
		v.Author = &ldPerson{Type: "Person", Name: b.cfg.Author}
	}
	return jsonLD(v)
}

// tagFeedEntries is the most posts a tag's feed carries.
const tagFeedEntries = 20

// tagFeedPath is the site path of a tag's Atom feed.
func tagFeedPath(slug string) string { return "tags/" + slug + "/feed.xml" }

// tagFeedList is the posts of the feed of the tag slug: its newest.
func (b *build) tagFeedList(slug string) []*PostData {
	list := b.byTag[slug]
	return list[:min(len(list), tagFeedEntries)]
}

// tagFeeds writes an Atom feed per tag, of its newest posts.
func (b *build) tagFeeds() error {
	b.waitFeedBodies()
	for _, tag := range b.tags {
		if err := b.ctx.Err(); err != nil {
			return err
		}
		list := b.tagFeedList(tag.Slug)
		title := b.cfg.Title + ": " + tag.Name
		data, err := b.atomOf(list, title, tagFeedPath(tag.Slug), "tags/"+tag.Slug+"/")
		if err != nil {
			return fmt.Errorf("render %s: %w", tagFeedPath(tag.Slug), err)
		}
		b.add(tagFeedPath(tag.Slug), data)
	}
	return nil
}
