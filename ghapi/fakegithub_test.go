package ghapi

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jwt "github.com/golang-jwt/jwt/v4"
)

// apiData is the shared GitHub API test data, beside the module root.
const apiData = "../../shared/testdata/github-api"

// request is one request the fake GitHub received.
type request struct {
	Method, Path, Query string
	Auth                string
	Op                  string // operationId, e.g. "issues/create-comment"
	Body                map[string]any
	Status              int // what the fake answered
}

// fault is an answer the fake gives instead of the real one, once, to the
// first request it matches.
type fault struct {
	method, pathPrefix string
	status             int
	header             map[string]string
	body               string
}

// fakeGitHub is an httptest GitHub API whose answers are GitHub's documented
// examples (ids, bodies and times adapted) and which records every request
// and checks its path and JSON body against the OpenAPI description.
type fakeGitHub struct {
	t   testing.TB
	srv *httptest.Server
	api *openAPI

	// Set before use.
	token    string         // accepted "Bearer <token>"; "" accepts any
	appID    int64          // with appKey: accept JWTs of this App
	appKey   *rsa.PublicKey //
	pageSize int            // comments per page when the client asks more; 0 = honour per_page

	// beforeList, when set, runs after a comment listing read the comments
	// and before it answers (outside the lock).
	beforeList func()

	mu          sync.Mutex
	reqs        []request
	faults      []fault
	nextID      int64
	clock       time.Time
	comments    map[int][]*fakeComment // by issue number
	checkRuns   map[int64]*fakeCheckRun
	statuses    []map[string]any
	tokensGiven map[string]int64 // installation token → installation id
}

type fakeComment struct {
	ID      int64
	Body    string
	Created time.Time
}

type fakeCheckRun struct {
	ID          int64
	Create      map[string]any
	Annotations []map[string]any
	Updates     int
}

