package posts

import (
	"strings"
	"testing"
)

// The reader settings: defaults, values, and refusals at their line.
func TestReaderSettings(t *testing.T) {
	def := DefaultConfig("")
	if !def.Search || def.Related != DefaultRelated || def.SocialImage != "" {
		t.Errorf("defaults: search %v, related %d, social_image %q", def.Search, def.Related, def.SocialImage)
	}
	s := load(t, mapFS(map[string]string{ConfigFile: testConfig + "search: false\nrelated: 5\nsocial_image: /img/card.png\n"}), Options{})
	if c := s.Config; c.Search || c.Related != 5 || c.SocialImage != "/img/card.png" {
		t.Errorf("read: search %v, related %d, social_image %q", c.Search, c.Related, c.SocialImage)
	}
	s = load(t, mapFS(map[string]string{ConfigFile: testConfig + "related: false\n"}), Options{})
	if s.Config.Related != 0 {
		t.Errorf("related: false gives %d", s.Config.Related)
	}
	for _, bad := range []string{"search: sometimes\n", "related: -1\n", "related: 99\n", "social_image: 'ftp://x/y.png'\n", "social_image: [a]\n"} {
		s := load(t, mapFS(map[string]string{ConfigFile: testConfig + bad}), Options{})
		found := false
		for _, d := range s.Diagnostics {
			found = found || d.Code == CodeConfigInvalid && d.Line > 1
		}
		if !found {
			t.Errorf("%q: no config-invalid error at its line: %v", bad, s.Diagnostics)
		}
	}
}

// A blog with its own page at /search/ keeps it: the default search
// steps aside with a warning; asked for in publish.yaml, the clash is an
// error.
func TestOwnSearchPage(t *testing.T) {
	files := map[string]string{
		"posts/a.md":      "---\ntitle: A\ndate: 2026-01-01\n---\nText.\n",
		"pages/search.md": "---\ntitle: Search\n---\nOur own.\n",
	}
	files[ConfigFile] = testConfig
	s := load(t, mapFS(files), Options{})
	if s.Config.Search || len(s.Diagnostics) != 1 || s.Diagnostics[0].Code != CodeSearchOff || !strings.Contains(s.Diagnostics[0].Message, "pages/search.md") {
		t.Errorf("search %v, diagnostics %v", s.Config.Search, s.Diagnostics)
	}
	files[ConfigFile] = testConfig + "search: true\n"
	s = load(t, mapFS(files), Options{})
	if !s.Config.Search || !HasErrors(s.Diagnostics) {
		t.Errorf("search: true with a page at /search/: %v", s.Diagnostics)
	}
	delete(files, "pages/search.md")
	files["static/search/index.html"] = "<p>lunr</p>"
	files[ConfigFile] = testConfig
	s = load(t, mapFS(files), Options{})
	if s.Config.Search || len(s.Diagnostics) != 1 || s.Diagnostics[0].Code != CodeSearchOff {
		t.Errorf("static/search/: search %v, diagnostics %v", s.Config.Search, s.Diagnostics)
	}
}
