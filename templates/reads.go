package templates

import (
	"html/template"
	"maps"
	"reflect"
	"slices"
	"strings"
	"text/template/parse"
)

// What a page template reads of the posts it lists. The archive shows
// every post's title, address and date; keyed by whole posts (keys.go), a
// typo fixed in one post's text made it, and every index and tag page
// listing that post, look changed, and the archive of a 20,000-post blog
// is the largest page there is. postReads works out, from a template's
// parse trees, which fields of PostData its execution can read, so that a
// page's key (pageKey) holds only those of its posts: the key still holds
// everything the bytes are made from, and nothing they are not.
//
// The analysis follows the type of every value through the template and
// the templates it calls, starting from *Page, by reflection on the real
// types. It is conservative: whenever a PostData (or a value that may
// hold one, or a value of a type it cannot know) could be read otherwise
// than field by field (printed, passed to a function or a method,
// compared, reached through an interface or a reassigned variable), the
// answer is "every field", the key of the whole post, as before.

var (
	postDataType    = reflect.TypeFor[PostData]()
	postDataPtrType = reflect.TypeFor[*PostData]()
	pageType        = reflect.TypeFor[*Page]()
	noPostType      = reflect.TypeFor[struct{}]() // a value that holds no post: nil, a literal
)

// postMethodFields names the fields each method of PostData reads;
// TestPostMethodsAreKnown fails when a method is added without its line
// here.
var postMethodFields = map[string][]string{
	"Body": {"body"},
}

// postMask is the fields of PostData one page template can read, by index
// in field order; it never holds Related (whose posts point back, see
// splitFields): a template that reads Related is keyed by whole posts.
type postMask struct {
	fields []int
	sig    []byte // the indices, written into every post digest made with it
	id     int    // its place in Renderer.masks
}

// postReads is the mask of the page template name of set (executed with a
// *Page), or nil when it may read a post whole.
func postReads(set *template.Template, name string) *postMask {
	a := &readAnalysis{
		set:      set,
		assigned: map[string]bool{},
		names:    map[string]bool{},
		seen:     map[readVisit]bool{},
		holds:    map[reflect.Type]bool{},
	}
	for _, t := range set.Templates() {
		if t.Tree != nil {
			eachPipe(t.Tree.Root, func(p *parse.PipeNode) { collectAssignedPipe(p, a.assigned) })
		}
	}
	a.template(name, pageType)
	if a.all || a.names["Related"] {
		return nil
	}
	m := &postMask{}
	for i := range postDataType.NumField() {
		f := postDataType.Field(i)
		if a.names[f.Name] || a.methodReads(f.Name) {
			m.fields = append(m.fields, i)
			m.sig = append(m.sig, byte(i))
		}
	}
	return m
}

type readAnalysis struct {
	set      *template.Template
	assigned map[string]bool // variables ever reassigned with =: their type is not followed
	names    map[string]bool // fields and methods of PostData read
	all      bool            // a post may be read whole
	seen     map[readVisit]bool
	holds    map[reflect.Type]bool
}

type readVisit struct {
	name string
	dot  reflect.Type
}

// methodReads says whether a method of PostData that was called reads
// the field.
func (a *readAnalysis) methodReads(field string) bool {
	for m, fields := range postMethodFields {
		if a.names[m] && slices.Contains(fields, field) {
			return true
		}
	}
	return false
}

// scope is the dot and the variables at a point of a template. A nil
// type is a value whose type is not known.
type scope struct {
	dot  reflect.Type
	vars map[string]reflect.Type
}

func (s scope) with(dot reflect.Type) scope {
	return scope{dot: dot, vars: maps.Clone(s.vars)}
}

func (a *readAnalysis) template(name string, dot reflect.Type) {
	v := readVisit{name, dot}
	if a.seen[v] || a.all {
		return
	}
	a.seen[v] = true
	t := a.set.Lookup(name)
	if t == nil || t.Tree == nil {
		return // executing it fails: no page is made
	}
	a.list(t.Tree.Root, scope{dot: dot, vars: map[string]reflect.Type{"$": dot}})
}

func (a *readAnalysis) list(l *parse.ListNode, s scope) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		a.node(n, s)
	}
}

