package mapping

import (
	"strings"
	"sync/atomic"
	"text/template"
	"text/template/parse"
)

// This file renders the common template forms without text/template's
// reflection: literal text and actions whose pipelines are field chains
// ({{ .payload.issue.title }}) and calls of the curated functions with
// fields and literals as arguments ({{ slugid .payload.repository.full_name }},
// {{ get .payload "action" }}, {{ .x | lower }}). A template with anything
// else (if, range, with, variables, builtins like eq or index, number
// literals where a function takes any) is never run this way. At run time
// the fast path gives up, and text/template runs the same template, on
// whatever it cannot do exactly as text/template would: a missing key, a
// step through something that is not an object, an argument of the wrong
// type, a function error, output over maxRendered. Those are the error
// cases, whose messages text/template words, so a fast render is either
// the same string text/template gives or no render at all. Rendering a
// GitHub delivery's templates this way took a sixth of the time.

// slowPathsOnly turns the fast paths off (this file's and the body
// decoder's); tests set it to compare them with the general ones on the
// same inputs.
var slowPathsOnly atomic.Bool

// fastTmpl is a template compiled for the fast path: text and actions in
// order.
type fastTmpl struct {
	parts []fastPart
}

// fastPart is literal text, or an action whose commands run in order, each
// given the previous one's value as its last argument.
type fastPart struct {
	text string
	cmds []fastCmd // nil for text
}

// fastCmd is a field chain (fn nil), or a call of fn with args; the
// previous command's value, if any, is its last argument.
type fastCmd struct {
	field []string
	fn    *fastFunc
	args  []fastArg
}

// fastArg is a field chain, a parenthesized pipeline or a literal.
type fastArg struct {
	field []string  // nil for a literal
	pipe  []fastCmd // nil for a literal
	lit   any       // string or int
}

// paramKind is what a parameter of a curated function takes, as
// text/template converts arguments to it.
type paramKind uint8

const (
	paramAny paramKind = iota
	paramString
	paramInt
)

// fastFunc is a curated function called without reflection. call gets
// arguments of the kinds params says; ok false means "let text/template do
// it" (an error, whose wording is text/template's).
type fastFunc struct {
	params []paramKind
	call   func(args []any) (v any, ok bool)
}

func anyFn(f func(any) string) *fastFunc {
	return &fastFunc{params: []paramKind{paramAny}, call: func(a []any) (any, bool) { return f(a[0]), true }}
}

func anyErrFn(params []paramKind, f func(a []any) (string, error)) *fastFunc {
	return &fastFunc{params: params, call: func(a []any) (any, bool) {
		s, err := f(a)
		return s, err == nil
	}}
}

// fastFuncs are the functions of funcs the fast path calls, with the
// parameter kinds of their Go signatures there. A name missing here keeps
// a template on text/template.
var fastFuncs = map[string]*fastFunc{
	"_esc":      anyFn(func(v any) string { return escapeMarkup(format(v)) }),
	"_fmt":      anyFn(format),
	"lower":     anyFn(func(v any) string { return strings.ToLower(format(v)) }),
	"upper":     anyFn(func(v any) string { return strings.ToUpper(format(v)) }),
	"trim":      anyFn(func(v any) string { return strings.TrimSpace(format(v)) }),
	"title":     anyFn(fnTitle),
	"slug":      anyFn(fnSlug),
	"slugid":    anyFn(fnSlugID),
	"firstLine": anyFn(funcs["firstLine"].(func(any) string)),
	"raw":       {params: []paramKind{paramAny}, call: func(a []any) (any, bool) { return rawText(format(a[0])), true }},
	"default":   {params: []paramKind{paramAny, paramAny}, call: func(a []any) (any, bool) { return fnDefault(a[0], a[1]), true }},
	"get":       {params: []paramKind{paramAny, paramString}, call: func(a []any) (any, bool) { return fnGet(a[0], a[1].(string)), true }},
	"first":     {params: []paramKind{paramAny}, call: func(a []any) (any, bool) { return fnFirst(a[0]), true }},
	"truncate":  {params: []paramKind{paramInt, paramAny}, call: func(a []any) (any, bool) { return fnTruncate(a[0].(int), a[1]), true }},
	"replace": {params: []paramKind{paramString, paramString, paramAny}, call: func(a []any) (any, bool) {
		return strings.ReplaceAll(format(a[2]), a[0].(string), a[1].(string)), true
	}},
	"trimPrefix": {params: []paramKind{paramString, paramAny}, call: func(a []any) (any, bool) {
		return strings.TrimPrefix(format(a[1]), a[0].(string)), true
	}},
	"join":  anyErrFn([]paramKind{paramString, paramAny}, func(a []any) (string, error) { return fnJoin(a[0].(string), a[1]) }),
	"date":  anyErrFn([]paramKind{paramString, paramAny}, func(a []any) (string, error) { return fnDate(a[0].(string), a[1]) }),
	"json":  anyErrFn([]paramKind{paramAny}, func(a []any) (string, error) { return fnJSON(a[0]) }),
	"money": anyErrFn([]paramKind{paramAny, paramAny}, func(a []any) (string, error) { return fnMoney(a[0], a[1]) }),
}

