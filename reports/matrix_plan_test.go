package reports

import (
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/framework/results"
)

// PlanOrder: a plan's cells by index (then name), before results that were no cell, which keep
// the order given; the column labels, "#2" included, follow, and each column names its cell.
func TestPlanOrder(t *testing.T) {
	src := func(path string, cell *results.Cell) Source {
		return Source{Path: path, Result: &results.Result{Provider: "kubenet", Platform: "kind", Complete: true, Cell: cell}}
	}
	srcs := []Source{
		src("loose-1", nil),
		src("c2", &results.Cell{Index: 2, Name: "kubenet-v1.34.4"}),
		src("loose-2", nil),
		src("c0", &results.Cell{Index: 0, Name: "kubenet-v1.33.13"}),
		src("c1b", &results.Cell{Index: 1, Name: "b"}),
		src("c1a", &results.Cell{Index: 1, Name: "a"}),
	}
	PlanOrder(srcs)
	var paths []string
	for _, s := range srcs {
		paths = append(paths, s.Path)
	}
	if got := strings.Join(paths, " "); got != "c0 c1a c1b c2 loose-1 loose-2" {
		t.Errorf("order %s", got)
	}
	m := BuildMatrix(srcs, time.Unix(0, 0))
	if r := m.Runs[0]; r.Label != "kubenet" || r.Cell != "kubenet-v1.33.13" {
		t.Errorf("first column %q of cell %q", r.Label, r.Cell)
	}
	if r := m.Runs[4]; r.Label != "kubenet #5" || r.Cell != "" {
		t.Errorf("first column outside the plan %q of cell %q", r.Label, r.Cell)
	}
}
