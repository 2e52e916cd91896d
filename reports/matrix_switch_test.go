package reports

import (
	"testing"
	"time"

	"github.com/netconform/netconform/framework/results"
)

func TestMatrixSwitchFromIsItsOwnColumn(t *testing.T) {
	m := BuildMatrix([]Source{
		{Path: "a/result.json", Result: &results.Result{Provider: "flannel", Platform: "kind", Complete: true}},
		{Path: "b/result.json", Result: &results.Result{Provider: "flannel", SwitchFrom: "kubenet", Platform: "kind", Complete: true}},
	}, time.Now())
	if m.Runs[0].Label != "flannel" || m.Runs[1].Label != "kubenet -> flannel" || m.Runs[1].SwitchFrom != "kubenet" {
		t.Errorf("labels %q %q (switch from %q)", m.Runs[0].Label, m.Runs[1].Label, m.Runs[1].SwitchFrom)
	}
}
