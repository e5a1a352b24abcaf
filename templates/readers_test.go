package templates

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"
)

// searchScriptTag is the one script element a page may load: the search
// page's own, from the site's assets.
var searchScriptTag = regexp.MustCompile(`<script src="[^"]*assets/search\.js\?v=[0-9a-f]{8}" defer></script>`)

// checkScripts: no page but the search page runs script, and that one only
// the site's own search.js; structured data is valid JSON.
func checkScripts(t testing.TB, name string, page []byte) {
	t.Helper()
	if name == "search/index.html" {
		if n := len(searchScriptTag.FindAll(page, -1)); n != 1 {
			t.Errorf("%s has %d search scripts, want 1", name, n)
		}
		page = searchScriptTag.ReplaceAll(page, nil)
	}
	if bad := scriptsIn(page); bad != "" {
		t.Errorf("%s runs script: %s", name, bad)
	}
	for _, ld := range jsonLDIn(page) {
		var v map[string]any
		if err := json.Unmarshal(ld, &v); err != nil {
			t.Errorf("%s: JSON-LD is not valid JSON: %v\n%s", name, err, ld)
		}
	}
}

var jsonLDRE = regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`)

// jsonLDIn is the content of every structured data element of page.
func jsonLDIn(page []byte) [][]byte {
	var out [][]byte
	for _, m := range jsonLDRE.FindAllSubmatch(page, -1) {
		out = append(out, bytes.TrimSpace(m[1]))
	}
	return out
}
