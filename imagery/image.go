package imagery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"hash/crc32"
	"sync"
)

// An Image is what Process makes of one image, told by its files' sizes
// and hashes: enough to name the files, key them and write the pages
// that show them. A file's bytes are at hand only once Load has fetched
// them (or when the image was just treated), so a build that keeps an
// unchanged image's files from the previous one reads neither the image
// nor its variants.

// Image is the treatment of one image (Processor.Image). It belongs to one
// caller: Load fills in its files' bytes.
type Image struct {
	// Format, Width, Height, Location and Problem are as Result's.
	Format        string
	Width, Height int
	Location      bool
	Problem       Problem
	// Data is the file to publish in the original's place; nil means do
	// not publish it.
	Data *File
	// Variants are as Result's, narrowest first; when there are any, the
	// last one's Data is Data.
	Variants []ImageVariant

	key string  // the cache's name of this image and treatment ("" for none)
	o   Options // the treatment
	src *source // the image's bytes, read at most once
}

// ImageVariant is one size of an Image.
type ImageVariant struct {
	Width, Height int
	Data          *File
	WebP          *File // nil unless smaller than Data
}

// File is one file an Image publishes.
type File struct {
	// Size is its length in bytes.
	Size int64
	// Sum is the SHA-256 of its bytes: equal sums, equal files. Callers
	// name and key the file by it without its bytes.
	Sum [32]byte

	crc    uint32 // CRC-32C of the bytes, checked when read back from the cache
	source bool   // the bytes are the image's own (not cleaned): read from the source, never cached
	off    int64  // where the bytes are in the image's pack (layout)
	data   []byte
	loaded bool
}

// Bytes returns the file's bytes; false until Load fetched them.
func (f *File) Bytes() ([]byte, bool) { return f.data, f.loaded }

// Files are the distinct files of img: Data, then every variant's files.
func (img *Image) Files() []*File {
	var fs []*File
	if img.Data != nil {
		fs = append(fs, img.Data)
	}
	for _, v := range img.Variants {
		if v.Data != nil && v.Data != img.Data {
			fs = append(fs, v.Data)
		}
		if v.WebP != nil {
			fs = append(fs, v.WebP)
		}
	}
	return fs
}

// layout places the files of img that are not the source in its pack, in
// the order of Files, and returns the pack's size.
func (img *Image) layout() int64 {
	var off int64
	for _, f := range img.Files() {
		if !f.source {
			f.off = off
			off += f.Size
		}
	}
	return off
}

// result is img with every file's bytes, which Load fetched, as a Result.
func (img *Image) result() *Result {
	r := &Result{Format: img.Format, Width: img.Width, Height: img.Height, Location: img.Location, Problem: img.Problem}
	if img.Data != nil {
		r.Data = img.Data.data
	}
	for _, v := range img.Variants {
		rv := Variant{Width: v.Width, Height: v.Height}
		if v.Data != nil {
			rv.Data = v.Data.data
		}
		if v.WebP != nil {
			rv.WebP = v.WebP.data
		}
		r.Variants = append(r.Variants, rv)
	}
	return r
}

// newFile is a file with its bytes, data.
func newFile(data []byte, source bool) *File {
	return &File{Size: int64(len(data)), Sum: sha256.Sum256(data), crc: crc32.Checksum(data, castagnoli), source: source, data: data, loaded: true}
}

// imageOf is r, made from the image input, as an Image with every file's
// bytes.
func imageOf(r *Result, input []byte) *Image {
	img := &Image{Format: r.Format, Width: r.Width, Height: r.Height, Location: r.Location, Problem: r.Problem}
	if r.Data != nil {
		img.Data = newFile(r.Data, bytes.Equal(r.Data, input))
	}
	for i, v := range r.Variants {
		iv := ImageVariant{Width: v.Width, Height: v.Height}
		if i == len(r.Variants)-1 {
			iv.Data = img.Data
		} else {
			iv.Data = newFile(v.Data, false)
		}
		if v.WebP != nil {
			iv.WebP = newFile(v.WebP, false)
		}
		img.Variants = append(img.Variants, iv)
	}
	img.layout()
	return img
}

// source reads an image's bytes once, when first asked.
type source struct {
	once sync.Once
	read func() ([]byte, error)
	data []byte
	err  error
}

func (s *source) bytes() ([]byte, error) {
	s.once.Do(func() { s.data, s.err = s.read() })
	return s.data, s.err
}

