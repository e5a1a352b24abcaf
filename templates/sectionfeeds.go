package templates

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/publishbot/publishbot/posts"
)

// sectionFeedPath is the site path of a section's Atom feed: feed.xml in
// its folder, as the site's own feed.xml is at the root.
func sectionFeedPath(sec *posts.Section) string {
	return strings.TrimSuffix(sec.Address, "/") + "/feed.xml"
}

// sectionFeedTitle names a section's feed: its title, else the site's.
func sectionFeedTitle(sec *posts.Section, site string) string {
	if sec.Title != "" {
		return sec.Title
	}
	return site
}

// sectionFeedList is the posts of sec's feed: as many of its newest
// (its subfolders' included) as the site's feed carries; none for the
// top section, which introduces the index, whose feeds are the site's.
func (b *build) sectionFeedList(sec *posts.Section) []*PostData {
	if sec.Address == "" || sec.Address == "/" {
		return nil
	}
	limit := len(b.feedPosts())
	var list []*PostData
	for _, d := range b.posts {
		if s := d.Post.Section; s == sec.Dir || strings.HasPrefix(s, sec.Dir+"/") {
			list = append(list, d)
			if len(list) == limit {
				break
			}
		}
	}
	return list
}

// sectionFeeds writes an Atom feed for every section that lists a post:
// a Zola section with generate_feeds (Inside Rust's atom.xml) or a Hugo
// section (its index.xml) has one, and readers of a moved blog keep their
// subscription. The feed is at feed.xml in the section's folder, and a
// copy at the base name of every path of publish.yaml's feeds (atom.xml,
// index.xml) beside it; a file the site already writes there is kept.
// It carries as many of the section's newest posts as the site's feed.
func (b *build) sectionFeeds(sections []*posts.Section) error {
	b.waitFeedBodies()
	for _, sec := range sections {
		if err := b.ctx.Err(); err != nil {
			return err
		}
		list := b.sectionFeedList(sec)
		if len(list) == 0 {
			continue
		}
		feedPath := sectionFeedPath(sec)
		data, err := b.atomOf(list, sectionFeedTitle(sec, b.cfg.Title), feedPath, sec.Address)
		if err != nil {
			return fmt.Errorf("render %s: %w", feedPath, err)
		}
		if _, taken := b.out[feedPath]; !taken {
			b.add(feedPath, data)
		}
		dir := path.Dir(feedPath)
		for _, p := range b.cfg.Feeds {
			copyPath := dir + "/" + path.Base(p)
			if _, taken := b.out[copyPath]; !taken && fs.ValidPath(copyPath) {
				b.add(copyPath, data)
			}
		}
	}
	return nil
}
