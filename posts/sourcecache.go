package posts

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"time"
)

// The source cache: what phase 1 makes of a source file's bytes alone —
// the front matter split and parsed into fields with their lines, the
// "no front matter" hint, whether the body has other generators' template
// syntax — kept in the RenderCache under the file's content, so that a
// build after an edit neither reads nor parses the files that did not
// change. Everything that also depends on the path, the configuration or
// the time (the fields' meaning, the address, the schedule) is worked out
// again from the cached fields on every build: it is cheap, and a cached
// value can then never be stale for another path, configuration or day.
//
// The content is named without reading it when the file system knows it
// (a git tree: the blob id, see ContentIDs), else by a SHA-256 of the
// bytes (a folder: reading a file is cheap, parsing it is not). A file
// whose bytes are read lazily this way is read only when its render is not
// cached (loadSource).

// ContentIDs is implemented by a file system that names a file's content
// without reading it: gitstore's trees answer with the blob id. Equal ids
// mean equal bytes. Load uses it, when fsys has it, to key its caches.
type ContentIDs interface {
	ContentID(name string) (id string, ok bool)
}

// entryContentID is a directory entry that names its content the way
// ContentIDs does (gitstore's): the walk records it, so that naming a post's
// content later looks nothing up in the tree (20,000 posts ask on every
// build, one at a time through the tree's lock).
type entryContentID interface {
	ContentID() (id string, ok bool)
}

// contentID names the content of the file name: from the walk when its
// entry named it, else from the file system (ContentIDs), else false.
func (t *tree) contentID(name string) (string, bool) {
	if id, ok := t.ids[name]; ok {
		return id, true
	}
	if ids, ok := t.fsys.(ContentIDs); ok {
		return ids.ContentID(name)
	}
	return "", false
}

// sourceVersion changes whenever what a cached source holds, or how it is
// parsed, does (buildcache also keys every value by the publishbot version).
const sourceVersion = "posts-source-1"

// parsedSource is phase 1's work on a file's bytes alone.
type parsedSource struct {
	format    byte   // the front matter's: 0 none, 'y' YAML, 't' TOML
	bodyOff   int    // where the body starts in the file
	hint      string // noFrontMatterHint, when format is 0
	templated bool   // the body has {{ or {% (templated)
	fields    []fmField

	// fail is the problem that stops phase 1 (invalid UTF-8, front matter
	// unclosed or invalid), nil when there is none; failPost says phase 1
	// still makes a Post of the file.
	fail     *posErr
	failPost bool
}

// contentSum names the content of the file name: "git-blob:<id>" when the
// file system knows its id, else "sha256:" and the bytes' hash (reading
// them; b, when not nil, are the bytes already read). It is "" for a file
// that cannot be read. The two kinds never collide.
func (l *loader) contentSum(name string, b []byte) string {
	if id, ok := l.tree.contentID(name); ok {
		return "git-blob:" + id
	}
	if b == nil {
		var err error
		if b, err = fs.ReadFile(l.tree.fsys, name); err != nil {
			return ""
		}
	}
	sum := sha256.Sum256(b)
	return "sha256:" + string(sum[:])
}

// sourceKey is the RenderCache key of the parsed source with content sum.
func sourceKey(sum string) [32]byte {
	return sha256.Sum256([]byte(sourceVersion + "\x00" + sum))
}

// parseSource gives res its source's front matter: from the cache when the
// content is known there (a file of a tree that names contents is then not
// read at all, and res.lazy says so), else by reading and parsing the
// file. It is false, with the problem added to res, when the file cannot be
// read or its front matter not parsed; res.post is then set as phase 1
// always set it.
func (l *loader) parseSource(res *postResult, pre preSource) (*parsedSource, bool) {
	pf := res.file
	use := func(ps *parsedSource) bool {
		if ps.fail == nil || ps.failPost {
			res.post = &Post{Path: pf.path, Bundle: pf.bundle}
		}
		if ps.fail != nil {
			res.add(ps.fail.line, ps.fail.col, ps.fail.code, ps.fail.msg)
			return false
		}
		res.bodyOff, res.syntax = ps.bodyOff, ps.templated
		if res.src != nil {
			res.body = res.src[ps.bodyOff:]
		}
		return true
	}
	cached := func() *parsedSource {
		data, ok := pre.data, pre.found
		if !pre.read {
			data, ok = l.cache.Get(sourceKey(res.sum))
		}
		pre = preSource{} // a file that is read is looked up by its bytes' sum
		if !ok {
			return nil
		}
		ps, err := decodeSource(data)
		if err != nil || (res.src != nil && ps.bodyOff > len(res.src)) {
			return nil
		}
		return ps
	}
	if l.cache != nil {
		if id, ok := l.tree.contentID(pf.path); ok {
			res.sum = "git-blob:" + id
			if ps := cached(); ps != nil {
				res.lazy = ps.fail == nil // read by loadSource if its render is not cached
				return ps, use(ps)
			}
		}
	}
	src, err := fs.ReadFile(l.tree.fsys, pf.path)
	if err != nil {
		res.add(0, 0, CodeUnreadable, fmt.Sprintf("cannot read: %v", err))
		return nil, false
	}
	res.src = src
	res.lines = lineStarts(src)
	if l.cache != nil && res.sum == "" {
		res.sum = l.contentSum(pf.path, src)
		if ps := cached(); ps != nil {
			return ps, use(ps)
		}
	}
	ps := parseBytes(src)
	if l.cache != nil {
		l.cache.Put(sourceKey(res.sum), encodeSource(ps))
	}
	return ps, use(ps)
}