// compileFast returns the fast form of a parsed template (with its final
// functions added), or nil when it uses anything the fast path does not do.
func compileFast(tt *template.Template) *fastTmpl {
	if len(tt.Templates()) != 1 || tt.Tree == nil || tt.Tree.Root == nil {
		return nil
	}
	ft := &fastTmpl{}
	for _, n := range tt.Tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			ft.parts = append(ft.parts, fastPart{text: string(n.Text)})
		case *parse.CommentNode:
		case *parse.ActionNode:
			cmds := compileFastPipe(n.Pipe)
			if cmds == nil {
				return nil
			}
			ft.parts = append(ft.parts, fastPart{cmds: cmds})
		default:
			return nil
		}
	}
	return ft
}

func compileFastPipe(p *parse.PipeNode) []fastCmd {
	if p == nil || len(p.Decl) > 0 || p.IsAssign || len(p.Cmds) == 0 {
		return nil
	}
	var out []fastCmd
	for i, c := range p.Cmds {
		if len(c.Args) == 0 {
			return nil
		}
		switch a0 := c.Args[0].(type) {
		case *parse.FieldNode:
			if i > 0 || len(c.Args) > 1 {
				return nil
			}
			out = append(out, fastCmd{field: a0.Ident})
		case *parse.IdentifierNode:
			fn := fastFuncs[a0.Ident]
			if fn == nil {
				return nil
			}
			args := c.Args[1:]
			n := len(args)
			if i > 0 {
				n++ // the previous command's value
			}
			if n != len(fn.params) {
				return nil
			}
			cmd := fastCmd{fn: fn}
			for j, a := range args {
				fa, ok := compileFastArg(a, fn.params[j])
				if !ok {
					return nil
				}
				cmd.args = append(cmd.args, fa)
			}
			if i > 0 && fn.params[n-1] == paramInt {
				return nil
			}
			out = append(out, cmd)
		default:
			return nil
		}
	}
	return out
}

// compileFastArg takes a field chain for any parameter but an int one (a
// payload number is int64, which text/template refuses for int), a string
// literal for a string or any parameter, an int literal for an int one.
func compileFastArg(n parse.Node, k paramKind) (fastArg, bool) {
	switch n := n.(type) {
	case *parse.FieldNode:
		return fastArg{field: n.Ident}, k != paramInt
	case *parse.PipeNode:
		cmds := compileFastPipe(n)
		return fastArg{pipe: cmds}, cmds != nil && k != paramInt
	case *parse.StringNode:
		return fastArg{lit: n.Text}, k != paramInt
	case *parse.NumberNode:
		if k != paramInt || !n.IsInt || n.Int64 != int64(int(n.Int64)) {
			return fastArg{}, false
		}
		return fastArg{lit: int(n.Int64)}, true
	}
	return fastArg{}, false
}

// render runs ft over data; ok false means text/template must run it.
func (ft *fastTmpl) render(data map[string]any) (string, bool) {
	var b strings.Builder
	for _, p := range ft.parts {
		if p.cmds == nil {
			b.WriteString(p.text)
			continue
		}
		v, ok := runFastPipe(p.cmds, data)
		if !ok {
			return "", false
		}
		switch v := v.(type) {
		case string:
			b.WriteString(v)
		case rawText:
			b.WriteString(string(v))
		default:
			return "", false
		}
		if b.Len() > maxRendered {
			return "", false
		}
	}
	return b.String(), true
}

// runFastPipe runs a pipeline's commands, each given the previous one's
// value as its last argument.
func runFastPipe(cmds []fastCmd, data map[string]any) (any, bool) {
	var v any
	var argBuf [4]any
	for i, c := range cmds {
		if c.fn == nil {
			var ok bool
			if v, ok = lookupField(data, c.field); !ok {
				return nil, false
			}
			continue
		}
		args := argBuf[:0]
		for j, a := range c.args {
			x, ok := a.lit, true
			switch {
			case a.field != nil:
				x, ok = lookupField(data, a.field)
			case a.pipe != nil:
				x, ok = runFastPipe(a.pipe, data)
			}
			if !ok {
				return nil, false
			}
			if _, isStr := x.(string); !isStr && c.fn.params[j] == paramString {
				return nil, false
			}
			args = append(args, x)
		}
		if i > 0 {
			if _, isStr := v.(string); !isStr && c.fn.params[len(args)] == paramString {
				return nil, false
			}
			args = append(args, v)
		}
		var ok bool
		if v, ok = c.fn.call(args); !ok {
			return nil, false
		}
	}
	return v, true
}

// lookupField follows a field chain from the template's data as
// text/template does with missingkey=error, through objects and headers
// only; ok false where text/template would fail (a missing key, a step
// through null or a non-object) or might do something else.
func lookupField(data map[string]any, field []string) (any, bool) {
	var v any = data
	for _, name := range field {
		switch m := v.(type) {
		case map[string]any:
			x, ok := m[name]
			if !ok {
				return nil, false
			}
			v = x
		case headerMap:
			x, ok := m[name]
			if !ok {
				return nil, false
			}
			v = x
		default:
			return nil, false
		}
	}
	return v, true
}
