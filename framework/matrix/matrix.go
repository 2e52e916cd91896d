// Package matrix plans a compatibility matrix: its cells (a provider, or a switch from one
// provider to another, on one Kubernetes version), each with a stable name and its place in the
// plan, and the shards that split the cells across machines. It knows no provider: the caller
// checks names against the registry, so that a plan is data and its shape is tested without one.
package matrix

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/netconform/netconform/framework/results"
)

// Entry is one provider of a plan: a name (a netconform name or a kops --networking value)
// with its options, and for a switch the provider the cluster starts with.
type Entry struct {
	// Given is the provider as written, NAME or NAME:KEY=VALUE[,KEY=VALUE], without a switch's FROM->.
	Given string
	// Name is the provider's name as written (presets of a kops value apply to it).
	Name string
	// Options are KEY=VALUE settings of the provider (of TO for a switch).
	Options []string
	// From is the provider a switch starts with; empty for a provider installed directly.
	From string
	// Networking is the kops --networking value Name runs as (of TO for a switch). The caller
	// fills it from the registry, which this package does not know; empty leaves it out of the
	// cells.
	Networking string
}

// ParseProvider reads NAME or NAME:KEY=VALUE[,KEY=VALUE].
func ParseProvider(s string) (Entry, error) {
	name, opts, hasOpts := strings.Cut(s, ":")
	if name == "" || (hasOpts && opts == "") {
		return Entry{}, fmt.Errorf("provider %q: want NAME or NAME:KEY=VALUE[,KEY=VALUE]", s)
	}
	e := Entry{Given: s, Name: name}
	if hasOpts {
		for _, kv := range strings.Split(opts, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" || v == "" {
				return Entry{}, fmt.Errorf("provider %q: option %q: want KEY=VALUE", s, kv)
			}
			e.Options = append(e.Options, kv)
		}
	}
	return e, nil
}

// ParseSwitch reads FROM->TO[:KEY=VALUE,...], the options being TO's.
func ParseSwitch(s string) (Entry, error) {
	from, to, ok := strings.Cut(s, "->")
	switch {
	case !ok || from == "" || to == "" || strings.Contains(to, "->"):
		return Entry{}, fmt.Errorf("switch %q: want FROM->TO or FROM->TO:KEY=VALUE[,KEY=VALUE]", s)
	case strings.Contains(from, ":"):
		return Entry{}, fmt.Errorf("switch %q: options are TO's and go after it (FROM->TO:KEY=VALUE)", s)
	}
	e, err := ParseProvider(to)
	if err != nil {
		return Entry{}, fmt.Errorf("switch %q: %w", s, err)
	}
	e.From = from
	return e, nil
}