// cacheMany is a RenderCache that reads many values at once
// (buildcache.Cache's GetMany): the small values every post of a build
// reads back (its parsed front matter, its render's facts) come from a few
// reads, not one each (a tenth of a one-post publish of 20,000 posts was
// those reads' system calls). got's value is valid only until got returns.
type cacheMany interface {
	GetMany(keys [][32]byte, got func(i int, value []byte))
}

// preSource is the cached parse of a post file read ahead (readSources):
// read says it was looked up, found whether it was there.
type preSource struct {
	data        []byte
	read, found bool
}

// preSources are the cached parses of a build's post files, by file.
type preSources []preSource

func (ps preSources) of(i int) preSource {
	if ps == nil {
		return preSource{}
	}
	return ps[i]
}

// readSources reads at once the cached parse of every file of files whose
// content the tree names without reading it (a git tree's blob id), when
// the cache reads many values at once; nil when it does not.
func (l *loader) readSources(files []postFile) preSources {
	many, ok := l.cache.(cacheMany)
	if !ok {
		return nil
	}
	pre := make(preSources, len(files))
	keys, at := make([][32]byte, 0, len(files)), make([]int, 0, len(files))
	for i, pf := range files {
		if id, ok := l.tree.contentID(pf.path); ok {
			keys, at = append(keys, sourceKey("git-blob:"+id)), append(at, i)
			pre[i].read = true
		}
	}
	many.GetMany(keys, func(j int, v []byte) {
		// a copy: the parse's strings share it (decodeSource)
		pre[at[j]].data, pre[at[j]].found = bytes.Clone(v), true
	})
	return pre
}

// parseBytes is phase 1's work on a source's bytes alone.
func parseBytes(src []byte) *parsedSource {
	ps := &parsedSource{}
	if line, col, bad := invalidUTF8At(src); bad {
		ps.fail = &posErr{line: line, col: col, code: CodeInvalidUTF8, msg: "the file is not valid UTF-8 text; save it as UTF-8"}
		return ps
	}
	ps.failPost = true // from here on, a problem is one of a post
	fm, ok := splitFrontMatter(src)
	if !ok {
		delim := string(src[bytes.IndexAny(src, "-+"):][:3])
		ps.fail = &posErr{line: 1, col: 1, code: CodeFMUnclosed,
			msg: fmt.Sprintf("front matter opened with %q is never closed; add a line %q after the last field", delim, delim)}
		return ps
	}
	ps.format, ps.bodyOff = fm.format, fm.bodyOffset
	switch fm.format {
	case 'y':
		ps.fields, ps.fail = parseYAMLMapping(fm.text, fm.startLine-1, fm.endLine)
	case 't':
		ps.fields, ps.fail = parseTOMLMapping(fm.text, fm.startLine-1)
	}
	if ps.fail != nil {
		ps.fields = nil
		return ps
	}
	if fm.format == 0 {
		ps.hint = noFrontMatterHint(src)
	}
	ps.templated = templated(src[fm.bodyOffset:])
	return ps
}

