// Command benchpublish measures issue 13's figures for one or more
// publishbot binaries, interleaved, on a blog made by internal/corpusgen:
//
//	go build -o /tmp/pb ./cmd/publishbot
//	go run ./scripts/benchpublish -posts 6629 -edits 5 base=/tmp/pb-base new=/tmp/pb
//
// For each binary it serves its own copy of the blog from a loopback git
// server (gitserver: git http-backend) and measures, as separate
// processes (wall time, and CPU time and peak RSS from /usr/bin/time):
//
//   - first publish: `publishbot publish` of the whole blog (fetch, build,
//     write objects, push), against `publishbot build` then `git add -A &&
//     git commit && git push` of the same site;
//   - one-post edit publish, -edits times: commit an edit of one post to the
//     source, then `publishbot publish` (fetch → pushed);
//   - cold build (`publishbot build`, empty build cache when the binary
//     has one, and an empty image cache: PUBLISHBOT_DATA_DIR) and warm
//     no-change build (same folder, caches kept).
//
// The binaries take turns at every step, so that the load of a shared
// machine falls on all of them alike; the load average is printed.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/publishbot/publishbot/gitserver"
	"github.com/publishbot/publishbot/internal/corpusgen"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchpublish:", err)
		os.Exit(1)
	}
}

type binary struct {
	label, path string
	hasCache    bool
	repo        string // name on the git server
	work        string // its folder: data dir, build output, cache
	results     map[string][]sample
}

