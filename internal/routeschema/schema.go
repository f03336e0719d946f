package routeschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// ID is the schema's $id: where the checked-in file is served from a
// clone's root, relative so that it works offline.
const ID = "routes.schema.json"

// Generate returns the JSON Schema (draft-07, which yaml-language-server
// reads) of the routes file, indented, with a trailing newline. Pure: safe
// to call again.
func Generate() ([]byte, error) {
	g := &gen{defs: map[string]any{}}
	root := g.object(reflect.TypeFor[File]())
	root["$schema"] = "http://json-schema.org/draft-07/schema#"
	root["$id"] = ID
	root["title"] = "talkjs-bridge routes file"
	root["description"] = "Routes and reminders of talkjs-bridge. Generated from package internal/routeschema; `bridge validate` is the authority and reports what a schema cannot (templates, filters, preset options)."
	root["definitions"] = g.defs
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return b.Bytes(), nil
}

type gen struct{ defs map[string]any }

var (
	scalarType  = reflect.TypeFor[Scalar]()
	stringsType = reflect.TypeFor[Strings]()
	verifyType  = reflect.TypeFor[Verify]()
	msgType     = reflect.TypeFor[MessageType]()
	handshake   = reflect.TypeFor[HandshakeKind]()
	recipient   = reflect.TypeFor[Recipient]()
	duration    = reflect.TypeFor[time.Duration]()
)

// of returns the schema of a field of type t.
func (g *gen) of(t reflect.Type) any {
	switch t {
	case scalarType:
		return map[string]any{"type": []string{"string", "number", "boolean"}}
	case stringsType:
		return map[string]any{"oneOf": []any{g.of(scalarType), map[string]any{"type": "array", "items": g.of(scalarType)}}}
	case msgType:
		return map[string]any{"type": "string", "enum": []string{string(talkjs.SystemMessage), string(talkjs.UserMessage)}}
	case handshake:
		return map[string]any{"type": "string", "enum": mapping.Handshakes()}
	case recipient:
		return g.ref("Recipient", func() any {
			return map[string]any{"oneOf": []any{g.of(scalarType), g.object(reflect.TypeFor[RecipientSettings]())}}
		})
	case duration:
		return map[string]any{"type": "string", "description": "Go duration, e.g. 5m", "pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`}
	case verifyType:
		return g.ref("Verify", func() any {
			return map[string]any{"oneOf": []any{
				map[string]any{"type": "string", "enum": verify.Presets()},
				g.object(reflect.TypeFor[verify.Config]()),
			}}
		})
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.of(t.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Int:
		return map[string]any{"type": "integer"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.of(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.of(t.Elem())}
	case reflect.Struct:
		return g.ref(t.Name(), func() any { return g.object(t) })
	}
	panic(fmt.Sprintf("schema: no JSON Schema for %v", t))
}

// ref puts a named definition in definitions once and refers to it.
func (g *gen) ref(name string, build func() any) any {
	if _, ok := g.defs[name]; !ok {
		g.defs[name] = nil // a placeholder, for types that refer to themselves
		g.defs[name] = build()
	}
	return map[string]any{"$ref": "#/definitions/" + name}
}

// object is a closed object of t's fields: the parser refuses unknown keys.
// verify.Config's keys come from its yaml tags, the others' from json tags.
func (g *gen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if t == reflect.TypeFor[verify.Config]() {
			tag = f.Tag.Get("yaml")
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		s := g.of(f.Type)
		if m, ok := s.(map[string]any); ok {
			if _, isRef := m["$ref"]; !isRef {
				if d := f.Tag.Get("desc"); d != "" {
					m["description"] = d
				}
				for _, k := range []string{"minItems", "maxItems"} {
					if v := f.Tag.Get(k); v != "" {
						m[k], _ = strconv.Atoi(v)
					}
				}
				if v := f.Tag.Get("min"); v != "" {
					m["minimum"], _ = strconv.Atoi(v)
				}
				if v := f.Tag.Get("max"); v != "" {
					m["maximum"], _ = strconv.Atoi(v)
				}
			} else if d := f.Tag.Get("desc"); d != "" {
				// draft-07 ignores siblings of $ref; allOf keeps the description.
				s = map[string]any{"allOf": []any{m}, "description": d}
			}
		}
		if name == "preset" && t == reflect.TypeFor[verify.Config]() {
			s = map[string]any{"type": "string", "enum": verify.Presets()}
			required = append(required, name)
		}
		props[name] = s
		if f.Tag.Get("schema") == "required" {
			required = append(required, name)
		}
	}
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}
