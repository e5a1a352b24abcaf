package imagery

import "encoding/binary"

// TIFF tags read from EXIF data.
const (
	tagOrientation = 0x0112
	tagGPSIFD      = 0x8825
	tagGPSLat      = 0x0002
	tagGPSLong     = 0x0004
)

// maxIFDEntries bounds the entries read from one IFD: real files have a few
// dozen; a hostile count cannot make the walk long.
const maxIFDEntries = 1024

// exifInfo is what publishbot needs from EXIF data: how to turn the
// stored pixels to show them upright, and whether it holds a location.
type exifInfo struct {
	orientation int  // 1..8 as in the TIFF/EXIF standard; 1 when absent or not valid
	gps         bool // a GPS IFD with a latitude or longitude
}

// parseTIFF reads the orientation and GPS presence from TIFF-structured
// EXIF data (the payload of a JPEG APP1 "Exif\0\0" segment after its
// header, or a PNG eXIf chunk). It never fails: data it cannot read gives
// orientation 1 and no location.
func parseTIFF(b []byte) exifInfo {
	info := exifInfo{orientation: 1}
	if len(b) < 8 {
		return info
	}
	var bo binary.ByteOrder
	switch string(b[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return info
	}
	if bo.Uint16(b[2:4]) != 42 {
		return info
	}
	ifd0 := bo.Uint32(b[4:8])
	var gpsOff uint32
	hasGPS := false
	walkIFD(b, bo, ifd0, func(tag, typ uint16, count uint32, value []byte) {
		switch tag {
		case tagOrientation:
			if typ == 3 && count >= 1 { // SHORT
				if o := int(bo.Uint16(value[:2])); o >= 1 && o <= 8 {
					info.orientation = o
				}
			}
		case tagGPSIFD:
			if (typ == 4 || typ == 13) && count >= 1 { // LONG or IFD
				gpsOff, hasGPS = bo.Uint32(value[:4]), true
			}
		}
	})
	if hasGPS && gpsOff != ifd0 {
		walkIFD(b, bo, gpsOff, func(tag, _ uint16, _ uint32, _ []byte) {
			if tag == tagGPSLat || tag == tagGPSLong {
				info.gps = true
			}
		})
	}
	return info
}

// walkIFD calls fn for each entry of the IFD at off in b, with the 4 bytes
// of its value field (the value itself when it fits, else its offset).
// Entries past the end of b are not visited.
func walkIFD(b []byte, bo binary.ByteOrder, off uint32, fn func(tag, typ uint16, count uint32, value []byte)) {
	if uint64(off)+2 > uint64(len(b)) {
		return
	}
	n := int(bo.Uint16(b[off:]))
	n = min(n, maxIFDEntries)
	p := int(off) + 2
	for i := 0; i < n; i++ {
		e := p + 12*i
		if e+12 > len(b) {
			return
		}
		fn(bo.Uint16(b[e:]), bo.Uint16(b[e+2:]), bo.Uint32(b[e+4:]), b[e+8:e+12])
	}
}

// orientationTIFF is the smallest TIFF structure that keeps only the
// orientation o: one IFD with one entry. It replaces the whole EXIF block
// of a published original whose pixels are stored turned, so that browsers
// still show it upright once the rest of the metadata is gone.
func orientationTIFF(o int) []byte {
	b := []byte{'M', 'M', 0, 42, 0, 0, 0, 8, // header, IFD0 at 8
		0, 1, // one entry
		0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, byte(o), 0, 0, // orientation, SHORT, 1, value
		0, 0, 0, 0} // no next IFD
	return b
}
