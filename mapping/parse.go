package mapping

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// validName reports whether s is a valid route or reminder name: 1-64
// ASCII letters, digits, '-' or '_', starting with a letter or digit. It is
// written out rather than a regexp because compiling the {0,63} repetition
// cost about 860 allocations and most of a millisecond of every cold start.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

type parser struct {
	problems []Problem
	limits   Limits
	// lazy leaves templates and filters to be compiled on first use: only
	// for the embedded routes file, which the tests parse eagerly at build
	// time.
	lazy bool
}

func (p *parser) add(route, field string, n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.problems = append(p.problems, Problem{Route: route, Field: field, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

type entry struct {
	key  string
	keyN *yaml.Node
	val  *yaml.Node
}

// mapping returns the entries of a mapping node in file order, reporting
// keys that are not allowed (allowed nil means any) and duplicates.
func (p *parser) mapping(n *yaml.Node, route, field string, allowed ...string) ([]entry, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		p.add(route, field, n, "want a mapping (key: value lines), got %s", nodeKind(n))
		return nil, false
	}
	var out []entry
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.add(route, field, k, "keys must be plain strings")
			continue
		}
		if seen[k.Value] {
			p.add(route, join(field, k.Value), k, "defined twice")
			continue
		}
		seen[k.Value] = true
		if allowed != nil && !slices.Contains(allowed, k.Value) {
			p.add(route, join(field, k.Value), k, "unknown key (allowed: %s)", strings.Join(allowed, ", "))
			continue
		}
		out = append(out, entry{key: k.Value, keyN: k, val: v})
	}
	return out, true
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

func nodeKind(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func (p *parser) scalar(n *yaml.Node, route, field string) (string, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.add(route, field, n, "want a string, got %s", nodeKind(n))
		return "", false
	}
	return n.Value, true
}

func (p *parser) strList(n *yaml.Node, route, field string) []string {
	n = deref(n)
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return []string{n.Value}
	}
	if n == nil || n.Kind != yaml.SequenceNode {
		p.add(route, field, n, "want a string or a list of strings, got %s", nodeKind(n))
		return nil
	}
	var out []string
	for i, c := range n.Content {
		if s, ok := p.scalar(c, route, fmt.Sprintf("%s[%d]", field, i)); ok {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) template(n *yaml.Node, route, field string, markup bool) *tmpl {
	s, ok := p.scalar(n, route, field)
	if !ok {
		return nil
	}
	t, err := p.compileTemplate(s, markup)
	if err != nil {
		p.add(route, field, deref(n), "template: %v", err)
		return nil
	}
	return t
}

// compileTemplate compiles src now, or leaves it to its first render when
// the parser is lazy.
func (p *parser) compileTemplate(src string, markup bool) (*tmpl, error) {
	if p.lazy {
		return &tmpl{src: src, markup: markup}, nil
	}
	return compileTemplate(src, markup)
}

// filter compiles src against env now, or leaves it to its first run when
// the parser is lazy. It returns nil, having listed the problem, when src
// does not compile.
func (p *parser) filter(route, field string, n *yaml.Node, src string, env filterEnv) *filter {
	f := &filter{src: src, env: env}
	if p.lazy {
		return f
	}
	prog, err := compileFilter(src, env)
	if err != nil {
		p.add(route, field, deref(n), "filter: %s", oneLine(err.Error()))
		return nil
	}
	f.prog = prog
	return f
}

func (p *parser) customMap(n *yaml.Node, route, field string) []kv {
	es, _ := p.mapping(n, route, field)
	var out []kv
	for _, e := range es {
		if e.key == "" {
			p.add(route, field, e.keyN, "empty custom key")
			continue
		}
		if t := p.template(e.val, route, join(field, e.key), false); t != nil {
			out = append(out, kv{e.key, t})
		}
	}
	return out
}

// Parse reads a routes file and validates all of it: unknown keys, verify
// blocks, templates, filters (compiled and type-checked), reminders and
// limits. filename is used only in error messages. Every problem is listed
// in one *LoadError. It has no side effects, so it is safe to retry.
func Parse(data []byte, filename string) (*Routes, error) { return parseRoutes(data, filename, false) }

func parseRoutes(data []byte, filename string, lazy bool) (*Routes, error) {
	p := &parser{limits: Limits{DefaultMaxTextLength, DefaultMaxSubjectLength}, lazy: lazy}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if m := yamlLineRE().FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		return nil, &LoadError{File: filename, Problems: []Problem{{Field: "(file)", Line: line, Msg: "not valid YAML: " + msg}}}
	}
	c := &Routes{routes: map[string]*route{}, reminders: map[string]*Reminder{}}
	if len(doc.Content) == 0 {
		return nil, &LoadError{File: filename, Problems: []Problem{{Field: "routes", Msg: "file is empty: at least one route or reminder is needed"}}}
	}
	top, ok := p.mapping(doc.Content[0], "", "", "routes", "reminders", "limits")
	var routesN, remindersN *yaml.Node
	if ok {
		for _, e := range top {
			switch e.key {
			case "limits":
				p.parseLimits(e.val)
			case "routes":
				routesN = e.val
			case "reminders":
				remindersN = e.val
			}
		}
	}
	c.limits = p.limits
	if routesN != nil {
		es, _ := p.mapping(routesN, "", "routes")
		for _, e := range es {
			field := "routes." + e.key
			if !validName(e.key) {
				p.add(e.key, field, e.keyN, "route names are 1-64 letters, digits, '-' or '_', starting with a letter or digit")
				continue
			}
			if r := p.parseRoute(e.key, e.val); r != nil {
				c.routes[e.key] = r
				c.order = append(c.order, e.key)
			}
		}
	}
	if remindersN != nil {
		es, _ := p.mapping(remindersN, "", "reminders")
		for _, e := range es {
			field := "reminders." + e.key
			if !validName(e.key) {
				p.add(field, field, e.keyN, "reminder names are 1-64 letters, digits, '-' or '_', starting with a letter or digit")
				continue
			}
			if r := p.parseReminder(e.key, e.val); r != nil {
				c.reminders[e.key] = r
				c.remOrder = append(c.remOrder, e.key)
			}
		}
	}
	if ok && routesN == nil && remindersN == nil && len(p.problems) == 0 {
		p.add("", "routes", doc.Content[0], "no routes and no reminders: nothing to do")
	}
	if len(p.problems) > 0 {
		return nil, &LoadError{File: filename, Problems: p.problems}
	}
	sort.Strings(c.order)
	sort.Strings(c.remOrder)
	return c, nil
}

func (p *parser) positiveInt(n *yaml.Node, route, field string) (int, bool) {
	s, ok := p.scalar(n, route, field)
	if !ok {
		return 0, false
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 {
		p.add(route, field, deref(n), "want a positive whole number, got %q", s)
		return 0, false
	}
	return v, true
}

func (p *parser) parseLimits(n *yaml.Node) {
	es, _ := p.mapping(n, "", "limits", "maxTextLength", "maxSubjectLength")
	for _, e := range es {
		v, ok := p.positiveInt(e.val, "", "limits."+e.key)
		if !ok {
			continue
		}
		if v < 10 || v > 65536 {
			p.add("", "limits."+e.key, deref(e.val), "must be between 10 and 65536")
			continue
		}
		switch e.key {
		case "maxTextLength":
			p.limits.MaxTextLength = v
		case "maxSubjectLength":
			p.limits.MaxSubjectLength = v
		}
	}
}

var verifyKeys = []string{"preset", "secrets", "header", "prefix", "algorithm", "encoding", "signed", "timestampHeader", "tolerance", "username"}

func (p *parser) parseVerify(name string, n *yaml.Node) (verify.Config, bool) {
	field := "routes." + name + ".verify"
	n = deref(n)
	var vc verify.Config
	switch {
	case n != nil && n.Kind == yaml.ScalarNode && n.Tag != "!!null":
		vc.Preset = strings.TrimSpace(n.Value)
	case n != nil && n.Kind == yaml.MappingNode:
		before := len(p.problems)
		if _, ok := p.mapping(n, name, field, verifyKeys...); !ok || len(p.problems) > before {
			return vc, false
		}
		if err := n.Decode(&vc); err != nil {
			p.add(name, field, n, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
			return vc, false
		}
	default:
		p.add(name, field, n, "want a preset name (e.g. github, or none for unsigned requests) or a mapping, got %s", nodeKind(n))
		return vc, false
	}
	if vc.Preset != verify.PresetNone && len(vc.Secrets) == 0 {
		// The secret's name defaults to the route's: webhookSecrets.<route>.
		vc.Secrets = []string{name}
	}
	if err := vc.Validate(); err != nil {
		f := field
		var ce *verify.ConfigError
		if errors.As(err, &ce) && ce.Field != "" {
			f = field + "." + ce.Field
		}
		p.add(name, f, n, "%v", err)
		return vc, false
	}
	return vc, true
}

func (p *parser) parseRoute(name string, n *yaml.Node) *route {
	field := "routes." + name
	es, ok := p.mapping(n, name, field, "verify", "event", "deliveryId", "actions", "handshake", "notify")
	if !ok {
		return nil
	}
	r := &route{name: name}
	var haveVerify, verifyOK bool
	var actionsN, handshakeN *yaml.Node
	handshake := ""
	for _, e := range es {
		switch e.key {
		case "verify":
			haveVerify = true
			r.verify, verifyOK = p.parseVerify(name, e.val)
		case "event":
			ees, _ := p.mapping(e.val, name, field+".event", "header", "field")
			for _, ee := range ees {
				if ee.key == "header" {
					// One header, or a list of spellings tried in order.
					if hs := p.strList(ee.val, name, field+".event.header"); len(hs) > 0 {
						r.eventHeader, r.eventHeaderAlt = hs[0], hs[1:]
					}
					continue
				}
				r.eventField, _ = p.scalar(ee.val, name, field+".event."+ee.key)
			}
			if len(ees) == 0 {
				p.add(name, field+".event", deref(e.val), "needs header, field, or both")
			}
		case "deliveryId":
			r.deliveryID = p.template(e.val, name, field+".deliveryId", false)
		case "actions":
			actionsN = e.val
		case "handshake":
			handshakeN = e.val
			if s, ok := p.scalar(e.val, name, field+".handshake"); ok {
				if !slices.Contains(Handshakes(), s) {
					p.add(name, field+".handshake", deref(e.val), "unknown handshake %q (one of %s)", s, strings.Join(Handshakes(), ", "))
				}
				handshake = s
			}
		case "notify":
			r.notify = p.parseNotify(name, field+".notify", e.val)
		}
	}
	switch {
	case handshakeN == nil && verifyOK:
		r.handshake = impliedHandshake(r.verify.Preset)
	case handshake != HandshakeNone:
		r.handshake = handshake
	}
	if r.handshake == HandshakeZoom && verifyOK && r.verify.Preset == verify.PresetNone {
		p.add(name, field+".handshake", deref(handshakeN), "the zoom handshake answers with an HMAC of the secret token: verify needs the route's secret")
	}
	if !haveVerify {
		p.add(name, field+".verify", deref(n), "missing: say how requests are verified (a preset such as github, or verify: none to accept unsigned requests)")
	}
	if actionsN == nil {
		p.add(name, field+".actions", deref(n), "missing: a route needs at least one action")
		return nil
	}
	an := deref(actionsN)
	if an.Kind != yaml.SequenceNode || len(an.Content) == 0 {
		p.add(name, field+".actions", an, "want a non-empty list of actions, got %s", nodeKind(an))
		return nil
	}
	for i, c := range an.Content {
		if a := p.parseAction(r, i, c); a != nil {
			r.actions = append(r.actions, a)
		}
	}
	if !verifyOK {
		return nil
	}
	return r
}

var actionKeys = []string{"name", "on", "when", "conversation", "users", "message", "messages", "idempotencyKey"}

func (p *parser) parseAction(r *route, i int, n *yaml.Node) *action {
	name := r.name
	field := fmt.Sprintf("routes.%s.actions[%d]", name, i)
	es, ok := p.mapping(n, name, field, actionKeys...)
	if !ok {
		return nil
	}
	a := &action{index: i}
	before := len(p.problems)
	var convN *yaml.Node
	for _, e := range es {
		f := join(field, e.key)
		switch e.key {
		case "name":
			a.name, _ = p.scalar(e.val, name, f)
		case "on":
			a.on = p.strList(e.val, name, f)
			if r.eventHeader == "" && r.eventField == "" {
				p.add(name, f, deref(e.val), "the route has no event: add event.header or event.field to the route")
			}
			for j, o := range a.on {
				if o == "" {
					p.add(name, fmt.Sprintf("%s[%d]", f, j), deref(e.val), "empty event name")
				}
			}
		case "when":
			if src, ok := p.scalar(e.val, name, f); ok {
				a.when, a.whenSrc = p.filter(name, f, e.val, src, webhookFilter), src
			}
		case "conversation":
			convN = e.val
		case "users":
			a.users = p.parseUsers(name, f, e.val)
		case "message":
			if m, ok := p.parseMessage(name, f, e.val); ok {
				a.messages = append(a.messages, m)
			}
		case "messages":
			mn := deref(e.val)
			if mn.Kind != yaml.SequenceNode || len(mn.Content) == 0 {
				p.add(name, f, mn, "want a non-empty list of messages, got %s", nodeKind(mn))
				break
			}
			if len(mn.Content) > 10 {
				p.add(name, f, mn, "at most 10 messages per action (TalkJS sends at most 10 per request)")
			}
			for j, c := range mn.Content {
				if m, ok := p.parseMessage(name, fmt.Sprintf("%s[%d]", f, j), c); ok {
					a.messages = append(a.messages, m)
				}
			}
		case "idempotencyKey":
			a.key = p.template(e.val, name, f, false)
		}
	}
	has := func(k string) bool { return slices.ContainsFunc(es, func(e entry) bool { return e.key == k }) }
	if has("message") && has("messages") {
		p.add(name, field, deref(n), "use message or messages, not both")
	}
	if !has("message") && !has("messages") {
		p.add(name, field+".message", deref(n), "missing: an action needs a message (or messages)")
	}
	if convN == nil {
		p.add(name, field+".conversation", deref(n), "missing: an action needs conversation.id")
	} else {
		p.parseConversation(a, name, field+".conversation", convN)
	}
	if len(p.problems) > before {
		return nil
	}
	return a
}

func (p *parser) parseConversation(a *action, route, field string, n *yaml.Node) {
	es, ok := p.mapping(n, route, field, "id", "subject", "photoUrl", "participants", "custom", "welcomeMessages")
	if !ok {
		return
	}
	for _, e := range es {
		f := join(field, e.key)
		switch e.key {
		case "id":
			a.convID = p.template(e.val, route, f, false)
		case "subject":
			a.subject = p.template(e.val, route, f, true)
			a.upsert = true
		case "photoUrl":
			a.photoURL = p.template(e.val, route, f, false)
			a.upsert = true
		case "participants":
			a.participants = p.templateList(e.val, route, f, false)
			a.upsert = true
		case "custom":
			a.convCustom = p.customMap(e.val, route, f)
			a.upsert = true
		case "welcomeMessages":
			a.welcome = p.templateList(e.val, route, f, true)
			a.upsert = true
		}
	}
	if !slices.ContainsFunc(es, func(e entry) bool { return e.key == "id" }) {
		p.add(route, field+".id", deref(n), "missing: every action names its conversation")
	}
}

func (p *parser) templateList(n *yaml.Node, route, field string, markup bool) []*tmpl {
	n = deref(n)
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		if t := p.template(n, route, field, markup); t != nil {
			return []*tmpl{t}
		}
		return nil
	}
	if n == nil || n.Kind != yaml.SequenceNode {
		p.add(route, field, n, "want a list, got %s", nodeKind(n))
		return nil
	}
	var out []*tmpl
	for i, c := range n.Content {
		if t := p.template(c, route, fmt.Sprintf("%s[%d]", field, i), markup); t != nil {
			out = append(out, t)
		}
	}
	return out
}

func (p *parser) parseUsers(route, field string, n *yaml.Node) []userTmpl {
	es, _ := p.mapping(n, route, field)
	var out []userTmpl
	for _, e := range es {
		f := join(field, e.key)
		id, err := p.compileTemplate(e.key, false)
		if err != nil {
			p.add(route, f, e.keyN, "template: %v", err)
			continue
		}
		u := userTmpl{id: id}
		ues, _ := p.mapping(e.val, route, f, "name", "email", "photoUrl", "role", "custom")
		for _, ue := range ues {
			uf := join(f, ue.key)
			switch ue.key {
			case "name":
				u.name = p.template(ue.val, route, uf, false)
			case "email":
				u.email = p.templateList(ue.val, route, uf, false)
			case "photoUrl":
				u.photoURL = p.template(ue.val, route, uf, false)
			case "role":
				u.role = p.template(ue.val, route, uf, false)
			case "custom":
				u.custom = p.customMap(ue.val, route, uf)
			}
		}
		if u.name == nil {
			p.add(route, f+".name", deref(e.val), "missing: TalkJS needs a name to create a user")
		}
		out = append(out, u)
	}
	return out
}

func (p *parser) parseMessage(route, field string, n *yaml.Node) (msgTmpl, bool) {
	es, ok := p.mapping(n, route, field, "type", "sender", "text", "custom", "referencedMessageId")
	if !ok {
		return msgTmpl{}, false
	}
	m := msgTmpl{typ: talkjs.SystemMessage}
	before := len(p.problems)
	for _, e := range es {
		f := join(field, e.key)
		switch e.key {
		case "type":
			if t, ok := p.messageType(e.val, route, f); ok {
				m.typ, m.typeSet = t, true
			}
		case "sender":
			m.sender = p.template(e.val, route, f, false)
		case "text":
			m.text = p.template(e.val, route, f, true)
		case "custom":
			m.custom = p.customMap(e.val, route, f)
		case "referencedMessageId":
			m.refID = p.template(e.val, route, f, false)
		}
	}
	if !slices.ContainsFunc(es, func(e entry) bool { return e.key == "text" }) {
		p.add(route, field+".text", deref(n), "missing: a message needs text")
	}
	if m.typ == talkjs.UserMessage && !slices.ContainsFunc(es, func(e entry) bool { return e.key == "sender" }) {
		p.add(route, field+".sender", deref(n), "missing: a UserMessage needs a sender (a user id that is a participant)")
	}
	if m.typ == talkjs.SystemMessage && slices.ContainsFunc(es, func(e entry) bool { return e.key == "sender" }) {
		p.add(route, field+".sender", deref(n), "a SystemMessage has no sender: set type: UserMessage or drop sender")
	}
	return m, len(p.problems) == before
}

// messageType reads a message type: SystemMessage or UserMessage.
func (p *parser) messageType(n *yaml.Node, route, field string) (talkjs.MessageType, bool) {
	s, ok := p.scalar(n, route, field)
	if !ok {
		return "", false
	}
	switch t := talkjs.MessageType(s); t {
	case talkjs.SystemMessage, talkjs.UserMessage:
		return t, true
	}
	p.add(route, field, deref(n), "want SystemMessage or UserMessage, got %q", s)
	return "", false
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	lines := strings.Split(s, "\n")
	// expr errors end in a source excerpt with a caret; the first line says it.
	return strings.TrimSpace(lines[0])
}

// yamlLineRE splits the line number off a YAML syntax error. It is
// compiled on first use: only a broken file needs it.
var yamlLineRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^line (\d+): (.*)$`) })
