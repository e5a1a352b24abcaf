package publisher

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/publishbot/publishbot/gitstore"
	"github.com/publishbot/publishbot/site"
	"github.com/publishbot/publishbot/templates"
)

// An incremental publish renders only the files whose input key changed
// since the last build of the same target (the site, or one pull request's
// preview) and takes the others' bytes from the pages branch by their blob
// hash, which nothing reads or hashes again. What a target's last build
// was is its manifest, kept in the build cache: for every output file, its
// input key (templates.Key), the git blob hash of its bytes and its size.
// A missing or damaged manifest means a full render, never an error; a
// file whose blob the repository cache lacks is rendered again.

// manifestVersion is in the key of every manifest: a change of the format
// makes every old one a miss.
const manifestVersion = "publishbot-manifest-1"

// manifestMagic starts an encoded manifest; manifestMagicFiles started
// the manifests before folders were recorded (read as having none).
const (
	manifestMagic      = "pbmanifest3\n"
	manifestMagicFiles = "pbmanifest2\n"
)

// maxManifestEntries bounds what a manifest may claim before it is read.
const maxManifestEntries = 10_000_000

// manifestEntry is one output file of a build.
type manifestEntry struct {
	key  templates.Key
	blob [20]byte // git blob hash of the file's bytes
	size int64
}

// manifest is a build's output files by site-relative path (relative to
// the target's folder), the pages commit that held them all, and the tree
// hash of the folders of that commit that held exactly the manifest's
// files under their path (gitstore.Blobs.Folders): a later build that
// keeps every file of such a folder and adds none keeps it whole.
type manifest struct {
	commit  [20]byte
	files   fileIndex        // sorted by path, as the record keeps them
	folders []manifestFolder // sorted by path
	// raw is the encoding the manifest was read from (nil for one over
	// 2 GiB), fileSpans and folderSpans where the entries of files and
	// folders lie in it: the next record copies the bytes of the entries
	// it keeps, runs of thousands at a time, instead of encoding 60,000
	// again (record)
	raw                    []byte
	fileSpans, folderSpans []span
}

// span is where an entry lies in an encoded manifest.
type span struct{ start, end int32 }

// manifestFolder is a folder of a build and its git tree hash.
type manifestFolder struct {
	path string
	tree [20]byte
}

func compareFolders(a, b manifestFolder) int { return strings.Compare(a.path, b.path) }

// findFolder is where the folder p is, or would go, in the sorted folders.
func findFolder(folders []manifestFolder, p string) (int, bool) {
	return slices.BinarySearchFunc(folders, p, func(f manifestFolder, p string) int { return strings.Compare(f.path, p) })
}

// manifestKey is where the manifest of repo's target lives in the cache.
func manifestKey(repo, target string) [32]byte {
	return sha256.Sum256([]byte(manifestVersion + "\x00" + repo + "\x00" + target))
}

func encodeManifest(m manifest) []byte {
	files := make([]manifestFile, 0, m.files.len())
	for i, p := range m.files.paths {
		files = append(files, manifestFile{p, m.files.entries[i]})
	}
	folders := slices.SortedFunc(slices.Values(m.folders), compareFolders)
	return encodeFiles(m.commit, files, folders)
}

// manifestFile is one entry of a manifest being written.
type manifestFile struct {
	path string
	manifestEntry
}

func compareFiles(a, b manifestFile) int { return strings.Compare(a.path, b.path) }

// encodeFiles is encodeManifest of files and folders sorted by path, each
// path once.
func encodeFiles(commit [20]byte, files []manifestFile, folders []manifestFolder) []byte {
	size := len(manifestMagic) + 20 + 2*binary.MaxVarintLen64
	for _, f := range files {
		size += len(f.path) + 52 + 2*binary.MaxVarintLen64
	}
	for _, f := range folders {
		size += len(f.path) + 20 + binary.MaxVarintLen64
	}
	buf := make([]byte, 0, size)
	buf = append(buf, manifestMagic...)
	buf = append(buf, commit[:]...)
	buf = binary.AppendUvarint(buf, uint64(len(files)))
	for _, f := range files {
		buf = appendFile(buf, f)
	}
	buf = binary.AppendUvarint(buf, uint64(len(folders)))
	for _, f := range folders {
		buf = appendFolder(buf, f)
	}
	return buf
}

