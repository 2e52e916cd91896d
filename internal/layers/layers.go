// Package layers states netconform's import direction and finds imports that break it: cmd at
// the top, then suites and reports, then framework and the providers, with stand-ins (fixtures)
// linked into tests only. `make lint` runs it over the real package graph.
package layers

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strings"
)

// Module is netconform's module path.
const Module = "github.com/netconform/netconform"

// Rule forbids packages under From (but not under Exempt) to import packages under any of To
// (but not under Except). Paths are relative to the module; "x/..." is x and everything below it.
type Rule struct {
	From   string
	Exempt []string
	To     []string
	Except []string
	Why    string
}

// Rules are the layers. Arrows point down: cmd -> framework/lifecycle (the engine) -> {suites,
// reports} -> {framework, providers};
// framework never imports a concrete provider or anything above it; nothing in the product
// links a stand-in.
var Rules = []Rule{
	{From: "...", Exempt: []string{"fixtures/..."}, To: []string{"fixtures/..."},
		Why: "stand-ins (fixtures) are for tests only, never linked into the product"},
	{From: "framework/...", Exempt: []string{"framework/lifecycle/..."}, To: []string{"cmd/...", "suites/...", "reports/...", "framework/lifecycle/..."},
		Why: "framework is below the engine, the commands, the suites and the reports"},
	{From: "framework/lifecycle/...", To: []string{"cmd/..."},
		Why: "the engine (framework/lifecycle) runs the suites and writes the reports; the commands call it, never the other way"},
	{From: "...", Exempt: []string{"cmd/...", "framework/lifecycle/..."}, To: []string{"framework/lifecycle/..."},
		Why: "only the commands drive the engine"},
	{From: "framework/...", To: []string{"providers/..."}, Except: []string{"providers"},
		Why: "framework reads providers through the provider model, never a concrete provider"},
	{From: "providers/...", To: []string{"cmd/...", "suites/...", "reports/..."},
		Why: "providers are below the commands, the suites and the reports"},
	{From: "suites/...", To: []string{"cmd/...", "reports/..."},
		Why: "suites are below the commands and do not render reports"},
	{From: "reports/...", To: []string{"cmd/...", "suites/...", "providers/...", "framework/..."}, Except: []string{"framework/results"},
		Why: "reports render results and nothing else"},
}

// Known are violations that exist today and are being removed; each names what removes it. A
// violation not listed fails; a listed one that no longer exists fails too, so the list only
// shrinks.
var Known = map[string]string{}

// Violation is one import against a rule.
type Violation struct {
	From, To string
	Rule     Rule
}

func (v Violation) Key() string { return v.From + " -> " + v.To }

func (v Violation) String() string { return fmt.Sprintf("%s imports %s: %s", v.From, v.To, v.Rule.Why) }

// Graph maps a package (relative to the module) to the module packages it imports, tests
// excluded.
type Graph map[string][]string

// Load lists the module's packages with `go list`, from dir (the module root); extra flags
// (an -overlay) go to go list.
func Load(ctx context.Context, dir string, flags ...string) (Graph, error) {
	args := append([]string{"list"}, flags...)
	args = append(args, "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w: %s", err, stderr.String())
	}
	g := Graph{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		from, ok := rel(fields[0])
		if !ok {
			continue
		}
		g[from] = nil
		for _, imp := range fields[1:] {
			if to, ok := rel(imp); ok {
				g[from] = append(g[from], to)
			}
		}
	}
	return g, sc.Err()
}

func rel(path string) (string, bool) {
	if path == Module {
		return "", true
	}
	r, ok := strings.CutPrefix(path, Module+"/")
	return r, ok
}

// under reports whether pkg matches pattern: "x/..." is x and below, "..." is everything,
// anything else is that package alone.
func under(pkg, pattern string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pkg == pattern
}

func anyUnder(pkg string, patterns []string) bool {
	for _, p := range patterns {
		if under(pkg, p) {
			return true
		}
	}
	return false
}

// Check returns every import in g that breaks one of rules, sorted.
func Check(g Graph, rules []Rule) []Violation {
	var out []Violation
	for from, imports := range g {
		for _, to := range imports {
			for _, r := range rules {
				if under(from, r.From) && !anyUnder(from, r.Exempt) && anyUnder(to, r.To) && !anyUnder(to, r.Except) {
					out = append(out, Violation{From: from, To: to, Rule: r})
					break
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// Unexpected splits violations into those not in known, and the known ones that no longer
// happen.
func Unexpected(vs []Violation, known map[string]string) (unexpected []Violation, gone []string) {
	seen := map[string]bool{}
	for _, v := range vs {
		seen[v.Key()] = true
		if _, ok := known[v.Key()]; !ok {
			unexpected = append(unexpected, v)
		}
	}
	for k := range known {
		if !seen[k] {
			gone = append(gone, k)
		}
	}
	sort.Strings(gone)
	return unexpected, gone
}
