package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/site"
	"github.com/publishbot/publishbot/templates"
)

// runCheck validates a content tree: publishbot check [--format text|json|github] [DIR].
// It prints every diagnostic, sorted, and exits 0 when there is no error,
// 1 when there is one, and 2 for a bad command line or an unreadable DIR.
func runCheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", checkUsage, stderr)
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
	// The limits a publish would apply (serve's PUBLISHBOT_MAX_*), so that
	// check finds what publish refuses.
	limits, err := envBuildLimits(getenv)
	if err != nil {
		return usageError("check: %w", err)
	}
	// The whole build runs, in memory: template overrides and what only
	// rendering finds are checked too.
	out, err := site.BuildDir(ctx, dir, site.Options{Limits: limits, Render: templates.Options{Images: localImageProcessor(getenv, cliLog(stderr))}})
	if out == nil || out.Site == nil {
		return &exitError{Code: 2, Err: fmt.Errorf("check %s: %w", dir, err)}
	}
	diags := slices.Clone(out.Site.Diagnostics)
	if err != nil {
		if lim, ok := errors.AsType[*site.LimitError](err); ok {
			diags = append(diags, posts.Diagnostic{Severity: posts.SeverityError, Code: posts.CodeLimit, Message: lim.Error()})
		} else {
			diags = append(diags, templateDiagnostic(err))
		}
		posts.SortDiagnostics(diags)
	}
	if err := writeDiagnostics(stdout, *format, diags); err != nil {
		return fmt.Errorf("write diagnostics: %w", err)
	}
	if *format == "text" {
		fmt.Fprintln(stderr, checkSummary(len(out.Site.Posts), diags))
	}
	if posts.HasErrors(diags) {
		return &exitError{Code: 1}
	}
	return nil
}

const checkUsage = `usage: publishbot check [--format text|json|github] [DIR]

Validates the content repository in DIR (default: the current folder) as a
publish would build it, templates included, and prints what a reader would
notice: path:line:col: severity: message [code].
`

// checkSummary is the line check ends with in text format.
func checkSummary(postCount int, ds []posts.Diagnostic) string {
	errs, warns := 0, 0
	for _, d := range ds {
		if d.Severity == posts.SeverityError {
			errs++
		} else {
			warns++
		}
	}
	if errs == 0 && warns == 0 {
		return fmt.Sprintf("checked %s: no problems", plural(postCount, "post", "posts"))
	}
	return fmt.Sprintf("checked %s: %s, %s", plural(postCount, "post", "posts"), plural(errs, "error", "errors"), plural(warns, "warning", "warnings"))
}

// templateTextRE finds "template: NAME:LINE:" in text/template's errors.
var templateTextRE = regexp.MustCompile(`template: ([A-Za-z0-9_.\-/]+\.html):(\d+):(?:(\d+):)?`)

// templateDiagnostic turns a template override's error into a diagnostic
// at its file and line under templates/.
func templateDiagnostic(err error) posts.Diagnostic {
	d := posts.Diagnostic{File: "templates", Severity: posts.SeverityError, Code: posts.CodeTemplate, Message: err.Error()}
	if m := templateTextRE.FindStringSubmatch(err.Error()); m != nil {
		d.File = "templates/" + m[1]
		d.Line, _ = strconv.Atoi(m[2])
		if m[3] != "" {
			d.Column, _ = strconv.Atoi(m[3])
		}
	}
	return d
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
