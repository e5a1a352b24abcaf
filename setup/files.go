// Package setup owns connecting publishbot to GitHub the first time: it
// registers a GitHub App through GitHub's App manifest flow (a page on the
// loopback interface whose form sends the manifest to GitHub, and the
// redirect back with a code that GitHub converts into the App's id, private
// key and webhook secret), or checks what a personal access token can do on
// one repository and what that repository's settings are. Either way it
// writes the credentials to files of mode 0600 in the data folder with a
// publishbot.env beside them, which `publishbot serve` reads, and tells the
// user what to run next. It never prints or logs a key, secret or token.
package setup

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/publishbot/publishbot/envfile"
)

// File names in the data folder.
const (
	EnvFileName       = "publishbot.env"
	AppIDFile         = "github-app-id"
	PrivateKeyFile    = "github-app.pem"
	WebhookSecretFile = "webhook-secret"
	TokenFile         = "github-token"
)

// ErrExists is returned when the data folder already holds credentials and
// overwriting was not asked for.
var ErrExists = errors.New("the data folder already holds publishbot credentials")

// secretFile is one file to write.
type secretFile struct {
	name string
	data []byte
}

// writeFiles writes files and then the env file into dir (created 0700 if
// missing), each with mode 0600, through a temporary file and a rename so
// that no reader sees half a key. Without overwrite, an existing env file
// or credential file is ErrExists and nothing is written.
func writeFiles(dir string, files []secretFile, env []envfile.Var, comment []string, overwrite bool) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create the data folder: %w", err)
	}
	envData, err := envfile.Format(comment, env)
	if err != nil {
		return "", err
	}
	all := append(files, secretFile{EnvFileName, envData})
	if !overwrite {
		names := make([]string, len(all))
		for i, f := range all {
			names[i] = f.name
		}
		if err := checkFree(dir, names...); err != nil {
			return "", err
		}
	}
	for _, f := range all {
		if err := writeSecret(filepath.Join(dir, f.name), f.data); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, EnvFileName), nil
}

// checkFree returns ErrExists when dir already holds one of names.
func checkFree(dir string, names ...string) error {
	var existing []string
	for _, n := range names {
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			existing = append(existing, n)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("look at the data folder: %w", err)
		}
	}
	if len(existing) > 0 {
		return fmt.Errorf("%w: %s in %s (pass --force to replace them)", ErrExists, strings.Join(existing, ", "), dir)
	}
	return nil
}

// writeSecret writes data to path with mode 0600, atomically.
func writeSecret(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// randomSecret is 32 random bytes in hex, for webhook secrets and states.
func randomSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make a random secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// apiEnv is PUBLISHBOT_GITHUB_API_URL for the env file, none for github.com
// (serve's default).
func apiEnv(api *url.URL) []envfile.Var {
	if api.String() == "https://api.github.com/" {
		return nil
	}
	return []envfile.Var{{Name: "PUBLISHBOT_GITHUB_API_URL", Value: api.String()}}
}

func header(what string, now time.Time) []string {
	return []string{
		"Written by `publishbot setup` on " + now.UTC().Format("2006-01-02") + " " + what + ".",
		"`publishbot serve` reads this file (PUBLISHBOT_ENV_FILE, default <data dir>/" + EnvFileName + ");",
		"the environment and flags override it. Relative paths are relative to this file's folder.",
	}
}

// NextSteps is how to run the bot with the files written: serve with the
// data folder, or the same in a container (the image runs as the invoking
// user so the 0600 files stay readable; --stop-timeout is longer than
// serve's 30 s grace period).
func NextSteps(dataDir string) string {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		abs = dataDir
	}
	return fmt.Sprintf(`Run the bot:

  publishbot serve --data-dir %s

or in a container (built with: docker build -t publishbot .):

  docker run -d --name publishbot --restart unless-stopped --stop-timeout 45 \
    --user "$(id -u):$(id -g)" -p 8080:8080 -v %s:/data publishbot serve
`, shellQuote(abs), shellQuote(abs))
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@%+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