func (a *readAnalysis) node(n parse.Node, s scope) {
	switch n := n.(type) {
	case *parse.ActionNode:
		t := a.pipe(n.Pipe, s)
		if len(n.Pipe.Decl) == 0 {
			a.read(t) // printed
		}
	case *parse.IfNode:
		inner := s.with(s.dot)
		a.pipe(n.Pipe, inner) // a truth test: nil or empty, not the fields
		a.list(n.List, inner)
		a.list(n.ElseList, s.with(s.dot))
	case *parse.WithNode:
		inner := s.with(s.dot)
		t := a.pipe(n.Pipe, inner)
		inner.dot = t
		a.list(n.List, inner)
		a.list(n.ElseList, s.with(s.dot))
	case *parse.RangeNode:
		inner := s.with(s.dot)
		t := a.pipe(n.Pipe, inner)
		key, elem := rangeTypes(t)
		switch len(n.Pipe.Decl) {
		case 1:
			a.declare(inner, n.Pipe.Decl[0].Ident[0], elem)
		case 2:
			a.declare(inner, n.Pipe.Decl[0].Ident[0], key)
			a.declare(inner, n.Pipe.Decl[1].Ident[0], elem)
		}
		inner.dot = elem
		a.list(n.List, inner)
		a.list(n.ElseList, s.with(s.dot))
	case *parse.TemplateNode:
		dot := noPostType
		if n.Pipe != nil {
			dot = a.pipe(n.Pipe, s)
		}
		a.template(n.Name, dot)
	case *parse.ListNode:
		a.list(n, s)
	case *parse.TextNode, *parse.CommentNode, *parse.BreakNode, *parse.ContinueNode:
	default:
		a.all = true // a node this analysis does not know
	}
}

// pipe is the type of a pipeline's value; its declarations set variables
// in s.
func (a *readAnalysis) pipe(p *parse.PipeNode, s scope) reflect.Type {
	if p == nil {
		return noPostType
	}
	var final reflect.Type
	for i, c := range p.Cmds {
		var args []reflect.Type
		if i > 0 {
			args = []reflect.Type{final}
		}
		final = a.command(c, s, args)
	}
	for _, d := range p.Decl {
		a.declare(s, d.Ident[0], final)
	}
	return final
}

// declare gives a variable its type, unknown for one that is reassigned
// somewhere (this analysis does not follow the order of execution).
func (a *readAnalysis) declare(s scope, name string, t reflect.Type) {
	if a.assigned[name] {
		t = nil
	}
	s.vars[name] = t
}

// command is the type of one command's value; final is the value piped
// into it, if any.
func (a *readAnalysis) command(c *parse.CommandNode, s scope, final []reflect.Type) reflect.Type {
	first := c.Args[0]
	rest := c.Args[1:]
	switch n := first.(type) {
	case *parse.IdentifierNode:
		args := append(a.args(rest, s), final...)
		return a.call(n.Ident, args)
	case *parse.FieldNode:
		return a.fields(s.dot, n.Ident, append(a.args(rest, s), final...))
	case *parse.ChainNode:
		return a.fields(a.arg(n.Node, s), n.Field, append(a.args(rest, s), final...))
	case *parse.VariableNode:
		return a.fields(a.variable(n.Ident[0], s), n.Ident[1:], append(a.args(rest, s), final...))
	}
	for _, t := range append(a.args(rest, s), final...) {
		a.read(t) // arguments given to a value that is not a function: an error, but be safe
	}
	return a.arg(first, s)
}

func (a *readAnalysis) args(nodes []parse.Node, s scope) []reflect.Type {
	out := make([]reflect.Type, len(nodes))
	for i, n := range nodes {
		out[i] = a.arg(n, s)
	}
	return out
}

// arg is the type of a command's argument.
func (a *readAnalysis) arg(n parse.Node, s scope) reflect.Type {
	switch n := n.(type) {
	case *parse.DotNode:
		return s.dot
	case *parse.FieldNode:
		return a.fields(s.dot, n.Ident, nil)
	case *parse.ChainNode:
		return a.fields(a.arg(n.Node, s), n.Field, nil)
	case *parse.VariableNode:
		return a.fields(a.variable(n.Ident[0], s), n.Ident[1:], nil)
	case *parse.PipeNode:
		return a.pipe(n, s.with(s.dot))
	case *parse.IdentifierNode:
		return a.call(n.Ident, nil) // a function called with no arguments
	case *parse.StringNode:
		return reflect.TypeFor[string]()
	case *parse.NumberNode:
		return reflect.TypeFor[float64]()
	case *parse.BoolNode:
		return reflect.TypeFor[bool]()
	case *parse.NilNode:
		return noPostType
	}
	a.all = true
	return nil
}

func (a *readAnalysis) variable(name string, s scope) reflect.Type {
	if a.assigned[name] {
		return nil
	}
	t, ok := s.vars[name]
	if !ok {
		return nil
	}
	return t
}

// fields follows a chain of field or method names from a value of type
// recv; the last one is given args.
func (a *readAnalysis) fields(recv reflect.Type, idents []string, args []reflect.Type) reflect.Type {
	t := recv
	for i, name := range idents {
		var callArgs []reflect.Type
		if i == len(idents)-1 {
			callArgs = args
		}
		t = a.field(t, name, callArgs)
	}
	if len(idents) == 0 {
		for _, at := range args {
			a.read(at)
		}
	}
	return t
}

