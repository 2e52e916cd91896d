package layers

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func check(t *testing.T, flags ...string) ([]Violation, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	g, err := Load(ctx, moduleRoot(t), flags...)
	if err != nil {
		t.Fatal(err)
	}
	if len(g) < 20 {
		t.Fatalf("go list found %d packages: the graph is not the module's", len(g))
	}
	return Unexpected(Check(g, Rules), Known)
}

// TestImportDirection holds the real package graph to the layers.
func TestImportDirection(t *testing.T) {
	unexpected, gone := check(t)
	for _, v := range unexpected {
		t.Errorf("%s", v)
	}
	for _, k := range gone {
		t.Errorf("%s is listed in Known but no longer happens: remove it from the list", k)
	}
}

// TestPlantedViolationFails adds a file to framework/ocicaps (through go list's overlay: the
// tree is not touched) that imports the reports, and expects exactly that import to be found.
func TestPlantedViolationFails(t *testing.T) {
	dir := t.TempDir()
	planted := filepath.Join(dir, "planted.go")
	if err := os.WriteFile(planted, []byte("package ocicaps\n\nimport _ \"github.com/netconform/netconform/reports\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{
		filepath.Join(moduleRoot(t), "framework", "ocicaps", "planted.go"): planted,
	}})
	op := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(op, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	unexpected, _ := check(t, "-overlay", op)
	if len(unexpected) != 1 || unexpected[0].Key() != "framework/ocicaps -> reports" {
		t.Fatalf("planted violation: found %v, want exactly framework/ocicaps -> reports", unexpected)
	}
	if !strings.Contains(unexpected[0].String(), "framework is below") {
		t.Errorf("message: %s", unexpected[0])
	}
}

func TestRules(t *testing.T) {
	g := Graph{
		"cmd/netconform":   {"framework/results", "fixtures/ec2stub"},
		"fixtures/ec2stub": {"framework/aws/awsclient"},
		"framework/lint":   {"providers", "providers/cilium"},
		"reports":          {"framework/results", "framework/kube"},
		"suites":           {"providers/catalog", "framework/agents"},
	}
	var got []string
	for _, v := range Check(g, Rules) {
		got = append(got, v.Key())
	}
	want := "cmd/netconform -> fixtures/ec2stub|framework/lint -> providers/cilium|reports -> framework/kube"
	if strings.Join(got, "|") != want {
		t.Errorf("violations %q, want %q", strings.Join(got, "|"), want)
	}
}
