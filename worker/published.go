package worker

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/publishbot/publishbot/queue"
)

// Published is one repository the bot has published: the reconciler checks
// it for drift.
type Published struct {
	Repo    queue.Repo `json:"repo"`
	Ref     string     `json:"ref"`     // the source branch it published, "refs/heads/main"
	Updated time.Time  `json:"updated"` // the last publish recorded
}

// PublishedRepos is the set of published repositories the worker adds to
// and the reconciler reads: a file in the data dir for one process
// (PublishedSet), or a store every replica shares.
type PublishedRepos interface {
	// Add records that ref of repo was published.
	Add(repo queue.Repo, ref string) error
	// List returns the set, sorted by repository name.
	List() []Published
}

var _ PublishedRepos = (*PublishedSet)(nil)

// PublishedSet is the set of repositories the bot has published, kept in a
// JSON file (in the data dir) so that it survives restarts. It is safe for
// concurrent use.
type PublishedSet struct {
	path string
	now  func() time.Time

	mu    sync.Mutex
	repos map[string]Published // by full name
}

// OpenPublishedSet loads the set stored at path; a missing file is an empty
// set. A file that is not valid JSON is an error, never silently reset.
func OpenPublishedSet(path string, now func() time.Time) (*PublishedSet, error) {
	if now == nil {
		now = time.Now
	}
	s := &PublishedSet{path: path, now: now, repos: map[string]Published{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read published repositories: %w", err)
	}
	var list []Published
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("read published repositories %s: %w", path, err)
	}
	for _, p := range list {
		if p.Repo.FullName != "" {
			s.repos[p.Repo.FullName] = p
		}
	}
	return s, nil
}

// Add records that ref of repo was published and saves the set when it
// changed (the first publish, a new clone URL or branch). Later publishes
// of the same repository and branch do not touch the disk.
func (s *PublishedSet) Add(repo queue.Repo, ref string) error {
	if repo.FullName == "" {
		return errors.New("record published repository: no name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.repos[repo.FullName]; ok && old.Repo == repo && old.Ref == ref {
		return nil
	}
	prev, had := s.repos[repo.FullName]
	s.repos[repo.FullName] = Published{Repo: repo, Ref: ref, Updated: s.now().UTC()}
	if err := s.save(); err != nil {
		if had {
			s.repos[repo.FullName] = prev
		} else {
			delete(s.repos, repo.FullName)
		}
		return err
	}
	return nil
}

// List returns the set, sorted by repository name.
func (s *PublishedSet) List() []Published {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listLocked()
}

func (s *PublishedSet) listLocked() []Published {
	list := make([]Published, 0, len(s.repos))
	for _, p := range s.repos {
		list = append(list, p)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Repo.FullName < list[j].Repo.FullName })
	return list
}

// save writes the set atomically: a temporary file, synced, renamed.
func (s *PublishedSet) save() error {
	b, err := json.MarshalIndent(s.listLocked(), "", "  ")
	if err != nil {
		return fmt.Errorf("save published repositories: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".published-*.json")
	if err != nil {
		return fmt.Errorf("save published repositories: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save published repositories: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save published repositories: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save published repositories: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("save published repositories: %w", err)
	}
	return nil
}