type sample struct {
	wall   time.Duration
	cpu    time.Duration // user + system
	sys    time.Duration // system alone: mostly page faults (see faults)
	faults int64         // minor page faults: the first touch of fresh memory
	rss    int64         // KiB
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fl := flag.NewFlagSet("benchpublish", flag.ContinueOnError)
	n := fl.Int("posts", 1000, "posts in the blog")
	edits := fl.Int("edits", 5, "one-post edits to publish")
	builds := fl.Int("builds", 2, "cold and warm builds of each kind")
	corpus := fl.String("corpus", filepath.Join("..", "shared", "testdata", "corpus", "zola-rust-blog"), "the Rust blog corpus")
	keep := fl.Bool("keep", false, "keep the work folder")
	verbose := fl.Bool("v", false, "print the last line of every publish's output, with its wall and CPU time")
	editsOnly := fl.Bool("edits-only", false, "measure only the first publish and the one-post edits (no cold, by-hand or warm builds)")
	profile := fl.String("profile", "", "write CPU and heap profiles of the first publish and of each one-post edit publish to this folder (<label>-first.cpu, <label>-edit<N>.cpu, .mem, .trace)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *profile != "" {
		if err := os.MkdirAll(*profile, 0o755); err != nil {
			return fmt.Errorf("make the profile folder: %w", err)
		}
	}
	if fl.NArg() == 0 {
		return fmt.Errorf("usage: benchpublish [-posts N] [-edits K] label=binary [label=binary]")
	}
	work, err := os.MkdirTemp("", "benchpublish-")
	if err != nil {
		return err
	}
	if !*keep {
		defer os.RemoveAll(work)
	}
	raw, err := corpusgen.Files(*corpus, *n)
	if err != nil {
		return err
	}
	files := make(map[string]string, len(raw))
	for k, v := range raw {
		files[k] = string(v)
	}
	srcDir := filepath.Join(work, "src")
	if err := corpusgen.Write(srcDir, raw); err != nil {
		return err
	}
	srv, err := gitserver.Start(gitserver.Options{Root: filepath.Join(work, "git")})
	if err != nil {
		return err
	}
	defer srv.Close()

	var bins []*binary
	for i, a := range fl.Args() {
		label, path, ok := strings.Cut(a, "=")
		if !ok {
			label, path = fmt.Sprint("bin", i), a
		}
		help, _ := exec.Command(path, "build", "-h").CombinedOutput()
		b := &binary{label: label, path: path, hasCache: strings.Contains(string(help), "cache-dir"),
			repo: fmt.Sprintf("acme/blog%d", i), work: filepath.Join(work, "b"+fmt.Sprint(i)), results: map[string][]sample{}}
		if err := os.MkdirAll(b.work, 0o755); err != nil {
			return err
		}
		if err := srv.CreateRepo(ctx, b.repo, "main"); err != nil {
			return err
		}
		if _, err := srv.Commit(ctx, b.repo, gitserver.Change{Ref: "main", Message: "import", Files: files}); err != nil {
			return err
		}
		bins = append(bins, b)
	}
	load := func() string {
		b, _ := os.ReadFile("/proc/loadavg")
		return strings.Join(strings.Fields(string(b))[:3], " ")
	}
	fmt.Fprintf(stdout, "%d posts, %d files; load average at start %s\n\n", *n, len(files), load())

	turns := func(round int) []*binary { // alternate who goes first
		out := append([]*binary(nil), bins...)
		if round%2 == 1 {
			sort.SliceStable(out, func(i, j int) bool { return i > j })
		}
		return out
	}
	publish := func(b *binary, step string, env ...string) error {
		srv.ResetRequests()
		s, out, err := measure(b.path, "", env, "publish", "--repo", srv.RepoURL(b.repo), "--ref", "main", "--data-dir", filepath.Join(b.work, "data"))
		if err != nil {
			return fmt.Errorf("%s %s: %w\n%s", b.label, step, err, out)
		}
		if *verbose {
			lines := strings.Split(strings.TrimSpace(out), "\n")
			fmt.Fprintf(stdout, "%s %s: %.2fs wall, %.2fs CPU (%.2fs system, %d page faults), %d MB: %s\n", b.label, step, s.wall.Seconds(), s.cpu.Seconds(), s.sys.Seconds(), s.faults, s.rss/1024, lines[len(lines)-1])
			var served []string
			for _, r := range srv.Requests() {
				served = append(served, fmt.Sprintf("%s %s %.0f ms", r.Method, path.Base(r.Path), r.Took.Seconds()*1000))
			}
			fmt.Fprintf(stdout, "  git server: %s\n", strings.Join(served, ", "))
		}
		b.results[step] = append(b.results[step], s)
		return nil
	}

	if *editsOnly {
		*builds = 0
	}
	// Cold builds, then the first publish against build + git add/commit/push.
	for r := range *builds {
		for _, b := range turns(r) {
			out := filepath.Join(b.work, "out-cold")
			os.RemoveAll(out)
			args := []string{"build", "-o", out}
			if b.hasCache {
				cache := filepath.Join(b.work, "cache-cold")
				os.RemoveAll(cache)
				args = append(args, "--cache-dir", cache)
			}
			// Images are resized into a fresh cache too, as the first
			// publish resizes them into its fresh data folder.
			images := filepath.Join(b.work, "images-cold")
			os.RemoveAll(images)
			s, text, err := measure(b.path, "", []string{"PUBLISHBOT_DATA_DIR=" + images}, append(args, srcDir)...)
			if err != nil && !strings.Contains(text, "built ") {
				return fmt.Errorf("%s cold build: %w\n%s", b.label, err, text)
			}
			b.results["cold build"] = append(b.results["cold build"], s)
		}
	}
	for _, b := range turns(0) {
		var env []string
		if *profile != "" {
			name := filepath.Join(*profile, b.label+"-first")
			env = profileEnv(name)
		}
		if err := publish(b, "first publish", env...); err != nil {
			return err
		}
		if *editsOnly {
			continue
		}
		// The same site by hand: build, then git add/commit/push to a fresh repository.
		site := filepath.Join(b.work, "out-cold")
		name := b.repo + "-byhand"
		if err := srv.CreateRepo(ctx, name, "main"); err != nil {
			return err
		}
		t0 := time.Now()
		var rss int64
		var cpu time.Duration
		for _, c := range [][]string{{"init", "-q", "-b", "gh-pages"}, {"add", "-A"},
			{"-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", "site"},
			{"-c", "http.postBuffer=1073741824", "push", "-q", srv.RepoURL(name), "gh-pages"}} {
			s, text, err := measure("git", site, nil, c...)
			if err != nil {
				return fmt.Errorf("git %s: %w\n%s", c[0], err, text)
			}
			rss = max(rss, s.rss)
			cpu += s.cpu
		}
		b.results["git add+commit+push"] = append(b.results["git add+commit+push"], sample{wall: time.Since(t0), cpu: cpu, rss: rss})
	}

	// One-post edits, each published by every binary in turn.
	posts := corpusgen.DatedPosts(raw)
	for e := range *edits {
		p := posts[(e*7919)%len(posts)]
		text := files[p] + fmt.Sprintf("\n\nEdit number %d.\n", e)
		for _, b := range turns(e) {
			if _, err := srv.Commit(ctx, b.repo, gitserver.Change{Ref: "main", Message: "edit", Files: map[string]string{p: text}}); err != nil {
				return err
			}
			var env []string
			if *profile != "" {
				name := filepath.Join(*profile, fmt.Sprintf("%s-edit%d", b.label, e))
				env = profileEnv(name)
			}
			if err := publish(b, "one-post edit publish", env...); err != nil {
				return err
			}
		}
		files[p] = text
	}

	// Warm builds with nothing changed: the cache of a first build kept.
	for r := range *builds + 1 {
		if *editsOnly {
			break
		}
		for _, b := range turns(r) {
			args := []string{"build", "-o", filepath.Join(b.work, "out-warm")}
			if b.hasCache {
				args = append(args, "--cache-dir", filepath.Join(b.work, "cache-warm"))
			}
			s, text, err := measure(b.path, "", []string{"PUBLISHBOT_DATA_DIR=" + filepath.Join(b.work, "images-warm")}, append(args, srcDir)...)
			if err != nil && !strings.Contains(text, "built ") {
				return fmt.Errorf("%s warm build: %w\n%s", b.label, err, text)
			}
			if r > 0 { // the first one fills the cache
				b.results["warm no-change build"] = append(b.results["warm no-change build"], s)
			}
		}
	}

	fmt.Fprintf(stdout, "load average at end %s\n\n", load())
	steps := []string{"cold build", "first publish", "git add+commit+push", "one-post edit publish", "warm no-change build"}
	fmt.Fprintf(stdout, "%-24s", "step")
	for _, b := range bins {
		fmt.Fprintf(stdout, " | %-44s", b.label+" (median, min–max s; CPU s; peak MB)")
	}
	if len(bins) > 1 {
		fmt.Fprintf(stdout, " | %s/%s median", bins[len(bins)-1].label, bins[0].label)
	}
	fmt.Fprintln(stdout)
	for _, st := range steps {
		fmt.Fprintf(stdout, "%-24s", st)
		var meds []time.Duration
		for _, b := range bins {
			ss := b.results[st]
			if len(ss) == 0 {
				fmt.Fprintf(stdout, " | %-44s", "-")
				meds = append(meds, 0)
				continue
			}
			sort.Slice(ss, func(i, j int) bool { return ss[i].wall < ss[j].wall })
			var peak int64
			for _, s := range ss {
				peak = max(peak, s.rss)
			}
			med := ss[len(ss)/2].wall
			meds = append(meds, med)
			cpus := make([]time.Duration, len(ss))
			for i, s := range ss {
				cpus[i] = s.cpu
			}
			slices.Sort(cpus)
			fmt.Fprintf(stdout, " | %-44s", fmt.Sprintf("%.2f (%.2f–%.2f); %.2f; %d MB", med.Seconds(), ss[0].wall.Seconds(), ss[len(ss)-1].wall.Seconds(), cpus[len(cpus)/2].Seconds(), peak/1024))
		}
		if len(bins) > 1 && meds[0] > 0 && meds[len(meds)-1] > 0 {
			fmt.Fprintf(stdout, " | %.2f×", meds[len(meds)-1].Seconds()/meds[0].Seconds())
		}
		fmt.Fprintln(stdout)
	}
	return nil
}

