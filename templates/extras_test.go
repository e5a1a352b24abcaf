package templates

import (
	"bytes"
	"strings"
	"testing"

	"github.com/publishbot/publishbot/diagrams"
	"github.com/publishbot/publishbot/texmath"
)

const diagramSource = "graph TD\n  A[Start] --> B{\"x < y & z\"}\n  B --> C[End]\n"

var extrasFiles = map[string]string{
	"publish.yaml":                "title: Extras\nbase_url: https://acme.github.io/blog/\n",
	"posts/2026-01-01-math.md":    "---\ntitle: Math\nmath: true\n---\nEnergy $E = mc^2$.\n\n$$\n\\int_0^1 x\\,dx = \\frac12\n$$\n",
	"posts/2026-01-02-diagram.md": "---\ntitle: Diagram\n---\nA flow:\n\n```mermaid\n" + diagramSource + "```\n",
	"posts/2026-01-03-plain.md":   "---\ntitle: Plain\nmath: true\n---\nIt costs $5 and $10. No formula, no diagram.\n",
	"pages/about.md":              "---\ntitle: About\n---\n```mermaid\ngraph LR\n  a --> b\n```\n",
}

func TestMathAndDiagramPages(t *testing.T) {
	site, out := loadRender(t, extrasFiles, Options{})
	mathPage, diagramPage, plain, about := string(out["posts/math/index.html"]), string(out["posts/diagram/index.html"]),
		string(out["posts/plain/index.html"]), string(out["about/index.html"])
	css := `<link rel="stylesheet" href="/blog/` + texmath.StylesheetPath + `">`
	script := `<script src="/blog/` + diagrams.ScriptPath + `" defer></script>`
	if !strings.Contains(mathPage, css) || strings.Contains(mathPage, "<script") {
		t.Errorf("the math page has no Temml stylesheet, or a script:\n%s", mathPage)
	}
	if strings.Count(mathPage, "<math") != 2 || !strings.Contains(mathPage, `<math display="block"`) {
		t.Errorf("the math page has no MathML:\n%s", mathPage)
	}
	for name, page := range map[string]string{"diagram": diagramPage, "about": about} {
		if !strings.Contains(page, script) || !strings.Contains(page, `<script src="/blog/`+diagrams.InitPath+`?v=`) || strings.Contains(page, css) {
			t.Errorf("the %s page does not load the diagram scripts:\n%s", name, page)
		}
		if !strings.Contains(page, `<pre class="mermaid" tabindex="0" role="group" aria-label="Diagram">`) {
			t.Errorf("the %s page has no diagram block:\n%s", name, page)
		}
	}
	// The source is escaped: Mermaid reads it back as text.
	if !strings.Contains(diagramPage, `B{&#34;x &lt; y &amp; z&#34;}`) && !strings.Contains(diagramPage, `B{&quot;x &lt; y &amp; z&quot;}`) {
		t.Errorf("diagram source not escaped:\n%s", diagramPage)
	}
	for name, page := range map[string]string{"plain": plain, "index": string(out["index.html"]), "archive": string(out["archive/index.html"])} {
		if strings.Contains(page, "<script") || strings.Contains(page, texmath.Dir) || strings.Contains(page, "<math") {
			t.Errorf("the %s page loads math or diagram files:\n%s", name, page)
		}
	}
	a, err := diagrams.Assets()
	if err != nil {
		t.Fatal(err)
	}
	for p, data := range a {
		if !bytes.Equal(out[p], data) {
			t.Errorf("%s not written (%d bytes)", p, len(out[p]))
		}
	}
	for p, data := range texmath.Assets() {
		if !bytes.Equal(out[p], data) {
			t.Errorf("%s not written (%d bytes)", p, len(out[p]))
		}
	}
	for f := range out {
		if !site.Serves(f) {
			t.Errorf("%s is not a file posts knows", f)
		}
	}
}

// A site with neither writes neither's files, and its pages are as they
// were: no extra line in the head.
func TestNoMathNoDiagramFiles(t *testing.T) {
	files := map[string]string{}
	for k, v := range extrasFiles {
		files[k] = v
	}
	files["posts/2026-01-02-diagram.md"] = "---\ntitle: Diagram\n---\n```go\nx := 1\n```\n"
	files["pages/about.md"] = "---\ntitle: About\n---\nAbout.\n"
	files["posts/2026-01-01-math.md"] = "---\ntitle: Math\n---\nEnergy $E = mc^2$.\n"
	_, out := loadRender(t, files, Options{})
	for p := range out {
		if strings.HasPrefix(p, texmath.Dir) || strings.HasPrefix(p, diagrams.Dir) {
			t.Errorf("%s written for a site without math or diagrams", p)
		}
	}
	page := string(out["posts/math/index.html"])
	if strings.Contains(page, "<script") || strings.Contains(page, "<math") || strings.Count(page, `<link rel="stylesheet"`) != 1 {
		t.Errorf("a page without math or diagrams has more in its head:\n%s", page)
	}
}

// A section's text (its _index.md) may have math and diagrams too.
func TestSectionMathAndDiagram(t *testing.T) {
	_, out := loadRender(t, map[string]string{
		"publish.yaml":                  "title: Extras\nmath: true\n",
		"posts/notes/_index.md":         "+++\ntitle = \"Notes\"\n+++\nThe notes: $x^2$.\n\n```mermaid\ngraph LR\n a --> b\n```\n",
		"posts/notes/2026-01-01-one.md": "---\ntitle: One\n---\nText.\n",
	}, Options{})
	page := string(out["posts/notes/index.html"])
	if !strings.Contains(page, "<math") || !strings.Contains(page, texmath.StylesheetPath) || !strings.Contains(page, diagrams.ScriptPath) {
		t.Errorf("section page:\n%s", page)
	}
	if _, ok := out[diagrams.ScriptPath]; !ok {
		t.Error("no diagram script written")
	}
	if one := string(out["posts/one/index.html"]); strings.Contains(one, "<script") || strings.Contains(one, texmath.Dir) {
		t.Errorf("a post of the section without either loads them:\n%s", one)
	}
}

// A draft with a diagram that the render hides writes no diagram files.
func TestHiddenDiagramWritesNothing(t *testing.T) {
	files := map[string]string{
		"publish.yaml":              "title: Extras\n",
		"posts/2026-01-02-draft.md": "---\ntitle: Draft\ndraft: true\nmath: true\n---\n$x$\n\n```mermaid\ngraph LR\n a --> b\n```\n",
		"posts/2026-01-01-other.md": "---\ntitle: Other\n---\nText.\n",
	}
	_, out := loadRender(t, files, Options{})
	for p := range out {
		if strings.HasPrefix(p, "assets/") && p != "assets/style.css" && p != "assets/favicon.svg" {
			t.Errorf("%s written for a hidden draft", p)
		}
	}
	_, out = loadRender(t, files, Options{Drafts: true})
	if _, ok := out[diagrams.ScriptPath]; !ok {
		t.Error("no diagram script when the draft is shown")
	}
}
