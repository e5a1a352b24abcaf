package gitstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/trace"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// ErrNoChange, returned by an Update's Build, stops the update without a
// commit: there is nothing to change.
var ErrNoChange = errors.New("nothing to change")

// Signature names the author and committer of a commit.
type Signature struct {
	Name, Email string
	When        time.Time
}

// Update is a new commit on a branch, made by Build on top of the branch's
// head and pushed without force.
type Update struct {
	Branch  string // the branch's short name, "main"
	Head    string // the head Build starts from, as last fetched; "" when the branch does not exist yet
	Message string
	Author  Signature // also the committer; the time is truncated to the second
	// Build makes the new tree from the head's (see Tree). It runs once
	// per attempt, each time on the head the branch has then. It returns
	// ErrNoChange to stop without a commit; any other error stops the
	// update and Push returns it as is.
	Build func(t *Tree) error
	// Retry, when not nil, is told that attempt failed because the branch
	// moved, before Push waits, fetches the new head and builds again.
	Retry func(attempt int, err error)
	// Written, when not nil, is told each attempt's new commit once it and
	// everything it holds are in the repository cache, while the push
	// runs: what needs only the cache (a record of the build) can be done
	// meanwhile. Push does not wait for it.
	Written func(commit string)
}

// Pushed is what Push did.
type Pushed struct {
	// Commit is the branch's head afterwards: the new commit, or the head
	// when nothing changed ("" when there is no branch).
	Commit  string
	Changed bool // a new commit was pushed
	// Attempts counts the pushes tried.
	Attempts int
	// Written counts objects stored in the cache over all attempts; Sent
	// counts the objects of the last attempt's pack.
	Written, Sent int
	// Write is the time spent in Build and writing objects, Push the time
	// spent pushing and Fetch the time spent fetching new heads after
	// conflicts, over all attempts.
	Write, Push, Fetch time.Duration
}

// Push builds u's tree on the branch head, commits it and pushes it
// without force. When the branch moved meanwhile it fetches the new head
// and builds again on it, up to Limits.PushAttempts times with jittered
// backoff. A tree identical to the head's makes no commit (Changed is
// false). Errors name the branch and the remote and wrap ErrPermanent when
// a retry cannot help (a hook or a protection rejected the push); giving up
// on a branch that kept moving is not permanent.
func (r *Repo) Push(ctx context.Context, u Update) (Pushed, error) {
	var out Pushed
	ref := plumbing.NewBranchReferenceName(u.Branch)
	head := plumbing.ZeroHash
	if u.Head != "" {
		var ok bool
		if head, ok = parseHash(u.Head); !ok {
			return out, fmt.Errorf("push to %s of %s: head %q is not a commit name", u.Branch, r.name, u.Head)
		}
	}
	sig := object.Signature{Name: u.Author.Name, Email: u.Author.Email, When: u.Author.When.UTC().Truncate(time.Second)}
	for attempt := 1; ; attempt++ {
		out.Attempts = attempt
		start := time.Now()
		w := &treeWriter{s: r.objects}
		commit, err := r.buildCommit(ctx, w, head, u, sig)
		if err != nil {
			return out, err
		}
		if commit.IsZero() {
			out.Commit = hashText(head)
			return out, nil
		}
		if u.Written != nil {
			u.Written(commit.String())
		}
		out.Write += time.Since(start)
		objs := w.pushList()
		out.Written += w.written
		out.Sent = len(objs)
		start = time.Now()
		trace.WithRegion(ctx, "gitstore.send", func() { err = r.send(ctx, w.stagedOver(r.objects), ref, head, commit, objs, w.bases, w.packed) })
		out.Push += time.Since(start)
		if err == nil {
			out.Commit, out.Changed = commit.String(), true
			return out, nil
		}
		if !isConflict(err) {
			return out, classify(fmt.Errorf("push to %s of %s: %w", u.Branch, r.name, r.explain(err)))
		}
		if attempt >= r.store.limits.PushAttempts {
			return out, fmt.Errorf("push to %s of %s: the branch kept moving, gave up after %d attempts: %w", u.Branch, r.name, attempt, err)
		}
		if u.Retry != nil {
			u.Retry(attempt, err)
		}
		t0 := time.NewTimer(r.store.backoff(attempt + 1))
		select {
		case <-ctx.Done():
			t0.Stop()
			return out, fmt.Errorf("push to %s: %w", u.Branch, ctx.Err())
		case <-t0.C:
		}
		start = time.Now()
		refs, err := r.Fetch(ctx, string(ref))
		out.Fetch += time.Since(start)
		if err != nil {
			return out, err
		}
		head = refs.refs[ref]
	}
}

// buildCommit builds u's tree on head with w, stores its new objects and
// writes its commit; zero when the tree is head's (ErrNoChange, or the
// same tree).
func (r *Repo) buildCommit(ctx context.Context, w *treeWriter, head plumbing.Hash, u Update, sig object.Signature) (plumbing.Hash, error) {
	defer trace.StartRegion(ctx, "gitstore.write").End()
	t, err := r.startTree(w, head)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	err = u.Build(t)
	if errors.Is(err, ErrNoChange) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	t.resolveLikes()
	tree, err := w.writeRoot(t.root, t.old)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if t.old != nil && tree == t.old.Hash {
		return plumbing.ZeroHash, nil
	}
	c := &object.Commit{Author: sig, Committer: sig, Message: u.Message, TreeHash: tree}
	if !head.IsZero() {
		c.ParentHashes = []plumbing.Hash{head}
	}
	commit, err := w.writeCommit(c)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return commit, w.flush()
}

// startTree is the tree Build starts from: the head's, or an empty one.
func (r *Repo) startTree(w *treeWriter, head plumbing.Hash) (*Tree, error) {
	t := &Tree{w: w, head: hashText(head)}
	if !head.IsZero() {
		hc, err := object.GetCommit(r.objects, head)
		if err != nil {
			return nil, fmt.Errorf("read head %s: %w", head, err)
		}
		if t.old, err = hc.Tree(); err != nil {
			return nil, fmt.Errorf("read the tree of %s: %w", head, err)
		}
	}
	t.root = keptDir(t.old)
	return t, nil
}

func hashText(h plumbing.Hash) string {
	if h.IsZero() {
		return ""
	}
	return h.String()
}

// limitedWriter keeps the first n bytes written to it and drops the rest
// without failing.
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

// errConflict: the remote ref moved since we read it. Its text matches
// go-git's own non-fast-forward error so one check covers both.
var errConflict = errors.New("non-fast-forward update: the branch moved")

// send moves ref on the remote from old (zero: create) to new, sending
// objects (the objects the remote may lack). It fails with an error matching
// isConflict when the remote ref is no longer at old.
func (r *Repo) send(ctx context.Context, objs storer.EncodedObjectStorer, ref plumbing.ReferenceName, old, new plumbing.Hash, objects []plumbing.Hash, bases map[plumbing.Hash]plumbing.Hash, packed *packedEntries) (err error) {
	ep, cl, err := r.endpoint()
	if err != nil {
		return err
	}
	sess, err := cl.NewReceivePackSession(ep, nil)
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
			if err := writeThinPack(wr, objs, objects, bases, packed); err != nil {
				done <- wr.CloseWithError(err)
				return
			}
			done <- wr.Close()
			return
		}
		// A new branch: deltas between the objects of the pack (see
		// writeNewPack).
		if err := writeNewPack(wr, objs, objects, ar.Capabilities.Supports(capability.OFSDelta)); err != nil {
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
	if err := r.st.SetReference(plumbing.NewHashReference(tracking(ref), new)); err != nil {
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
