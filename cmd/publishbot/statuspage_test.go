package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/publishbot/publishbot/testkit"
)

const e2eStatusToken = "status-e2e-token-0123456789"

func statusPage(t *testing.T, addr, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/status", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeStatusPageAndMetrics: with PUBLISHBOT_STATUS_TOKEN the status
// page shows the push's delivery and the repository's last publish, and
// /metrics has the last-publish time and the build info.
func TestServeStatusPageAndMetrics(t *testing.T) {
	w := newE2EWorld(t)
	s := w.startServe(map[string]string{"PUBLISHBOT_STATUS_TOKEN": e2eStatusToken})
	sha := w.initialContent()
	w.mustDeliverPush(s.addr, sha)
	w.waitPublished(sha, 60*time.Second)
	e2eWaitIdle(t, s.addr, 30*time.Second)

	testkit.WaitFor(t, "the status page to show the publish", 10*time.Second, func() bool {
		_, body := statusPage(t, s.addr, e2eStatusToken)
		return strings.Contains(body, "last published")
	})
	code, body := statusPage(t, s.addr, e2eStatusToken)
	for _, want := range []string{e2eFullName, "push", "queued (202)", "<strong>0</strong> dead"} {
		if !strings.Contains(body, want) {
			t.Errorf("status page (%d) lacks %q:\n%s", code, want, body)
		}
	}
	if code, body := statusPage(t, s.addr, ""); code != http.StatusOK || strings.Contains(body, e2eFullName) {
		t.Errorf("without the token: %d, and the page shows the repository: %v", code, strings.Contains(body, e2eFullName))
	}
	if v := e2eMetric(t, s.addr, `publishbot_last_publish_timestamp_seconds{repo="`+e2eFullName+`"}`); v < float64(time.Now().Add(-time.Hour).Unix()) {
		t.Errorf("publishbot_last_publish_timestamp_seconds = %v", v)
	}
	resp, err := http.Get("http://" + s.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "publishbot_build_info{revision=") {
		t.Errorf("no publishbot_build_info in /metrics")
	}
	if strings.Contains(s.logs.String(), e2eStatusToken) {
		t.Error("the status token was logged")
	}
}

// TestServeStatusPageOffWithoutToken: no token, no page.
func TestServeStatusPageOffWithoutToken(t *testing.T) {
	w := newE2EWorld(t)
	s := w.startServe(nil)
	if code, _ := statusPage(t, s.addr, "anything-at-all-0123456789"); code != http.StatusNotFound {
		t.Fatalf("/status without PUBLISHBOT_STATUS_TOKEN: %d, want 404", code)
	}
}