// Image tells what Process makes of an image with o: its size, problems
// and files, the bytes of none of them fetched unless the image had to be
// treated now. read gives the image's bytes; it is called at most once,
// and not at all when id (as ProcessContent's) is set and the cache has
// the image's record. The error is read's, as it is, or ctx's.
func (p *Processor) Image(ctx context.Context, id string, read func() ([]byte, error), o Options) (*Image, error) {
	src := &source{read: read}
	var name string
	if id != "" {
		name = idName(id, o)
	} else {
		data, err := src.bytes()
		if err != nil {
			return nil, err
		}
		name = bytesName(data, o)
	}
	for {
		if img := p.cached(name); img != nil {
			img.key, img.o, img.src = name, o, src
			return img, nil
		}
		done, first := p.startTreating(name)
		if first {
			defer p.finishTreating(name, done)
			return p.treat(ctx, name, src, o)
		}
		// another goroutine treats the same image: its result is then in
		// the cache (or, if it failed, this one tries in its turn)
		select {
		case <-done.wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// treatDone is a key being treated: wait is closed when it is done.
type treatDone struct{ wait chan struct{} }

// startTreating claims name for the caller (first is true, and done must
// be called when the image is treated) or returns the claim of the
// goroutine that treats it now. Without a cache there is nothing to
// share, and every caller is first.
func (p *Processor) startTreating(name string) (done treatDone, first bool) {
	if p.cache == nil || name == "" {
		return treatDone{}, true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if ch, ok := p.treating[name]; ok {
		return treatDone{ch}, false
	}
	if p.treating == nil {
		p.treating = map[string]chan struct{}{}
	}
	ch := make(chan struct{})
	p.treating[name] = ch
	return treatDone{ch}, true
}

// finishTreating ends a claim of startTreating.
func (p *Processor) finishTreating(name string, d treatDone) {
	if d.wait == nil {
		return
	}
	p.mu.Lock()
	delete(p.treating, name)
	p.mu.Unlock()
	close(d.wait)
}

// Load fetches the bytes of files (files of img) from the cache, or from
// the image's source for a file that is the image as it is. When one is
// missing from the cache or damaged, the image is treated anew from its
// source and that Image, every file's bytes at hand, is returned instead
// of img: callers go on with the Image Load returns. The error is the
// source's read error, or ctx's.
func (p *Processor) Load(ctx context.Context, img *Image, files ...*File) (*Image, error) {
	var pack []byte
	packed := false
	for _, f := range files {
		if f.loaded {
			continue
		}
		var data []byte
		if f.source {
			var err error
			if data, err = img.src.bytes(); err != nil {
				return nil, err
			}
		} else {
			if !packed && p.cache != nil {
				pack, _ = p.cache.Get(packPrefix + img.key)
				packed = true
				if pack != nil && int64(len(pack)) != img.layout() {
					p.log.WithField(FieldEntry, packPrefix+img.key).Warn("image cache files damaged; discarded, treating the image again")
					pack = nil
				}
			}
			if pack != nil {
				data = pack[f.off : f.off+f.Size : f.off+f.Size]
			}
		}
		if data == nil || int64(len(data)) != f.Size || crc32.Checksum(data, castagnoli) != f.crc {
			if data != nil && !f.source {
				p.log.WithField(FieldEntry, packPrefix+img.key).Warn("image cache files damaged; discarded, treating the image again")
			}
			return p.treat(ctx, img.key, img.src, img.o)
		}
		f.data, f.loaded = data, true
	}
	return img, nil
}

// treat reads the image and treats it: from an entry of the earlier cache
// format (bytes included) when there is one, else by Process's work, and
// keeps the record and files in the cache.
func (p *Processor) treat(ctx context.Context, name string, src *source, o Options) (*Image, error) {
	data, err := src.bytes()
	if err != nil {
		return nil, err
	}
	var r *Result
	if p.cache != nil && name != "" {
		if v, ok := p.cache.Get(oldPrefix + name); ok {
			r, _ = decodeResult(v, data) // nil when damaged: treated anew
		}
	}
	if r == nil {
		if r, err = process(ctx, data, o); err != nil {
			return nil, err
		}
	}
	img := imageOf(r, data)
	img.key, img.o, img.src = name, o, src
	p.store(img)
	return img, nil
}

// store keeps img's files (but one that is the source image) in one pack,
// and its record under its own key and in the catalog.
func (p *Processor) store(img *Image) {
	if p.cache == nil || img.key == "" {
		return
	}
	var pack []byte
	for _, f := range img.Files() {
		if !f.source {
			if pack == nil {
				pack = make([]byte, 0, img.layout())
			}
			pack = append(pack, f.data...)
		}
	}
	if pack != nil {
		p.cache.Put(packPrefix+img.key, pack)
	}
	rec := encodeRecord(img)
	p.cache.Put(recordPrefix+img.key, rec)
	p.remember(img.key, rec)
}
