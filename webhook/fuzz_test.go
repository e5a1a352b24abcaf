package webhook

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/webhooktest"
)

var fuzzEvents = []string{"push", "pull_request", "ping", "issues"}

// FuzzHandler sends correctly signed deliveries with arbitrary bodies through
// the whole handler (parse path included) and checks that it answers sanely
// and that whatever it queues is a well-formed job.
//
//	go test -run '^$' -fuzz FuzzHandler -fuzztime 90s ./webhook/
func FuzzHandler(f *testing.F) {
	for i, event := range fuzzEvents[:3] {
		dir := filepath.Join(webhooksDir(f), event)
		names, err := os.ReadDir(dir)
		if err != nil {
			f.Fatal(err)
		}
		for _, n := range names {
			b, err := os.ReadFile(filepath.Join(dir, n.Name()))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(i), b)
		}
	}
	f.Add(uint8(0), []byte(`{"ref":"refs/heads/main","after":"0123456789012345678901234567890123456789","repository":{"full_name":"a/b"}}`))
	f.Add(uint8(1), []byte(`{"action":"closed","number":1,"pull_request":{"head":{"sha":"0123456789012345678901234567890123456789"}},"repository":{"full_name":"a/b"}}`))

	f.Fuzz(func(t *testing.T, ev uint8, body []byte) {
		event := fuzzEvents[int(ev)%len(fuzzEvents)]
		var queued []queue.Job
		h, err := New(Options{Secret: testSecret, Queue: fakeQueue(func(j queue.Job) error {
			queued = append(queued, j)
			return nil
		})})
		if err != nil {
			t.Fatal(err)
		}
		req, err := webhooktest.NewRequest(context.Background(), "/webhook", testSecret, event, "fuzz", body)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		var a answer
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
			t.Fatalf("answer %q is not JSON: %v", rec.Body.Bytes(), err)
		}
		switch rec.Code {
		case http.StatusOK, http.StatusAccepted, http.StatusBadRequest:
		default:
			t.Fatalf("status %d for a signed %s delivery: %+v", rec.Code, event, a)
		}
		if a.Result != "queued" {
			if len(queued) != 0 {
				t.Fatalf("answered %s but queued %+v", a.Result, queued)
			}
			return
		}
		if len(queued) != 1 {
			t.Fatalf("answered queued, queued %d jobs", len(queued))
		}
		if err := checkJob(queued[0]); err != nil {
			t.Fatalf("%s delivery queued a bad job %+v: %v", event, queued[0], err)
		}
		if a.Job != queued[0].ID || a.Kind != string(queued[0].Kind) {
			t.Fatalf("answer %+v does not describe job %+v", a, queued[0])
		}
	})
}

func checkJob(j queue.Job) error {
	switch {
	case j.ID == "" || j.Delivery != "fuzz":
		return fmt.Errorf("id %q delivery %q", j.ID, j.Delivery)
	case j.Repo.FullName == "":
		return fmt.Errorf("no repository")
	case !isSHA(j.SHA):
		return fmt.Errorf("sha %q", j.SHA)
	}
	switch j.Kind {
	case queue.KindPublish:
		branch, ok := strings.CutPrefix(j.Ref, "refs/heads/")
		if !ok || branch == "" || branch == "gh-pages" {
			return fmt.Errorf("publish of ref %q", j.Ref)
		}
	case queue.KindPreview, queue.KindCleanup:
		if j.PR <= 0 || j.Ref != fmt.Sprintf("refs/pull/%d/head", j.PR) {
			return fmt.Errorf("pr %d ref %q", j.PR, j.Ref)
		}
	default:
		return fmt.Errorf("kind %q", j.Kind)
	}
	return nil
}

// FuzzVerify checks that only the correct HMAC-SHA256 is accepted, whatever
// the X-Hub-Signature-256 header holds.
//
//	go test -run '^$' -fuzz FuzzVerify -fuzztime 60s ./webhook/
func FuzzVerify(f *testing.F) {
	body := []byte("Hello, World!")
	f.Add("sha256="+hex.EncodeToString(sign(testSecret, body)), body)
	f.Add("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", body)
	f.Add("sha1=7d38cdd689735b008b3c702edd92eea23791c5f6", body)
	f.Add("sha256=", []byte{})
	f.Add("", body)
	h, err := New(Options{Secret: testSecret, Queue: fakeQueue(nil)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		header := http.Header{}
		header.Set("X-Hub-Signature-256", sig)
		got := h.verify(header, body)
		mac, err := hex.DecodeString(strings.TrimPrefix(sig, "sha256="))
		want := strings.HasPrefix(sig, "sha256=") && err == nil && bytes.Equal(mac, sign(testSecret, body))
		if (got == "") != want {
			t.Fatalf("verify(%q) = %q, want accepted=%v", sig, got, want)
		}
	})
}
