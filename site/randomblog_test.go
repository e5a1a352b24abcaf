package site

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"sync"
	"testing/fstest"
	"time"

	it "github.com/publishbot/publishbot/imagery/imagerytest"
)

// randomBlog is a blog that random edits change, for the tests that build
// it after every edit with the cache (TestCacheRandomEdits) or on top of
// the build before (TestIncrementalRandomEdits) and compare with a full
// build. Its posts link to each other, to a static file and to a missing
// page; some show two images (a static photo and one beside the posts).
type randomBlog struct {
	rng    *rand.Rand
	posts  []*blogPost // nil: a deleted post (links to it break)
	config string      // publish.yaml's line after title and base_url
	footer string      // templates/post-footer.html, "" for none
	list   string      // templates/archive.html, "" for none
	static string      // static/img.png, "" for none
	notes  string      // static/notes.txt, "" for none
	photos [2]int      // static/photo.jpg and posts/shot.png: an index into blogImages, -1 for none
	images string      // publish.yaml's images line
	now    time.Time
}

// photoPaths are where the random blog's images go.
var photoPaths = [2]string{"static/photo.jpg", "posts/shot.png"}

// blogImages are the images the random blog's edits choose from: small
// (one variant each), a JPEG with a GPS location, another JPEG, a PNG.
var blogImages = sync.OnceValue(func() [][]byte {
	var imgs [][]byte
	for i, size := range [][2]int{{560, 320}, {520, 390}, {600, 300}} {
		var buf bytes.Buffer
		var err error
		if i < 2 {
			err = jpeg.Encode(&buf, it.Photo(size[0], size[1]), &jpeg.Options{Quality: 90})
		} else {
			err = png.Encode(&buf, it.Photo(size[0], size[1]))
		}
		if err != nil {
			panic(err)
		}
		b := buf.Bytes()
		if i == 0 {
			b = it.WithEXIF(b, it.EXIF(1, true))
		}
		imgs = append(imgs, b)
	}
	return imgs
})

func newRandomBlog(seed uint64, n int) *randomBlog {
	b := &randomBlog{rng: rand.New(rand.NewPCG(seed, 13)), config: "per_page: 3\n", static: "PNG", notes: "Notes.", photos: [2]int{0, 2}, now: cacheNow}
	for i := range n {
		b.posts = append(b.posts, &blogPost{title: fmt.Sprintf("Post %d", i), date: fmt.Sprintf("2026-0%d-%02d", 1+i%5, 1+i),
			body: fmt.Sprintf("Body of post %d, with *emphasis*.\n\n## A heading\n\nMore text.", i), tags: []string{"t" + fmt.Sprint(i%3)}, link: (i + 1) % n,
			photo: i%4 == 1})
	}
	return b
}

// content is the blog's repository as it stands.
func (b *randomBlog) content() fstest.MapFS {
	content := fstest.MapFS{"publish.yaml": {Data: []byte("title: Random\nbase_url: https://acme.github.io/blog/\n" + b.config + b.images)}}
	for i, p := range photoPaths {
		if b.photos[i] >= 0 {
			content[p] = &fstest.MapFile{Data: blogImages()[b.photos[i]]}
		}
	}
	if b.static != "" {
		content["static/img.png"] = &fstest.MapFile{Data: []byte(b.static)}
	}
	if b.notes != "" {
		content["static/notes.txt"] = &fstest.MapFile{Data: []byte(b.notes)}
	}
	if b.footer != "" {
		content["templates/post-footer.html"] = &fstest.MapFile{Data: []byte(b.footer)}
	}
	if b.list != "" {
		content["templates/archive.html"] = &fstest.MapFile{Data: []byte(b.list)}
	}
	for i, p := range b.posts {
		if p != nil {
			content[fmt.Sprintf("posts/p%03d.md", i)] = &fstest.MapFile{Data: []byte(p.text(b.posts))}
		}
	}
	return content
}

func (b *randomBlog) pick() *blogPost {
	for {
		if p := b.posts[b.rng.IntN(len(b.posts))]; p != nil {
			return p
		}
	}
}

