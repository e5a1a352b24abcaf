// Package corpusgen makes the big benchmark blogs of issue 13 from the
// shared Rust blog corpus (../shared/testdata/corpus/zola-rust-blog): its
// dated posts, with the date written into the front matter (the corpus
// dates posts only by their Zola path), copied over as often as it takes to
// reach the number of posts asked for. Copy k ≥ 1 lives under posts/copy-k/
// with its path and aliases under copy-k/ and its date k minutes later, so
// every copy has its own address and date. Copy 0 is the corpus as
// committed (sections and bundles included), like /work/baseline/src-zolad.
//
// Only benchmarks and scripts/makecorpus use it; it is not part of the
// publishbot binary.
package corpusgen

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Config is the publish.yaml of every generated blog.
const Config = "title: Rust Blog\nbase_url: https://blog.rust-lang.org/\n"

var datedPath = regexp.MustCompile(`(?m)^path = "((?:[a-z-]+/)?([0-9]{4})/([0-9]{2})/([0-9]{2})/[^"]*)"`)

// Files returns the content repository of n posts (n ≥ 1) built from the
// corpus folder dir: repository-relative path → bytes. The result is the
// same for the same corpus and n.
func Files(dir string, n int) (map[string][]byte, error) {
	type post struct {
		rel   string // corpus-relative Markdown file
		src   []byte
		ymd   string   // YYYY-MM-DD
		extra []string // bundle files beside an index.md, corpus-relative
	}
	var dated []*post
	others := map[string][]byte{} // copy 0 only: sections, images, the rest
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "SOURCE.md" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if m := datedPath.FindSubmatch(b); m != nil && strings.HasSuffix(rel, ".md") {
			dated = append(dated, &post{rel: rel, src: b, ymd: fmt.Sprintf("%s-%s-%s", m[2], m[3], m[4])})
			return nil
		}
		others[rel] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read corpus: %w", err)
	}
	if len(dated) == 0 {
		return nil, fmt.Errorf("read corpus %s: no dated posts", dir)
	}
	sort.Slice(dated, func(i, j int) bool { return dated[i].rel < dated[j].rel })
	for _, p := range dated {
		if path.Base(p.rel) == "index.md" {
			b := path.Dir(p.rel) + "/"
			for rel := range others {
				if strings.HasPrefix(rel, b) {
					p.extra = append(p.extra, rel)
				}
			}
			sort.Strings(p.extra)
		}
	}
	files := map[string][]byte{"publish.yaml": []byte(Config)}
	for rel, b := range others {
		files["posts/"+rel] = b
	}
	for i := 0; i < n; i++ {
		k, p := i/len(dated), dated[i%len(dated)]
		src := withDate(p.src, p.ymd, k)
		dst := "posts/" + p.rel
		if k > 0 {
			prefix := fmt.Sprintf("copy-%d/", k)
			src = moved(src, prefix)
			dst = "posts/" + prefix + p.rel
			for _, e := range p.extra {
				files["posts/"+prefix+e] = others[e]
			}
		}
		files[dst] = src
	}
	return files, nil
}

// withDate adds "date = …" after the opening +++ line: the day of the
// post's path, k minutes past midnight for copy k.
func withDate(src []byte, ymd string, k int) []byte {
	date := ymd
	if k > 0 {
		date = fmt.Sprintf("%sT%02d:%02d:00Z", ymd, k/60, k%60)
	}
	i := bytes.IndexByte(src, '\n')
	out := make([]byte, 0, len(src)+40)
	out = append(out, src[:i+1]...)
	out = append(out, "date = "+date+"\n"...)
	return append(out, src[i+1:]...)
}

var aliasesLine = regexp.MustCompile(`(?ms)^aliases = \[[^\]]*\]`)
var quoted = regexp.MustCompile(`"([^"]*)"`)

// moved puts the post's path and aliases under prefix.
func moved(src []byte, prefix string) []byte {
	src = datedPath.ReplaceAll(src, []byte(`path = "`+prefix+`$1"`))
	return aliasesLine.ReplaceAllFunc(src, func(line []byte) []byte {
		return quoted.ReplaceAllFunc(line, func(q []byte) []byte {
			return []byte(`"` + prefix + strings.TrimPrefix(string(q[1:len(q)-1]), "/") + `"`)
		})
	})
}

// Write writes files into the folder dir, which must not exist or be empty.
func Write(dir string, files map[string][]byte) error {
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return fmt.Errorf("write corpus: %s is not empty", dir)
	}
	for rel, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("write corpus: %w", err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return fmt.Errorf("write corpus: %w", err)
		}
	}
	return nil
}

// DatedPosts are the paths of the dated Markdown posts of files, sorted:
// the posts the benchmarks edit.
func DatedPosts(files map[string][]byte) []string {
	var out []string
	for p, data := range files {
		if strings.HasSuffix(p, ".md") && bytes.Contains(data, []byte("\ndate = ")) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// BenchBlog is the blog a benchmark of a package of this module builds:
// BenchSize posts made from the Rust blog corpus (the shared test data,
// two folders above the package's), its files by path.
func BenchBlog(getenv func(string) string) (int, map[string][]byte, error) {
	n, err := BenchSize(getenv)
	if err != nil {
		return 0, nil, err
	}
	files, err := Files(filepath.Join("..", "..", "shared", "testdata", "corpus", "zola-rust-blog"), n)
	return n, files, err
}

// BenchSize is the size of blog a benchmark makes: PUBLISHBOT_BENCH_POSTS
// (issue 13 uses 1000, 6629 and 20000), else 1000.
func BenchSize(getenv func(string) string) (int, error) {
	v := getenv("PUBLISHBOT_BENCH_POSTS")
	if v == "" {
		return 1000, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("PUBLISHBOT_BENCH_POSTS %q: want a number of posts", v)
	}
	return n, nil
}
