package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// row is one line of the results table.
type row struct {
	id      string
	measure string
	value   string
	goal    string
	// met is nil for rows without a goal (context rows).
	met *bool
}

func verdict(ok bool) *bool { return &ok }

// renderTable prints rows grouped by id (P1, P1b, P2, ...), keeping the
// order of rows within an id.
func renderTable(rows []row) string {
	rows = slices.Clone(rows)
	slices.SortStableFunc(rows, func(a, b row) int { return strings.Compare(a.id, b.id) })
	var b strings.Builder
	b.WriteString("| id | measure | result | goal | met |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		met := ""
		if r.met != nil {
			met = "yes"
			if !*r.met {
				met = "**no**"
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.id, r.measure, r.value, r.goal, met)
	}
	return b.String()
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func medianDuration(ds []time.Duration) time.Duration {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = float64(d)
	}
	return time.Duration(median(xs))
}

// spread is the range of the middle half of xs, as "q1–q3".
func spread(xs []float64, format func(float64) string) string {
	if len(xs) < 4 {
		return ""
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return format(s[len(s)/4]) + "–" + format(s[(3*len(s)-1)/4])
}

func ratio2(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) + "x" }

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
}

func mb(n int64) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}