// appendFile appends the encoding of one file's entry.
func appendFile(buf []byte, f manifestFile) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(f.path)))
	buf = append(buf, f.path...)
	buf = append(buf, f.key[:]...)
	buf = append(buf, f.blob[:]...)
	return binary.AppendUvarint(buf, uint64(f.size))
}

// appendFolder appends the encoding of one folder's entry.
func appendFolder(buf []byte, f manifestFolder) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(f.path)))
	buf = append(buf, f.path...)
	return append(buf, f.tree[:]...)
}

var errDamagedManifest = errors.New("damaged manifest")

// decodeManifest reads what encodeManifest wrote; anything else is
// errDamagedManifest.
func decodeManifest(data []byte) (manifest, error) {
	rest, ok := bytes.CutPrefix(data, []byte(manifestMagic))
	hasFolders := ok
	if !ok {
		rest, ok = bytes.CutPrefix(data, []byte(manifestMagicFiles))
	}
	if !ok || len(rest) < 20 {
		return manifest{}, fmt.Errorf("%w: no header", errDamagedManifest)
	}
	var m manifest
	copy(m.commit[:], rest)
	rest = rest[20:]
	uvarint := func() (uint64, bool) {
		v, n := binary.Uvarint(rest)
		if n <= 0 {
			return 0, false
		}
		rest = rest[n:]
		return v, true
	}
	n, ok := uvarint()
	if !ok || n > maxManifestEntries {
		return manifest{}, fmt.Errorf("%w: bad count", errDamagedManifest)
	}
	spans := len(data) < math.MaxInt32
	at := func() int32 { return int32(len(data) - len(rest)) }
	// Kept whole (m.raw), data holds the paths: 110,000 strings of a blog
	// of 20,000 posts are not copied out of it. The bytes a cache's Get
	// returns never change (posts.RenderCache), and nothing here writes
	// them.
	text := func(b []byte) string {
		if spans && len(b) > 0 {
			return unsafe.String(&b[0], len(b))
		}
		return string(b)
	}
	m.files.paths = make([]string, 0, min(n, uint64(len(rest)/53+1)))
	m.files.entries = make([]manifestEntry, 0, cap(m.files.paths))
	if spans {
		m.raw = data
		m.fileSpans = make([]span, 0, cap(m.files.paths))
	}
	prev := ""
	for i := uint64(0); i < n; i++ {
		start := at()
		l, ok := uvarint()
		if !ok || l > uint64(len(rest)) {
			return manifest{}, fmt.Errorf("%w: entry %d", errDamagedManifest, i)
		}
		p := text(rest[:l])
		rest = rest[l:]
		if (i > 0 && p <= prev) || !fs.ValidPath(p) || p == "." || len(rest) < 52 {
			return manifest{}, fmt.Errorf("%w: entry %d", errDamagedManifest, i)
		}
		prev = p
		var e manifestEntry
		copy(e.key[:], rest[:32])
		copy(e.blob[:], rest[32:52])
		rest = rest[52:]
		size, ok := uvarint()
		if !ok || size > 1<<40 {
			return manifest{}, fmt.Errorf("%w: entry %d", errDamagedManifest, i)
		}
		e.size = int64(size)
		m.files.paths = append(m.files.paths, p)
		m.files.entries = append(m.files.entries, e)
		if spans {
			m.fileSpans = append(m.fileSpans, span{start, at()})
		}
	}
	m.files.index()
	if hasFolders {
		n, ok := uvarint()
		if !ok || n > maxManifestEntries {
			return manifest{}, fmt.Errorf("%w: bad folder count", errDamagedManifest)
		}
		m.folders = make([]manifestFolder, 0, min(n, uint64(len(rest)/21+1)))
		if spans {
			m.folderSpans = make([]span, 0, cap(m.folders))
		}
		for i := uint64(0); i < n; i++ {
			start := at()
			l, ok := uvarint()
			if !ok || l > uint64(len(rest)) {
				return manifest{}, fmt.Errorf("%w: folder %d", errDamagedManifest, i)
			}
			f := manifestFolder{path: text(rest[:l])}
			rest = rest[l:]
			if (i > 0 && f.path <= m.folders[i-1].path) || !fs.ValidPath(f.path) || f.path == "." || len(rest) < 20 {
				return manifest{}, fmt.Errorf("%w: folder %d", errDamagedManifest, i)
			}
			copy(f.tree[:], rest[:20])
			rest = rest[20:]
			m.folders = append(m.folders, f)
			if spans {
				m.folderSpans = append(m.folderSpans, span{start, at()})
			}
		}
	}
	if len(rest) != 0 {
		return manifest{}, fmt.Errorf("%w: %d bytes after the last entry", errDamagedManifest, len(rest))
	}
	return m, nil
}

