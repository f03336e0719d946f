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
// GitHub delivery's templates this way took under a third of the time
// (BenchmarkIntakeHandlerCPU's profile).

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
	lit   fval      // a string or an int
}

// paramKind is what a parameter of a curated function takes, as
// text/template converts arguments to it.
type paramKind uint8

const (
	paramAny paramKind = iota
	paramString
	paramInt
)

// fval is a value in a fast pipeline: a string held as one (str), which
// saves boxing the strings functions return, or any other value.
type fval struct {
	v   any
	s   string
	str bool
}

func strVal(s string) fval { return fval{s: s, str: true} }

// any is x as text/template would hold it.
func (x fval) any() any {
	if x.str {
		return x.s
	}
	return x.v
}

// string is x when it is a string (not rawText, which text/template does
// not take for a string parameter).
func (x fval) string() (string, bool) {
	if x.str {
		return x.s, true
	}
	s, ok := x.v.(string)
	return s, ok
}

// fastFunc is a curated function called without reflection. call gets
// arguments of the kinds params says (a string parameter's is a string);
// ok false means "let text/template do it" (an error, whose wording is
// text/template's).
type fastFunc struct {
	params []paramKind
	call   func(a0, a1, a2 fval) (v fval, ok bool)
}

// anyFn calls f(any) string; fs, when set, is f for a string argument.
func anyFn(f func(any) string, fs func(string) string) *fastFunc {
	return &fastFunc{params: []paramKind{paramAny}, call: func(a, _, _ fval) (fval, bool) {
		if fs != nil {
			if s, ok := a.string(); ok {
				return strVal(fs(s)), true
			}
		}
		return strVal(f(a.any())), true
	}}
}

func errFn(params []paramKind, f func(a0, a1 fval) (string, error)) *fastFunc {
	return &fastFunc{params: params, call: func(a0, a1, _ fval) (fval, bool) {
		s, err := f(a0, a1)
		return strVal(s), err == nil
	}}
}

func str(x fval) string { s, _ := x.string(); return s }

// fastFuncs are the functions of funcs the fast path calls, with the
// parameter kinds of their Go signatures there. A name missing here keeps
// a template on text/template.
var fastFuncs = map[string]*fastFunc{
	"_esc":      anyFn(func(v any) string { return escapeMarkup(format(v)) }, escapeMarkup),
	"_fmt":      anyFn(format, func(s string) string { return s }),
	"lower":     anyFn(func(v any) string { return strings.ToLower(format(v)) }, strings.ToLower),
	"upper":     anyFn(func(v any) string { return strings.ToUpper(format(v)) }, strings.ToUpper),
	"trim":      anyFn(func(v any) string { return strings.TrimSpace(format(v)) }, strings.TrimSpace),
	"title":     anyFn(fnTitle, nil),
	"slug":      anyFn(fnSlug, nil),
	"slugid":    anyFn(fnSlugID, nil),
	"firstLine": anyFn(funcs["firstLine"].(func(any) string), nil),
	"raw": {params: []paramKind{paramAny}, call: func(a, _, _ fval) (fval, bool) {
		return fval{v: rawText(format(a.any()))}, true
	}},
	"default": {params: []paramKind{paramAny, paramAny}, call: func(a0, a1, _ fval) (fval, bool) {
		if empty(a1.any()) {
			return a0, true
		}
		return a1, true
	}},
	"get": {params: []paramKind{paramAny, paramString}, call: func(a0, a1, _ fval) (fval, bool) {
		return fval{v: fnGet(a0.any(), str(a1))}, true
	}},
	"first": {params: []paramKind{paramAny}, call: func(a, _, _ fval) (fval, bool) { return fval{v: fnFirst(a.any())}, true }},
	"truncate": {params: []paramKind{paramInt, paramAny}, call: func(a0, a1, _ fval) (fval, bool) {
		if s, ok := a1.string(); ok {
			return strVal(capRunes(s, a0.v.(int))), true
		}
		return strVal(fnTruncate(a0.v.(int), a1.any())), true
	}},
	"replace": {params: []paramKind{paramString, paramString, paramAny}, call: func(a0, a1, a2 fval) (fval, bool) {
		return strVal(strings.ReplaceAll(format(a2.any()), str(a0), str(a1))), true
	}},
	"trimPrefix": {params: []paramKind{paramString, paramAny}, call: func(a0, a1, _ fval) (fval, bool) {
		return strVal(strings.TrimPrefix(format(a1.any()), str(a0))), true
	}},
	"join":  errFn([]paramKind{paramString, paramAny}, func(a0, a1 fval) (string, error) { return fnJoin(str(a0), a1.any()) }),
	"date":  errFn([]paramKind{paramString, paramAny}, func(a0, a1 fval) (string, error) { return fnDate(str(a0), a1.any()) }),
	"json":  errFn([]paramKind{paramAny}, func(a0, _ fval) (string, error) { return fnJSON(a0.any()) }),
	"money": errFn([]paramKind{paramAny, paramAny}, func(a0, a1 fval) (string, error) { return fnMoney(a0.any(), a1.any()) }),
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
		return fastArg{lit: strVal(n.Text)}, k != paramInt
	case *parse.NumberNode:
		if k != paramInt || !n.IsInt || n.Int64 != int64(int(n.Int64)) {
			return fastArg{}, false
		}
		return fastArg{lit: fval{v: int(n.Int64)}}, true
	}
	return fastArg{}, false
}

// render runs ft over data; ok false means text/template must run it.
func (ft *fastTmpl) render(data map[string]any) (string, bool) {
	if len(ft.parts) == 1 && ft.parts[0].cmds != nil {
		// One action: its string is the result, no builder.
		v, ok := runFastPipe(ft.parts[0].cmds, data)
		if r, isRaw := v.v.(rawText); isRaw {
			v = strVal(string(r))
		}
		if !ok || !v.str || len(v.s) > maxRendered {
			return "", false
		}
		return v.s, true
	}
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
		switch {
		case v.str:
			b.WriteString(v.s)
		default:
			r, isRaw := v.v.(rawText)
			if !isRaw {
				return "", false
			}
			b.WriteString(string(r))
		}
		if b.Len() > maxRendered {
			return "", false
		}
	}
	if b.Len() > maxRendered { // text after the last action counts too
		return "", false
	}
	return b.String(), true
}

// runFastPipe runs a pipeline's commands, each given the previous one's
// value as its last argument.
func runFastPipe(cmds []fastCmd, data map[string]any) (fval, bool) {
	var v fval
	for i, c := range cmds {
		if c.fn == nil {
			x, ok := lookupField(data, c.field)
			if !ok {
				return fval{}, false
			}
			v = fval{v: x}
			continue
		}
		var args [3]fval
		n := 0
		for j, a := range c.args {
			x := a.lit
			switch {
			case a.field != nil:
				f, ok := lookupField(data, a.field)
				if !ok {
					return fval{}, false
				}
				x = fval{v: f}
			case a.pipe != nil:
				var ok bool
				if x, ok = runFastPipe(a.pipe, data); !ok {
					return fval{}, false
				}
			}
			if _, isStr := x.string(); !isStr && c.fn.params[j] == paramString {
				return fval{}, false
			}
			args[n] = x
			n++
		}
		if i > 0 {
			if _, isStr := v.string(); !isStr && c.fn.params[n] == paramString {
				return fval{}, false
			}
			args[n] = v
		}
		var ok bool
		if v, ok = c.fn.call(args[0], args[1], args[2]); !ok {
			return fval{}, false
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
