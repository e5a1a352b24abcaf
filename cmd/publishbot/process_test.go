package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/publishbot/publishbot/testkit"
)

// The process tests run the real binary as a child process: SIGKILL and
// SIGTERM, exit codes, and an environment without PATH (so nothing in the
// bot can exec git).

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// publishbotBinary builds the command once per test run. It uses the test
// build's own flags, so that the compiled packages come from the build
// cache; the Dockerfile's static build is checked by hand (see README).
func publishbotBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "publishbot-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "publishbot")
		// go test puts its own GOROOT/bin first on the PATH of the tests.
		goBin, err := exec.LookPath("go")
		if err != nil {
			binErr = fmt.Errorf("find the go command to build the binary: %w", err)
			return
		}
		cmd := exec.Command(goBin, "build", "-o", binPath, ".")
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = errors.New("go build: " + err.Error() + ": " + string(out))
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// proc is one `publishbot serve` child process.
type proc struct {
	cmd  *exec.Cmd
	addr string
	logs *e2eLogWatcher
	done chan error
}

// startProc starts the binary with w's environment plus extra, and no PATH.
func (w *e2eWorld) startProc(t *testing.T, extra map[string]string) *proc {
	t.Helper()
	env := w.env()
	for k, v := range extra {
		env[k] = v
	}
	var list []string
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	sort.Strings(list)
	list = append(list, "PATH=") // nothing to exec: the bot needs no git
	p := &proc{logs: newE2ELogWatcher(), done: make(chan error, 1)}
	p.cmd = exec.Command(publishbotBinary(t), "serve")
	p.cmd.Env = list
	p.cmd.Stdout = io.Discard
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		p.logs.pw.Close()
		p.done <- err
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.done
		}
		if s := p.logs.String(); logsSecret(s) {
			t.Errorf("the process logged a secret:\n%s", s)
		}
	})
	p.addr = p.logs.waitAddr(t, p.done)
	return p
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("the process did not exit within %s:\n%s", timeout, p.logs.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

func TestProcessKilledMidJobPublishesOnceAfterRestart(t *testing.T) {
	w := newE2EWorld(t)
	g := w.gate()
	p := w.startProc(t, nil)
	sha := w.initialContent()
	w.mustDeliverPush(p.addr, sha) // acknowledged: durably queued

	g.waitStarted(t) // the job is pushing to the pages branch
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 10*time.Second); code != -1 {
		t.Errorf("exit code %d after SIGKILL, want -1 (killed)", code)
	}
	// The push the dead process started is refused by the server.
	g.release(t, true)
	if got := w.pagesSources(); len(got) != 0 {
		t.Fatalf("pages branch already has %v", got)
	}

	p2 := w.startProc(t, nil)
	w.waitPublished(sha, 60*time.Second)
	e2eWaitIdle(t, p2.addr, 30*time.Second)
	if got := w.pagesSources(); len(got) != 1 || got[0] != sha {
		t.Errorf("pages branch sources %v, want exactly one publish of %s", got, sha)
	}
	if got := e2eMetric(t, p2.addr, `publishbot_jobs_total{kind="publish",result="published"}`); got != 1 {
		t.Errorf("published jobs after the restart = %v, want 1", got)
	}
	if !strings.Contains(p2.logs.String(), `"attempt":2`) {
		t.Errorf("the re-run is not the job's second attempt:\n%s", p2.logs.String())
	}
}

func TestProcessSIGTERMFinishesRunningJob(t *testing.T) {
	w := newE2EWorld(t)
	g := w.gate()
	p := w.startProc(t, nil)
	sha := w.initialContent()
	w.mustDeliverPush(p.addr, sha)
	g.waitStarted(t)

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the shutdown to begin", 10*time.Second, func() bool {
		return strings.Contains(p.logs.String(), `"msg":"shutting down`)
	})
	select {
	case <-p.done:
		t.Fatalf("exited with the job still running:\n%s", p.logs.String())
	default:
	}
	g.release(t, false)
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0:\n%s", code, p.logs.String())
	}
	if got := w.pagesSources(); len(got) != 1 || got[0] != sha {
		t.Errorf("pages branch sources %v, want the job finished before exit", got)
	}
	logs := p.logs.String()
	if i, j := strings.Index(logs, `"msg":"job finished"`), strings.Index(logs, `"msg":"stopped"`); i < 0 || j < i {
		t.Errorf("want the job finished before the process stopped:\n%s", logs)
	}
}

func TestProcessSIGTERMGraceOverHandsJobBack(t *testing.T) {
	w := newE2EWorld(t)
	g := w.gate()
	p := w.startProc(t, map[string]string{"PUBLISHBOT_SHUTDOWN_GRACE": "200ms"})
	sha := w.initialContent()
	w.mustDeliverPush(p.addr, sha)
	g.waitStarted(t)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The job cannot finish (its push is held), so after the grace period
	// it is cancelled and handed back, and the process exits cleanly.
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Errorf("exit code %d, want 0:\n%s", code, p.logs.String())
	}
	if !strings.Contains(p.logs.String(), "handed back") {
		t.Errorf("logs do not say the job was handed back:\n%s", p.logs.String())
	}
	g.release(t, true)

	p2 := w.startProc(t, nil)
	w.waitPublished(sha, 60*time.Second)
	e2eWaitIdle(t, p2.addr, 30*time.Second)
	if got := w.pagesSources(); len(got) != 1 {
		t.Errorf("pages branch sources %v, want one publish", got)
	}
}

func TestProcessHealthcheck(t *testing.T) {
	w := newE2EWorld(t)
	p := w.startProc(t, nil)
	bin := publishbotBinary(t)
	hc := func() int {
		cmd := exec.Command(bin, "healthcheck", "--url", "http://"+p.addr+"/healthz", "--timeout", "2s")
		cmd.Env = []string{"PATH="}
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	}
	if code := hc(); code != 0 {
		t.Errorf("healthcheck of a running serve: exit %d", code)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Errorf("serve exit %d", code)
	}
	if code := hc(); code != 1 {
		t.Errorf("healthcheck of a stopped serve: exit %d, want 1", code)
	}
}

func TestProcessRefusesToStartWithoutSecret(t *testing.T) {
	cmd := exec.Command(publishbotBinary(t), "serve")
	cmd.Env = []string{"PATH=", "PUBLISHBOT_ADDR=127.0.0.1:0", "PUBLISHBOT_DATA_DIR=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Errorf("serve without a secret: %v, want exit 2", err)
	}
	if !strings.Contains(string(out), "PUBLISHBOT_WEBHOOK_SECRET is required") {
		t.Errorf("output does not name the missing secret:\n%s", out)
	}
}
