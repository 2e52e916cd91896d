package netpol

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Cell is one (source, destination, port, protocol) of a truth table: what the model expects
// and what a cluster showed.
type Cell struct {
	From, To string // endpoint names
	Port     int32
	Protocol corev1.Protocol // an empty protocol is TCP
	Expected bool            // allowed by the model
	Observed *bool           // nil: not observed (agent missing etc.)
}

// The characters of a rendered cell.
const (
	markAllowed    = '.' // allowed, as the model expects
	markBlocked    = 'x' // blocked, as the model expects
	markWrongAllow = 'A' // allowed, but the model says blocked
	markWrongBlock = 'B' // blocked, but the model says allowed
	markUnobserved = '?' // not observed
	markNone       = ' ' // no cell (e.g. a pod to itself)
)

// legend explains the characters; RenderTable ends with it.
const legend = "legend: . allowed as expected, x blocked as expected, A allowed but the model says blocked, B blocked but the model says allowed, ? not observed"

// maxLabel is the longest destination name used as a column label; longer names make every
// column a number, explained by a numbered legend, so that the grid stays narrow.
const maxLabel = 5

// RenderTable renders cells as text: one grid per (port, protocol) in order of first
// appearance, its rows the sources and its columns the destinations of that grid's cells, one
// character per cell (see the legend line that ends the text). Rows and columns follow one
// order, that in which names first appear in the cells as source or destination, so that a
// pair and its reverse sit across the diagonal. A cell given twice shows the later one. The
// output depends only on the cells and their order; no cells is the legend alone.
func RenderTable(cells []Cell) string {
	type key struct {
		port  int32
		proto corev1.Protocol
	}
	type grid struct {
		key
		marks      map[[2]string]byte
		rows, cols map[string]bool
	}
	var grids []*grid
	byKey := map[key]*grid{}
	// One order serves rows and columns, so that a pair and its reverse sit across the
	// diagonal from each other.
	var names []string
	seen := map[string]bool{}
	for _, c := range cells {
		for _, n := range []string{c.From, c.To} {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
		k := key{c.Port, orTCPValue(c.Protocol)}
		g := byKey[k]
		if g == nil {
			g = &grid{key: k, marks: map[[2]string]byte{}, rows: map[string]bool{}, cols: map[string]bool{}}
			byKey[k] = g
			grids = append(grids, g)
		}
		g.marks[[2]string{c.From, c.To}] = mark(c)
		g.rows[c.From], g.cols[c.To] = true, true
	}
	// Columns carry the names when all are short, else their numbers in the legend; either way
	// a destination has the same label in every grid.
	var tos []string
	for _, n := range names {
		if slices.ContainsFunc(grids, func(g *grid) bool { return g.cols[n] }) {
			tos = append(tos, n)
		}
	}
	labels := tos
	numbered := slices.ContainsFunc(tos, func(t string) bool { return len(t) > maxLabel })
	if numbered {
		labels = make([]string, len(tos))
		for i := range tos {
			labels[i] = strconv.Itoa(i + 1)
		}
	}
	width := 1
	for _, l := range labels {
		width = max(width, len(l))
	}

	var b strings.Builder
	// line writes a row: its name padded to nameWidth, then one column per field.
	line := func(name string, nameWidth int, fields []string) {
		s := fmt.Sprintf("%-*s", nameWidth, name)
		for _, f := range fields {
			s += fmt.Sprintf(" %-*s", width, f)
		}
		b.WriteString(strings.TrimRight(s, " ") + "\n")
	}
	for _, g := range grids {
		title := fmt.Sprintf("%d/%s", g.port, g.proto)
		nameWidth := len(title)
		var header []string
		var cols []string
		for i, t := range tos {
			if g.cols[t] {
				cols = append(cols, t)
				header = append(header, labels[i])
			}
		}
		for _, f := range names {
			if g.rows[f] {
				nameWidth = max(nameWidth, len(f))
			}
		}
		line(title, nameWidth, header)
		for _, f := range names {
			if !g.rows[f] {
				continue
			}
			fields := make([]string, len(cols))
			for i, t := range cols {
				m, ok := g.marks[[2]string{f, t}]
				if !ok {
					m = markNone
				}
				fields[i] = string(m)
			}
			line(f, nameWidth, fields)
		}
		b.WriteString("\n")
	}
	if numbered {
		entries := make([]string, len(tos))
		for i, t := range tos {
			entries[i] = fmt.Sprintf("%d %s", i+1, t)
		}
		b.WriteString("columns: " + strings.Join(entries, ", ") + "\n")
	}
	b.WriteString(legend + "\n")
	return b.String()
}

// mark is the character of one cell.
func mark(c Cell) byte {
	switch {
	case c.Observed == nil:
		return markUnobserved
	case *c.Observed && c.Expected:
		return markAllowed
	case !*c.Observed && !c.Expected:
		return markBlocked
	case *c.Observed:
		return markWrongAllow
	}
	return markWrongBlock
}

// Mismatches counts the observed cells that differ from the model (wrong) and the cells not
// observed (unobserved); a cell is in at most one count.
func Mismatches(cells []Cell) (wrong, unobserved int) {
	for _, c := range cells {
		switch {
		case c.Observed == nil:
			unobserved++
		case *c.Observed != c.Expected:
			wrong++
		}
	}
	return wrong, unobserved
}
