// Package imagerytest makes images for tests: photos with EXIF orientation
// and GPS data, PNGs with text chunks, headers of huge images.
package imagerytest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"testing"
)

// Photo is a w×h image with a red top-left quarter, a blue bottom-right
// one and noise elsewhere, so that orientation and resizing can be seen.
func Photo(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
			switch {
			case x < w/2 && y < h/2:
				c = color.RGBA{220, 20, 20, 255}
			case x >= w/2 && y >= h/2:
				c = color.RGBA{20, 20, 220, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// JPEG encodes img at quality 90.
func JPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// PNG encodes img.
func PNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// EXIF is TIFF-structured EXIF data as a camera writes it: IFD0 with
// make, model and orientation, and (when gps) a GPS IFD with a latitude
// and longitude.
func EXIF(orientation int, gps bool) []byte {
	bo := binary.BigEndian
	var b []byte
	b = append(b, 'M', 'M', 0, 42, 0, 0, 0, 8)
	type entry struct {
		tag, typ uint16
		count    uint32
		value    []byte // inline (≤4 bytes) or placed after the IFD
	}
	makeStr := []byte("PhoneCam\x00")
	model := []byte("SecretModel 9\x00")
	entries := []entry{
		{0x010F, 2, uint32(len(makeStr)), makeStr},
		{0x0110, 2, uint32(len(model)), model},
		{0x0112, 3, 1, []byte{0, byte(orientation), 0, 0}},
	}
	if gps {
		entries = append(entries, entry{0x8825, 4, 1, nil}) // offset filled below
	}
	ifdSize := 2 + 12*len(entries) + 4
	extra := 8 + ifdSize
	var tail []byte
	gpsAt := 0
	b = binary.BigEndian.AppendUint16(b, uint16(len(entries)))
	for _, e := range entries {
		b = bo.AppendUint16(b, e.tag)
		b = bo.AppendUint16(b, e.typ)
		b = bo.AppendUint32(b, e.count)
		switch {
		case e.tag == 0x8825:
			gpsAt = len(b)
			b = append(b, 0, 0, 0, 0)
		case len(e.value) <= 4:
			v := make([]byte, 4)
			copy(v, e.value)
			b = append(b, v...)
		default:
			b = bo.AppendUint32(b, uint32(extra+len(tail)))
			tail = append(tail, e.value...)
		}
	}
	b = append(b, 0, 0, 0, 0)
	b = append(b, tail...)
	if gps {
		bo.PutUint32(b[gpsAt:], uint32(len(b)))
		rational := func(n ...uint32) []byte {
			var r []byte
			for _, x := range n {
				r = bo.AppendUint32(r, x)
				r = bo.AppendUint32(r, 1)
			}
			return r
		}
		lat, long := rational(52, 31, 12), rational(13, 24, 36)
		ifd := len(b)
		dataAt := ifd + 2 + 12*2 + 4
		b = bo.AppendUint16(b, 2)
		b = append(b, 0, 0x02, 0, 5, 0, 0, 0, 3)
		b = bo.AppendUint32(b, uint32(dataAt))
		b = append(b, 0, 0x04, 0, 5, 0, 0, 0, 3)
		b = bo.AppendUint32(b, uint32(dataAt+len(lat)))
		b = append(b, 0, 0, 0, 0)
		b = append(b, lat...)
		b = append(b, long...)
	}
	return b
}

// WithEXIF puts an APP1 EXIF segment, an XMP one and a comment after the
// SOI of a JPEG, as cameras and editors do, and a trailer after EOI.
func WithEXIF(jpg, tiff []byte) []byte {
	seg := func(marker byte, payload []byte) []byte {
		n := len(payload) + 2
		return append([]byte{0xFF, marker, byte(n >> 8), byte(n)}, payload...)
	}
	var out []byte
	out = append(out, jpg[:2]...)
	out = append(out, seg(0xE1, append(append([]byte{}, []byte("Exif\x00\x00")...), tiff...))...)
	out = append(out, seg(0xE1, append(append([]byte{}, []byte("http://ns.adobe.com/xap/1.0/\x00")...), []byte(`<x:xmpmeta><rdf:Description exif:GPSLatitude="52,31N"/></x:xmpmeta>`)...))...)
	out = append(out, seg(0xFE, []byte("shot by Alice at home"))...)
	out = append(out, jpg[2:]...)
	return append(out, []byte("TRAILER-with-more-metadata")...)
}

// WithPNGText adds text, time and EXIF chunks after IHDR.
func WithPNGText(p []byte, tiff []byte) []byte {
	chunk := func(typ string, body []byte) []byte {
		var c []byte
		c = binary.BigEndian.AppendUint32(c, uint32(len(body)))
		c = append(c, typ...)
		c = append(c, body...)
		return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
	}
	at := 8 + 25
	var out []byte
	out = append(out, p[:at]...)
	out = append(out, chunk("tEXt", []byte("Author\x00Alice Secret"))...)
	out = append(out, chunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00<x exif:GPSLatitude='1'/>"))...)
	out = append(out, chunk("zTXt", []byte("Comment\x00\x00x\x9c\x03\x00\x00\x00\x00\x01"))...)
	out = append(out, chunk("tIME", []byte{7, 234, 5, 1, 12, 0, 0})...)
	if tiff != nil {
		out = append(out, chunk("eXIf", tiff)...)
	}
	out = append(out, p[at:]...)
	return out
}

// PNGHeader is a PNG whose IHDR claims w×h, followed by an IDAT of pad
// bytes of noise and IEND: DecodeConfig reads it, decoding would not.
func PNGHeader(w, h uint32, pad int) []byte {
	chunk := func(typ string, body []byte) []byte {
		var c []byte
		c = binary.BigEndian.AppendUint32(c, uint32(len(body)))
		c = append(c, typ...)
		c = append(c, body...)
		return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, chunk("IHDR", ihdr)...)
	idat := make([]byte, pad)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range idat {
		idat[i] = byte(rng.IntN(256))
	}
	out = append(out, chunk("IDAT", idat)...)
	return append(out, chunk("IEND", nil)...)
}

// GIF is a w×h two-colour GIF.
func GIF(t testing.TB, w, h int) []byte {
	t.Helper()
	p := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.Black, color.White})
	for i := range p.Pix {
		p.Pix[i] = uint8(i % 2)
	}
	var buf bytes.Buffer
	if err := gif.Encode(&buf, p, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
