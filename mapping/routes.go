package mapping

import (
	_ "embed"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

//go:embed routes.yaml
var defaultRoutes []byte

// DefaultFilename is the name under which the embedded routes file reports
// problems.
const DefaultFilename = "routes.yaml (embedded)"

// Default limits, used when the routes file sets none.
const (
	DefaultMaxTextLength    = 2000
	DefaultMaxSubjectLength = 200
)

// Limits bound what one rendered message may hold.
type Limits struct {
	// MaxTextLength caps message text in runes; longer text is cut and
	// ends in "…".
	MaxTextLength int
	// MaxSubjectLength caps a conversation subject in runes, the same way.
	MaxSubjectLength int
}

// Routes is a loaded, validated routes file. It is immutable and safe for
// concurrent use.
type Routes struct {
	routes    map[string]*route
	order     []string
	reminders map[string]*Reminder
	remOrder  []string
	limits    Limits
}

type route struct {
	name        string
	verify      verify.Config
	eventHeader string
	// eventHeaderAlt are further spellings of the event header, tried in
	// order when eventHeader is absent (Shopify: X-Shopify-Topic, Shopify-Topic).
	eventHeaderAlt []string
	eventField     string
	deliveryID     *tmpl
	actions        []*action
	// handshake is the route's handshake kind (see handshake.go), "" for none.
	handshake string
	// notify, when set, makes the route's messages reach people (notify.go).
	notify *notifyTmpl
}

type action struct {
	index        int
	name         string
	on           []string
	whenSrc      string
	when         *filter
	convID       *tmpl
	subject      *tmpl
	photoURL     *tmpl
	participants []*tmpl
	convCustom   []kv
	welcome      []*tmpl
	upsert       bool
	users        []userTmpl
	messages     []msgTmpl
	key          *tmpl
}

type kv struct {
	key string
	val *tmpl
}

type userTmpl struct {
	id       *tmpl
	name     *tmpl
	email    []*tmpl
	photoURL *tmpl
	role     *tmpl
	custom   []kv
}

type msgTmpl struct {
	typ     talkjs.MessageType
	typeSet bool // type was written out, so a route's notify leaves it be
	sender  *tmpl
	text    *tmpl
	custom  []kv
	refID   *tmpl
}

// Problem is one thing wrong with a routes file.
type Problem struct {
	Route string // route (or "reminders.<name>") the problem is in; empty at top level
	Field string // dotted path of the field, e.g. routes.github.actions[2].message.text
	Line  int    // 1-based line in the file, 0 when unknown
	Msg   string
}

// String formats the problem as "line N: field: message".
func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d: %s: %s", p.Line, p.Field, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.Field, p.Msg)
}

// LoadError lists every problem found in a routes file. Parse returns it
// (check with errors.As) whenever the file is not usable.
type LoadError struct {
	File     string
	Problems []Problem
}

// Error lists every problem on one line.
func (e *LoadError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	n := "1 problem"
	if len(e.Problems) != 1 {
		n = fmt.Sprintf("%d problems", len(e.Problems))
	}
	return fmt.Sprintf("%s: %s: %s", e.File, n, strings.Join(parts, "; "))
}

// Load reads and parses the routes file at path. It only reads the file,
// so it is safe to retry.
func Load(path string) (*Routes, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	return Parse(data, path)
}

// Default returns the routes file embedded in the binary. It decodes
// routes.bin, the embedded routes.yaml already parsed at build time (see
// routesbin.go), which costs a small fraction of parsing the YAML at every
// cold start; should routes.bin not match routes.yaml, it parses the YAML.
// Either way its templates and filters are compiled on first use rather than
// here: the file cannot change after the build, and the mapping tests
// (TestDefaultParsesStrictly) and `bridge validate` parse it strictly. It has
// no side effects and always gives the same answer.
func Default() (*Routes, error) { return defaultFrom(defaultRoutesBin, defaultRoutes) }

// defaultFrom is Default over the given routes.bin and routes.yaml.
func defaultFrom(bin string, yamlSrc []byte) (*Routes, error) {
	if c, err := decodeDefault(bin, yamlSrc); err == nil {
		return c, nil
	}
	return parseRoutes(yamlSrc, DefaultFilename, true)
}

// DefaultRoutesFile returns the embedded routes file, for printing or as a
// starting point.
func DefaultRoutesFile() []byte { return slices.Clone(defaultRoutes) }

// Routes lists the route names, sorted. Safe for concurrent use.
func (c *Routes) Routes() []string { return slices.Clone(c.order) }

// Limits returns the limits the routes file set, defaults filled in.
func (c *Routes) Limits() Limits { return c.limits }

// Reminder returns the named reminder. Safe for concurrent use.
func (c *Routes) Reminder(name string) (Reminder, bool) {
	r, ok := c.reminders[name]
	if !ok {
		return Reminder{}, false
	}
	return *r, true
}

// Reminders lists every reminder, sorted by name.
func (c *Routes) Reminders() []Reminder {
	out := make([]Reminder, 0, len(c.remOrder))
	for _, n := range c.remOrder {
		out = append(out, *c.reminders[n])
	}
	return out
}

// RemindersForSchedule lists, sorted by name, the reminders whose schedule
// is scheduleName (an EventBridge rule or schedule name).
func (c *Routes) RemindersForSchedule(scheduleName string) []Reminder {
	var out []Reminder
	for _, n := range c.remOrder {
		if r := c.reminders[n]; r.Schedule == scheduleName {
			out = append(out, *r)
		}
	}
	return out
}
