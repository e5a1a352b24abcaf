package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/publishbot/publishbot/posts"
)

// runCheck validates a content tree: publishbot check [--format text|json|github] [DIR].
// It prints every diagnostic, sorted, and exits 0 when there is no error,
// 1 when there is one, and 2 for a bad command line or an unreadable DIR.
func runCheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", "usage: publishbot check [--format text|json|github] [DIR]\n", stderr)
	format := fs.String("format", "text", "output format: text, json or github (workflow commands)")
	dir, err := parseFolderArgs(fs, args)
	if err != nil {
		return err
	}
	switch *format {
	case "text", "json", "github":
	default:
		return usageError("unknown --format %q: use text, json or github", *format)
	}
	site, err := posts.Load(ctx, os.DirFS(dir), posts.Options{})
	if err != nil {
		return &exitError{Code: 2, Err: fmt.Errorf("check %s: %w", dir, err)}
	}
	if err := writeDiagnostics(stdout, *format, site.Diagnostics); err != nil {
		return fmt.Errorf("write diagnostics: %w", err)
	}
	if posts.HasErrors(site.Diagnostics) {
		return &exitError{Code: 1}
	}
	return nil
}

// writeDiagnostics prints ds (already sorted) in one of the check formats.
func writeDiagnostics(w io.Writer, format string, ds []posts.Diagnostic) error {
	switch format {
	case "json":
		if ds == nil {
			ds = []posts.Diagnostic{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(ds)
	case "github":
		for _, d := range ds {
			level := "error"
			if d.Severity == posts.SeverityWarning {
				level = "warning"
			}
			props := "file=" + ghProp(d.File)
			if d.Line > 0 {
				props += fmt.Sprintf(",line=%d", d.Line)
				if d.Column > 0 {
					props += fmt.Sprintf(",col=%d", d.Column)
				}
			}
			props += ",title=" + ghProp(d.Code)
			if _, err := fmt.Fprintf(w, "::%s %s::%s\n", level, props, ghData(d.Message+" ["+d.Code+"]")); err != nil {
				return err
			}
		}
		return nil
	default:
		for _, d := range ds {
			if _, err := fmt.Fprintln(w, d.String()); err != nil {
				return err
			}
		}
		return nil
	}
}

// ghData escapes a workflow command's message.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProp escapes a workflow command's property value.
func ghProp(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