// loadSource reads the source of a post whose front matter came from the
// cache, for rendering it. It is false, with the problem added to r, when
// the file cannot be read or is no longer what was cached (a folder
// changed during the build).
func (l *loader) loadSource(r *postResult) bool {
	if !r.lazy {
		return true
	}
	r.lazy = false
	src, err := fs.ReadFile(l.tree.fsys, r.file.path)
	if err == nil && l.contentSum(r.file.path, src) != r.sum {
		err = fmt.Errorf("the file changed while it was being read")
	}
	if err != nil {
		r.add(0, 0, CodeUnreadable, fmt.Sprintf("cannot read: %v", err))
		return false
	}
	r.src, r.lines = src, lineStarts(src)
	if r.bodyOff > len(src) {
		r.add(0, 0, CodeUnreadable, "cannot read: the file changed while it was being read")
		return false
	}
	r.body = src[r.bodyOff:]
	return true
}

// The cached source's format: a version byte, the fields of parsedSource
// in order, each fmField tree depth first; strings and counts as varints
// (the decoder of cachecodec.go).

const sourceCodecVersion = 1

func encodeSource(ps *parsedSource) []byte {
	e := &encoder{b: make([]byte, 0, 256)}
	e.b = append(e.b, sourceCodecVersion, ps.format)
	e.int(ps.bodyOff)
	e.str(ps.hint)
	e.bool(ps.templated)
	e.fields(ps.fields)
	e.bool(ps.fail != nil)
	if ps.fail != nil {
		e.int(ps.fail.line)
		e.int(ps.fail.col)
		e.str(ps.fail.code)
		e.str(ps.fail.msg)
		e.bool(ps.failPost)
	}
	return e.b
}

func (e *encoder) fields(fs []fmField) {
	e.int(len(fs))
	for i := range fs {
		f := &fs[i]
		e.str(f.key)
		e.int(f.line)
		e.int(f.col)
		e.value(&f.value)
	}
}

func (e *encoder) value(v *fmValue) {
	e.int(int(v.kind))
	e.str(v.s)
	e.str(v.tag)
	e.bool(v.hasTime)
	if v.hasTime {
		e.bool(v.localTime)
		name, off := v.t.Zone()
		e.int(int(v.t.Unix()))
		e.int(v.t.Nanosecond())
		e.str(name)
		e.int(off)
		e.bool(v.t.Location() == time.UTC)
	}
	e.int(v.line)
	e.int(v.col)
	e.int(len(v.list))
	for i := range v.list {
		e.value(&v.list[i])
	}
	e.fields(v.fields)
}

func decodeSource(b []byte) (*parsedSource, error) {
	if len(b) < 2 || b[0] != sourceCodecVersion {
		return nil, errCodec
	}
	ps := &parsedSource{format: b[1]}
	d := &decoder{b: b[2:], share: true}
	ps.bodyOff = d.int()
	ps.hint = d.str()
	ps.templated = d.bool()
	ps.fields = d.fields(0)
	if d.bool() {
		ps.fail = &posErr{line: d.int(), col: d.int(), code: d.str(), msg: d.str()}
		ps.failPost = d.bool()
	}
	if d.err != nil || len(d.b) != 0 || ps.bodyOff < 0 || (ps.format != 0 && ps.format != 'y' && ps.format != 't') {
		return nil, errCodec
	}
	return ps, nil
}

// fields decodes a mapping at nesting depth; parsing refuses front matter
// nested deeper than maxDepth, so a deeper value is damage.
func (d *decoder) fields(depth int) []fmField {
	n := d.count()
	if n == 0 || d.err != nil {
		return nil
	}
	if depth > maxDepth+1 {
		d.err, d.b = errCodec, nil
		return nil
	}
	out := make([]fmField, n)
	for i := range out {
		out[i] = fmField{key: d.str(), line: d.int(), col: d.int()}
		d.value(&out[i].value, depth+1)
		if d.err != nil {
			return nil
		}
	}
	return out
}

func (d *decoder) value(v *fmValue, depth int) {
	if depth > maxDepth+1 {
		d.err, d.b = errCodec, nil
		return
	}
	v.kind = valueKind(d.int())
	if v.kind > vMap {
		d.err, d.b = errCodec, nil
		return
	}
	v.s, v.tag = d.str(), d.str()
	if v.hasTime = d.bool(); v.hasTime {
		v.localTime = d.bool()
		sec, nsec := d.int(), d.int()
		name, off := d.str(), d.int()
		loc := time.UTC
		if !d.bool() {
			loc = time.FixedZone(name, off)
		}
		v.t = time.Unix(int64(sec), int64(nsec)).In(loc)
	}
	v.line, v.col = d.int(), d.int()
	if n := d.count(); n > 0 && d.err == nil {
		v.list = make([]fmValue, n)
		for i := range v.list {
			d.value(&v.list[i], depth+1)
			if d.err != nil {
				return
			}
		}
	}
	v.fields = d.fields(depth + 1)
}
