package posts

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestImagesConfig(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       ImageConfig
		problem    string
	}{
		{"default", "", ImageConfig{Resize: true}, ""},
		{"off", "images: {resize: false}\n", ImageConfig{Resize: false}, ""},
		{"keep", "images:\n  keep_metadata: true\n", ImageConfig{Resize: true, KeepMetadata: true}, ""},
		{"empty", "images:\n", ImageConfig{Resize: true}, ""},
		{"not a map", "images: yes\n", ImageConfig{Resize: true}, "images: must be a mapping"},
		{"bad bool", "images: {resize: maybe}\n", ImageConfig{Resize: true}, "resize must be true or false"},
		{"unknown key", "images: {quality: 80}\n", ImageConfig{Resize: true}, `unknown key "quality"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, ds := LoadConfig(fstest.MapFS{ConfigFile: {Data: []byte("title: T\n" + tc.yaml)}}, "")
			if cfg.Images != tc.want {
				t.Errorf("Images = %+v, want %+v", cfg.Images, tc.want)
			}
			var msgs []string
			for _, d := range ds {
				msgs = append(msgs, d.String())
			}
			got := strings.Join(msgs, "\n")
			if tc.problem == "" && got != "" || tc.problem != "" && !strings.Contains(got, tc.problem) {
				t.Errorf("diagnostics %q, want %q", got, tc.problem)
			}
		})
	}
}
