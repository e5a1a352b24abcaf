package site

import (
	"errors"
	"strings"
	"testing"
)

// TestBuildLimits: a build making more files or bytes than its Limits fails
// with a LimitError naming the limit, and still gives the loaded site.
func TestBuildLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		limits Limits
		want   string // "" for no error
	}{
		{"defaults", Limits{}, ""},
		{"no limits", Limits{MaxFiles: -1, MaxBytes: -1}, ""},
		{"files", Limits{MaxFiles: 5}, "files, over the limit of 5 files per build"},
		{"bytes", Limits{MaxBytes: 1000}, "bytes, over the limit of 1000 bytes per build"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := BuildDir(t.Context(), exampleBlogDir, Options{Now: fixedNow, Limits: tc.limits})
			if tc.want == "" {
				if err != nil || len(out.Files) < 10 {
					t.Fatalf("%v, %d files", err, len(out.Files))
				}
				return
			}
			lim, ok := errors.AsType[*LimitError](err)
			if !ok || !strings.Contains(err.Error(), tc.want) || lim.Got <= lim.Limit {
				t.Fatalf("err = %v, want a LimitError saying %q", err, tc.want)
			}
			if out == nil || out.Site == nil || out.Files != nil {
				t.Errorf("want the loaded site and no files with the error")
			}
		})
	}
}
