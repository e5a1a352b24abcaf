package gitstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Repo is the cache of one remote: a bare repository in the Store's folder
// mirroring the refs of the remote that its user fetched. Only objects it
// lacks are fetched. It is not safe for concurrent use, nor may two Repos
// of one remote be used at once: the caller serialises the work on each
// remote (with a lock per remote). Close it when done.
type Repo struct {
	store *Store
	name  string
	dir   string
	url   string
	st    *filesystem.Storage
	// objects reads st's objects, telling a damaged one (see damaged).
	objects storer.EncodedObjectStorer
	// client speaks smart HTTP through creds, which adds the token only
	// where credentials may go.
	client transport.Transport
	creds  *authTransport
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// cacheDir names the cache of one remote: readable, and unique per URL.
func cacheDir(dir, name, url string) string {
	sum := sha256.Sum256([]byte(url))
	base := unsafeChars.ReplaceAllString(name, "_")
	if base == "" || strings.Trim(base, "._") == "" {
		base = "repo"
	}
	return filepath.Join(dir, truncate(base, 80)+"-"+hex.EncodeToString(sum[:6])+".git")
}

// Open opens the cache of r, creating it when needed. Nothing is fetched.
func (s *Store) Open(r Remote) (*Repo, error) {
	url := strings.TrimSpace(r.URL)
	dir := cacheDir(s.dir, r.Name, url)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create repository cache: %w", err)
	}
	st := filesystem.NewStorageWithOptions(newObjectsFS(dir), s.objects,
		filesystem.Options{MaxOpenDescriptors: 16})
	if _, err := os.Stat(filepath.Join(dir, "config")); errors.Is(err, os.ErrNotExist) {
		if _, err := git.Init(st, nil); err != nil && !errors.Is(err, git.ErrRepositoryAlreadyExists) {
			return nil, fmt.Errorf("init repository cache: %w", err)
		}
	}
	repo := &Repo{store: s, name: r.Name, dir: dir, url: r.URL, st: st, objects: cacheObjects{st}}
	// The token never goes into a URL, and goes with a request only when
	// gitauth.CredentialsAllowed says so (see authTransport).
	repo.client, repo.creds = newTransport(r.URL, r.Token, s.gitBase)
	return repo, nil
}

// Close releases the cache's open files and saves the Store's facts about
// objects learnt meanwhile (a tree listing's file sizes) for the next process.
func (r *Repo) Close() error {
	r.store.facts.save()
	return r.st.Close()
}

// Discard closes the cache and removes it from disk, for a cache that
// IsCorrupt: the next Open starts from an empty one.
func (r *Repo) Discard() error {
	r.st.Close()
	if err := os.RemoveAll(r.dir); err != nil {
		return fmt.Errorf("remove repository cache: %w", err)
	}
	return nil
}

// tracking is where a remote ref is kept locally: refs/heads/main →
// refs/remotes/origin/heads/main, refs/pull/3/head → refs/remotes/origin/pull/3/head.
func tracking(remote plumbing.ReferenceName) plumbing.ReferenceName {
	return plumbing.ReferenceName("refs/remotes/origin/" + strings.TrimPrefix(string(remote), "refs/"))
}

// Forget drops the local copy of a remote ref (such as a closed pull
// request's head); the next repack drops the objects only it reached.
func (r *Repo) Forget(ref string) error {
	return r.st.RemoveReference(tracking(plumbing.ReferenceName(ref)))
}

// Refs is what a remote advertised in one fetch.
type Refs struct {
	refs map[plumbing.ReferenceName]plumbing.Hash
	// Head is the ref the remote's HEAD points at ("refs/heads/main"), ""
	// when the remote did not say.
	Head string
	// Received counts the pack bytes this fetch downloaded.
	Received int64
}

// Hash is the commit a ref (a full name, "refs/heads/main") points at, and
// false when the remote has no such ref.
func (r Refs) Hash(ref string) (string, bool) {
	h, ok := r.refs[plumbing.ReferenceName(ref)]
	if !ok {
		return "", false
	}
	return h.String(), true
}

func (r *Repo) endpoint() (*transport.Endpoint, transport.Transport, error) {
	ep, err := transport.NewEndpoint(r.url)
	if err != nil {
		return nil, nil, fmt.Errorf("parse repository URL: %w", err)
	}
	// Only smart HTTP: go-git's file:// and ssh transports would run a git
	// program or use the machine's keys, and nothing a payload names may do that.
	if ep.Protocol != "https" && ep.Protocol != "http" {
		return nil, nil, final{fmt.Errorf("repository URL scheme %q is not supported: use https", ep.Protocol)}
	}
	if ep.User != "" || ep.Password != "" {
		return nil, nil, final{errors.New("repository URL must not carry credentials")}
	}
	return ep, r.client, nil
}

