package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Precedence: defaults ← env file ← environment ← flags, one setting at a
// time, each layer present or not.
func TestServeConfigPrecedence(t *testing.T) {
	type layers struct{ file, env, flag string }
	for _, tc := range []struct {
		name string
		in   layers
		want string
	}{
		{"default", layers{}, "info"},
		{"env file over default", layers{file: "debug"}, "debug"},
		{"environment over env file", layers{file: "debug", env: "warn"}, "warn"},
		{"environment over default", layers{env: "warn"}, "warn"},
		{"flag over environment and env file", layers{file: "debug", env: "warn", flag: "error"}, "error"},
		{"flag over env file", layers{file: "debug", flag: "error"}, "error"},
		{"flag over default", layers{flag: "error"}, "error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := "PUBLISHBOT_WEBHOOK_SECRET=from-the-env-file-0123456789\n"
			if tc.in.file != "" {
				file += "PUBLISHBOT_LOG_LEVEL=" + tc.in.file + "\n"
			}
			if err := os.WriteFile(filepath.Join(dir, "publishbot.env"), []byte(file), 0o600); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{"PUBLISHBOT_DATA_DIR": dir}
			if tc.in.env != "" {
				env["PUBLISHBOT_LOG_LEVEL"] = tc.in.env
			}
			var args []string
			if tc.in.flag != "" {
				args = []string{"--log-level", tc.in.flag}
			}
			cfg, _, err := parseServeConfig(args, envMap(env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.LogLevel != tc.want {
				t.Errorf("log level %q, want %q", cfg.LogLevel, tc.want)
			}
			if cfg.WebhookSecret.Reveal() != "from-the-env-file-0123456789" || cfg.EnvFile != filepath.Join(dir, "publishbot.env") {
				t.Errorf("env file not read: %+v", cfg)
			}
		})
	}
}

// Where the env file is found, how its relative paths are read, and what
// it may not hold.
func TestServeEnvFile(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(path, content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(data, "webhook-secret"), "secret-from-a-file-0123456789\n")
	write(filepath.Join(data, "publishbot.env"), "# setup wrote this\nPUBLISHBOT_WEBHOOK_SECRET_FILE=webhook-secret\nPUBLISHBOT_ADDR=127.0.0.1:9999\n")
	other := filepath.Join(dir, "other.env")
	write(other, "PUBLISHBOT_WEBHOOK_SECRET=other-file-secret-0123456789\n")

	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		addr    string // "" when an error is wanted
		secret  string
		envFile string
		wantErr string
	}{
		{name: "--data-dir finds it, a relative _FILE is beside it", args: []string{"--data-dir", data},
			addr: "127.0.0.1:9999", secret: "secret-from-a-file-0123456789", envFile: filepath.Join(data, "publishbot.env")},
		{name: "--data-dir=", args: []string{"--data-dir=" + data},
			addr: "127.0.0.1:9999", secret: "secret-from-a-file-0123456789", envFile: filepath.Join(data, "publishbot.env")},
		{name: "PUBLISHBOT_DATA_DIR finds it", env: map[string]string{"PUBLISHBOT_DATA_DIR": data},
			addr: "127.0.0.1:9999", secret: "secret-from-a-file-0123456789", envFile: filepath.Join(data, "publishbot.env")},
		{name: "PUBLISHBOT_ENV_FILE names another", env: map[string]string{"PUBLISHBOT_DATA_DIR": data, "PUBLISHBOT_ENV_FILE": other},
			addr: ":8080", secret: "other-file-secret-0123456789", envFile: other},
		{name: "--env-file names another", args: []string{"-env-file", other}, env: map[string]string{"PUBLISHBOT_DATA_DIR": data},
			addr: ":8080", secret: "other-file-secret-0123456789", envFile: other},
		{name: "no file in the data folder is fine", env: map[string]string{"PUBLISHBOT_DATA_DIR": dir, "PUBLISHBOT_WEBHOOK_SECRET": "from-the-environment-0123"},
			addr: ":8080", secret: "from-the-environment-0123", envFile: ""},
		{name: "a named file must exist", env: map[string]string{"PUBLISHBOT_ENV_FILE": filepath.Join(dir, "missing.env")},
			wantErr: "missing.env: no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, err := parseServeConfig(tc.args, envMap(tc.env), io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.validate(); err != nil {
				t.Fatal(err)
			}
			if cfg.Addr != tc.addr || cfg.WebhookSecret.Reveal() != tc.secret || cfg.EnvFile != tc.envFile {
				t.Errorf("addr %q secret %q env file %q; want %q %q %q", cfg.Addr, cfg.WebhookSecret.Reveal(), cfg.EnvFile, tc.addr, tc.secret, tc.envFile)
			}
		})
	}

	for _, tc := range []struct{ content, want string }{
		{"HOME=/root\n", "line 1: HOME is not a publishbot setting"},
		{"PUBLISHBOT_ENV_FILE=/etc/x\n", "line 1: PUBLISHBOT_ENV_FILE cannot name another file"},
		{"PUBLISHBOT_ADDR\n", "line 1: want NAME=value"},
		{"PUBLISHBOT_WEBHOOK_SECRET=\"unclosed-secret-value\n", "the value's quote is not closed"},
	} {
		bad := filepath.Join(t.TempDir(), "bad.env")
		write(bad, tc.content)
		_, _, err := parseServeConfig(nil, envMap(map[string]string{"PUBLISHBOT_ENV_FILE": bad}), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.content, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "unclosed-secret-value") {
			t.Errorf("the error quotes a value: %v", err)
		}
	}
}

