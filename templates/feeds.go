package templates

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io/fs"
	"sort"
	"time"
)

func (b *build) feedPosts() []*PostData {
	n := b.opts.FeedEntries
	if n == 0 {
		n = DefaultFeedEntries
	}
	if n < 0 || n > len(b.posts) {
		n = len(b.posts)
	}
	return b.posts[:n]
}

// feedUpdated is the newest date or update of any post: the feeds carry no
// build time, so identical input gives identical feeds.
func (b *build) feedUpdated() time.Time {
	t := newest(b.posts)
	if t.IsZero() {
		t = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return t
}

func (b *build) feeds() error {
	list := b.feedPosts()
	b.waitFeedBodies()
	for _, f := range []struct {
		path string
		gen  func([]*PostData) ([]byte, error)
	}{{"feed.xml", b.atom}, {"rss.xml", b.rss}, {"feed.json", b.jsonFeed}} {
		data, err := f.gen(list)
		if err != nil {
			return fmt.Errorf("render %s: %w", f.path, err)
		}
		b.add(f.path, data)
	}
	// feeds in publish.yaml: the old addresses of the feed (Hugo's
	// index.xml, Zola's atom.xml) keep their subscribers.
	for _, p := range b.cfg.Feeds {
		if _, taken := b.out[p]; !taken && fs.ValidPath(p) {
			b.add(p, b.out["feed.xml"])
		}
	}
	return nil
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
}

type atomText struct {
	Type string `xml:"type,attr,omitempty"`
	Body string `xml:",chardata"`
}

type atomPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

type atomCategory struct {
	Term  string `xml:"term,attr"`
	Label string `xml:"label,attr,omitempty"`
}

type atomEntry struct {
	Title      atomText       `xml:"title"`
	Links      []atomLink     `xml:"link"`
	ID         string         `xml:"id"`
	Published  string         `xml:"published"`
	Updated    string         `xml:"updated"`
	Authors    []atomPerson   `xml:"author"`
	Categories []atomCategory `xml:"category"`
	Summary    *atomText      `xml:"summary,omitempty"`
	Content    atomRawText    `xml:"content"` // feedText
}

type atomFeed struct {
	XMLName  xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang     string      `xml:"xml:lang,attr,omitempty"`
	Title    atomText    `xml:"title"`
	Subtitle *atomText   `xml:"subtitle,omitempty"`
	Links    []atomLink  `xml:"link"`
	ID       string      `xml:"id"`
	Updated  string      `xml:"updated"`
	Author   *atomPerson `xml:"author,omitempty"`
	Entries  []atomEntry `xml:"entry"`
}

func rfc3339(t time.Time) string { return t.Format(time.RFC3339) }

func (b *build) atom(list []*PostData) ([]byte, error) {
	return b.atomOf(list, b.cfg.Title, "feed.xml", "")
}

// atomOf is an Atom feed of list titled title, at the site path self, of
// the page at the site path alt (the index for "", a tag's page).
func (b *build) atomOf(list []*PostData, title, self, alt string) ([]byte, error) {
	updated := b.feedUpdated()
	if alt != "" {
		updated = newest(list)
	}
	f := atomFeed{
		Lang:    b.cfg.Language,
		Title:   atomText{Type: "text", Body: title},
		ID:      b.siteURL(alt),
		Updated: rfc3339(updated),
		Links: []atomLink{
			{Href: b.siteURL(self), Rel: "self", Type: "application/atom+xml"},
			{Href: b.siteURL(alt), Rel: "alternate", Type: "text/html"},
		},
	}
	if b.cfg.Description != "" {
		f.Subtitle = &atomText{Type: "text", Body: b.cfg.Description}
	}
	if b.cfg.Author != "" {
		f.Author = &atomPerson{Name: b.cfg.Author}
	}
	size := 1024 // of the feed, about
	for _, d := range list {
		e := atomEntry{
			Title:     atomText{Type: "text", Body: d.Title},
			Links:     []atomLink{{Href: d.AbsURL, Rel: "alternate", Type: "text/html"}},
			ID:        d.FeedID,
			Published: rfc3339(d.Date),
			Updated:   rfc3339(d.Date),
			Content:   atomRawText{Type: "html", Escaped: b.feedText(d)},
		}
		if d.Updated.After(d.Date) {
			e.Updated = rfc3339(d.Updated)
		}
		// RFC 4287 4.1.1: an entry needs an author when the feed has none.
		for _, a := range d.Authors {
			e.Authors = append(e.Authors, atomPerson{Name: a.Name, URI: a.AbsURL})
		}
		if len(e.Authors) == 0 && f.Author == nil {
			e.Authors = []atomPerson{{Name: b.cfg.Title}}
		}
		if d.Summary != "" {
			e.Summary = &atomText{Type: "text", Body: d.Summary}
		}
		for _, t := range d.TagLinks {
			e.Categories = append(e.Categories, atomCategory{Term: t.Slug, Label: t.Name})
		}
		f.Entries = append(f.Entries, e)
		size += len(e.Content.Escaped) + 2*len(d.Summary) + 1024
	}
	return marshalXML(f, size)
}

type rssGUID struct {
	IsPermaLink string `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

type rssItem struct {
	Title       string   `xml:"title"`
	Link        string   `xml:"link"`
	GUID        rssGUID  `xml:"guid"`
	PubDate     string   `xml:"pubDate"`
	Authors     []string `xml:"dc:creator"`
	Categories  []string `xml:"category"`
	Description string   `xml:"description"`
	Content     xmlText  `xml:"content:encoded"` // feedText
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Description   string    `xml:"description"`
	Language      string    `xml:"language,omitempty"`
	LastBuildDate string    `xml:"lastBuildDate"`
	AtomLink      atomLink  `xml:"atom:link"`
	Items         []rssItem `xml:"item"`
}

type rssFeed struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	Atom    string     `xml:"xmlns:atom,attr"`
	ContNS  string     `xml:"xmlns:content,attr"`
	DCNS    string     `xml:"xmlns:dc,attr"`
	Channel rssChannel `xml:"channel"`
}

func (b *build) rss(list []*PostData) ([]byte, error) {
	desc := b.cfg.Description
	if desc == "" {
		desc = b.cfg.Title
	}
	f := rssFeed{
		Version: "2.0",
		Atom:    "http://www.w3.org/2005/Atom",
		ContNS:  "http://purl.org/rss/1.0/modules/content/",
		DCNS:    "http://purl.org/dc/elements/1.1/",
		Channel: rssChannel{
			Title:         b.cfg.Title,
			Link:          b.cfg.URL(""),
			Description:   desc,
			Language:      b.cfg.Language,
			LastBuildDate: b.feedUpdated().Format(time.RFC1123Z),
			AtomLink:      atomLink{Href: b.cfg.URL("rss.xml"), Rel: "self", Type: "application/rss+xml"},
		},
	}
	size := 1024 // of the feed, about
	for _, d := range list {
		it := rssItem{
			Title:       d.Title,
			Link:        d.AbsURL,
			GUID:        rssGUID{IsPermaLink: "true", Value: d.AbsURL},
			PubDate:     d.Date.Format(time.RFC1123Z),
			Description: d.Summary,
			Content:     xmlText{b.feedText(d)},
		}
		for _, a := range d.Authors {
			it.Authors = append(it.Authors, a.Name)
		}
		for _, t := range d.TagLinks {
			it.Categories = append(it.Categories, t.Name)
		}
		f.Channel.Items = append(f.Channel.Items, it)
		size += len(it.Content.Escaped) + 2*len(d.Summary) + 1024
	}
	return marshalXML(f, size)
}

// sitemap is the sitemap of urls, in their order: the bytes encoding/xml
// made of it (an urlset of url elements, a loc and an optional lastmod
// each, indented by two spaces), written without its reflection, which
// took a serial 40 ms of every build of 20,000 posts.
func sitemap(urls []sitemapURL) []byte {
	var buf bytes.Buffer
	size := len(xml.Header) + 128
	for _, u := range urls {
		size += len(u.Loc) + 80 // an entry's tags and indentation, and its lastmod
	}
	buf.Grow(size)
	buf.WriteString(xml.Header)
	buf.WriteString(`<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
	for _, u := range urls {
		buf.WriteString("\n  <url>\n    <loc>")
		if plainXML(u.Loc) {
			buf.WriteString(u.Loc) // an address is escaped already: most are
		} else {
			xml.EscapeText(&buf, []byte(u.Loc))
		}
		buf.WriteString("</loc>")
		if !u.LastMod.IsZero() {
			buf.WriteString("\n    <lastmod>")
			buf.Write(u.LastMod.AppendFormat(buf.AvailableBuffer(), "2006-01-02"))
			buf.WriteString("</lastmod>")
		}
		buf.WriteString("\n  </url>")
	}
	if len(urls) > 0 {
		buf.WriteByte('\n')
	}
	buf.WriteString("</urlset>\n")
	return buf.Bytes()
}

// plainXML says s is XML text as it is: printable ASCII with nothing
// xml.EscapeText escapes.
func plainXML(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '&' || c == '<' || c == '>' || c == '"' || c == '\'' {
			return false
		}
	}
	return true
}