func advertised(ar *packp.AdvRefs) Refs {
	st := Refs{refs: map[plumbing.ReferenceName]plumbing.Hash{}}
	for name, h := range ar.References {
		st.refs[plumbing.ReferenceName(name)] = h
	}
	for _, v := range ar.Capabilities.Get(capability.SymRef) {
		if src, dst, ok := strings.Cut(v, ":"); ok && src == "HEAD" {
			st.Head = dst
		}
	}
	return st
}

// Fetch asks the remote for its refs and downloads the objects of the
// wanted ones (full names, "refs/heads/main") that are missing here, in one
// negotiation: the local copies of the remote's refs are offered as haves,
// so only new objects come. Wanted refs the remote does not have are not an
// error: the returned Refs say which exist. The local copies of the wanted
// refs are updated. Errors name the remote and wrap ErrPermanent when a
// retry cannot help.
func (r *Repo) Fetch(ctx context.Context, wanted ...string) (Refs, error) {
	refs, err := r.fetch(ctx, wanted)
	if err != nil {
		return Refs{}, classify(fmt.Errorf("fetch %s: %w", r.name, r.explain(err)))
	}
	return refs, nil
}

func (r *Repo) fetch(ctx context.Context, wanted []string) (Refs, error) {
	// The object facts, read on the first look at a tree or a blob's size
	// (30 ms for a blog of 20,000 posts), are read while the remote answers.
	go r.store.facts.ensureLoaded()
	ep, cl, err := r.endpoint()
	if err != nil {
		return Refs{}, err
	}
	sess, err := cl.NewUploadPackSession(ep, nil)
	if err != nil {
		return Refs{}, fmt.Errorf("connect: %w", err)
	}
	defer sess.Close()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		return Refs{}, fmt.Errorf("list remote refs: %w", err)
	}
	state := advertised(ar)
	var wants []plumbing.Hash
	seen := map[plumbing.Hash]bool{}
	for _, name := range wanted {
		h, ok := state.refs[plumbing.ReferenceName(name)]
		if !ok || seen[h] {
			continue
		}
		seen[h] = true
		if r.st.HasEncodedObject(h) != nil {
			wants = append(wants, h)
		}
	}
	if len(wants) > 0 {
		req := packp.NewUploadPackRequestFromCapabilities(ar.Capabilities)
		if ar.Capabilities.Supports(capability.NoProgress) {
			_ = req.Capabilities.Set(capability.NoProgress)
		}
		req.Wants = wants
		haves, err := r.haves()
		if err != nil {
			return Refs{}, err
		}
		req.Haves = haves
		reader, err := sess.UploadPack(ctx, req)
		if err != nil {
			return Refs{}, fmt.Errorf("fetch objects: %w", err)
		}
		var rd io.Reader = reader
		switch {
		case req.Capabilities.Supports(capability.Sideband64k):
			rd = sideband.NewDemuxer(sideband.Sideband64k, reader)
		case req.Capabilities.Supports(capability.Sideband):
			rd = sideband.NewDemuxer(sideband.Sideband, reader)
		}
		state.Received, err = r.storePack(ctx, rd, r.store.limits.MaxFileBytes)
		reader.Close()
		if err != nil {
			r.removeTempPacks()
			return Refs{}, fmt.Errorf("store fetched objects: %w", err)
		}
	}
	for _, name := range wanted {
		ref := plumbing.ReferenceName(name)
		h, ok := state.refs[ref]
		if !ok {
			_ = r.st.RemoveReference(tracking(ref))
			continue
		}
		if err := r.st.SetReference(plumbing.NewHashReference(tracking(ref), h)); err != nil {
			return Refs{}, fmt.Errorf("update %s: %w", tracking(ref), err)
		}
	}
	return state, nil
}

// haves are the commits of every local tracking ref: the remote sends what
// is reachable from the wants and not from these.
func (r *Repo) haves() ([]plumbing.Hash, error) {
	iter, err := r.st.IterReferences()
	if err != nil {
		return nil, fmt.Errorf("list local refs: %w", err)
	}
	seen := map[plumbing.Hash]bool{}
	var out []plumbing.Hash
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		if ref.Type() != plumbing.HashReference || !strings.HasPrefix(string(ref.Name()), "refs/remotes/origin/") {
			return nil
		}
		if !seen[ref.Hash()] && r.st.HasEncodedObject(ref.Hash()) == nil {
			seen[ref.Hash()] = true
			out = append(out, ref.Hash())
		}
		return nil
	})
	return out, err
}

