package posts

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/publishbot/publishbot/locale"
)

// parseStringsConfig reads strings: in publish.yaml, the theme's words the
// blogger replaces ({min_read: "%d Minuten"}). A key no table has is an
// error with the nearest key; so is a value that drops a placeholder.
func parseStringsConfig(v *fmValue) (map[string]string, []Diagnostic) {
	if v.kind == vNull {
		return nil, nil
	}
	if v.kind != vMap {
		return nil, []Diagnostic{newDiag(ConfigFile, v.line, v.col, CodeConfigInvalid,
			fmt.Sprintf("strings: must be a mapping of the theme's words to yours (like read_post: Weiterlesen →), not a %s", kindName(v.kind)))}
	}
	var ds []Diagnostic
	out := make(map[string]string, len(v.fields))
	keys := locale.Keys()
	for i := range v.fields {
		f := &v.fields[i]
		if f.value.kind != vScalar {
			ds = append(ds, newDiag(ConfigFile, f.value.line, f.value.col, CodeConfigInvalid,
				fmt.Sprintf("strings.%s: must be text, not a %s", f.key, kindName(f.value.kind))))
			continue
		}
		if problem := locale.Check(f.key, f.value.s); problem != "" {
			if !slices.Contains(keys, f.key) {
				if s := suggestFrom(f.key, keys); s != "" {
					problem += fmt.Sprintf(" (did you mean %s?)", s)
				}
			}
			ds = append(ds, newDiag(ConfigFile, f.line, f.col, CodeConfigInvalid, problem))
			continue
		}
		out[f.key] = f.value.s
	}
	return out, ds
}

// Analytics is the analytics: setting of publish.yaml: a privacy-friendly
// provider whose tag the theme writes at the end of every page's head.
type Analytics struct {
	Provider string `yaml:"provider" json:"provider"` // plausible, goatcounter or umami
	// Site is what the provider knows the blog by: Plausible's domain,
	// GoatCounter's code, Umami's website id.
	Site string `yaml:"site" json:"site"`
	// Script is the provider's script URL for a self-hosted instance ("" for
	// the provider's own); GoatCounter's is its count URL.
	Script string `yaml:"script" json:"script,omitempty"`
}

// AnalyticsProviders are the values of analytics.provider.
var AnalyticsProviders = []string{"plausible", "goatcounter", "umami"}

func parseAnalyticsConfig(v *fmValue) (*Analytics, []Diagnostic) {
	if v.kind == vNull {
		return nil, nil
	}
	bad := func(line, col int, format string, args ...any) []Diagnostic {
		return []Diagnostic{newDiag(ConfigFile, line, col, CodeConfigInvalid, fmt.Sprintf(format, args...))}
	}
	if v.kind != vMap {
		return nil, bad(v.line, v.col, "analytics: must be a mapping like {provider: plausible, site: example.com}, not a %s", kindName(v.kind))
	}
	a := &Analytics{}
	for i := range v.fields {
		f := &v.fields[i]
		if f.value.kind != vScalar {
			return nil, bad(f.value.line, f.value.col, "analytics.%s: must be text, not a %s", f.key, kindName(f.value.kind))
		}
		s := strings.TrimSpace(f.value.s)
		switch f.key {
		case "provider":
			a.Provider = strings.ToLower(s)
			if !slices.Contains(AnalyticsProviders, a.Provider) {
				return nil, bad(f.value.line, f.value.col, "analytics.provider: %q is not one of %s", s, strings.Join(AnalyticsProviders, ", "))
			}
		case "site":
			if strings.ContainsAny(s, "\"'<>` \t\n") || s == "" {
				return nil, bad(f.value.line, f.value.col, "analytics.site: %q is not a site name, code or id", s)
			}
			a.Site = s
		case "script":
			u, err := url.Parse(s)
			if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
				return nil, bad(f.value.line, f.value.col, "analytics.script: %q is not an https:// address", s)
			}
			a.Script = u.String()
		default:
			msg := fmt.Sprintf("analytics.%s: not a setting (provider, site, script)", f.key)
			if s := suggestFrom(f.key, []string{"provider", "site", "script"}); s != "" {
				msg += fmt.Sprintf("; did you mean %s?", s)
			}
			return nil, bad(f.line, f.col, "%s", msg)
		}
	}
	if a.Provider == "" || a.Site == "" {
		return nil, bad(v.line, v.col, "analytics: needs provider and site (like {provider: plausible, site: example.com})")
	}
	return a, nil
}