func (a *readAnalysis) field(recv reflect.Type, name string, args []reflect.Type) reflect.Type {
	for _, t := range args {
		a.read(t)
	}
	if recv == nil {
		a.all = true // a value of unknown type might be a post
		return nil
	}
	base := recv
	if base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	if base == postDataType {
		a.names[name] = true
	}
	if m, ok := reflect.PointerTo(base).MethodByName(name); ok {
		// a method reads its receiver as it likes: only PostData's are known
		if _, known := postMethodFields[name]; !(base == postDataType && known) && a.holdsPost(base) {
			a.all = true
		}
		if m.Type.NumOut() == 0 {
			return noPostType
		}
		return knownType(m.Type.Out(0))
	}
	switch base.Kind() {
	case reflect.Struct:
		if f, ok := base.FieldByName(name); ok {
			return knownType(f.Type)
		}
		return noPostType // an error: no page is made
	case reflect.Map:
		return knownType(base.Elem())
	}
	a.all = true
	return nil
}

// call is the type of what the function name returns given args.
func (a *readAnalysis) call(name string, args []reflect.Type) reflect.Type {
	switch name {
	case "and", "or":
		// the value of one of the arguments, tested for truth only
		var t reflect.Type
		for i, at := range args {
			if i == 0 {
				t = at
			} else if at != t {
				t = nil
			}
		}
		return t
	case "not":
		return reflect.TypeFor[bool]()
	case "len":
		return reflect.TypeFor[int]()
	case "index":
		if len(args) == 0 {
			return nil
		}
		t := args[0]
		for range args[1:] {
			t = elemType(t)
		}
		return t
	case "slice":
		if len(args) == 0 {
			return nil
		}
		return args[0]
	}
	// any other function may read its arguments whole: the builtins that
	// print or compare them, and the theme's functions
	for _, t := range args {
		a.read(t)
	}
	if f, ok := funcs[name]; ok {
		ft := reflect.TypeOf(f)
		if ft.NumOut() > 0 {
			return knownType(ft.Out(0))
		}
		return noPostType
	}
	switch name {
	case "print", "printf", "println", "html", "js", "urlquery":
		return reflect.TypeFor[string]()
	case "eq", "ne", "lt", "le", "gt", "ge":
		return reflect.TypeFor[bool]()
	}
	a.all = true // call, or a function the theme was not parsed with
	return nil
}

// read notes that a value of type t is read whole.
func (a *readAnalysis) read(t reflect.Type) {
	if a.holdsPost(t) {
		a.all = true
	}
}

// holdsPost says whether a value of type t may hold a PostData: t is not
// known, is PostData, or leads to it or to an interface or a function.
func (a *readAnalysis) holdsPost(t reflect.Type) bool {
	if t == nil {
		return true
	}
	if h, ok := a.holds[t]; ok {
		return h
	}
	h := leadsToPost(t, map[reflect.Type]bool{})
	a.holds[t] = h
	return h
}

// leadsToPost is holdsPost's search; seen is the types already searched
// (only the answer for the first type is kept: one found on a cycle's way
// back would be partial).
func leadsToPost(t reflect.Type, seen map[reflect.Type]bool) bool {
	if t == postDataType {
		return true
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			if leadsToPost(t.Field(i).Type, seen) {
				return true
			}
		}
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Chan:
		return leadsToPost(t.Elem(), seen)
	case reflect.Map:
		return leadsToPost(t.Key(), seen) || leadsToPost(t.Elem(), seen)
	case reflect.Interface, reflect.Func, reflect.UnsafePointer:
		return true
	}
	return false
}

// knownType is t, or nil (not known) for an interface: text/template
// goes on with the dynamic value.
func knownType(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Interface {
		return nil
	}
	return t
}

// elemType is the type of an element of a value of type t, as index
// gives it.
func elemType(t reflect.Type) reflect.Type {
	if t == nil {
		return nil
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return knownType(t.Elem())
	case reflect.String:
		return reflect.TypeFor[byte]()
	}
	return nil
}

// rangeTypes are the types of a range's key and element over a value of
// type t.
func rangeTypes(t reflect.Type) (key, elem reflect.Type) {
	if t == nil {
		return nil, nil
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return reflect.TypeFor[int](), knownType(t.Elem())
	case reflect.Map:
		return knownType(t.Key()), knownType(t.Elem())
	case reflect.Chan:
		return knownType(t.Elem()), knownType(t.Elem())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return t, t
	}
	return nil, nil
}

// collectAssignedPipe adds the variables p assigns with = to names.
func collectAssignedPipe(p *parse.PipeNode, names map[string]bool) {
	if p == nil {
		return
	}
	if p.IsAssign {
		for _, d := range p.Decl {
			names[d.Ident[0]] = true
		}
	}
	for _, c := range p.Cmds {
		for _, arg := range c.Args {
			switch arg := arg.(type) {
			case *parse.PipeNode:
				collectAssignedPipe(arg, names)
			case *parse.ChainNode:
				if pn, ok := arg.Node.(*parse.PipeNode); ok {
					collectAssignedPipe(pn, names)
				}
			}
		}
	}
}

// maskNames lists a mask's fields, for tests and logs.
func maskNames(m *postMask) string {
	if m == nil {
		return "(every field)"
	}
	var names []string
	for _, i := range m.fields {
		names = append(names, postDataType.Field(i).Name)
	}
	return strings.Join(names, " ")
}
