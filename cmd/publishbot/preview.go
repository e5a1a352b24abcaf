package main

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/publishbot/publishbot/preview"
)

const previewUsage = "usage: publishbot preview [--addr 127.0.0.1:1313] [--drafts=true] [--future=true] [--cache-dir DIR|off] [DIR]\n"

// runPreview is `publishbot preview`: listen, build, serve and rebuild on
// change until ctx ends (see package preview).
func runPreview(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("preview", previewUsage, stderr)
	addr := fs.String("addr", "127.0.0.1:1313", "listen `address`")
	drafts := fs.Bool("drafts", true, "show draft posts (marked)")
	future := fs.Bool("future", true, "show future-dated posts (marked)")
	cacheDir := cacheDirFlag(fs)
	dir, err := parseFolderArgs(fs, args)
	if err != nil {
		return err
	}
	cdir, err := buildCacheDir(*cacheDir, dir)
	if err != nil {
		return usageError("preview: %w", err)
	}
	cacheMax, err := buildCacheMB(getenv)
	if err != nil {
		return usageError("preview: %w", err)
	}
	cache := openBuildCache(cdir, cacheMax, cliLog(stderr))
	if cache != nil {
		defer cache.Close()
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("preview: listen: %w", err)
	}
	p, err := preview.New(ctx, ln, preview.Options{Dir: dir, Drafts: *drafts, Future: *future, Log: stderr, Cache: previewCache(cache),
		Images: previewImages(getenv, cliLog(stderr))})
	if err != nil {
		ln.Close()
		return fmt.Errorf("preview: %w", err)
	}
	fmt.Fprintf(stdout, "serving %s at %s\n", dir, p.URL())
	if err := p.Run(ctx); err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	return nil
}
