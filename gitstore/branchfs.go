package gitstore

import (
	"fmt"
	"io/fs"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// BranchFS is the tree of a branch's head in the git repository at dir (bare
// or not), read straight from git objects as an fs.FS: symbolic links are
// reported and never followed. It also returns the head commit: a web
// server can serve a branch with it, as GitHub Pages would.
func BranchFS(dir, branch string) (fs.FS, string, error) {
	repo, err := git.PlainOpen(dir)
	if err != nil {
		return nil, "", fmt.Errorf("open repository %s: %w", dir, err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		return nil, "", fmt.Errorf("resolve branch %s: %w", branch, err)
	}
	commit, err := repo.CommitObject(ref.Hash())
	if err != nil {
		return nil, "", fmt.Errorf("read commit %s: %w", ref.Hash(), err)
	}
	return newTreeFS(repo.Storer, commit.TreeHash, 0, nil), commit.Hash.String(), nil
}
