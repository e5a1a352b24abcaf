package ghapitest

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"
)

// API is a description of GitHub's REST API (an OpenAPI 3 document, or a
// subset of one) with its documented examples. Given to a Server in
// Options.API, it makes the server check every request against the
// description and answer with the documented examples. The server never
// reads a description itself: the tests load one (ProjectAPI, the project's
// copy in api/) and hand it over. An API is safe for concurrent use.
type API struct {
	doc   map[string]any
	paths []apiPath
	// examples by file name: "<operationId with / as -->.<status|request>.<name>.json"
	examples map[string][]byte
}

type apiPath struct {
	re      *regexp.Regexp
	methods map[string]map[string]any // upper-case method → operation object
}

// Files LoadAPI reads.
const (
	DescriptionFile = "openapi-subset.json"
	ExamplesDir     = "examples"
)

// LoadAPI reads an API from fsys: the OpenAPI document DescriptionFile,
// merged with every further document named openapi-<topic>.json beside it
// (operations added to the shared subset, see api/SOURCE.md), and the
// example files under ExamplesDir (which may be missing).
func LoadAPI(fsys fs.FS) (*API, error) {
	doc, err := fs.ReadFile(fsys, DescriptionFile)
	if err != nil {
		return nil, fmt.Errorf("read github api description: %w", err)
	}
	extra, err := fs.Glob(fsys, "openapi-*.json")
	if err != nil {
		return nil, fmt.Errorf("list github api descriptions: %w", err)
	}
	sort.Strings(extra)
	for _, name := range extra {
		if name == DescriptionFile {
			continue
		}
		more, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read github api description %s: %w", name, err)
		}
		if doc, err = mergeDescriptions(doc, more); err != nil {
			return nil, fmt.Errorf("merge github api description %s: %w", name, err)
		}
	}
	examples := map[string][]byte{}
	entries, err := fs.ReadDir(fsys, ExamplesDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read github api examples: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".json" {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(ExamplesDir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read github api examples: %w", err)
		}
		examples[e.Name()] = b
	}
	return ParseAPI(doc, examples)
}

//go:embed api
var projectAPI embed.FS

// ProjectAPI is the project's own copy of the description (the folder api/):
// the shared subset plus the operations added for publishbot's later
// features. Tests and the demo's stand-in use it.
func ProjectAPI() (*API, error) {
	sub, err := fs.Sub(projectAPI, "api")
	if err != nil {
		return nil, fmt.Errorf("open github api description: %w", err)
	}
	return LoadAPI(sub)
}

// mergeDescriptions adds more's paths and components to base. A path or
// component present in both must be the same: both come from one upstream
// description, so a difference means a copy was edited by hand.
func mergeDescriptions(base, more []byte) ([]byte, error) {
	var a, b map[string]any
	if err := json.Unmarshal(base, &a); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if err := json.Unmarshal(more, &b); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if err := mergeSection(a, b, "paths"); err != nil {
		return nil, err
	}
	bc, _ := b["components"].(map[string]any)
	if a["components"] == nil {
		a["components"] = map[string]any{}
	}
	ac, _ := a["components"].(map[string]any)
	for kind := range bc {
		if err := mergeSection(ac, bc, kind); err != nil {
			return nil, err
		}
	}
	return json.Marshal(a)
}

func mergeSection(a, b map[string]any, key string) error {
	bm, _ := b[key].(map[string]any)
	if len(bm) == 0 {
		return nil
	}
	am, _ := a[key].(map[string]any)
	if am == nil {
		am = map[string]any{}
		a[key] = am
	}
	for k, v := range bm {
		if old, ok := am[k]; ok {
			ob, _ := json.Marshal(old)
			nb, _ := json.Marshal(v)
			if !bytes.Equal(ob, nb) {
				return fmt.Errorf("%s %q differs from the one already described", key, k)
			}
			continue
		}
		am[k] = v
	}
	return nil
}

