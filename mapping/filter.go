package mapping

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// filterEnv names the environment a filter is compiled against.
type filterEnv int

const (
	webhookFilter filterEnv = iota
	reminderFilter
)

// env returns the shape of what a filter sees at run time, so compiling
// type-checks names and operators.
func (e filterEnv) env() map[string]any {
	if e == reminderFilter {
		return map[string]any{
			"conversation": map[string]any{},
			"reminder":     "",
		}
	}
	return map[string]any{
		"headers": headerMap{},
		"payload": map[string]any{},
		"route":   "",
		"event":   "",
		"now":     time.Time{},
	}
}

// filter is one compiled when or select expression.
type filter struct {
	src  string
	env  filterEnv
	prog *vm.Program

	// lazy filters are compiled on first run (see Default).
	lazy sync.Once
	err  error
}

// program returns the compiled filter, compiling it on first use when the
// parser left it lazy. Safe for concurrent use.
func (f *filter) program() (*vm.Program, error) {
	f.lazy.Do(func() {
		if f.prog == nil {
			f.prog, f.err = compileFilter(f.src, f.env)
		}
	})
	return f.prog, f.err
}

// run evaluates the filter over data.
func (f *filter) run(data map[string]any) (any, error) {
	prog, err := f.program()
	if err != nil {
		return nil, err
	}
	return expr.Run(prog, data)
}

func compileFilter(src string, env filterEnv) (*vm.Program, error) {
	if strings.TrimSpace(src) == "" {
		return nil, errors.New("empty expression")
	}
	return expr.Compile(src, expr.Env(env.env()), expr.AsBool(), expr.MaxNodes(2000))
}
