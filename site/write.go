package site

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Manifest is the file in an output folder that lists what the last Write
// wrote there: the next Write removes those files it no longer makes, and
// refuses to write into a non-empty folder without one.
const Manifest = ".publishbot-build"

// Write writes files (keyed by slash-separated site-relative path) into the
// folder dir, creating it, and removes the files a previous Write put there
// that this one does not. It only ever touches dir's tree (through an
// os.Root, so no symlink leads out), and refuses a non-empty folder that
// holds no previous build. It reports how many files it wrote and removed.
//
// Files are written in parallel. Write checks ctx before each file and
// returns an error wrapping ctx.Err() once it ends, with no goroutine left
// running; the manifest then lists every file this or the previous Write
// may have left, so the next Write still cleans them up.
func Write(ctx context.Context, dir string, files map[string][]byte) (written, removed int, err error) {
	return WriteKeeping(ctx, dir, files, nil)
}

// WriteKeeping is Write of an incremental build (LastBuild): the files
// kept (Output.Kept) are in dir already, as the last Write put them, and
// stay there as they are — neither written nor removed, and listed in the
// manifest with the files written.
func WriteKeeping(ctx context.Context, dir string, files map[string][]byte, kept []string) (written, removed int, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, 0, fmt.Errorf("create output folder: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0, 0, fmt.Errorf("open output folder: %w", err)
	}
	defer root.Close()

	previous, err := readManifest(root, dir)
	if err != nil {
		return 0, 0, err
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		if !fs.ValidPath(p) || p == "." || p == Manifest {
			return 0, 0, fmt.Errorf("write %s: invalid output path", p)
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	keep := make(map[string]bool, len(kept))
	for _, p := range kept {
		if _, made := files[p]; made || !fs.ValidPath(p) || p == "." || p == Manifest {
			return 0, 0, fmt.Errorf("keep %s: invalid output path", p)
		}
		keep[p] = true
	}

	// stale files first, so a file may become a folder and back
	var staleDirs []string
	for _, p := range previous {
		if _, ok := files[p]; ok || keep[p] {
			continue
		}
		if err := root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, removed, fmt.Errorf("remove stale %s: %w", p, err)
		}
		removed++
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			staleDirs = append(staleDirs, d)
		}
	}
	sort.Slice(staleDirs, func(i, j int) bool { return len(staleDirs[i]) > len(staleDirs[j]) })
	for _, d := range staleDirs {
		root.Remove(d) // only succeeds when empty; a folder still in use stays
	}

	made := map[string]bool{}
	for _, p := range paths {
		if d := path.Dir(p); d != "." && !made[d] {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return 0, removed, fmt.Errorf("create %s: %w", d, err)
			}
			for ; d != "."; d = path.Dir(d) {
				made[d] = true
			}
		}
	}

	if err := writeFiles(ctx, root, paths, files); err != nil {
		// Some of paths may be written: list them with what the previous
		// build left, so that the next build removes what it does not make.
		all := slices.Compact(slices.Sorted(slices.Values(append(append(slices.Clone(paths), previous...), kept...))))
		writeManifest(root, all)
		return 0, removed, err
	}
	all := paths
	if len(kept) > 0 {
		all = slices.Sorted(slices.Values(append(slices.Clone(paths), kept...)))
	}
	if err := writeManifest(root, all); err != nil {
		return len(paths), removed, err
	}
	return len(paths), removed, nil
}

// writeFiles writes paths on 2×GOMAXPROCS goroutines and returns the first
// error, or ctx's once it ends, when all of them have stopped.
func writeFiles(ctx context.Context, root *os.Root, paths []string, files map[string][]byte) error {
	workers := 2 * runtime.GOMAXPROCS(0)
	jobs := make(chan string, workers)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				if ctx.Err() != nil {
					continue // drain
				}
				if err := root.WriteFile(p, files[p], 0o644); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("write %s: %w", p, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, p := range paths {
		if ctx.Err() != nil {
			break
		}
		jobs <- p
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	return firstErr
}

func writeManifest(root *os.Root, paths []string) error {
	var m bytes.Buffer
	m.WriteString("# Written by publishbot build; the next build removes these files when it no longer makes them.\n")
	for _, p := range paths {
		m.WriteString(p)
		m.WriteByte('\n')
	}
	if err := root.WriteFile(Manifest, m.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", Manifest, err)
	}
	return nil
}

// readManifest returns the files the previous build wrote, nil for an
// empty folder, and an error for a non-empty folder that no build made.
func readManifest(root *os.Root, dir string) ([]string, error) {
	data, err := root.ReadFile(Manifest)
	if errors.Is(err, fs.ErrNotExist) {
		f, err := root.Open(".")
		if err != nil {
			return nil, fmt.Errorf("read output folder: %w", err)
		}
		names, err := f.Readdirnames(1)
		f.Close()
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read output folder: %w", err)
		}
		if len(names) > 0 {
			return nil, fmt.Errorf("refusing to write into %s: the folder is not empty and holds no previous build (no %s file); choose an empty or new folder", dir, Manifest)
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", Manifest, err)
	}
	var list []string
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !fs.ValidPath(line) || line == "." || line == Manifest {
			return nil, fmt.Errorf("read %s: invalid path %q", Manifest, line)
		}
		list = append(list, line)
	}
	return list, nil
}