// explain adds to a transport failure that the token was kept from a host
// it may not go to, when it was: a 401 from there is why.
func (r *Repo) explain(err error) error {
	h := r.creds.withheldFrom()
	if h == "" || !(errors.Is(err, transport.ErrAuthenticationRequired) || errors.Is(err, transport.ErrAuthorizationFailed) || errors.Is(err, transport.ErrRepositoryNotFound)) {
		return err
	}
	base := "the repository's own host"
	if r.creds.base != nil {
		base = r.creds.base.Scheme + "://" + r.creds.base.Host
	}
	return fmt.Errorf("%w (the token was not sent to %s: credentials go only to %s, over https or to loopback)", err, h, base)
}

// removeTempPacks removes what go-git leaves of a pack it could not store
// (objects/pack/tmp_pack_*): a refused pack is not kept on disk.
func (r *Repo) removeTempPacks() {
	tmp, _ := filepath.Glob(filepath.Join(r.dir, "objects", "pack", "tmp_pack_*"))
	for _, f := range tmp {
		_ = os.Remove(f)
	}
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

var _ storer.EncodedObjectStorer = (*filesystem.Storage)(nil)

// errDamaged marks an object the cache lists but cannot read whole (a
// pack or a loose object cut short): IsCorrupt.
var errDamaged = errors.New("damaged object in the repository cache")

type damagedError struct{ error }

func (e damagedError) Unwrap() error        { return e.error }
func (e damagedError) Is(target error) bool { return target == errDamaged }

// cacheObjects reads a cache's objects and marks the end of data where an
// object should be as damage. go-git says only EOF there, which a fetch
// cut short by the network says too: only here does it mean a damaged
// cache. It is how the cache's objects are read; it still writes packs
// (storer.PackfileWriter).
type cacheObjects struct{ *filesystem.Storage }

func (c cacheObjects) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	o, err := c.Storage.EncodedObject(t, h)
	return o, damaged(err)
}

func (c cacheObjects) EncodedObjectSize(h plumbing.Hash) (int64, error) {
	n, err := c.Storage.EncodedObjectSize(h)
	return n, damaged(err)
}

func damaged(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return damagedError{err}
	}
	return err
}

// shape counts the cache's packs and estimates its loose objects as
// `git gc --auto` does: those in one of the 256 folders git spreads them
// over, times 256. Counting them all reads up to 257 folders, tens of
// milliseconds on every publish once pushes have left a few thousand.
func (r *Repo) shape() (packs, loose int, err error) {
	hs, err := r.st.ObjectPacks()
	if err != nil {
		return 0, 0, err
	}
	entries, err := os.ReadDir(filepath.Join(r.dir, "objects", "17"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, 0, err
	}
	for _, e := range entries {
		if len(e.Name()) == 2*len(plumbing.ZeroHash)-2 && e.Type().IsRegular() {
			loose++
		}
	}
	return len(hs), loose * 256, nil
}

// Maintain repacks the cache into one pack once fetches (one pack each) and
// pushes (loose objects) have piled up past the Store's thresholds,
// dropping objects no ref reaches (a push that failed). It reports whether
// it ran.
func (r *Repo) Maintain() (bool, error) {
	packs, loose, err := r.shape()
	if err != nil {
		return false, fmt.Errorf("inspect repository cache: %w", err)
	}
	if packs <= r.store.maxPacks && loose <= r.store.maxLoose {
		return false, nil
	}
	repo, err := git.Open(r.st, nil)
	if err != nil {
		return false, fmt.Errorf("open repository cache: %w", err)
	}
	if err := repo.RepackObjects(&git.RepackConfig{}); err != nil {
		return false, fmt.Errorf("repack repository cache: %w", err)
	}
	// Every reachable object is in the new pack now; loose copies and
	// unreachable objects go.
	var hs []plumbing.Hash
	if err := r.st.ForEachObjectHash(func(h plumbing.Hash) error {
		hs = append(hs, h)
		return nil
	}); err != nil {
		return false, fmt.Errorf("list loose objects: %w", err)
	}
	for _, h := range hs {
		if err := r.st.DeleteLooseObject(h); err != nil {
			return false, fmt.Errorf("delete loose object: %w", err)
		}
	}
	return true, nil
}
