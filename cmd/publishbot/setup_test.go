package main

import (
	"errors"
	"strings"
	"testing"
)

func TestSetupCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"setup"}, 2, "--url is required"},
		{[]string{"setup", "--url", "http://bot.example.net"}, 2, "want the bot's public https:// address"},
		{[]string{"setup", "--url", "https://bot.example.net", "--github-url", "http://github.example"}, 2, "plain http is allowed only to a loopback host"},
		{[]string{"setup", "--token", "t"}, 2, "--repo owner/name is required with a token"},
		{[]string{"setup", "--repo", "acme/blog"}, 2, "--repo needs a token"},
		{[]string{"setup", "--token", "t", "--repo", "acme/blog", "--org", "acme"}, 2, "--org and --name are for registering an App"},
		{[]string{"setup", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"setup", "--url", "https://bot.example.net", "--listen", "0.0.0.0:0", "--data-dir", t.TempDir()}, 1, "only on a loopback address"},
	} {
		_, _, err := runArgs(t, tc.args...)
		var ee *exitError
		code := 1
		if errors.As(err, &ee) {
			code = ee.Code
		}
		if err == nil || code != tc.code || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: exit %d, %v; want exit %d with %q", tc.args, code, err, tc.code, tc.want)
		}
	}
}
