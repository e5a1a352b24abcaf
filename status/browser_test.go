package status

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/publishbot/publishbot/browsertest"
)

// complaints records what the browser says is wrong: console errors, a
// Content-Security-Policy refusal (a log entry), an HTTP error, a request
// to another host.
type complaints struct {
	mu   sync.Mutex
	host string
	list []string
}

func (c *complaints) add(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.list = append(c.list, fmt.Sprintf(format, args...))
}

func (c *complaints) listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		c.add("exception: %s", ev.ExceptionDetails.Text)
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
			c.add("browser log %s: %s %s", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL)
		}
	case *network.EventRequestWillBeSent:
		if !strings.HasPrefix(ev.Request.URL, "http://"+c.host+"/") {
			c.add("request to another host: %s", ev.Request.URL)
		}
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			c.add("HTTP %d for %s", ev.Response.Status, ev.Response.URL)
		}
	}
}

// TestBrowserLoginRetryDeadJob is the operator's path on a phone: open the
// page, log in with the token, find the dead job, press Retry, and see the
// job gone from the dead ones and the repository published.
func TestBrowserLoginRetryDeadJob(t *testing.T) {
	w := newWorld(t)
	dead := w.deadJob(t, "acme/blog")
	w.runner.setFailing("acme/blog", false) // the cause was fixed

	ctx := browsertest.New(t, 0)
	seen := &complaints{host: strings.TrimPrefix(w.srv.URL, "http://")}
	if err := chromedp.Listen(ctx, seen.listen); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(w.srv.URL+"/status"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SetValue(chromedp.CSS("#token"), testToken),
		chromedp.Click(chromedp.CSS(`form.login button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#dead")),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, dead.Job.ID) || !strings.Contains(text, "403 Resource not accessible") {
		t.Fatalf("the dead job is not shown:\n%s", text)
	}
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
	if err != nil || width > 390 {
		t.Errorf("the page scrolls sideways on a phone: %d px, %v", width, err)
	}
	// The page takes its colours from the theme.
	bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.documentElement).getPropertyValue("--bg").trim()`))
	if err != nil || bg == "" {
		t.Errorf("the theme's --bg is not defined on the page: %q, %v", bg, err)
	}
	shot(t, ctx, "dead-job-phone.png")

	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`li.dead form[action="/status/retry"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
	); err != nil {
		t.Fatalf("retry: %v", err)
	}
	notice, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".notice")))
	if err != nil || !strings.Contains(notice, "queued again") {
		t.Fatalf("notice = %q, %v", notice, err)
	}
	// Reload until the retried job has run: no dead job, the repository published.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err := chromedp.Do(ctx, chromedp.Navigate(w.srv.URL+"/status"), chromedp.WaitVisible(chromedp.CSS("#repositories"))); err != nil {
			t.Fatal(err)
		}
		text, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(text, "0 dead") && strings.Contains(text, "last published") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the retried job did not succeed on the page:\n%s", text)
		}
		if err := chromedp.Do(ctx, chromedp.Sleep(200*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	shot(t, ctx, "after-retry-phone.png")
	seen.mu.Lock()
	defer seen.mu.Unlock()
	if len(seen.list) > 0 {
		t.Errorf("the browser complained:\n%s", strings.Join(seen.list, "\n"))
	}
}

func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(t.ArtifactDir(), name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
