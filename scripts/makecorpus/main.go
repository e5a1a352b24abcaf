// Command makecorpus writes the benchmark blogs of issue 13 (1,000, 6,629
// and 20,000 posts) from the shared Rust blog corpus into folders, and
// makes each a git repository with one commit, as a content repository is:
//
//	go run ./scripts/makecorpus -o /tmp/corpus 1000 6629 20000
//
// writes /tmp/corpus/posts-1000, /tmp/corpus/posts-6629, ... It is a tool
// for benchmarks, not part of the publishbot binary.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/publishbot/publishbot/internal/corpusgen"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "makecorpus:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fl := flag.NewFlagSet("makecorpus", flag.ContinueOnError)
	out := fl.String("o", "corpus", "folder to write the blogs into")
	corpus := fl.String("corpus", filepath.Join("..", "shared", "testdata", "corpus", "zola-rust-blog"), "the Rust blog corpus")
	noGit := fl.Bool("no-git", false, "do not make each blog a git repository")
	if err := fl.Parse(args); err != nil {
		return err
	}
	sizes := fl.Args()
	if len(sizes) == 0 {
		sizes = []string{"1000", "6629", "20000"}
	}
	for _, s := range sizes {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return fmt.Errorf("size %q: want a number of posts", s)
		}
		files, err := corpusgen.Files(*corpus, n)
		if err != nil {
			return err
		}
		dir := filepath.Join(*out, "posts-"+s)
		if err := corpusgen.Write(dir, files); err != nil {
			return err
		}
		if !*noGit {
			for _, c := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"},
				{"-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", "import"}} {
				cmd := exec.Command("git", c...)
				cmd.Dir, cmd.Stderr = dir, os.Stderr
				if err := cmd.Run(); err != nil {
					return fmt.Errorf("git %s in %s: %w", c[0], dir, err)
				}
			}
		}
		fmt.Fprintf(stdout, "%s: %d posts, %d files\n", dir, n, len(files))
	}
	return nil
}