// incremental is what a job knows of its target's last build.
type incremental struct {
	target string
	last   fileIndex // the files whose blobs the repository cache has
	// folders are the last build's folders whose trees the repository
	// cache has (all or none: see checkBlobs), sorted by path
	folders []manifestFolder
	// keptFolders are the folders kept whole (kept), sorted: the folders
	// recorded under them are this build's too (remember)
	keptFolders []string
	// the last record's encoding and where paths' and folders' entries lie
	// in it (manifest.raw); spans nil: none
	raw                    []byte
	fileSpans, folderSpans []span
}

// readPreviousBuild reads the manifest of target's last build: every file
// it lists, whether or not the repository cache still has its blob (see
// checkBlobs). Without a build cache it returns nil; a damaged manifest is
// logged and ignored. It reads only the build cache, never the repository,
// so it may run while a fetch writes there.
func (jb *job) readPreviousBuild(target string) (*incremental, [20]byte) {
	if jb.p.cache == nil {
		return nil, [20]byte{}
	}
	inc := &incremental{target: target}
	data, ok := jb.p.cache.Get(manifestKey(jb.j.Repo.FullName, target))
	if !ok {
		return inc, [20]byte{}
	}
	m, err := decodeManifest(data)
	if err != nil {
		jb.log.WithError(err).WithField("target", target).Warn("build manifest is damaged; rendering every file")
		return inc, [20]byte{}
	}
	inc.last, inc.folders = m.files, m.folders
	inc.raw, inc.fileSpans, inc.folderSpans = m.raw, m.fileSpans, m.folderSpans
	return inc, m.commit
}

// checkBlobs leaves out of inc the files whose blob the repository cache
// no longer has; it reports whether it left out any. The cache holds an
// object only with everything it points to (it fetched or wrote it so,
// and repacking drops what no branch reaches as a whole): with the commit
// that held every file of the manifest, it has every blob. Without it,
// each blob is looked up, and no folder is kept whole: a tree would need
// every object under it looked up.
func (jb *job) checkBlobs(inc *incremental, commit [20]byte) bool {
	if inc.last.len() == 0 || jb.repo.Has(hex.EncodeToString(commit[:])) {
		return false
	}
	inc.folders, inc.folderSpans = nil, nil
	kept := inc.last.keep(func(i int) bool { return jb.repo.Has(hex.EncodeToString(inc.last.entries[i].blob[:])) })
	if inc.fileSpans != nil {
		for n, i := range kept {
			inc.fileSpans[n] = inc.fileSpans[i]
		}
		inc.fileSpans = inc.fileSpans[:len(kept)]
	}
	return true
}

// previous are the keys of the last build's files, their paths in order
// and their sizes.
func (inc *incremental) previous() site.Previous {
	last := &inc.last
	return site.Previous{Keys: lastKeys{last}, Paths: last.paths, Size: func(p string) int64 { e, _ := last.get(p); return e.size }}
}

