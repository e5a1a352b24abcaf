package posts

import "fmt"

// maxParamsDepth bounds how deep params may nest (its values are the
// site's own variables: a few levels at most).
const maxParamsDepth = 8

// parseParamsConfig reads publish.yaml's params: a free mapping of the
// site's own variables ({{ site.<key> }} in Jekyll posts, .Site.Params in
// Hugo's), which `publishbot init` copies from the generator's config.
// Values are kept as strings, numbers written as text, booleans, lists and
// mappings.
func parseParamsConfig(v *fmValue) (map[string]any, []Diagnostic) {
	if v.kind == vNull {
		return nil, nil
	}
	if v.kind != vMap {
		return nil, []Diagnostic{newDiag(ConfigFile, v.line, v.col, CodeConfigInvalid,
			fmt.Sprintf("params: must be a mapping of names to values (like repository: https://github.com/you/blog), not a %s", kindName(v.kind)))}
	}
	var ds []Diagnostic
	out := paramsValue(v, 0, &ds)
	m, _ := out.(map[string]any)
	return m, ds
}

func paramsValue(v *fmValue, depth int, ds *[]Diagnostic) any {
	if depth > maxParamsDepth {
		*ds = append(*ds, newDiag(ConfigFile, v.line, v.col, CodeConfigInvalid, fmt.Sprintf("params: nested deeper than %d levels", maxParamsDepth)))
		return nil
	}
	switch v.kind {
	case vMap:
		m := make(map[string]any, len(v.fields))
		for i := range v.fields {
			f := &v.fields[i]
			m[f.key] = paramsValue(&f.value, depth+1, ds)
		}
		return m
	case vList:
		l := make([]any, 0, len(v.list))
		for i := range v.list {
			l = append(l, paramsValue(&v.list[i], depth+1, ds))
		}
		return l
	case vNull:
		return nil
	}
	switch v.tag {
	case "!!bool", "bool":
		return v.s == "true" || v.s == "True" || v.s == "TRUE"
	}
	return v.s
}
