package templates

import (
	"bytes"
	"encoding/xml"
	"testing"
)

// appendXMLText must escape as encoding/xml does: xml.EscapeText is its
// oracle, and a raw atomRawText must marshal as the atomText it stands
// for.
func checkXMLText(t *testing.T, s string) {
	t.Helper()
	var want bytes.Buffer
	if err := xml.EscapeText(&want, []byte(s)); err != nil {
		t.Fatal(err)
	}
	if got := appendXMLText(nil, s); !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("appendXMLText(%q) = %q, encoding/xml gives %q", s, got, want.Bytes())
	}
	type wrap struct {
		XMLName xml.Name `xml:"entry"`
		Content any      `xml:"content"`
		Desc    any      `xml:"description"`
	}
	marshal := func(v wrap) []byte {
		var buf bytes.Buffer
		enc := xml.NewEncoder(&buf)
		enc.Indent("", "  ")
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	want2 := marshal(wrap{Content: atomText{Type: "html", Body: s}, Desc: s})
	esc := string(appendXMLText(nil, s))
	if got := marshal(wrap{Content: atomRawText{Type: "html", Escaped: esc}, Desc: xmlText{esc}}); !bytes.Equal(got, want2) {
		t.Fatalf("raw text of %q marshals as\n%s\nthe text as\n%s", s, got, want2)
	}
}

func TestAppendXMLText(t *testing.T) {
	for _, s := range []string{"", "plain", `<p class="x">Tom & Jerry's</p>`, "a\tb\nc\rd", "\x00\x01\x1f\x7f",
		"caf\xc3\xa9 \xff \xc3", "\uFFFD \uFFFE \uFFFF \U0001F600 \ud7ff \ue000", "]]>", "\u2028"} {
		checkXMLText(t, s)
	}
}

func FuzzAppendXMLText(f *testing.F) {
	f.Add(`<p class="x">Tom & Jerry's</p>` + "\n\t\r\x00\xff\uFFFE")
	f.Fuzz(checkXMLText)
}
