// Package gitstore owns git storage and transport: one cached bare
// repository per remote in a folder, filled over smart HTTP with only the
// objects it lacks; commits read with their trees as an fs.FS; new trees
// written from changes on top of a branch head, committed and pushed without
// force, and built again on the new head when the branch moved meanwhile.
//
// It never runs a git program, never follows a symbolic link in a tree,
// never puts a credential in a URL and speaks only http(s). It knows nothing
// about what the files it stores mean.
package gitstore

import (
	"compress/zlib"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
	"github.com/go-git/go-git/v5/plumbing/format/objfile"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/sirupsen/logrus"
)

// ErrPermanent marks a failure that retrying the same operation cannot fix:
// a refused credential (401, 403), a missing repository (404), a URL this
// package does not speak, a push that a server hook or a branch protection
// rejected, an exceeded Limits. Find it with errors.Is.
var ErrPermanent = errors.New("permanent git failure")

// final marks err with ErrPermanent, keeping its text and its chain.
type final struct{ error }

func (e final) Unwrap() error        { return e.error }
func (e final) Is(target error) bool { return target == ErrPermanent }

// classify marks the transport failures that a retry cannot fix.
func classify(err error) error {
	switch {
	case err == nil, errors.Is(err, ErrPermanent):
		return err
	case errors.Is(err, transport.ErrAuthenticationRequired),
		errors.Is(err, transport.ErrAuthorizationFailed),
		errors.Is(err, transport.ErrRepositoryNotFound),
		errors.Is(err, transport.ErrInvalidAuthMethod),
		isRejected(err):
		return final{err}
	}
	return err
}

// IsCorrupt says whether err comes from damaged objects in a cache (a crash
// mid-write, a disk fault) rather than from the remote or the caller: the
// cache is only a copy, so Discard it and fetch again.
func IsCorrupt(err error) bool {
	if err == nil || errors.Is(err, ErrPermanent) {
		return false
	}
	for _, target := range []error{
		errDamaged, plumbing.ErrObjectNotFound, objfile.ErrHeader, objfile.ErrNegativeSize,
		packfile.ErrMalformedPackFile, packfile.ErrInvalidDelta, packfile.ErrReferenceDeltaNotFound,
		idxfile.ErrMalformedIdxFile, zlib.ErrChecksum, zlib.ErrHeader,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// Options configure a Store. Dir is required.
type Options struct {
	// Dir holds the caches, one bare repository per remote; it is created
	// when missing.
	Dir string
	// Limits bound the trees CheckTree accepts, the files a tree reads and
	// the push attempts; zero fields take DefaultLimits.
	Limits Limits
	// Backoff is the wait before push attempt n (n ≥ 2); nil means a
	// jittered wait from 50 ms, doubling up to 1.6 s.
	Backoff func(attempt int) time.Duration
	// GitBase is the one git host a Remote's token may be sent to
	// (gitauth.ParseBase): each request carries the token only when
	// gitauth.CredentialsAllowed allows its URL for this base, so neither a
	// redirect nor a Remote URL on another host (an old job's) gets it. Nil
	// means each Remote's own URL's scheme, host and port.
	GitBase *url.URL
	// MaxPacks and MaxLoose: past this many packs or loose objects,
	// Repo.Maintain repacks a cache; zero means 64 and 8,192. Loose
	// objects are estimated as `git gc --auto` does (see Repo.shape).
	MaxPacks, MaxLoose int
	// Log, when not nil, is told of a damaged cache file the Store
	// discards and of one it cannot write; nil says nothing.
	Log *logrus.Entry
}

// Store is a folder of repository caches. Its decoded-object cache and
// its facts about objects (blob sizes, tree summaries; kept in the folder
// for the next process) are shared by every repository it opens. It is
// safe for concurrent use, and several processes may share its folder as
// long as each remote's cache is used by one at a time; each Repo it opens
// is not safe for concurrent use (see Repo).
type Store struct {
	dir                string
	limits             Limits
	backoff            func(attempt int) time.Duration
	maxPacks, maxLoose int
	gitBase            *url.URL

	facts   *objectFacts // blob sizes and tree summaries: content-addressed, so shared by all repositories
	objects cache.Object // decoded objects: content-addressed, so shared by all repositories
}

// New checks opts, creates Dir and returns a Store.
func New(opts Options) (*Store, error) {
	if opts.Dir == "" {
		return nil, errors.New("gitstore: options: dir is required")
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("gitstore: create %s: %w", opts.Dir, err)
	}
	s := &Store{
		dir:      opts.Dir,
		limits:   opts.Limits.withDefaults(),
		backoff:  opts.Backoff,
		maxPacks: opts.MaxPacks,
		maxLoose: opts.MaxLoose,
		gitBase:  opts.GitBase,
		facts:    newObjectFacts(filepath.Join(opts.Dir, factsFile), opts.Log),
		objects:  cache.NewObjectLRU(128 * cache.MiByte),
	}
	if s.backoff == nil {
		s.backoff = func(n int) time.Duration {
			base := 50 * time.Millisecond << min(n-2, 5)
			return base/2 + rand.N(base)
		}
	}
	if s.maxPacks <= 0 {
		s.maxPacks = 64
	}
	if s.maxLoose <= 0 {
		s.maxLoose = 8192
	}
	return s, nil
}

// TokenUser is the HTTP basic auth user name a Remote's token goes with,
// as GitHub takes installation and personal tokens over HTTPS.
const TokenUser = "x-access-token"

// Remote names a remote repository and how to reach it.
type Remote struct {
	Name  string // "owner/name": names the cache's folder and errors
	URL   string // the http(s) clone URL; it must not carry credentials
	Token string // the password of HTTP basic auth with user TokenUser; "" for anonymous
}