// edit makes step's random edit and says what it was: a post's body,
// title, date (which reorders), tags, draft state or link; a new or deleted
// post; a scheduled post becoming due (built once by build while it is
// still in the future); the configuration; a template override; the
// static file; an image replaced, removed or added back; the images
// settings.
func (b *randomBlog) edit(step int, build func(step string)) string {
	switch b.rng.IntN(15) {
	case 0:
		b.pick().body += fmt.Sprintf("\n\nEdit %d.", step)
		return "body"
	case 1:
		b.pick().title = fmt.Sprintf("Retitled %d", step)
		return "title"
	case 2:
		b.pick().date = fmt.Sprintf("2026-0%d-%02d", 1+b.rng.IntN(5), 1+b.rng.IntN(28))
		return "date"
	case 3:
		b.posts = append(b.posts, &blogPost{title: fmt.Sprintf("New %d", step), date: "2026-05-30", body: "A new post.", link: b.rng.IntN(len(b.posts))})
		return "new post"
	case 4:
		b.posts[b.rng.IntN(len(b.posts))] = nil
		return "deleted post"
	case 5:
		b.pick().tags = []string{"t" + fmt.Sprint(b.rng.IntN(5))}
		return "tags"
	case 6:
		p := b.pick()
		p.draft = !p.draft
		return "draft"
	case 7:
		b.pick().date = b.now.Add(time.Duration(1+b.rng.IntN(48)) * time.Hour).Format("2006-01-02T15:04:05Z")
		build(fmt.Sprintf("step %d: scheduled", step))
		b.now = b.now.Add(72 * time.Hour) // it becomes due
		return "future post due"
	case 8:
		configs := []string{"per_page: 2\n", "toc: true\n", "timezone: America/New_York\n", "unsafe_html: true\n",
			"permalink: /:year/:slug/\n", "related: 0\n", "language: de\n"}
		b.config = configs[b.rng.IntN(len(configs))]
		return "config"
	case 9:
		if b.rng.IntN(2) == 0 {
			footers := []string{"", `<p class="licence">CC BY {{.Title}}</p>`, `<p>Comments for {{.Post.Title}}</p>`}
			b.footer = footers[b.rng.IntN(len(footers))]
			return "template override"
		}
		// archives that read more of the posts than the default one: their
		// pages' keys must hold what they read (templates.postReads)
		lists := []string{"", archiveReading(`{{.Title}}: {{.Words}} words`), archiveReading(`{{.Body}}`),
			archiveReading(`{{.Title}}{{if eq . .}}.{{end}}`), archiveReading(`{{$p := .}}{{with $p.Summary}}{{.}}{{end}}`),
			archiveReading(`{{template "teaser" .}}`) + `{{define "teaser"}}{{len .TagLinks}} {{.ReadingTime}}{{end}}`}
		b.list = lists[b.rng.IntN(len(lists))]
		return "archive override"
	case 10:
		switch b.rng.IntN(3) {
		case 0:
			if b.static == "" {
				b.static = "PNG"
			} else {
				b.static = ""
			}
		case 1:
			b.notes = fmt.Sprintf("Notes of step %d.", step)
		default:
			b.notes = ""
		}
		return "static file"
	case 11:
		i := b.rng.IntN(len(b.photos))
		b.photos[i] = (max(b.photos[i], 0) + 1 + b.rng.IntN(len(blogImages())-1)) % len(blogImages())
		return "image replaced"
	case 12:
		i := b.rng.IntN(len(b.photos))
		if b.photos[i] < 0 {
			b.photos[i] = b.rng.IntN(len(blogImages()))
			return "image added"
		}
		b.photos[i] = -1
		return "image removed"
	case 13:
		settings := []string{"", "images: {resize: false}\n", "images: {keep_metadata: true}\n", "images: {resize: false, keep_metadata: true}\n"}
		b.images = settings[b.rng.IntN(len(settings))]
		return "images settings"
	default:
		b.pick().link = b.rng.IntN(len(b.posts))
		return "link"
	}
}

// archiveReading is an archive.html that shows each post with item.
func archiveReading(item string) string {
	return `{{template "base" .}}{{define "main"}}{{range .Years}}{{range .Posts}}<p>` + item + `</p>{{end}}{{end}}{{end}}`
}
