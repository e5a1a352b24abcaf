package posts

import (
	"maps"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/go-git/go-git/v5/plumbing"
)

func loadConfigText(t testing.TB, yaml string) (Config, []Diagnostic) {
	t.Helper()
	return LoadConfig(fstest.MapFS{ConfigFile: {Data: []byte(yaml)}}, "acme/blog")
}

// Set tells a caller with defaults of its own which keys were written: a
// value taken, a value refused, or nothing (not written, or written empty).
func TestLoadConfigSaysWhichKeysWereWritten(t *testing.T) {
	cfg, ds := loadConfigText(t, "title: T\npages_branch: gh-pages\nper_page: 0\nsource_branch:\nunknown: 1\npopular: [a, [b]]\ntimezone: Europe/Berlin\n")
	want := map[string]bool{"title": true, "pages_branch": true, "per_page": false, "popular": false, "timezone": true}
	if !maps.Equal(cfg.Set, want) {
		t.Errorf("Set = %v, want %v", cfg.Set, want)
	}
	if !cfg.Has("pages_branch") || cfg.Has("per_page") || cfg.Has("source_branch") || cfg.Has("unknown") || cfg.Has("heading") {
		t.Errorf("Has disagrees with Set %v", cfg.Set)
	}
	if cfg.PerPage != DefaultPerPage || cfg.PagesBranch != "gh-pages" || cfg.Location.String() != "Europe/Berlin" {
		t.Errorf("config %+v", cfg)
	}
	if got := diagKeys(ds); strings.Join(got, " ") != "publish.yaml:3:11 config-invalid publish.yaml:5:1 unknown-field publish.yaml:6:14 config-invalid" {
		t.Errorf("diagnostics %q", got)
	}

	// "gh-pages" written and "gh-pages" by default read the same, but only
	// one of them was written.
	def, _ := loadConfigText(t, "title: T\n")
	if def.PagesBranch != cfg.PagesBranch || def.Has("pages_branch") || len(def.Set) != 1 {
		t.Errorf("defaults: %+v", def)
	}
	if d := DefaultConfig("acme/blog"); d.Set != nil || d.PerPage != DefaultPerPage || d.PostsDir != DefaultPostsDir || d.PagesBranch != DefaultPagesBranch {
		t.Errorf("DefaultConfig = %+v", d)
	}

	// A key given twice is refused, whichever value came first.
	twice, ds := loadConfigText(t, "title: T\npages_branch: site\npages_branch: other\n")
	if twice.Has("pages_branch") || !HasErrors(ds) {
		t.Errorf("twice: Set %v, diagnostics %v", twice.Set, ds)
	}
}

// source_branch and pages_branch are checked once, by git's rules for a
// branch's short name, for check and publish alike.
func TestLoadConfigBranchNames(t *testing.T) {
	for _, tc := range []struct {
		value string
		ok    bool
		says  string
	}{
		{"gh-pages", true, ""},
		{"site/v2", true, ""},
		{"release-1.x", true, ""},
		{"feature+docs", true, ""},
		{"zweig-ä", true, ""},
		{"refs/heads/x", false, `"refs/heads/x" is a full ref name: write the branch's short name, like gh-pages`},
		{"refs/x", false, "full ref name"},
		{"../../etc", false, "is not a branch name"},
		{"a..b", false, "is not a branch name"},
		{"-x", false, "is not a branch name"},
		{"x.", false, "is not a branch name"},
		{"x/", false, "is not a branch name"},
		{"/x", false, "is not a branch name"},
		{"a//b", false, "is not a branch name"},
		{".hidden", false, "is not a branch name"},
		{"a/.b", false, "is not a branch name"},
		{"x.lock", false, "is not a branch name"},
		{"a@{1}", false, "is not a branch name"},
		{`"@"`, false, "is not a branch name"},
		{"HEAD", false, "is not a branch name"},
		{`"a b"`, false, "is not a branch name"},
		{`"a\tb"`, false, "is not a branch name"},
		{"a~1", false, "is not a branch name"},
		{"a^", false, "is not a branch name"},
		{`"a:b"`, false, "is not a branch name"},
		{"a?", false, "is not a branch name"},
		{`"a*"`, false, "is not a branch name"},
		{`"a["`, false, "is not a branch name"},
		{`"a\\b"`, false, "is not a branch name"},
		{"[main]", false, "must be text, not a list"},
	} {
		for _, key := range []string{"source_branch", "pages_branch"} {
			t.Run(key+"="+tc.value, func(t *testing.T) {
				cfg, ds := loadConfigText(t, "title: T\n"+key+": "+tc.value+"\n")
				if cfg.Has(key) != tc.ok || HasErrors(ds) == tc.ok {
					t.Fatalf("accepted %v (Set %v), diagnostics %v", cfg.Has(key), cfg.Set, ds)
				}
				if tc.ok {
					got := cfg.SourceBranch
					if key == "pages_branch" {
						got = cfg.PagesBranch
					}
					if got != strings.Trim(tc.value, `"`) {
						t.Fatalf("%s = %q", key, got)
					}
					return
				}
				if len(ds) != 1 || ds[0].Line != 2 || ds[0].Column != len(key)+3 || ds[0].Code != CodeConfigInvalid ||
					!strings.HasPrefix(ds[0].Message, key+": ") || !strings.Contains(ds[0].Message, tc.says) {
					t.Fatalf("diagnostics %+v, want one config-invalid error at 2:%d saying %q", ds, len(key)+3, tc.says)
				}
				if cfg.PagesBranch != DefaultPagesBranch || cfg.SourceBranch != "" {
					t.Fatalf("a refused value was kept: %+v", cfg)
				}
			})
		}
	}
}

// FuzzConfigBranches: whatever publish.yaml says, a branch LoadConfig
// accepts is one git accepts, under refs/heads/, and Set agrees with the
// diagnostics.
func FuzzConfigBranches(f *testing.F) {
	for _, s := range []string{"main", "gh-pages", "refs/heads/x", "../../etc", "a..b", "x.lock", "a@{1}", "-x", "é/ü", "a/./b", "a\x7fb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		src := "title: T\npages_branch: " + strconvQuote(name) + "\n"
		cfg, ds := loadConfigText(t, src)
		if !cfg.Has("pages_branch") {
			if name != "" && strings.TrimSpace(name) != "" && !HasErrors(ds) {
				t.Fatalf("%q neither taken nor refused: %v", name, ds)
			}
			return
		}
		ref := plumbing.NewBranchReferenceName(cfg.PagesBranch)
		if err := ref.Validate(); err != nil || strings.HasPrefix(cfg.PagesBranch, "refs/") {
			t.Fatalf("accepted %q, which git refuses: %v", cfg.PagesBranch, err)
		}
		if HasErrors(ds) {
			t.Fatalf("taken with errors: %v", ds)
		}
	})
}

// strconvQuote writes s as a YAML double-quoted scalar.
func strconvQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x`)
			b.WriteString(strings.ToUpper(string("0123456789abcdef"[r>>4])) + strings.ToUpper(string("0123456789abcdef"[r&0xf])))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
