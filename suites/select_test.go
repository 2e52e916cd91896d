package suites

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netconform/netconform/framework/results"
)

func TestSelect(t *testing.T) {
	all, err := Select("")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"dns", "connectivity", "mtu", "routes", "policy", "pod-to-pod"} {
		if !slices.Contains(all.Labels, l) {
			t.Errorf("labels %v lack %q", all.Labels, l)
		}
	}
	dns, err := Select("dns")
	if err != nil {
		t.Fatal(err)
	}
	if len(dns.Checks) == 0 || len(dns.Checks) >= len(all.Checks) {
		t.Errorf("dns selects %d of %d checks", len(dns.Checks), len(all.Checks))
	}
	for _, id := range dns.Checks {
		// The dns-records suite carries the dns label too.
		if !strings.HasPrefix(id, "dns/") && !strings.HasPrefix(id, "dns-records/") {
			t.Errorf("dns selected %s", id)
		}
	}
	none, err := Select("no-such-label")
	if err != nil || len(none.Checks) != 0 || len(none.Labels) != len(all.Labels) {
		t.Errorf("a filter matching nothing: %+v, %v", none, err)
	}
	for _, bad := range []string{"((", "dns &&", "a/b"} {
		if _, err := Select(bad); err == nil || !strings.Contains(err.Error(), bad) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Select(%q) = %v; want one line naming the filter", bad, err)
		}
	}
}

// TestSelectThenRun: previewing the specs leaves ginkgo able to run them in the same process,
// which run and check rely on (they select before creating anything, then run the suites).
func TestSelectThenRun(t *testing.T) {
	const filter = "dns && startup"
	// Twice: each preview must leave the suite as it found it.
	if _, err := Select("dns"); err != nil {
		t.Fatal(err)
	}
	sel, err := Select(filter)
	if err != nil || len(sel.Checks) != 2 {
		t.Fatalf("select %q: %+v %v", filter, sel, err)
	}
	dir := t.TempDir()
	rec, err := results.NewRecorder(filepath.Join(dir, "result.json"), results.Result{RunID: "t"})
	if err != nil {
		t.Fatal(err)
	}
	// No cluster: the first spec passes on the observations alone, the second fails on the
	// missing client. Both must have run.
	env := &Env{Recorder: rec, Install: &InstallObservations{CoreDNSTotalBefore: 1}}
	passed, err := Run(context.Background(), env, Config{LabelFilter: filter, ReportDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	snap := rec.Snapshot()
	var ids []string
	for _, c := range snap.Checks {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, sel.Checks) {
		t.Fatalf("ran %v, selected %v", ids, sel.Checks)
	}
	if passed {
		t.Error("a spec without a cluster passed")
	}
	for _, c := range snap.Checks {
		if strings.Contains(c.ID, "not-ready-before") && c.Status != results.Passed {
			t.Errorf("%s: %s %s", c.ID, c.Status, c.Reason)
		}
	}
}
