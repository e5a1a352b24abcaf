package templates

import (
	"html/template"
	"strconv"
	"text/template/parse"

	"github.com/publishbot/publishbot/locale"
)

// foldWords replaces, in every template of set (before its first
// execution, when html/template adds its escaping), each call of t whose
// arguments are all quoted strings and whose result is not piped into by
// another command ({{t "older"}}, aria-label="{{t "tags"}}") by the
// string it gives in loc. t's result is a string that depends only on
// them and loc, and the escaping html/template adds to the action applies
// to the constant as it did to the call: the pages are the same, without
// a call per word per page. Calls with other arguments ({{t "min_read"
// .ReadingTime}}) are left as they are.
func foldWords(set *template.Template, loc *locale.Locale) {
	for _, t := range set.Templates() {
		if t.Tree != nil && t.Tree.Root != nil {
			eachPipe(t.Tree.Root, func(p *parse.PipeNode) { foldPipe(p, loc) })
		}
	}
}

// eachPipe calls fn with the pipeline of every action, if, range, with
// and template call in the tree n, in order (not those nested in
// parentheses: fn sees them in its pipeline's commands).
func eachPipe(n parse.Node, fn func(*parse.PipeNode)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			eachPipe(c, fn)
		}
	case *parse.ActionNode:
		fn(n.Pipe)
	case *parse.IfNode:
		eachBranchPipe(&n.BranchNode, fn)
	case *parse.RangeNode:
		eachBranchPipe(&n.BranchNode, fn)
	case *parse.WithNode:
		eachBranchPipe(&n.BranchNode, fn)
	case *parse.TemplateNode:
		fn(n.Pipe)
	}
}

func eachBranchPipe(n *parse.BranchNode, fn func(*parse.PipeNode)) {
	fn(n.Pipe)
	eachPipe(n.List, fn)
	eachPipe(n.ElseList, fn)
}

func foldPipe(p *parse.PipeNode, loc *locale.Locale) {
	if p == nil {
		return
	}
	for i, cmd := range p.Cmds {
		for _, arg := range cmd.Args {
			if sub, ok := arg.(*parse.PipeNode); ok {
				foldPipe(sub, loc)
			}
		}
		if i > 0 {
			continue // the previous command's result is t's last argument
		}
		if s, ok := constantWord(cmd, loc); ok {
			cmd.Args = []parse.Node{&parse.StringNode{NodeType: parse.NodeString, Pos: cmd.Args[0].Position(), Quoted: strconv.Quote(s), Text: s}}
		}
	}
}

// constantWord is what cmd, a call of t with quoted strings only, gives
// in loc.
func constantWord(cmd *parse.CommandNode, loc *locale.Locale) (string, bool) {
	if len(cmd.Args) < 2 {
		return "", false
	}
	if id, ok := cmd.Args[0].(*parse.IdentifierNode); !ok || id.Ident != "t" {
		return "", false
	}
	key, ok := cmd.Args[1].(*parse.StringNode)
	if !ok {
		return "", false
	}
	args := make([]any, 0, len(cmd.Args)-2)
	for _, a := range cmd.Args[2:] {
		s, ok := a.(*parse.StringNode)
		if !ok {
			return "", false
		}
		args = append(args, s.Text)
	}
	return loc.T(key.Text, args...), true
}