// lastKeys answers the build's questions about the last build's keys from
// the manifest's entries (templates.PreviousKeys).
type lastKeys struct{ files *fileIndex }

func (m lastKeys) Key(p string) (templates.Key, bool) {
	e, ok := m.files.get(p)
	return e.key, ok
}

func (m lastKeys) Len() int { return m.files.len() }

// pendingBuild is the previous build's manifest read on a goroutine of its
// own: a manifest of 20,000 posts' files takes about as long to read as
// the content tree takes to walk, and the build needs it only when it
// renders. A publish starts it before it fetches (doKind), while the
// process waits for the remote; whether the repository still has the
// manifest's blobs is asked once the fetch is done (wait).
type pendingBuild struct {
	jb     *job
	target string
	done   chan struct{}
	inc    *incremental
	commit [20]byte
	// the keys, paths and sizes the build asks for (previous): views of
	// inc, whose files checkBlobs may leave out once the fetch is done
	prev    site.Previous
	checked sync.Once
}

// previousBuildSoon starts reading target's previous build; nil without a
// build cache. The job must wait for it (wait, or drain) before it ends.
// The read doKind started for target, if any, is the one given.
func (jb *job) previousBuildSoon(target string) *pendingBuild {
	if jb.p.cache == nil {
		return nil
	}
	if p := jb.early; p != nil && p.target == target {
		jb.early = nil
		return p
	}
	p := &pendingBuild{jb: jb, target: target, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		if p.inc, p.commit = jb.readPreviousBuild(target); p.inc != nil {
			p.prev = p.inc.previous()
		}
	}()
	return p
}

// drain waits for the read to end, when the job will not use it.
func (p *pendingBuild) drain() {
	if p != nil {
		<-p.done
	}
}

// wait is the previous build, once read, with only the files whose blobs
// the repository has. The job calls it after its fetches.
func (p *pendingBuild) wait() *incremental {
	if p == nil {
		return nil
	}
	<-p.done
	p.checked.Do(func() {
		if p.inc != nil && p.jb.checkBlobs(p.inc, p.commit) {
			p.prev = p.inc.previous()
		}
	})
	return p.inc
}

// options are the build options that make the build incremental: the
// previous build's keys, given to the build when it renders.
func (p *pendingBuild) options(in *buildInput) {
	if p == nil {
		return
	}
	in.Render.Keys = true
	in.Previous = func() site.Previous {
		if p.wait() == nil {
			return site.Previous{}
		}
		return p.prev
	}
}

// kept gives the blob of each file the build kept, in path order, and
// the tree of each folder it kept whole instead of the files in it: a
// folder of the last build whose files are all kept, with nothing made in
// it, is the tree it was then. A one-post edit of a blog of 20,000 posts
// keeps its other years and months as a few dozen trees, which the tree
// writer neither builds nor hashes again, instead of 60,000 files.
func (inc *incremental) kept(out *site.Output) []gitstore.Kept {
	if inc == nil || len(out.Kept) == 0 {
		return nil
	}
	inc.keptFolders = nil
	changed := inc.changedFolders(out)
	kept := make([]gitstore.Kept, 0, len(out.Kept))
	for i := 0; i < len(out.Kept); {
		p := out.Kept[i]
		dir, tree, ok := inc.wholeFolder(p, changed)
		if !ok {
			e, _ := inc.last.get(p)
			kept = append(kept, gitstore.Kept{Path: p, Blob: e.blob})
			i++
			continue
		}
		kept = append(kept, gitstore.Kept{Path: dir, Blob: tree, Folder: true})
		inc.keptFolders = append(inc.keptFolders, dir)
		// out.Kept is sorted: the other files of the folder follow
		for i++; i < len(out.Kept) && strings.HasPrefix(out.Kept[i], dir+"/"); i++ {
		}
	}
	return kept
}

// countFolders counts the folders kept whole.
func countFolders(kept []gitstore.Kept) int {
	n := 0
	for _, k := range kept {
		if k.Folder {
			n++
		}
	}
	return n
}

