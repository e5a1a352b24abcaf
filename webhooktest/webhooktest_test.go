package webhooktest

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// vector is GitHub's documented signature test vector, from the shared test
// data.
type vector struct {
	Secret    string `json:"secret"`
	Payload   string `json:"payload"`
	Signature string `json:"X-Hub-Signature-256"`
}

func readVector(t *testing.T) vector {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "shared", "testdata", "webhooks", "headers", "signature-test-vector.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v vector
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSignature256KnownAnswer(t *testing.T) {
	v := readVector(t)
	if got := Signature256([]byte(v.Secret), []byte(v.Payload)); got != v.Signature {
		t.Fatalf("Signature256 = %s, want %s", got, v.Signature)
	}
}

func TestNewRequest(t *testing.T) {
	v := readVector(t)
	req, err := NewRequest(context.Background(), "http://127.0.0.1:1/webhook", []byte(v.Secret), "push", "d-1", []byte(v.Payload))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"Content-Type":        "application/json",
		"X-GitHub-Event":      "push",
		"X-GitHub-Delivery":   "d-1",
		"X-Hub-Signature-256": v.Signature,
		"User-Agent":          UserAgent,
	} {
		if got := req.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if got := req.Header.Get("X-Hub-Signature"); len(got) != len("sha1=")+40 {
		t.Errorf("X-Hub-Signature = %q", got)
	}
	body, _ := io.ReadAll(req.Body)
	if req.Method != "POST" || string(body) != v.Payload || req.ContentLength != int64(len(v.Payload)) {
		t.Errorf("%s with %q (%d)", req.Method, body, req.ContentLength)
	}
}
