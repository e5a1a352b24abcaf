package imagery

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// JPEG markers this file acts on.
const (
	mSOI   = 0xD8
	mEOI   = 0xD9
	mSOS   = 0xDA
	mAPP0  = 0xE0
	mAPP1  = 0xE1
	mAPP2  = 0xE2
	mAPP14 = 0xEE
	mCOM   = 0xFE
)

var (
	exifHeader = []byte("Exif\x00\x00")
	xmpHeader  = []byte("http://ns.adobe.com/xap/1.0/\x00")
	iccHeader  = []byte("ICC_PROFILE\x00")
	pngSig     = []byte("\x89PNG\r\n\x1a\n")
	gpsXMP     = []byte("GPSLatitude")
)

var errMalformed = errors.New("malformed image structure")

// meta is what an image's metadata says that publishbot acts on.
type meta struct {
	exifInfo
	color [][]byte // colour segments (JPEG APP2 ICC) or chunks (PNG iCCP, sRGB, gAMA, cHRM), whole, to copy into variants
}

// jpegSegment is one marker segment before the first scan: data[start:end]
// is the whole segment, marker included; payload follows the length.
type jpegSegment struct {
	marker     byte
	start, end int
	payload    []byte
}

// jpegHeader splits a JPEG into its segments before the first scan (SOS)
// and returns the offset of the SOS marker.
func jpegHeader(data []byte) ([]jpegSegment, int, error) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != mSOI {
		return nil, 0, errMalformed
	}
	var segs []jpegSegment
	p := 2
	for {
		if p+1 >= len(data) || data[p] != 0xFF {
			return nil, 0, errMalformed
		}
		for p+1 < len(data) && data[p+1] == 0xFF { // fill bytes
			p++
		}
		if p+1 >= len(data) {
			return nil, 0, errMalformed
		}
		m := data[p+1]
		switch {
		case m == mSOS:
			return segs, p, nil
		case m == mEOI:
			return nil, 0, errMalformed
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7): // no length
			segs = append(segs, jpegSegment{marker: m, start: p, end: p + 2})
			p += 2
			continue
		}
		if p+4 > len(data) {
			return nil, 0, errMalformed
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if n < 2 || p+2+n > len(data) {
			return nil, 0, errMalformed
		}
		segs = append(segs, jpegSegment{marker: m, start: p, end: p + 2 + n, payload: data[p+4 : p+2+n]})
		p += 2 + n
	}
}

// jpegEnd is the offset just past the EOI marker that ends the image data
// starting at the SOS marker at sos, or len(data) when there is none (a
// truncated file is kept as far as it goes). Data after EOI (other
// images, makers' trailers, which carry their own metadata) is not part of
// the image.
func jpegEnd(data []byte, sos int) int {
	i := sos
	for i+1 < len(data) {
		if data[i] != 0xFF {
			i++
			continue
		}
		m := data[i+1]
		switch {
		case m == 0x00 || m == 0xFF:
			i++
		case m >= 0xD0 && m <= 0xD7:
			i += 2
		case m == mEOI:
			return i + 2
		default: // a marker segment between scans (SOS, DHT, DQT, DRI...)
			if i+4 > len(data) {
				return len(data)
			}
			i += 2 + int(binary.BigEndian.Uint16(data[i+2:]))
		}
	}
	return len(data)
}

// jpegMeta reads a JPEG's metadata from its header segments.
func jpegMeta(segs []jpegSegment, data []byte) meta {
	m := meta{exifInfo: exifInfo{orientation: 1}}
	for _, s := range segs {
		switch {
		case s.marker == mAPP1 && bytes.HasPrefix(s.payload, exifHeader):
			info := parseTIFF(s.payload[len(exifHeader):])
			m.orientation, m.gps = info.orientation, m.gps || info.gps
		case s.marker == mAPP1 && bytes.HasPrefix(s.payload, xmpHeader):
			m.gps = m.gps || bytes.Contains(s.payload, gpsXMP)
		case s.marker == mAPP2 && bytes.HasPrefix(s.payload, iccHeader):
			m.color = append(m.color, data[s.start:s.end])
		}
	}
	return m
}

// keepJPEGSegment says whether a header segment stays in a published
// original: everything the decoder needs (tables, frame, restart
// interval), JFIF (APP0), Adobe's colour transform (APP14) and ICC
// profiles (APP2 ICC_PROFILE); not EXIF or XMP (APP1), IPTC (APP13),
// other application segments or comments.
func keepJPEGSegment(s jpegSegment) bool {
	switch {
	case s.marker == mAPP0 || s.marker == mAPP14:
		return true
	case s.marker == mAPP2:
		return bytes.HasPrefix(s.payload, iccHeader)
	case s.marker >= mAPP0 && s.marker <= 0xEF, s.marker == mCOM:
		return false
	}
	return true
}

