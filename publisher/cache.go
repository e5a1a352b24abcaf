package publisher

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

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// repoCache is one bare repository in the data dir mirroring the refs of one
// remote that publishbot needs. Only objects it lacks are fetched. It is not
// safe for concurrent use: the Publisher holds the repository's lock.
type repoCache struct {
	dir string
	url string
	st  *filesystem.Storage
}

// tracking is where a remote ref is kept locally: refs/heads/main →
// refs/remotes/origin/heads/main, refs/pull/3/head → refs/remotes/origin/pull/3/head.
func tracking(remote plumbing.ReferenceName) plumbing.ReferenceName {
	return plumbing.ReferenceName("refs/remotes/origin/" + strings.TrimPrefix(string(remote), "refs/"))
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// cacheDir names the cache of one remote: readable, and unique per URL.
func cacheDir(dataDir, fullName, url string) string {
	sum := sha256.Sum256([]byte(url))
	name := unsafeChars.ReplaceAllString(fullName, "_")
	if name == "" || strings.Trim(name, "._") == "" {
		name = "repo"
	}
	return filepath.Join(dataDir, "repos", truncate(name, 80)+"-"+hex.EncodeToString(sum[:6])+".git")
}

// openCache opens (creating it if needed) the cache of one remote. objects
// caches decoded objects; objects are content-addressed, so one cache can
// serve every repository and outlive the job (nil: a private one).
func openCache(dataDir, fullName, url string, objects cache.Object) (*repoCache, error) {
	dir := cacheDir(dataDir, fullName, strings.TrimSpace(url))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create repository cache: %w", err)
	}
	if objects == nil {
		objects = cache.NewObjectLRU(64 * cache.MiByte)
	}
	st := filesystem.NewStorageWithOptions(osfs.New(dir), objects,
		filesystem.Options{MaxOpenDescriptors: 16})
	if _, err := os.Stat(filepath.Join(dir, "config")); errors.Is(err, os.ErrNotExist) {
		if _, err := git.Init(st, nil); err != nil && !errors.Is(err, git.ErrRepositoryAlreadyExists) {
			return nil, fmt.Errorf("init repository cache: %w", err)
		}
	}
	return &repoCache{dir: dir, url: url, st: st}, nil
}

func (c *repoCache) close() error { return c.st.Close() }

// remoteState is what the remote advertised.
type remoteState struct {
	refs map[plumbing.ReferenceName]plumbing.Hash
	head plumbing.ReferenceName // what HEAD points at, "" when not advertised
}

func (r remoteState) hash(name plumbing.ReferenceName) (plumbing.Hash, bool) {
	h, ok := r.refs[name]
	return h, ok
}

func (c *repoCache) endpoint() (*transport.Endpoint, transport.Transport, error) {
	ep, err := transport.NewEndpoint(c.url)
	if err != nil {
		return nil, nil, fmt.Errorf("parse repository URL: %w", err)
	}
	// Only smart HTTP: go-git's file:// and ssh transports would run a git
	// program or use the machine's keys, and nothing a payload names may do that.
	if ep.Protocol != "https" && ep.Protocol != "http" {
		return nil, nil, permanent(fmt.Errorf("repository URL scheme %q is not supported: use https", ep.Protocol))
	}
	if ep.User != "" || ep.Password != "" {
		return nil, nil, permanent(errors.New("repository URL must not carry credentials"))
	}
	cl, err := client.NewClient(ep)
	if err != nil {
		return nil, nil, fmt.Errorf("repository URL: %w", err)
	}
	return ep, cl, nil
}

func advState(ar *packp.AdvRefs) (remoteState, error) {
	st := remoteState{refs: map[plumbing.ReferenceName]plumbing.Hash{}}
	for name, h := range ar.References {
		st.refs[plumbing.ReferenceName(name)] = h
	}
	for _, v := range ar.Capabilities.Get(capability.SymRef) {
		if src, dst, ok := strings.Cut(v, ":"); ok && src == "HEAD" {
			st.head = plumbing.ReferenceName(dst)
		}
	}
	return st, nil
}

