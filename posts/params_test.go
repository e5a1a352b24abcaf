package posts

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestConfigParams(t *testing.T) {
	cfg, ds := LoadConfig(fstest.MapFS{ConfigFile: {Data: []byte("title: T\nparams:\n  repository: https://github.com/jekyll/jekyll\n  show: true\n  list: [a, b]\n  nested: {x: 1}\n")}}, "")
	if HasErrors(ds) {
		t.Fatalf("diagnostics: %v", ds)
	}
	if cfg.Params["repository"] != "https://github.com/jekyll/jekyll" || cfg.Params["show"] != true || !cfg.Has("params") {
		t.Fatalf("params = %#v", cfg.Params)
	}
	if l, _ := cfg.Params["list"].([]any); len(l) != 2 {
		t.Fatalf("list = %#v", cfg.Params["list"])
	}
	_, ds = LoadConfig(fstest.MapFS{ConfigFile: {Data: []byte("title: T\nparams: [a]\n")}}, "")
	if !HasErrors(ds) || !strings.Contains(ds[0].Message, "params: must be a mapping") || ds[0].Line != 2 {
		t.Fatalf("diagnostics: %v", ds)
	}
}