func newFakeGitHub(t testing.TB) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{
		t:           t,
		api:         loadOpenAPI(t),
		nextID:      1000,
		clock:       time.Date(2026, 6, 14, 10, 0, 0, 0, time.UTC),
		comments:    map[int][]*fakeComment{},
		checkRuns:   map[int64]*fakeCheckRun{},
		tokensGiven: map[string]int64{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the API root, a plain "http://127.0.0.1:port/".
func (f *fakeGitHub) URL() string { return f.srv.URL + "/" }

func (f *fakeGitHub) addFault(ft fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, ft)
}

// addComment puts an existing comment on an issue.
func (f *fakeGitHub) addComment(issue int, body string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addCommentLocked(issue, body).ID
}

func (f *fakeGitHub) addCommentLocked(issue int, body string) *fakeComment {
	f.nextID++
	f.clock = f.clock.Add(time.Second)
	c := &fakeComment{ID: f.nextID, Body: body, Created: f.clock}
	f.comments[issue] = append(f.comments[issue], c)
	return c
}

func (f *fakeGitHub) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

// ops lists the operationIds of the recorded requests, in order.
func (f *fakeGitHub) ops() []string {
	var ops []string
	for _, r := range f.requests() {
		ops = append(ops, r.Method+" "+r.Op)
	}
	return ops
}

func (f *fakeGitHub) count(op string) int {
	n := 0
	for _, r := range f.requests() {
		if r.Op == op && r.Status < 300 {
			n++
		}
	}
	return n
}

func (f *fakeGitHub) marked(issue int) []*fakeComment {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*fakeComment
	for _, c := range f.comments[issue] {
		if strings.Contains(c.Body, Marker) {
			cc := *c
			out = append(out, &cc)
		}
	}
	return out
}

var (
	reComments    = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$`)
	reComment     = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/issues/comments/(\d+)$`)
	reCheckRuns   = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/check-runs$`)
	reCheckRun    = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/check-runs/(\d+)$`)
	reStatuses    = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/statuses/([0-9a-f]{40})$`)
	reAccessToken = regexp.MustCompile(`^/app/installations/(\d+)/access_tokens$`)
)

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("read request body: %v", err)
	}
	rec := request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Auth: r.Header.Get("Authorization")}
	op, schema, bodyRequired := f.api.match(r.Method, r.URL.Path)
	rec.Op = op
	if op == "" && r.Method != http.MethodDelete {
		f.t.Errorf("%s %s is not an operation of the GitHub API subset", r.Method, r.URL.Path)
	}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &rec.Body); err != nil {
			f.t.Errorf("%s %s: body is not a JSON object: %v", r.Method, r.URL.Path, err)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			f.t.Errorf("%s %s: Content-Type %q", r.Method, r.URL.Path, ct)
		}
		if schema != nil {
			for _, problem := range f.api.validate(schema, rec.Body, "body") {
				f.t.Errorf("%s %s (%s): %s", r.Method, r.URL.Path, op, problem)
			}
		}
		for _, problem := range sameShape(requestExamples(f.t, op), rec.Body, "body") {
			f.t.Errorf("%s %s (%s) differs from GitHub's request examples: %s", r.Method, r.URL.Path, op, problem)
		}
	} else if bodyRequired {
		f.t.Errorf("%s %s (%s): request body required", r.Method, r.URL.Path, op)
	}
	status, header, body := f.answer(r, rec)
	rec.Status = status
	f.mu.Lock()
	f.reqs = append(f.reqs, rec)
	f.mu.Unlock()
	for k, v := range header {
		w.Header().Set(k, v)
	}
	if body != nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (f *fakeGitHub) answer(r *http.Request, rec request) (int, map[string]string, []byte) {
	f.mu.Lock()
	for i, ft := range f.faults {
		if ft.method == r.Method && strings.HasPrefix(r.URL.Path, ft.pathPrefix) {
			f.faults = append(f.faults[:i], f.faults[i+1:]...)
			f.mu.Unlock()
			return ft.status, ft.header, []byte(ft.body)
		}
	}
	f.mu.Unlock()

	if m := reAccessToken.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodPost {
		return f.accessToken(r, m[1])
	}
	if !f.authorised(rec.Auth) {
		return 401, nil, []byte(`{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`)
	}
	switch m := reComments.FindStringSubmatch(r.URL.Path); {
	case m != nil && r.Method == http.MethodGet:
		issue, _ := strconv.Atoi(m[3])
		return f.listComments(r, m[1], m[2], issue)
	case m != nil && r.Method == http.MethodPost:
		issue, _ := strconv.Atoi(m[3])
		f.mu.Lock()
		c := *f.addCommentLocked(issue, rec.Body["body"].(string))
		f.mu.Unlock()
		return 201, nil, f.commentJSON("issues--create-comment.201.default.json", m[1], m[2], issue, &c)
	}
	if m := reComment.FindStringSubmatch(r.URL.Path); m != nil {
		id, _ := strconv.ParseInt(m[3], 10, 64)
		f.mu.Lock()
		defer f.mu.Unlock()
		for issue, cs := range f.comments {
			for i, c := range cs {
				if c.ID != id {
					continue
				}
				switch r.Method {
				case http.MethodPatch:
					c.Body = rec.Body["body"].(string)
					return 200, nil, f.commentJSON("issues--update-comment.200.default.json", m[1], m[2], issue, c)
				case http.MethodDelete:
					f.comments[issue] = append(cs[:i:i], cs[i+1:]...)
					return 204, nil, nil
				}
			}
		}
		return 404, nil, []byte(`{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)
	}
	if m := reCheckRuns.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodPost {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.nextID++
		run := &fakeCheckRun{ID: f.nextID, Create: rec.Body}
		run.Annotations = append(run.Annotations, annotationsOf(rec.Body)...)
		f.checkRuns[run.ID] = run
		return 201, nil, f.checkRunJSON("checks--create.201.example-of-completed-conclusion.json", run.ID, rec.Body)
	}
	if m := reCheckRun.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodPatch {
		id, _ := strconv.ParseInt(m[3], 10, 64)
		f.mu.Lock()
		defer f.mu.Unlock()
		run, ok := f.checkRuns[id]
		if !ok {
			return 404, nil, []byte(`{"message":"Not Found"}`)
		}
		run.Updates++
		run.Annotations = append(run.Annotations, annotationsOf(rec.Body)...)
		return 200, nil, f.checkRunJSON("checks--update.200.default.json", id, run.Create)
	}
	if m := reStatuses.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodPost {
		f.mu.Lock()
		f.statuses = append(f.statuses, rec.Body)
		f.mu.Unlock()
		ex := example(f.t, "repos--create-commit-status.201.default.json")
		for k, v := range rec.Body {
			ex[k] = v
		}
		return 201, nil, mustJSON(f.t, ex)
	}
	return 404, nil, []byte(`{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)
}

func (f *fakeGitHub) authorised(auth string) bool {
	if tok, ok := strings.CutPrefix(auth, "token "); ok { // ghinstallation's scheme
		f.mu.Lock()
		defer f.mu.Unlock()
		_, known := f.tokensGiven[tok]
		return known
	}
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	return ok && (f.token == "" || tok == f.token)
}

// accessToken checks the App's JWT and hands out an installation token.
func (f *fakeGitHub) accessToken(r *http.Request, installation string) (int, map[string]string, []byte) {
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || f.appKey == nil {
		return 401, nil, []byte(`{"message":"A JSON web token could not be decoded"}`)
	}
	claims := &jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(bearer, claims, func(tk *jwt.Token) (any, error) {
		if _, ok := tk.Method.(*jwt.SigningMethodRSA); !ok {
			return nil, fmt.Errorf("signing method %v", tk.Header["alg"])
		}
		return f.appKey, nil
	})
	if err != nil || claims.Issuer != strconv.FormatInt(f.appID, 10) {
		return 401, nil, []byte(`{"message":"A JSON web token could not be decoded"}`)
	}
	id, _ := strconv.ParseInt(installation, 10, 64)
	ex := example(f.t, "apps--create-installation-access-token.201.default.json")
	tok := fmt.Sprintf("ghs_%dTestToken%036d", id, id)
	ex["token"] = tok
	ex["expires_at"] = time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	f.mu.Lock()
	f.tokensGiven[tok] = id
	f.mu.Unlock()
	return 201, nil, mustJSON(f.t, ex)
}

func (f *fakeGitHub) listComments(r *http.Request, owner, repo string, issue int) (int, map[string]string, []byte) {
	q := r.URL.Query()
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 {
		per = 30
	}
	if f.pageSize > 0 && f.pageSize < per {
		per = f.pageSize
	}
	page, _ := strconv.Atoi(q.Get("page"))
	if page <= 0 {
		page = 1
	}
	f.mu.Lock()
	all := make([]*fakeComment, len(f.comments[issue]))
	for i, c := range f.comments[issue] {
		cc := *c // a copy: edits may come in while this page is written
		all[i] = &cc
	}
	f.mu.Unlock()
	last := max(1, (len(all)+per-1)/per)
	lo, hi := min((page-1)*per, len(all)), min(page*per, len(all))
	items := make([]any, 0, hi-lo)
	for _, c := range all[lo:hi] {
		var item map[string]any
		if err := json.Unmarshal(f.commentJSON("issues--list-comments.200.default.json", owner, repo, issue, c), &item); err != nil {
			f.t.Fatal(err)
		}
		items = append(items, item)
	}
	if f.beforeList != nil { // after the snapshot: a staged race sees what was there
		f.beforeList()
	}
	header := map[string]string{}
	link := func(p int, rel string) string {
		return fmt.Sprintf(`<%s/repos/%s/%s/issues/%d/comments?page=%d&per_page=%d>; rel="%s"`, f.srv.URL, owner, repo, issue, p, per, rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		header["Link"] = strings.Join(links, ", ")
	}
	return 200, header, mustJSON(f.t, items)
}

// commentJSON is GitHub's example comment with this comment's fields. For
// the listing example it takes the array's element.
func (f *fakeGitHub) commentJSON(file, owner, repo string, issue int, c *fakeComment) []byte {
	var ex map[string]any
	raw := exampleRaw(f.t, file)
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		var list []map[string]any
		if err := json.Unmarshal(raw, &list); err != nil {
			f.t.Fatal(err)
		}
		ex = list[0]
	} else if err := json.Unmarshal(raw, &ex); err != nil {
		f.t.Fatal(err)
	}
	ex["id"] = c.ID
	ex["body"] = c.Body
	ex["url"] = fmt.Sprintf("%s/repos/%s/%s/issues/comments/%d", f.srv.URL, owner, repo, c.ID)
	ex["html_url"] = fmt.Sprintf("https://github.com/%s/%s/pull/%d#issuecomment-%d", owner, repo, issue, c.ID)
	ex["issue_url"] = fmt.Sprintf("%s/repos/%s/%s/issues/%d", f.srv.URL, owner, repo, issue)
	ex["created_at"] = c.Created.Format(time.RFC3339)
	ex["updated_at"] = c.Created.Format(time.RFC3339)
	return mustJSON(f.t, ex)
}

func (f *fakeGitHub) checkRunJSON(file string, id int64, create map[string]any) []byte {
	ex := example(f.t, file)
	ex["id"] = id
	for _, k := range []string{"name", "head_sha", "status", "conclusion", "details_url", "external_id"} {
		if v, ok := create[k]; ok {
			ex[k] = v
		}
	}
	return mustJSON(f.t, ex)
}

func annotationsOf(body map[string]any) []map[string]any {
	out, _ := body["output"].(map[string]any)
	list, _ := out["annotations"].([]any)
	var as []map[string]any
	for _, a := range list {
		as = append(as, a.(map[string]any))
	}
	return as
}

// requestExamples are GitHub's documented request bodies of an operation.
func requestExamples(t testing.TB, op string) []any {
	files, err := filepath.Glob(filepath.Join(apiData, "examples", strings.ReplaceAll(op, "/", "--")+".request.*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []any
	for _, file := range files {
		var v any
		if err := json.Unmarshal(exampleRaw(t, filepath.Base(file)), &v); err != nil {
			t.Fatalf("parse %s: %v", file, err)
		}
		out = append(out, v)
	}
	return out
}

// sameShape checks that every field of got that one of the examples also has
// holds the same kind of JSON value (object, array, string, number, bool),
// recursively: our requests look like GitHub's own examples.
func sameShape(examples []any, got any, at string) []string {
	var problems []string
	switch g := got.(type) {
	case map[string]any:
		for k, v := range g {
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

func exampleRaw(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(apiData, "examples", name))
	if err != nil {
		t.Fatalf("read GitHub API example: %v", err)
	}
	return raw
}

func example(t testing.TB, name string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(exampleRaw(t, name), &m); err != nil {
		t.Fatalf("parse GitHub API example %s: %v", name, err)
	}
	return m
}

func mustJSON(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openAPI is the subset of GitHub's OpenAPI description in the shared test
// data, enough to match paths and check request bodies.
type openAPI struct {
	doc   map[string]any
	paths []apiPath
}

type apiPath struct {
	re      *regexp.Regexp
	methods map[string]map[string]any
}

var (
	openAPIOnce sync.Once
	openAPIDoc  *openAPI
	openAPIErr  error
)

func loadOpenAPI(t testing.TB) *openAPI {
	t.Helper()
	openAPIOnce.Do(func() {
		raw, err := os.ReadFile(filepath.Join(apiData, "openapi-subset.json"))
		if err != nil {
			openAPIErr = err
			return
		}
		a := &openAPI{}
		if openAPIErr = json.Unmarshal(raw, &a.doc); openAPIErr != nil {
			return
		}
		paths := a.doc["paths"].(map[string]any)
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
			for m, op := range paths[p].(map[string]any) {
				if o, ok := op.(map[string]any); ok {
					ap.methods[strings.ToUpper(m)] = o
				}
			}
			a.paths = append(a.paths, ap)
		}
		openAPIDoc = a
	})
	if openAPIErr != nil {
		t.Fatalf("load OpenAPI subset: %v", openAPIErr)
	}
	return openAPIDoc
}

// match finds the operation for a request and its JSON body schema.
func (a *openAPI) match(method, path string) (op string, schema map[string]any, required bool) {
	for _, p := range a.paths {
		if !p.re.MatchString(path) {
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

func (a *openAPI) resolve(s map[string]any) map[string]any {
	for {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		node := any(a.doc)
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			node = node.(map[string]any)[part]
		}
		s = node.(map[string]any)
	}
}

// validate checks v against schema: types, required and unknown properties,
// enums, maxLength and maxItems. It returns the problems found.
func (a *openAPI) validate(schema map[string]any, v any, at string) []string {
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
			return append(problems, fmt.Sprintf("%s: want an object, got %T", at, v))
		}
		props, _ := s["properties"].(map[string]any)
		for _, r := range asStrings(s["required"]) {
			if _, ok := obj[r]; !ok {
				problems = append(problems, at+": missing required "+r)
			}
		}
		for k, val := range obj {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if props != nil {
					problems = append(problems, at+": unknown property "+k)
				}
				continue
			}
			problems = append(problems, a.validate(ps, val, at+"."+k)...)
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return append(problems, fmt.Sprintf("%s: want an array, got %T", at, v))
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
			return append(problems, fmt.Sprintf("%s: want a string, got %T", at, v))
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
			problems = append(problems, fmt.Sprintf("%s: want a boolean, got %T", at, v))
		}
	}
	return problems
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