func marshalXML(v any, sizeHint int) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(sizeHint)
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

type jsonAuthor struct {
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

type jsonItem struct {
	ID            string       `json:"id"`
	URL           string       `json:"url"`
	Title         string       `json:"title"`
	ContentHTML   string       `json:"content_html"`
	Summary       string       `json:"summary,omitempty"`
	Image         string       `json:"image,omitempty"`
	DatePublished string       `json:"date_published"`
	DateModified  string       `json:"date_modified,omitempty"`
	Authors       []jsonAuthor `json:"authors,omitempty"`
	Tags          []string     `json:"tags,omitempty"`
	Language      string       `json:"language,omitempty"`
}

type jsonFeed struct {
	Version     string       `json:"version"`
	Title       string       `json:"title"`
	HomePageURL string       `json:"home_page_url"`
	FeedURL     string       `json:"feed_url"`
	Description string       `json:"description,omitempty"`
	Language    string       `json:"language,omitempty"`
	Authors     []jsonAuthor `json:"authors,omitempty"`
	Items       []jsonItem   `json:"items"`
}

func (b *build) jsonFeed(list []*PostData) ([]byte, error) {
	f := jsonFeed{
		Version:     "https://jsonfeed.org/version/1.1",
		Title:       b.cfg.Title,
		HomePageURL: b.cfg.URL(""),
		FeedURL:     b.cfg.URL("feed.json"),
		Description: b.cfg.Description,
		Language:    b.cfg.Language,
		Items:       make([]jsonItem, 0, len(list)),
	}
	if b.cfg.Author != "" {
		f.Authors = []jsonAuthor{{Name: b.cfg.Author}}
	}
	for _, d := range list {
		it := jsonItem{
			ID:            d.FeedID,
			URL:           d.AbsURL,
			Title:         d.Title,
			ContentHTML:   b.feedBody(d),
			Summary:       d.Summary,
			Image:         d.ImageURL,
			DatePublished: rfc3339(d.Date),
		}
		if !d.Updated.IsZero() {
			it.DateModified = rfc3339(d.Updated)
		}
		for _, a := range d.Authors {
			it.Authors = append(it.Authors, jsonAuthor{Name: a.Name, URL: a.AbsURL})
		}
		for _, t := range d.TagLinks {
			it.Tags = append(it.Tags, t.Name)
		}
		f.Items = append(f.Items, it)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// fixedFiles writes the sitemap, robots.txt, .nojekyll, CNAME and the
// stylesheet.
func (b *build) fixedFiles() error {
	sort.Slice(b.urls, func(i, j int) bool { return b.urls[i].Loc < b.urls[j].Loc })
	b.add("sitemap.xml", sitemap(b.urls))

	_, staticRobots := b.out["robots.txt"]
	switch {
	case b.opts.PreviewPR > 0:
		b.add("robots.txt", []byte("# Preview of pull request #"+fmt.Sprint(b.opts.PreviewPR)+": not for search engines.\nUser-agent: *\nDisallow: /\n"))
	case !staticRobots:
		b.add("robots.txt", []byte("User-agent: *\nAllow: /\n\nSitemap: "+b.cfg.URL("sitemap.xml")+"\n"))
	}
	b.add(".nojekyll", []byte{})
	if b.cfg.CNAME != "" && b.opts.PreviewPR == 0 {
		b.add("CNAME", []byte(b.cfg.CNAME+"\n"))
	}
	b.add(StylesheetPath, b.r.css)
	return nil
}
