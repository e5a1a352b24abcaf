package imagery

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// encodeResult writes r as an entry of the earlier format (PBI2), which
// the cache still reads (decodeResult).
func encodeResult(r *Result, input []byte) ([]byte, error) {
	c := cachedResult{R: *r}
	if r.Data != nil && bytes.Equal(r.Data, input) {
		c.R.Data, c.SameData = nil, true
	}
	size := len(c.R.Data) + 64
	for _, v := range c.R.Variants {
		size += len(v.Data) + len(v.WebP) + 32
	}
	b := make([]byte, 0, size)
	b = append(b, resultMagic...)
	b = append(b, 0, 0, 0, 0) // the checksum, below
	str := func(x []byte, present bool) {
		if !present {
			b = append(b, 0)
			return
		}
		b = binary.AppendUvarint(b, uint64(len(x))+1)
		b = append(b, x...)
	}
	num := func(n int) { b = binary.AppendUvarint(b, uint64(n)) }
	flag := func(v bool) {
		if v {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	str([]byte(c.R.Format), true)
	num(c.R.Width)
	num(c.R.Height)
	str(c.R.Data, c.R.Data != nil)
	num(len(c.R.Variants))
	for i, v := range c.R.Variants {
		num(v.Width)
		num(v.Height)
		last := i == len(c.R.Variants)-1
		str(v.Data, v.Data != nil && !last) // the last one's is Data
		str(v.WebP, v.WebP != nil)
	}
	flag(c.R.Location)
	num(int(c.R.Problem))
	flag(c.SameData)
	binary.BigEndian.PutUint32(b[len(resultMagic):], crc32.Checksum(b[len(resultMagic)+4:], castagnoli))
	return b, nil
}
