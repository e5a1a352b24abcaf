// Package diagrams owns the vendored Mermaid (mermaid/SOURCE.md: a pinned
// npm release) that draws ```mermaid blocks in the reader's browser: the
// files a site with diagrams gets, from its own origin, and the small
// script that starts Mermaid with securityLevel "strict". posts renders a
// diagram block as <pre class="mermaid"> with its source escaped; the
// theme links these scripts only on pages that have one.
package diagrams

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// Version is the vendored Mermaid release.
const Version = "12.3.0"

// bundleSHA256 is the SHA-256 of dist/mermaid.min.js in the npm package
// mermaid@Version, the file mermaid/mermaid.min.js.gz holds.
const bundleSHA256 = "336df803d87a38b70a01e736e666c8f7601d2ce42f5e47c8fafe5d721074b9a3"

// The site-relative paths of the files, in a folder named by the version
// (a new release is a new address: no reader's cache keeps an old one).
const (
	Dir        = "assets/mermaid-" + Version
	ScriptPath = Dir + "/mermaid.min.js"
	InitPath   = Dir + "/init.js"
)

//go:embed mermaid/mermaid.min.js.gz
var bundleGz []byte

//go:embed init.js
var initJS []byte

// Scripts are the site-relative paths of the scripts a page with a
// diagram loads, in order (both deferred: Mermaid, then its start).
func Scripts() []string { return []string{ScriptPath, InitPath} }

// Assets are the files a site with diagrams needs, by site-relative path:
// Mermaid's single-file bundle, unpacked and checked against its recorded
// SHA-256, and the start script. The error means the embedded bundle is
// damaged (a bad build).
func Assets() (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(bundleGz))
	if err != nil {
		return nil, fmt.Errorf("unpack mermaid: %w", err)
	}
	js, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("unpack mermaid: %w", err)
	}
	if sum := sha256.Sum256(js); hex.EncodeToString(sum[:]) != bundleSHA256 {
		return nil, errors.New("unpack mermaid: the embedded bundle does not match its recorded SHA-256")
	}
	return map[string][]byte{ScriptPath: js, InitPath: initJS}, nil
}

// InitScript is the start script, for tests and for its hash in URLs.
func InitScript() []byte { return initJS }