// changedFolders are the folders that differ from the last build: those
// above a file made again or not kept, and the path of every made file
// (a folder then, maybe). Nil means none can be kept whole: no folders
// recorded, or out.Kept not the last build's files in their order.
func (inc *incremental) changedFolders(out *site.Output) map[string]bool {
	if len(inc.folders) == 0 {
		return nil
	}
	changed := map[string]bool{}
	mark := func(p string) {
		for {
			i := strings.LastIndexByte(p, '/')
			if i < 0 {
				return
			}
			p = p[:i]
			if changed[p] {
				return // and so are the folders above it
			}
			changed[p] = true
		}
	}
	for p := range out.Files {
		mark(p)
		changed[p] = true
	}
	k := out.Kept
	for _, p := range inc.last.paths {
		if len(k) > 0 && k[0] == p {
			k = k[1:]
			continue
		}
		mark(p)
	}
	if len(k) != 0 {
		return nil
	}
	return changed
}

// wholeFolder is the highest folder above the kept file p that the last
// build recorded and that nothing changed in, if any.
func (inc *incremental) wholeFolder(p string, changed map[string]bool) (string, [20]byte, bool) {
	if changed == nil {
		return "", [20]byte{}, false
	}
	for i := 0; i < len(p); i++ {
		if p[i] != '/' || changed[p[:i]] {
			continue
		}
		if j, ok := findFolder(inc.folders, p[:i]); ok {
			return p[:i], inc.folders[j].tree, true
		}
	}
	return "", [20]byte{}, false
}

// remember stores the manifest of the build just pushed: the kept files'
// entries as they were, and the rendered files' with the blob hashes the
// tree writer computed (blobs). A file without a key or a hash (taken out
// of the tree after the build) is left out: it will be rendered next time.
func (jb *job) remember(inc *incremental, out *site.Output, blobs *gitstore.Blobs, pagesCommit string) {
	if inc == nil || out == nil || out.Keys == nil || blobs == nil {
		return
	}
	var commit [20]byte
	if _, err := hex.Decode(commit[:], []byte(pagesCommit)); err != nil {
		commit = [20]byte{}
	}
	data := inc.record(out, blobs.Hashes(), blobs.Folders(), commit)
	jb.p.cache.PutParts(manifestKey(jb.j.Repo.FullName, inc.target), data...)
	jb.p.cache.Flush()
}