// measure runs a program in dir and returns its wall time, its peak RSS and
// its output.
// The peak RSS is /usr/bin/time's: a child's own rusage would start from
// this process's peak (Linux keeps ru_maxrss across fork and exec).
func measure(prog, dir string, env []string, args ...string) (sample, string, error) {
	rssFile, err := os.CreateTemp("", "benchpublish-rss-")
	if err != nil {
		return sample{}, "", err
	}
	rssFile.Close()
	defer os.Remove(rssFile.Name())
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M %U %S %R", "-o", rssFile.Name(), prog}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	err = cmd.Run()
	s := sample{wall: time.Since(t0)}
	if b, rerr := os.ReadFile(rssFile.Name()); rerr == nil {
		// the last line: a failed command's status line comes before it
		if f := strings.Fields(string(b)); len(f) >= 4 {
			s.rss, _ = strconv.ParseInt(f[len(f)-4], 10, 64)
			u, _ := strconv.ParseFloat(f[len(f)-3], 64)
			sy, _ := strconv.ParseFloat(f[len(f)-2], 64)
			s.faults, _ = strconv.ParseInt(f[len(f)-1], 10, 64)
			s.cpu = time.Duration((u + sy) * float64(time.Second))
			s.sys = time.Duration(sy * float64(time.Second))
		}
	}
	text := out.String()
	if len(text) > 2000 {
		text = text[len(text)-2000:]
	}
	return s, text, err
}

// profileEnv asks a publish for its CPU and heap profiles and its
// execution trace, in files named name plus .cpu, .mem and .trace.
func profileEnv(name string) []string {
	return []string{"PUBLISHBOT_CPUPROFILE=" + name + ".cpu", "PUBLISHBOT_MEMPROFILE=" + name + ".mem", "PUBLISHBOT_TRACE=" + name + ".trace"}
}