// fetch asks the remote for its refs and downloads the objects of the
// wanted ones that are missing here, in one negotiation: the local copies of
// the remote's refs are offered as haves, so only new objects come. Wanted
// refs the remote does not have are not an error: the returned state says
// which exist. Tracking refs are updated for the wanted refs.
func (c *repoCache) fetch(ctx context.Context, auth transport.AuthMethod, wanted ...plumbing.ReferenceName) (remoteState, int64, error) {
	ep, cl, err := c.endpoint()
	if err != nil {
		return remoteState{}, 0, err
	}
	sess, err := cl.NewUploadPackSession(ep, auth)
	if err != nil {
		return remoteState{}, 0, fmt.Errorf("connect: %w", err)
	}
	defer sess.Close()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		return remoteState{}, 0, fmt.Errorf("list remote refs: %w", err)
	}
	state, err := advState(ar)
	if err != nil {
		return remoteState{}, 0, err
	}
	var wants []plumbing.Hash
	seen := map[plumbing.Hash]bool{}
	for _, name := range wanted {
		h, ok := state.refs[name]
		if !ok || seen[h] {
			continue
		}
		seen[h] = true
		if c.st.HasEncodedObject(h) != nil {
			wants = append(wants, h)
		}
	}
	var received int64
	if len(wants) > 0 {
		req := packp.NewUploadPackRequestFromCapabilities(ar.Capabilities)
		if ar.Capabilities.Supports(capability.NoProgress) {
			_ = req.Capabilities.Set(capability.NoProgress)
		}
		req.Wants = wants
		haves, err := c.haves()
		if err != nil {
			return remoteState{}, 0, err
		}
		req.Haves = haves
		reader, err := sess.UploadPack(ctx, req)
		if err != nil {
			return remoteState{}, 0, fmt.Errorf("fetch objects: %w", err)
		}
		var r io.Reader = reader
		switch {
		case req.Capabilities.Supports(capability.Sideband64k):
			r = sideband.NewDemuxer(sideband.Sideband64k, reader)
		case req.Capabilities.Supports(capability.Sideband):
			r = sideband.NewDemuxer(sideband.Sideband, reader)
		}
		cr := &countReader{r: r}
		err = packfile.UpdateObjectStorage(c.st, cr)
		reader.Close()
		if err != nil {
			return remoteState{}, 0, fmt.Errorf("store fetched objects: %w", err)
		}
		received = cr.n
	}
	for _, name := range wanted {
		h, ok := state.refs[name]
		if !ok {
			_ = c.st.RemoveReference(tracking(name))
			continue
		}
		if err := c.st.SetReference(plumbing.NewHashReference(tracking(name), h)); err != nil {
			return remoteState{}, 0, fmt.Errorf("update %s: %w", tracking(name), err)
		}
	}
	return state, received, nil
}

// haves are the commits of every local tracking ref: the remote sends what
// is reachable from the wants and not from these.
func (c *repoCache) haves() ([]plumbing.Hash, error) {
	iter, err := c.st.IterReferences()
	if err != nil {
		return nil, fmt.Errorf("list local refs: %w", err)
	}
	seen := map[plumbing.Hash]bool{}
	var out []plumbing.Hash
	err = iter.ForEach(func(r *plumbing.Reference) error {
		if r.Type() != plumbing.HashReference || !strings.HasPrefix(string(r.Name()), "refs/remotes/origin/") {
			return nil
		}
		if !seen[r.Hash()] && c.st.HasEncodedObject(r.Hash()) == nil {
			seen[r.Hash()] = true
			out = append(out, r.Hash())
		}
		return nil
	})
	return out, err
}

type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return len(p), nil
	}
	q := p
	if len(q) > l.n {
		q = q[:l.n]
	}
	l.n -= len(q)
	_, _ = l.w.Write(q)
	return len(p), nil
}