// StripJPEG returns a JPEG without its metadata, the image data copied
// byte for byte (no re-encoding): EXIF, XMP, IPTC, other application
// segments, comments and anything after the end of the image are dropped;
// JFIF, Adobe and ICC profile segments are kept. An orientation other than
// 1 is kept in a minimal EXIF segment of its own, so the image still shows
// upright. It also says whether the metadata held a GPS location. The
// error is for data that is not a JPEG it can walk. Safe for concurrent use.
func StripJPEG(data []byte) (out []byte, gps bool, err error) {
	segs, sos, err := jpegHeader(data)
	if err != nil {
		return nil, false, err
	}
	m := jpegMeta(segs, data)
	end := jpegEnd(data, sos)
	out = make([]byte, 0, 2+end-sos+64)
	out = append(out, 0xFF, mSOI)
	wroteOrientation := m.orientation == 1
	for i, s := range segs {
		if !wroteOrientation && (s.marker != mAPP0 || i > 0) {
			out = appendJPEGOrientation(out, m.orientation)
			wroteOrientation = true
		}
		if keepJPEGSegment(s) {
			out = append(out, data[s.start:s.end]...)
		}
	}
	if !wroteOrientation {
		out = appendJPEGOrientation(out, m.orientation)
	}
	out = append(out, data[sos:end]...)
	return out, m.gps, nil
}

func appendJPEGOrientation(out []byte, o int) []byte {
	tiff := orientationTIFF(o)
	n := 2 + len(exifHeader) + len(tiff)
	out = append(out, 0xFF, mAPP1, byte(n>>8), byte(n))
	out = append(out, exifHeader...)
	return append(out, tiff...)
}

// withJPEGColor inserts colour segments (ICC profiles) right after the SOI
// of an encoded JPEG.
func withJPEGColor(enc []byte, color [][]byte) []byte {
	if len(color) == 0 || len(enc) < 2 {
		return enc
	}
	out := make([]byte, 0, len(enc)+len(color)*600)
	out = append(out, enc[:2]...)
	for _, c := range color {
		out = append(out, c...)
	}
	return append(out, enc[2:]...)
}

// pngChunk is one chunk: data[start:end] is the whole chunk, length and
// CRC included.
type pngChunk struct {
	typ        string
	start, end int
	body       []byte
}

// pngChunks splits a PNG into its chunks up to and including IEND; data
// after IEND is not part of the image.
func pngChunks(data []byte) ([]pngChunk, error) {
	if !bytes.HasPrefix(data, pngSig) {
		return nil, errMalformed
	}
	var cs []pngChunk
	p := len(pngSig)
	for p+12 <= len(data) {
		n := binary.BigEndian.Uint32(data[p:])
		if uint64(n) > uint64(len(data)-p-12) {
			return nil, errMalformed
		}
		end := p + 12 + int(n)
		c := pngChunk{typ: string(data[p+4 : p+8]), start: p, end: end, body: data[p+8 : p+8+int(n)]}
		cs = append(cs, c)
		p = end
		if c.typ == "IEND" {
			return cs, nil
		}
	}
	return nil, errMalformed
}

// pngMeta reads a PNG's metadata from its chunks.
func pngMeta(cs []pngChunk, data []byte) meta {
	m := meta{exifInfo: exifInfo{orientation: 1}}
	for _, c := range cs {
		switch c.typ {
		case "eXIf":
			info := parseTIFF(c.body)
			m.orientation, m.gps = info.orientation, m.gps || info.gps
		case "iTXt", "tEXt":
			m.gps = m.gps || bytes.Contains(c.body, gpsXMP)
		case "iCCP", "sRGB", "gAMA", "cHRM":
			m.color = append(m.color, data[c.start:c.end])
		}
	}
	return m
}

// droppedPNGChunks are the metadata chunks a published PNG loses: text
// (which holds XMP, camera and software notes), EXIF and the time stamp.
var droppedPNGChunks = map[string]bool{"tEXt": true, "iTXt": true, "zTXt": true, "eXIf": true, "tIME": true}

// StripPNG returns a PNG without its metadata chunks (tEXt, iTXt, zTXt,
// eXIf, tIME) and without anything after IEND, the other chunks copied
// byte for byte. An EXIF orientation other than 1 is kept in a minimal
// eXIf chunk. It also says whether the metadata held a GPS location. The
// error is for data that is not a PNG it can walk. Safe for concurrent use.
func StripPNG(data []byte) (out []byte, gps bool, err error) {
	cs, err := pngChunks(data)
	if err != nil {
		return nil, false, err
	}
	m := pngMeta(cs, data)
	out = make([]byte, 0, len(data))
	out = append(out, pngSig...)
	for _, c := range cs {
		if c.typ == "eXIf" && m.orientation != 1 {
			out = appendPNGChunk(out, "eXIf", orientationTIFF(m.orientation))
			m.orientation = 1 // once
		}
		if !droppedPNGChunks[c.typ] {
			out = append(out, data[c.start:c.end]...)
		}
	}
	return out, m.gps, nil
}

func appendPNGChunk(out []byte, typ string, body []byte) []byte {
	out = binary.BigEndian.AppendUint32(out, uint32(len(body)))
	start := len(out)
	out = append(out, typ...)
	out = append(out, body...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[start:]))
}

// withPNGColor inserts colour chunks right after the IHDR chunk of an
// encoded PNG.
func withPNGColor(enc []byte, color [][]byte) []byte {
	if len(color) == 0 {
		return enc
	}
	ihdrEnd := len(pngSig) + 12 + 13
	if len(enc) < ihdrEnd {
		return enc
	}
	out := make([]byte, 0, len(enc)+1024)
	out = append(out, enc[:ihdrEnd]...)
	for _, c := range color {
		out = append(out, c...)
	}
	return append(out, enc[ihdrEnd:]...)
}