func TestFlagValue(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"--data-dir", "/d"}, "/d"},
		{[]string{"-data-dir", "/d"}, "/d"},
		{[]string{"--data-dir=/d"}, "/d"},
		{[]string{"-data-dir=/d", "--data-dir", "/e"}, "/e"},
		{[]string{"--addr", "x", "--", "--data-dir", "/d"}, ""},
		{[]string{"--data-dir"}, ""},
		{[]string{"--data-dirx=/d"}, ""},
	} {
		if got := flagValue(tc.args, "data-dir"); got != tc.want {
			t.Errorf("flagValue(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// An env file that holds a secret itself, readable by others, starts with
// a warning; one that names a secret file does not.
func TestServeEnvFileModeWarning(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "publishbot.env")
	for _, tc := range []struct {
		content string
		mode    os.FileMode
		warn    bool
	}{
		{"PUBLISHBOT_WEBHOOK_SECRET=inline-secret-0123456789\n", 0o644, true},
		{"PUBLISHBOT_WEBHOOK_SECRET=inline-secret-0123456789\n", 0o600, false},
		{"PUBLISHBOT_WEBHOOK_SECRET_FILE=/run/secrets/hook\nPUBLISHBOT_WEBHOOK_SECRET=inline-secret-0123456789\n", 0o640, true},
		{"PUBLISHBOT_ADDR=:9\nPUBLISHBOT_WEBHOOK_SECRET=\n", 0o644, false},
	} {
		if err := os.WriteFile(file, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(file, tc.mode); err != nil {
			t.Fatal(err)
		}
		cfg, _, err := parseServeConfig(nil, envMap(map[string]string{"PUBLISHBOT_DATA_DIR": dir, "PUBLISHBOT_WEBHOOK_SECRET": ""}), io.Discard)
		if err != nil && !strings.Contains(err.Error(), "not both") {
			t.Fatal(err)
		}
		got := strings.Join(cfg.warnings(), "\n")
		if warned := strings.Contains(got, "holds PUBLISHBOT_WEBHOOK_SECRET and others may read it"); warned != tc.warn {
			t.Errorf("%q mode %v: warnings %q, want a warning: %v", tc.content, tc.mode, got, tc.warn)
		}
		if strings.Contains(got, "inline-secret") {
			t.Errorf("a warning quotes the secret: %q", got)
		}
	}
}