var versionPattern = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$`)

// CheckVersion refuses a Kubernetes version that is not vMAJOR.MINOR.PATCH (a pre-release
// suffix allowed). Whether the version runs here is the node image's to say, not the plan's.
func CheckVersion(v string) error {
	if !versionPattern.MatchString(v) {
		return fmt.Errorf("Kubernetes version %q: want vMAJOR.MINOR.PATCH, e.g. v1.34.4", v)
	}
	return nil
}

// Cell is one run of the matrix.
type Cell struct {
	// Index is the cell's place in the whole plan, from 0; report merge orders columns by it.
	Index int `json:"index"`
	// Name is stable for the same plan: the directory of the cell's artifacts and its CI job.
	Name string `json:"name"`
	// Provider is the entry as given: NAME or NAME:KEY=VALUE,... (TO of a switch).
	Provider string `json:"provider"`
	// ProviderName and ProviderOptions are Provider taken apart.
	ProviderName    string   `json:"providerName"`
	ProviderOptions []string `json:"providerOptions,omitempty"`
	// Networking is the kops --networking value the cell's run records (Entry.Networking), so
	// that a result written for a cell that could not start records it too.
	Networking string `json:"networking,omitempty"`
	// From is the provider a switch starts with; empty for a provider installed directly.
	From              string `json:"from,omitempty"`
	KubernetesVersion string `json:"kubernetesVersion"`
	// Args are the flags of `netconform run` (or `switch` when From is set) that make the run
	// this cell, beside the platform's own (node image, probe image, artifacts): the provider's
	// options and --matrix-cell.
	Args []string `json:"args"`
}

// Ref is how a run records its cell: INDEX:NAME, the value of run's and switch's --matrix-cell.
func (c Cell) Ref() string { return fmt.Sprintf("%d:%s", c.Index, c.Name) }

// ParseRef reads a --matrix-cell value (Cell.Ref) into what the run's result records.
func ParseRef(s string) (results.Cell, error) {
	i, name, ok := strings.Cut(s, ":")
	n, err := strconv.Atoi(i)
	if !ok || err != nil || n < 0 || name == "" || sanitize(name) != name {
		return results.Cell{}, fmt.Errorf("--matrix-cell %q: want INDEX:NAME as `netconform matrix plan` writes it, e.g. 0:kubenet-v1.34.4", s)
	}
	return results.Cell{Index: n, Name: name}, nil
}

// Plan is what `netconform matrix plan` prints.
type Plan struct {
	// Shard is "i/N" when Cells are one shard of the plan; empty for the whole plan.
	Shard string `json:"shard,omitempty"`
	// Total is the number of cells in the whole plan.
	Total int    `json:"total"`
	Cells []Cell `json:"cells"`
}

// Cells are the plan's cells: for each version in the order given, the providers, then the
// switches, each in the order given. Names are the entry (a switch's FROM-to-TO) with its
// version, in letters, digits, '.', '-' and '_'; a name that would repeat gets -2, -3, ...
func Cells(versions []string, providers, switches []Entry) []Cell {
	var cells []Cell
	seen := map[string]int{}
	for _, v := range versions {
		for _, e := range append(append([]Entry{}, providers...), switches...) {
			base := e.Given
			if e.From != "" {
				base = e.From + "-to-" + e.Given
			}
			name := sanitize(base + "-" + v)
			seen[name]++
			if n := seen[name]; n > 1 {
				name = fmt.Sprintf("%s-%d", name, n)
			}
			c := Cell{Index: len(cells), Name: name, Provider: e.Given, ProviderName: e.Name, ProviderOptions: e.Options, Networking: e.Networking, From: e.From, KubernetesVersion: v}
			for _, kv := range e.Options {
				c.Args = append(c.Args, "--provider-option", kv)
			}
			c.Args = append(c.Args, "--matrix-cell", c.Ref())
			cells = append(cells, c)
		}
	}
	return cells
}

// sanitize keeps a name to what file systems, CI job and artifact names all take; the
// separators of an entry become '_' and '-' ("flannel:backend=host-gw" is flannel_backend-host-gw).
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		case r == '=':
			return '-'
		}
		return '_'
	}, s)
}

// Shard is the i-th of N parts of a plan, from 1.
type Shard struct{ I, N int }

// ParseShard reads i/N, 1 <= i <= N.
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	a, errA := strconv.Atoi(i)
	b, errB := strconv.Atoi(n)
	if !ok || errA != nil || errB != nil || b < 1 || a < 1 || a > b {
		return Shard{}, fmt.Errorf("--shard %q: want i/N with 1 <= i <= N, e.g. 1/4", s)
	}
	return Shard{I: a, N: b}, nil
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.I, s.N) }

// Of is the shard's cells: every N-th cell starting at the i-th, so that each shard gets a
// share of every version and of the switches, which take longest. The N shards together hold
// every cell exactly once.
func (s Shard) Of(cells []Cell) ([]Cell, error) {
	if s.N > len(cells) {
		return nil, fmt.Errorf("--shard %s: the plan has %d cell(s), so shard %d would run nothing; want N at most %d", s, len(cells), s.I, len(cells))
	}
	out := []Cell{}
	for _, c := range cells {
		if c.Index%s.N == s.I-1 {
			out = append(out, c)
		}
	}
	return out, nil
}

// ErrEmpty is a plan without cells: nothing would run, and an empty matrix would pass nothing.
var ErrEmpty = errors.New("the plan has no cells: give --providers or --switches")
