package posts

import (
	"encoding/binary"
	"errors"
	"unsafe"
)

// The RenderCache value format: a version byte, then every field of
// cachedRender in order, strings and counts as uvarints. Faster than gob
// for the megabytes of HTML a build reads back, and a value that does not
// decode whole is a miss.

const codecVersion = 6

var errCodec = errors.New("cached render does not decode")

type encoder struct{ b []byte }

func (e *encoder) str(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}
func (e *encoder) int(n int) { e.b = binary.AppendVarint(e.b, int64(n)) }
func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func encodeRender(c *cachedRender) []byte {
	e := &encoder{b: make([]byte, 0, len(c.TOC)+len(c.Summary)+256)}
	e.b = append(e.b, codecVersion)
	e.int(len(c.Reads))
	for _, r := range c.Reads {
		e.str(r.Kind)
		e.str(r.Arg)
		e.str(r.Answer)
	}
	e.b = append(e.b, c.HTMLSum[:]...)
	e.b = append(e.b, c.TextSum[:]...)
	e.int(len(c.Images))
	for _, src := range c.Images {
		e.str(src)
	}
	e.str(c.TOC)
	e.str(c.Summary)
	e.str(c.Image)
	e.int(c.Words)
	e.int(c.ReadingTime)
	e.bool(c.Math)
	e.bool(c.Diagrams)
	e.int(len(c.Diags))
	for _, d := range c.Diags {
		e.str(d.File)
		e.int(d.Line)
		e.int(d.Column)
		e.str(string(d.Severity))
		e.str(d.Code)
		e.str(d.Message)
	}
	e.int(len(c.Linked))
	for _, l := range c.Linked {
		e.str(l.Source)
		e.str(l.Target)
		e.str(l.Dest)
		e.int(l.Line)
		e.int(l.Col)
		e.bool(l.Image)
	}
	e.int(len(c.Checks))
	for _, k := range c.Checks {
		e.str(k.Site)
		e.str(k.Dest)
		e.str(k.From)
		e.str(k.Redirect)
		e.int(k.Line)
		e.int(k.Col)
		e.bool(k.Image)
		e.bool(k.Cover)
	}
	return e.b
}

type decoder struct {
	b   []byte
	err error
	// share makes strings share b's bytes instead of copying them: b must
	// never change afterwards (RenderCache's contract for Get's value).
	share bool
}

func (d *decoder) str() string {
	n, k := binary.Uvarint(d.b)
	if k <= 0 || n > uint64(len(d.b)-k) {
		d.err, d.b = errCodec, nil
		return ""
	}
	var s string
	if d.share && n > 0 {
		s = unsafe.String(&d.b[k], int(n))
	} else {
		s = string(d.b[k : k+int(n)])
	}
	d.b = d.b[k+int(n):]
	return s
}

func (d *decoder) sum() (s [32]byte) {
	if len(d.b) < len(s) {
		d.err, d.b = errCodec, nil
		return s
	}
	copy(s[:], d.b)
	d.b = d.b[len(s):]
	return s
}

func (d *decoder) int() int {
	n, k := binary.Varint(d.b)
	if k <= 0 {
		d.err, d.b = errCodec, nil
		return 0
	}
	d.b = d.b[k:]
	return int(n)
}

// count is a length of a list: never more than the bytes left can hold.
func (d *decoder) count() int {
	n := d.int()
	if n < 0 || n > len(d.b) {
		d.err, d.b = errCodec, nil
		return 0
	}
	return n
}

func (d *decoder) bool() bool {
	if len(d.b) == 0 {
		d.err = errCodec
		return false
	}
	v := d.b[0] == 1
	d.b = d.b[1:]
	return v
}

func decodeRender(b []byte) (*cachedRender, error) {
	if len(b) == 0 || b[0] != codecVersion {
		return nil, errCodec
	}
	d := &decoder{b: b[1:], share: true}
	c := &cachedRender{}
	if n := d.count(); n > 0 {
		c.Reads = make([]cachedRead, n)
		for i := range c.Reads {
			c.Reads[i] = cachedRead{Kind: d.str(), Arg: d.str(), Answer: d.str()}
		}
	}
	c.HTMLSum, c.TextSum = d.sum(), d.sum()
	if n := d.count(); n > 0 {
		c.Images = make([]string, n)
		for i := range c.Images {
			c.Images[i] = d.str()
		}
	}
	c.TOC, c.Summary, c.Image = d.str(), d.str(), d.str()
	c.Words, c.ReadingTime = d.int(), d.int()
	c.Math, c.Diagrams = d.bool(), d.bool()
	if n := d.count(); n > 0 {
		c.Diags = make([]Diagnostic, n)
		for i := range c.Diags {
			c.Diags[i] = Diagnostic{File: d.str(), Line: d.int(), Column: d.int(), Severity: Severity(d.str()), Code: d.str(), Message: d.str()}
		}
	}
	if n := d.count(); n > 0 {
		c.Linked = make([]cachedLinked, n)
		for i := range c.Linked {
			c.Linked[i] = cachedLinked{Source: d.str(), Target: d.str(), Dest: d.str(), Line: d.int(), Col: d.int(), Image: d.bool()}
		}
	}
	if n := d.count(); n > 0 {
		c.Checks = make([]cachedCheck, n)
		for i := range c.Checks {
			c.Checks[i] = cachedCheck{Site: d.str(), Dest: d.str(), From: d.str(), Redirect: d.str(), Line: d.int(), Col: d.int(), Image: d.bool(), Cover: d.bool()}
		}
	}
	if d.err != nil || len(d.b) != 0 {
		return nil, errCodec
	}
	return c, nil
}