// record is the encoded manifest of the build out, pushed as commit, in
// parts to be written one after the other:
// hashes are the blobs of its rendered files and folders the trees the
// tree writer made or kept (gitstore.Blobs). A file without a key or a
// hash (taken out of the tree after the build) is left out, and so is
// every folder above it: a folder is recorded only if the manifest lists
// exactly its files.
//
// The kept files are the last build's, in its order (out.Kept), each
// with the key it had then (templates keeps a file only so), and the
// folders recorded inside the folders kept whole are the last record's:
// their entries are runs of the last record's bytes, not copied,
// between the few files and folders made again (a one-post edit of
// 20,000 posts keeps 60,000 entries of 61,000).
func (inc *incremental) record(out *site.Output, hashes map[string]string, madeFolders map[string][20]byte, commit [20]byte) [][]byte {
	var leftOut []string // in the tree, not in the record
	made := make([]manifestFile, 0, len(out.Files))
	for p, data := range out.Files {
		k, ok := out.Keys[p]
		h, hok := hashes[p]
		if !ok || !hok {
			leftOut = append(leftOut, p)
			continue
		}
		e := manifestEntry{key: k, size: int64(len(data))}
		if _, err := hex.Decode(e.blob[:], []byte(h)); err != nil {
			leftOut = append(leftOut, p)
			continue
		}
		made = append(made, manifestFile{p, e})
	}
	slices.SortFunc(made, compareFiles)
	files := entryWriter{raw: inc.raw, buf: make([]byte, 0, len(made)*128)}
	kept := out.Kept
	for i, p := range inc.last.paths {
		for len(kept) > 0 && kept[0] < p { // not the last build's: no entry
			leftOut, kept = append(leftOut, kept[0]), kept[1:]
		}
		for len(made) > 0 && made[0].path < p {
			files.addFile(made[0])
			made = made[1:]
		}
		if len(kept) == 0 || kept[0] != p {
			continue // made again, or gone
		}
		kept = kept[1:]
		if len(made) > 0 && made[0].path == p {
			continue // the rendered file's entry wins
		}
		if inc.fileSpans != nil {
			files.keep(inc.fileSpans[i])
		} else {
			files.addFile(manifestFile{p, inc.last.entries[i]})
		}
	}
	leftOut = append(leftOut, kept...)
	for _, f := range made {
		files.addFile(f)
	}
	files.flush()

	drop := map[string]bool{}
	for _, p := range leftOut {
		for i := strings.LastIndexByte(p, '/'); i > 0; i = strings.LastIndexByte(p[:i], '/') {
			drop[p[:i]] = true
		}
	}
	fresh := make([]manifestFolder, 0, len(madeFolders))
	for p, h := range madeFolders {
		if !drop[p] {
			fresh = append(fresh, manifestFolder{p, h})
		}
	}
	slices.SortFunc(fresh, compareFolders)
	folders := entryWriter{raw: inc.raw, buf: make([]byte, 0, len(fresh)*64)}
	for _, dir := range inc.keptFolders {
		under := dir + "/"
		i, _ := findFolder(inc.folders, under)
		for ; i < len(inc.folders) && strings.HasPrefix(inc.folders[i].path, under); i++ {
			f := inc.folders[i]
			for len(fresh) > 0 && fresh[0].path < f.path {
				folders.addFolder(fresh[0])
				fresh = fresh[1:]
			}
			if len(fresh) > 0 && fresh[0].path == f.path || drop[f.path] {
				continue // the tree writer's entry wins; or not recorded
			}
			if inc.folderSpans != nil {
				folders.keep(inc.folderSpans[i])
			} else {
				folders.addFolder(f)
			}
		}
	}
	for _, f := range fresh {
		folders.addFolder(f)
	}
	folders.flush()

	head := append([]byte(manifestMagic), commit[:]...)
	head = binary.AppendUvarint(head, uint64(files.n))
	data := append([][]byte{head}, files.parts...)
	data = append(data, binary.AppendUvarint(nil, uint64(folders.n)))
	return append(data, folders.parts...)
}

// entryWriter writes the entries of one part of a manifest, in parts: new
// ones encoded into buf, kept ones as runs of the last record (raw),
// which are not copied.
type entryWriter struct {
	raw   []byte
	parts [][]byte
	buf   []byte
	from  int  // where buf's entries not in parts yet start
	n     int  // entries written
	run   span // kept entries of raw not in parts yet
}

// keep writes the entry of raw at sp.
func (w *entryWriter) keep(sp span) {
	if w.run.end <= w.run.start || w.run.end != sp.start {
		w.flush()
		w.run.start = sp.start
	}
	w.run.end = sp.end
	w.n++
}

func (w *entryWriter) addFile(f manifestFile) {
	w.flushRun()
	w.buf = appendFile(w.buf, f)
	w.n++
}

func (w *entryWriter) addFolder(f manifestFolder) {
	w.flushRun()
	w.buf = appendFolder(w.buf, f)
	w.n++
}

// flush ends the part written since the last: new entries or a run of
// kept ones (an add ends a run, a keep new entries, so only one of them
// is ever pending).
func (w *entryWriter) flush() {
	if len(w.buf) > w.from {
		// capped at its end: the entries appended to buf later never
		// write into it
		w.parts = append(w.parts, w.buf[w.from:len(w.buf):len(w.buf)])
		w.from = len(w.buf)
	}
	w.flushRun()
}

func (w *entryWriter) flushRun() {
	if w.run.end > w.run.start {
		w.parts = append(w.parts, w.raw[w.run.start:w.run.end])
	}
	w.run = span{}
}