// ParseAPI makes an API from an OpenAPI document and examples by file name
// (see LoadAPI).
func ParseAPI(openAPI []byte, examples map[string][]byte) (*API, error) {
	a := &API{examples: examples}
	if err := json.Unmarshal(openAPI, &a.doc); err != nil {
		return nil, fmt.Errorf("parse github api description: %w", err)
	}
	paths, ok := a.doc["paths"].(map[string]any)
	if !ok {
		return nil, errors.New("parse github api description: no paths")
	}
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, p := range keys {
		segs := strings.Split(p, "/")
		for i, seg := range segs {
			if strings.HasPrefix(seg, "{") {
				segs[i] = "[^/]+"
			} else {
				segs[i] = regexp.QuoteMeta(seg)
			}
		}
		ap := apiPath{re: regexp.MustCompile("^" + strings.Join(segs, "/") + "$"), methods: map[string]map[string]any{}}
		ops, _ := paths[p].(map[string]any)
		for m, op := range ops {
			if o, ok := op.(map[string]any); ok {
				ap.methods[strings.ToUpper(m)] = o
			}
		}
		a.paths = append(a.paths, ap)
	}
	for name, raw := range examples {
		if !json.Valid(raw) {
			return nil, fmt.Errorf("parse github api example %s: not JSON", name)
		}
	}
	return a, nil
}

// check returns how a request departs from the description: an operation
// it does not describe, a body that is not a JSON object or lacks the
// application/json type, a body its schema refuses, a body shaped unlike
// GitHub's request examples. ok is false when the description has no such
// operation (the description may be a subset).
func (a *API) check(method, urlPath, contentType string, body []byte) (problems []string, ok bool) {
	op, schema, required := a.match(method, urlPath)
	if op == "" {
		return nil, false
	}
	// ghinstallation sends "null" for no options, and GitHub takes it as none.
	if trimmed := bytes.TrimSpace(body); len(trimmed) == 0 || string(trimmed) == "null" {
		if required {
			problems = append(problems, op+": request body required")
		}
		return problems, true
	}
	if !strings.HasPrefix(contentType, "application/json") {
		problems = append(problems, fmt.Sprintf("%s: Content-Type %q, want application/json", op, contentType))
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return append(problems, fmt.Sprintf("%s: body is not JSON: %v", op, err)), true
	}
	if _, isObject := v.(map[string]any); !isObject {
		problems = append(problems, fmt.Sprintf("%s: body is a JSON %s, want an object", op, jsonKind(v)))
	}
	if schema != nil {
		for _, p := range a.validate(schema, v, "body") {
			problems = append(problems, op+": "+p)
		}
	}
	for _, p := range sameShape(a.requestExamples(op), v, "body") {
		problems = append(problems, op+" differs from GitHub's request examples: "+p)
	}
	return problems, true
}

// match finds the operation for a request and its JSON body schema.
func (a *API) match(method, urlPath string) (op string, schema map[string]any, required bool) {
	for _, p := range a.paths {
		if !p.re.MatchString(urlPath) {
			continue
		}
		o, ok := p.methods[method]
		if !ok {
			continue
		}
		op, _ = o["operationId"].(string)
		if rb, ok := o["requestBody"].(map[string]any); ok {
			required, _ = rb["required"].(bool)
			content, _ := rb["content"].(map[string]any)
			js, _ := content["application/json"].(map[string]any)
			schema, _ = js["schema"].(map[string]any)
		}
		return op, schema, required
	}
	return "", nil, false
}

