package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthcheck(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer ok.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
	}{
		{"healthy", []string{"--url", ok.URL + "/healthz"}, nil, 0},
		{"from PUBLISHBOT_ADDR", nil, map[string]string{"PUBLISHBOT_ADDR": ":" + ok.URL[strings.LastIndex(ok.URL, ":")+1:]}, 0},
		{"503", []string{"--url", down.URL + "/healthz"}, nil, 1},
		{"404", []string{"--url", ok.URL + "/nope"}, nil, 1},
		{"nothing listening", []string{"--url", closedURL + "/healthz"}, nil, 1},
		{"bad url", []string{"--url", "localhost:8080"}, nil, 2},
		{"bad flag", []string{"--bogus"}, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), append([]string{"healthcheck"}, tt.args...), envMap(tt.env), &stdout, &stderr)
			if code := exitCode(err, &stderr); code != tt.code {
				t.Errorf("exit %d, want %d (err %v, stderr %s)", code, tt.code, err, stderr.String())
			}
		})
	}
}

func TestHealthURL(t *testing.T) {
	for addr, want := range map[string]string{
		"":              "http://127.0.0.1:8080/healthz",
		":8080":         "http://127.0.0.1:8080/healthz",
		"0.0.0.0:9000":  "http://127.0.0.1:9000/healthz",
		"[::]:80":       "http://127.0.0.1:80/healthz",
		"[::1]:80":      "http://[::1]:80/healthz",
		"10.0.0.1:8080": "http://10.0.0.1:8080/healthz",
	} {
		if got, err := healthURL(addr); err != nil || got != want {
			t.Errorf("healthURL(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
}
