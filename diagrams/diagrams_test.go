package diagrams

import (
	"strings"
	"testing"
)

func TestAssets(t *testing.T) {
	a, err := Assets()
	if err != nil {
		t.Fatal(err)
	}
	js := string(a[ScriptPath])
	if len(js) < 1<<20 || !strings.Contains(js[len(js)-200:], `globalThis["mermaid"]`) {
		t.Errorf("the bundle is not Mermaid's single-file build (%d bytes)", len(js))
	}
	init := string(a[InitPath])
	if !strings.Contains(init, `securityLevel: "strict"`) || strings.Contains(init, "loose") {
		t.Errorf("the start script does not insist on strict:\n%s", init)
	}
	for _, s := range Scripts() {
		if _, ok := a[s]; !ok || !strings.HasPrefix(s, Dir+"/") {
			t.Errorf("script %s is not an asset", s)
		}
	}
}