// example returns the first documented example answer of op with status
// (by file name order), or nil.
func (a *API) example(op string, status int) any {
	prefix := fmt.Sprintf("%s.%d.", strings.ReplaceAll(op, "/", "--"), status)
	var names []string
	for name := range a.examples {
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	sort.Strings(names)
	var v any
	_ = json.Unmarshal(a.examples[names[0]], &v) // checked in ParseAPI
	return v
}

// requestExamples are GitHub's documented request bodies of an operation.
func (a *API) requestExamples(op string) []any {
	prefix := strings.ReplaceAll(op, "/", "--") + ".request."
	var names []string
	for name := range a.examples {
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	out := make([]any, 0, len(names))
	for _, name := range names {
		var v any
		_ = json.Unmarshal(a.examples[name], &v)
		out = append(out, v)
	}
	return out
}

// overlay is GitHub's documented example answer with v's fields written
// over it: the answer has every field GitHub documents, with this server's
// values where it has them. A list is overlaid item by item on the
// example's first item.
func overlay(example, v any) any {
	switch ex := example.(type) {
	case map[string]any:
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		for k, val := range m {
			ex[k] = val
		}
		return ex
	case []any:
		list, ok := v.([]any)
		if !ok || len(ex) == 0 {
			return v
		}
		raw, _ := json.Marshal(ex[0])
		for i, item := range list {
			var base any
			_ = json.Unmarshal(raw, &base)
			list[i] = overlay(base, item)
		}
		return list
	}
	return v
}

func (a *API) resolve(s map[string]any) map[string]any {
	for {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		node := any(a.doc)
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, _ := node.(map[string]any)
			node = m[part]
		}
		next, ok := node.(map[string]any)
		if !ok {
			return map[string]any{}
		}
		s = next
	}
}

// validate checks v against schema: types, required and unknown properties,
// enums, maxLength and maxItems, date-times. It returns the problems found.
func (a *API) validate(schema map[string]any, v any, at string) []string {
	s := a.resolve(schema)
	if v == nil {
		if n, _ := s["nullable"].(bool); n {
			return nil
		}
		return []string{at + ": null"}
	}
	var problems []string
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if e == v {
				found = true
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("%s: %v not in %v", at, v, enum))
		}
	}
	switch s["type"] {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return append(problems, fmt.Sprintf("%s: want an object, got %s", at, jsonKind(v)))
		}
		props, _ := s["properties"].(map[string]any)
		for _, r := range asStrings(s["required"]) {
			if _, ok := obj[r]; !ok {
				problems = append(problems, at+": missing required "+r)
			}
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if props != nil {
					problems = append(problems, at+": unknown property "+k)
				}
				continue
			}
			problems = append(problems, a.validate(ps, obj[k], at+"."+k)...)
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return append(problems, fmt.Sprintf("%s: want an array, got %s", at, jsonKind(v)))
		}
		if mx, ok := s["maxItems"].(float64); ok && float64(len(arr)) > mx {
			problems = append(problems, fmt.Sprintf("%s: %d items, max %v", at, len(arr), mx))
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range arr {
				problems = append(problems, a.validate(items, e, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return append(problems, fmt.Sprintf("%s: want a string, got %s", at, jsonKind(v)))
		}
		if mx, ok := s["maxLength"].(float64); ok && float64(len([]rune(str))) > mx {
			problems = append(problems, fmt.Sprintf("%s: %d characters, max %v", at, len([]rune(str)), mx))
		}
		if s["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339, str); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %q is not a date-time", at, str))
			}
		}
	case "integer":
		n, ok := v.(float64)
		if !ok || n != float64(int64(n)) {
			problems = append(problems, fmt.Sprintf("%s: want an integer, got %v", at, v))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			problems = append(problems, fmt.Sprintf("%s: want a boolean, got %s", at, jsonKind(v)))
		}
	}
	return problems
}

// sameShape checks that every field of got that one of the examples also has
// holds the same kind of JSON value (object, array, string, number, bool),
// recursively: our requests look like GitHub's own examples.
func sameShape(examples []any, got any, at string) []string {
	var problems []string
	switch g := got.(type) {
	case map[string]any:
		keys := make([]string, 0, len(g))
		for k := range g {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := g[k]
			var sub []any
			for _, ex := range examples {
				if m, ok := ex.(map[string]any); ok {
					if ev, ok := m[k]; ok && ev != nil {
						sub = append(sub, ev)
					}
				}
			}
			if len(sub) == 0 || v == nil {
				continue
			}
			if jsonKind(sub[0]) != jsonKind(v) {
				problems = append(problems, fmt.Sprintf("%s.%s is a %s, GitHub's example has a %s", at, k, jsonKind(v), jsonKind(sub[0])))
				continue
			}
			problems = append(problems, sameShape(sub, v, at+"."+k)...)
		}
	case []any:
		var elems []any
		for _, ex := range examples {
			if a, ok := ex.([]any); ok {
				elems = append(elems, a...)
			}
		}
		if len(elems) == 0 {
			return nil
		}
		for i, v := range g {
			if jsonKind(v) != jsonKind(elems[0]) {
				problems = append(problems, fmt.Sprintf("%s[%d] is a %s, GitHub's example has a %s", at, i, jsonKind(v), jsonKind(elems[0])))
				continue
			}
			problems = append(problems, sameShape(elems, v, fmt.Sprintf("%s[%d]", at, i))...)
		}
	}
	return problems
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "null"
}

func asStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
