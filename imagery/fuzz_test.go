package imagery

import (
	"bytes"
	"testing"

	it "github.com/publishbot/publishbot/imagery/imagerytest"
)

// The strippers and the EXIF reader parse files from content repositories:
// whatever the bytes, they must not panic, and what they let through must
// be clean (stripping it again changes nothing).

func FuzzStripJPEG(f *testing.F) {
	small := it.JPEG(f, it.Photo(16, 8))
	f.Add(small)
	f.Add(it.WithEXIF(small, it.EXIF(6, true)))
	f.Add(it.WithEXIF(small, it.EXIF(3, false))[:60])
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9})
	f.Fuzz(func(t *testing.T, data []byte) {
		out, _, err := StripJPEG(data)
		if err != nil {
			return
		}
		segs, _, err := jpegHeader(out)
		if err != nil {
			t.Fatalf("stripped output is not walkable: %v", err)
		}
		m := jpegMeta(segs, out)
		if m.gps {
			t.Fatal("stripped output still has a location")
		}
		for _, s := range segs {
			if s.marker == mAPP1 && !bytes.Equal(s.payload, append(append([]byte{}, exifHeader...), orientationTIFF(m.orientation)...)) {
				t.Fatalf("stripped output keeps an APP1 segment other than the orientation: %q", s.payload)
			}
		}
		again, _, err := StripJPEG(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("stripping twice changes the output (err %v)", err)
		}
	})
}

func FuzzStripPNG(f *testing.F) {
	small := it.PNG(f, it.Photo(8, 8))
	f.Add(small)
	f.Add(it.WithPNGText(small, it.EXIF(6, true)))
	f.Add(it.PNGHeader(1<<20, 1<<20, 4))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, _, err := StripPNG(data)
		if err != nil {
			return
		}
		cs, err := pngChunks(out)
		if err != nil {
			t.Fatalf("stripped output is not walkable: %v", err)
		}
		for _, c := range cs {
			if droppedPNGChunks[c.typ] && c.typ != "eXIf" {
				t.Fatalf("stripped output keeps a %s chunk", c.typ)
			}
		}
		if pngMeta(cs, out).gps {
			t.Fatal("stripped output still has a location")
		}
		again, _, err := StripPNG(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("stripping twice changes the output (err %v)", err)
		}
	})
}

func FuzzParseTIFF(f *testing.F) {
	f.Add(it.EXIF(6, true))
	f.Add(it.EXIF(1, false))
	f.Add(orientationTIFF(8))
	f.Fuzz(func(t *testing.T, data []byte) {
		info := parseTIFF(data)
		if info.orientation < 1 || info.orientation > 8 {
			t.Fatalf("orientation %d", info.orientation)
		}
	})
}

// FuzzDecodeResult: no bytes read back from an image cache make the entry
// decoder panic, and what decodes encodes back to what decodes the same.
func FuzzDecodeResult(f *testing.F) {
	input := []byte("input bytes")
	for _, r := range []*Result{
		{Format: "png", Width: 3, Height: 2, Data: input},
		{Format: "jpeg", Width: 3, Height: 2, Data: []byte("clean"), Location: true,
			Variants: []Variant{{Width: 1, Height: 1, Data: []byte("a"), WebP: []byte("w")}, {Width: 3, Height: 2}}},
		{Problem: ProblemBomb},
	} {
		b, _ := encodeResult(r, input)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeResult(b, input)
		if err != nil {
			return
		}
		enc, err := encodeResult(r, input)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeResult(enc, input); err != nil {
			t.Fatalf("a decoded entry does not decode again: %v", err)
		}
	})
}

// FuzzDecodeRecord: no bytes read back from an image cache make the record
// or catalog decoders panic, and what decodes encodes back to the same.
func FuzzDecodeRecord(f *testing.F) {
	input := []byte("input bytes")
	for _, r := range []*Result{
		{Format: "png", Width: 3, Height: 2, Data: input},
		{Format: "jpeg", Width: 3, Height: 2, Data: []byte("clean"), Location: true,
			Variants: []Variant{{Width: 1, Height: 1, Data: []byte("a"), WebP: []byte("w")}, {Width: 3, Height: 2, Data: []byte("clean")}}},
		{Problem: ProblemBomb},
	} {
		img := imageOf(r, input)
		img.key = "k"
		rec := encodeRecord(img)
		f.Add(rec)
		f.Add(encodeCatalog(map[string]catEntry{"k": {rec: rec, day: 20000}}))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if img, err := decodeRecord(b, "k"); err == nil {
			img.key = "k"
			if !bytes.Equal(encodeRecord(img), b) {
				t.Fatal("a decoded record encodes to other bytes")
			}
		}
		if cat, err := decodeCatalog(b); err == nil {
			if _, err := decodeCatalog(encodeCatalog(cat)); err != nil {
				t.Fatalf("a decoded catalog does not decode again: %v", err)
			}
		}
	})
}