// remoteMessage is the server's side-band text on one line.
func remoteMessage(s string) string {
	var lines []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
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

// errConflict: the remote ref moved since we read it. Its text matches
// go-git's own non-fast-forward error so one check covers both.
var errConflict = errors.New("non-fast-forward update: the pages branch moved")

// push moves ref on the remote from old (zero: create) to new, sending
// objects (the objects the remote may lack). It fails with an error matching
// isConflict when the remote ref is no longer at old.
func (c *repoCache) push(ctx context.Context, auth transport.AuthMethod, ref plumbing.ReferenceName, old, new plumbing.Hash, objects []plumbing.Hash, bases map[plumbing.Hash]plumbing.Hash) (err error) {
	ep, cl, err := c.endpoint()
	if err != nil {
		return err
	}
	sess, err := cl.NewReceivePackSession(ep, auth)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		if cerr := sess.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		return fmt.Errorf("list remote refs: %w", err)
	}
	current := ar.References[string(ref)]
	if current != old {
		return fmt.Errorf("push %s: %w", ref, errConflict)
	}
	req := packp.NewReferenceUpdateRequestFromCapabilities(ar.Capabilities)
	req.Commands = []*packp.Command{{Name: ref, Old: old, New: new}}
	// The server's messages (a hook's output) come on the side band; keep
	// them for the error.
	var remoteMsg strings.Builder
	if ar.Capabilities.Supports(capability.Sideband64k) {
		_ = req.Capabilities.Set(capability.Sideband64k)
		req.Progress = &limitedWriter{w: &remoteMsg, n: 2048}
	} else if ar.Capabilities.Supports(capability.Sideband) {
		_ = req.Capabilities.Set(capability.Sideband)
		req.Progress = &limitedWriter{w: &remoteMsg, n: 2048}
	}
	rd, wr := io.Pipe()
	req.Packfile = rd
	done := make(chan error, 1)
	thin := len(bases) > 0 && !old.IsZero() && !ar.Capabilities.Supports(capability.Capability("no-thin"))
	go func() {
		if thin {
			// Deltas against what the remote has at the same paths.
			if err := writeThinPack(wr, c.st, objects, bases); err != nil {
				done <- wr.CloseWithError(err)
				return
			}
			done <- wr.Close()
			return
		}
		// A new branch: deltas between the objects of the pack.
		enc := packfile.NewEncoder(wr, c.st, !ar.Capabilities.Supports(capability.OFSDelta))
		if _, err := enc.Encode(objects, 10); err != nil {
			done <- wr.CloseWithError(err)
			return
		}
		done <- wr.Close()
	}()
	rs, err := sess.ReceivePack(ctx, req)
	if err == nil && rs != nil {
		err = rs.Error()
	}
	if err != nil {
		_ = rd.Close()
		<-done
		if m := remoteMessage(remoteMsg.String()); m != "" {
			return fmt.Errorf("push %s: %w (server said: %s)", ref, err, m)
		}
		return fmt.Errorf("push %s: %w", ref, err)
	}
	if err := <-done; err != nil {
		return fmt.Errorf("push %s: write pack: %w", ref, err)
	}
	if err := c.st.SetReference(plumbing.NewHashReference(tracking(ref), new)); err != nil {
		return fmt.Errorf("update %s: %w", tracking(ref), err)
	}
	return nil
}

// isConflict says whether a push failed because the remote ref moved, in any
// of the ways go-git or git's receive-pack say so.
func isConflict(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, errConflict) || errors.Is(err, git.ErrNonFastForwardUpdate) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"non-fast-forward", "fetch first", "failed to update ref", "cannot lock ref", "failed to lock", "stale info", "required to be"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// isRejected says whether the server refused the push for a reason a retry
// cannot change (a hook, a protected branch).
func isRejected(err error) bool {
	if err == nil || isConflict(err) {
		return false
	}
	msg := err.Error()
	for _, s := range []string{"hook declined", "protected branch", "denied", "refusing"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

var _ storer.EncodedObjectStorer = (*filesystem.Storage)(nil)

// cacheShape counts the cache's packs and loose objects.
func (c *repoCache) shape() (packs, loose int, err error) {
	hs, err := c.st.ObjectPacks()
	if err != nil {
		return 0, 0, err
	}
	err = c.st.ForEachObjectHash(func(plumbing.Hash) error {
		loose++
		return nil
	})
	return len(hs), loose, err
}

// maintain repacks the cache into one pack once fetches (one pack each) and
// publishes (loose objects) have piled up past the thresholds, dropping
// objects no ref reaches (a push that failed). It reports whether it ran.
func (c *repoCache) maintain(maxPacks, maxLoose int) (bool, error) {
	packs, loose, err := c.shape()
	if err != nil {
		return false, fmt.Errorf("inspect repository cache: %w", err)
	}
	if packs <= maxPacks && loose <= maxLoose {
		return false, nil
	}
	r, err := git.Open(c.st, nil)
	if err != nil {
		return false, fmt.Errorf("open repository cache: %w", err)
	}
	if err := r.RepackObjects(&git.RepackConfig{}); err != nil {
		return false, fmt.Errorf("repack repository cache: %w", err)
	}
	// Every reachable object is in the new pack now; loose copies and
	// unreachable objects go.
	var hs []plumbing.Hash
	if err := c.st.ForEachObjectHash(func(h plumbing.Hash) error {
		hs = append(hs, h)
		return nil
	}); err != nil {
		return false, fmt.Errorf("list loose objects: %w", err)
	}
	for _, h := range hs {
		if err := c.st.DeleteLooseObject(h); err != nil {
			return false, fmt.Errorf("delete loose object: %w", err)
		}
	}
	return true, nil
}
