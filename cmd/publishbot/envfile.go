package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/publishbot/publishbot/envfile"
	"github.com/publishbot/publishbot/setup"
)

// envFileVar names serve's env file.
const envFileVar = "PUBLISHBOT_ENV_FILE"

// withEnvFile puts serve's env file under the environment: the returned
// getenv answers a variable from the environment when it is set there, else
// from the file, so that the precedence is defaults ← env file ←
// environment ← flags. The file is --env-file, else PUBLISHBOT_ENV_FILE,
// else publishbot.env in the data folder (--data-dir, else
// PUBLISHBOT_DATA_DIR, else the default); a named file must exist, the
// default one may not. Relative paths in *_FILE variables of the file are
// relative to the file's folder, so that the data folder can move (or be
// mounted at /data in a container). The file holds PUBLISHBOT_* variables
// only; PUBLISHBOT_ENV_FILE in it is refused. It returns the file's path,
// "" when there is none, and a warning when the file holds a secret that
// others than its owner may read.
func withEnvFile(args []string, getenv func(string) string, defaultDataDir string) (get func(string) string, path string, warnings []string, err error) {
	named := flagValue(args, "env-file")
	if named == "" {
		named = getenv(envFileVar)
	}
	path = named
	if path == "" {
		dir := flagValue(args, "data-dir")
		if dir == "" {
			dir = getenv("PUBLISHBOT_DATA_DIR")
		}
		if dir == "" {
			dir = defaultDataDir
		}
		path = filepath.Join(dir, setup.EnvFileName)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && named == "" {
		return getenv, "", nil, nil
	}
	if err != nil {
		return nil, "", nil, fmt.Errorf("env file: %w", err)
	}
	defer f.Close()
	vars, err := envfile.Parse(f)
	if err != nil {
		return nil, "", nil, fmt.Errorf("%s: %w", path, err)
	}
	info, statErr := f.Stat()
	fromFile := map[string]string{}
	for _, v := range vars {
		switch {
		case !strings.HasPrefix(v.Name, "PUBLISHBOT_"):
			return nil, "", nil, fmt.Errorf("%s line %d: %s is not a publishbot setting (PUBLISHBOT_*)", path, v.Line, v.Name)
		case v.Name == envFileVar:
			return nil, "", nil, fmt.Errorf("%s line %d: %s cannot name another file", path, v.Line, envFileVar)
		case (v.Name == "PUBLISHBOT_WEBHOOK_SECRET" || v.Name == "PUBLISHBOT_GITHUB_TOKEN") && v.Value != "" &&
			statErr == nil && info.Mode().Perm()&0o077 != 0:
			warnings = append(warnings, fmt.Sprintf("%s holds %s and others may read it (mode %v): chmod 600 it", path, v.Name, info.Mode().Perm()))
		}
		val := v.Value
		if strings.HasSuffix(v.Name, "_FILE") && val != "" && !filepath.IsAbs(val) {
			val = filepath.Join(filepath.Dir(path), val)
		}
		fromFile[v.Name] = val
	}
	return func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return fromFile[name]
	}, path, warnings, nil
}

// flagValue is the value of flag name in args ("-name v", "--name v",
// "-name=v", "--name=v"), the last one given, "" for none. Flags end at
// "--". It reads args before the flag set parses them, which reports any
// mistake.
func flagValue(args []string, name string) string {
	val := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		n := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if n == a {
			continue
		}
		if k, v, ok := strings.Cut(n, "="); ok && k == name {
			val = v
		} else if n == name && i+1 < len(args) {
			val = args[i+1]
			i++
		}
	}
	return val
}
