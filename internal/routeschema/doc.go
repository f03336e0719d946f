// Package routeschema describes the routes file as Go types and generates its
// JSON Schema (routes.schema.json at the repository root) from them, for
// editor completion and checks through yaml-language-server:
//
//	# yaml-language-server: $schema=./routes.schema.json
//
// The parser in package mapping stays the authority: it reads YAML nodes
// and reports every problem with its line. These types mirror what it
// accepts, and the tests keep them honest: the schema's keys equal the
// parser's key lists, every example routes file validates, and the
// checked-in file equals the generated one (go test ./internal/routeschema
// -update rewrites it).
package routeschema
