package providers

import (
	"context"
	"fmt"
	"strings"

	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/platform"
)

// Owner is an installer that can say what its provider leaves on a node, so that a cluster
// can be switched away from it.
type Owner interface {
	Owned(node string, nodes []kube.Node, podSubnet string) NodeState
}

// NodeState is what a provider leaves on one node: what switching away from it removes, and
// then looks for as leftovers.
type NodeState struct {
	// Files are CNI configurations and the provider's state directories.
	Files []string
	// Links are network interfaces the provider created (bridges, tunnels).
	Links []string
	// Routes are routes the provider wrote.
	Routes []Route
	// RouteProtocols are routing protocol numbers the provider marks its routes with (ip route
	// ... proto N): every route with one is the provider's.
	RouteProtocols []string
	// Chains are iptables chains of the provider's own, with the rule that jumps to each.
	Chains []Chain
}

// Route is a route to Dst via the gateway Via, of Dst's family (an IPv6 Dst is an IPv6 route).
type Route struct{ Dst, Via string }

// ipv6 says whether r is an IPv6 route.
func (r Route) ipv6() bool {
	f, _ := ipfamily.OfCIDR(r.Dst)
	return f == ipfamily.IPv6
}

// Chain is an iptables chain in Table, or every chain whose name starts with a prefix when
// Name ends in "*" (a provider's prefix-*). Rules elsewhere that jump to it are the provider's too,
// and so are rules in other chains that contain one of Rules, as iptables-save prints them
// without quotes (a provider's comment on the rules it adds to built-in chains, "--comment
// prefix:...", or the ipset a masquerade rule matches, "--match-set prefix-pod-subnets").
type Chain struct {
	Table, Name string
	Rules       []string
	// IPv6 puts the chain in ip6tables' tables rather than iptables': a provider masquerading
	// IPv6 pods has a chain of the same name there.
	IPv6 bool
}

// tool is the iptables command of the chain's family.
func (c Chain) tool() string {
	if c.IPv6 {
		return "ip6tables"
	}
	return "iptables"
}

// item names the chain in cleanup steps and leftovers: table/name, and the family when IPv6.
func (c Chain) item() string {
	if c.IPv6 {
		return c.Table + "/" + c.Name + " (ip6tables)"
	}
	return c.Table + "/" + c.Name
}

// marked says whether a saved rule line contains one of the chain's Rules.
func (c Chain) marked(line string) bool {
	line = strings.ReplaceAll(line, `"`, "")
	for _, m := range c.Rules {
		if strings.Contains(line, m) {
			return true
		}
	}
	return false
}

// matches says whether the chain name is this one or one of its prefix.
func (c Chain) matches(name string) bool {
	if p, ok := strings.CutSuffix(c.Name, "*"); ok {
		return strings.HasPrefix(name, p)
	}
	return name == c.Name
}

// chainCleanup removes, with iptables or ip6tables ($0), the chains of table $1 matching the
// shell pattern $2: first the rules of other chains that jump or go to them, or that contain one
// of the markers $3... (found in $0-save, however they were written), then their rules, then the
// chains.
const chainCleanup = `x=$0 t=$1 p=$2
shift 2
marks=$(printf '%s\n' "$@")
mine=$("$x-save" -t "$t" | sed -n 's/^:\([^ ]*\) .*/\1/p' | while read -r c; do case "$c" in $p) echo "$c";; esac; done)
"$x-save" -t "$t" | awk -v mine=" $(echo $mine) " -v marks="$marks" 'BEGIN { n = split(marks, m, "\n") }
$1 == "-A" && index(mine, " " $2 " ") == 0 {
  l = $0; gsub(/"/, "", l)
  for (k = 1; k <= n; k++) if (m[k] != "" && index(l, m[k]) > 0) { sub(/^-A /, "-D "); print; next }
  for (i = 3; i < NF; i++) if (($i == "-j" || $i == "-g") && index(mine, " " $(i+1) " ") > 0) { sub(/^-A /, "-D "); print; next }
}' | while IFS= read -r rule; do eval "\"\$x\" -t \"\$t\" $rule" || exit 1; done || exit 1
for c in $mine; do "$x" -t "$t" -F "$c" || exit 1; done
for c in $mine; do "$x" -t "$t" -X "$c" || exit 1; done`

// Item kinds, also the values of the switch's --skip-cleanup (a fault for tests).
const (
	ItemFile  = "file"
	ItemLink  = "link"
	ItemRoute = "route"
	ItemChain = "chain"
)

// CleanupStep is one command removing one owned item; an item already gone is no error.
type CleanupStep struct {
	Kind, Item string
	Argv       []string
}

// Cleanup lists the commands that remove the state from a node, chains' jumps before the
// chains and links after the routes through them.
func (s NodeState) Cleanup() []CleanupStep {
	var out []CleanupStep
	for _, f := range s.Files {
		out = append(out, CleanupStep{ItemFile, f, []string{"rm", "-rf", f}})
	}
	for _, r := range s.Routes {
		out = append(out, CleanupStep{ItemRoute, r.Dst + " via " + r.Via,
			[]string{"sh", "-c", `ip route del "$0" via "$1" 2>/dev/null || true`, r.Dst, r.Via}})
	}
	for _, p := range s.RouteProtocols {
		out = append(out, CleanupStep{ItemRoute, "proto " + p, []string{"ip", "route", "flush", "proto", p}})
	}
	for _, c := range s.Chains {
		out = append(out, CleanupStep{ItemChain, c.item(), append([]string{"sh", "-c", chainCleanup, c.tool(), c.Table, c.Name}, c.Rules...)})
	}
	for _, l := range s.Links {
		out = append(out, CleanupStep{ItemLink, l, []string{"sh", "-c", `if ip link show dev "$0" >/dev/null 2>&1; then ip link del "$0"; fi`, l}})
	}
	return out
}

// Leftover is an owned item still present on a node.
type Leftover struct {
	Node, Kind, Item, Seen string
}

func (l Leftover) String() string {
	s := fmt.Sprintf("%s: %s %s left behind", l.Node, l.Kind, l.Item)
	if l.Seen != "" {
		s += " (" + l.Seen + ")"
	}
	return s
}

// Leftovers looks for every owned item on node. skipRoutes leaves routes out, for when the
// new provider writes the same routes (routed modes that program the same node routes).
func (s NodeState) Leftovers(ctx context.Context, r platform.NodeRunner, node string, skipRoutes bool) ([]Leftover, error) {
	var out []Leftover
	for _, f := range s.Files {
		if b, err := r.RunOnNode(ctx, node, []string{"sh", "-c", `if [ -e "$0" ]; then ls -ld "$0"; fi`, f}, nil); err != nil {
			return nil, fmt.Errorf("%s: look for %s: %w", node, f, err)
		} else if seen := strings.TrimSpace(string(b)); seen != "" {
			out = append(out, Leftover{node, ItemFile, f, seen})
		}
	}
	links, err := r.RunOnNode(ctx, node, []string{"ip", "-o", "link", "show"}, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: list links: %w", node, err)
	}
	for _, l := range s.Links {
		if seen := LinkPresent(string(links), l); seen != "" {
			out = append(out, Leftover{node, ItemLink, l, seen})
		}
	}
	for _, p := range s.RouteProtocols {
		b, err := r.RunOnNode(ctx, node, []string{"ip", "-o", "route", "show", "proto", p}, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: list routes of proto %s: %w", node, p, err)
		}
		if seen := strings.TrimSpace(string(b)); seen != "" {
			out = append(out, Leftover{node, ItemRoute, "proto " + p, strings.ReplaceAll(seen, "\n", "; ")})
		}
	}
	if !skipRoutes && len(s.Routes) > 0 {
		// One listing per family: `ip route show` lists IPv4 routes only.
		listed := map[bool]string{}
		for _, rt := range s.Routes {
			v6 := rt.ipv6()
			routes, ok := listed[v6]
			if !ok {
				argv := []string{"ip", "-o", "route", "show"}
				if v6 {
					argv = []string{"ip", "-6", "-o", "route", "show"}
				}
				b, err := r.RunOnNode(ctx, node, argv, nil)
				if err != nil {
					return nil, fmt.Errorf("%s: list routes: %w", node, err)
				}
				routes = string(b)
				listed[v6] = routes
			}
			if seen := RoutePresent(routes, rt); seen != "" {
				out = append(out, Leftover{node, ItemRoute, rt.Dst + " via " + rt.Via, seen})
			}
		}
	}
	// One iptables-save (or ip6tables-save) per table: a provider may own several patterns in
	// one table.
	saved := map[string]string{}
	for _, c := range s.Chains {
		key := c.tool() + " " + c.Table
		rules, ok := saved[key]
		if !ok {
			b, err := r.RunOnNode(ctx, node, []string{c.tool() + "-save", "-t", c.Table}, nil)
			if err != nil {
				return nil, fmt.Errorf("%s: %s-save -t %s: %w", node, c.tool(), c.Table, err)
			}
			rules = string(b)
			saved[key] = rules
		}
		if seen := chainPresent(rules, c); seen != "" {
			out = append(out, Leftover{node, ItemChain, c.item(), seen})
		}
	}
	return out, nil
}

// LinkPresent finds a link by name in `ip -o link show` output and returns its line.
func LinkPresent(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		if n == name {
			return strings.Join(f[:3], " ")
		}
	}
	return ""
}

// RoutePresent finds a route to r.Dst via r.Via in `ip -o route show` output.
func RoutePresent(out string, r Route) string {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == r.Dst && f[1] == "via" && f[2] == r.Via {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// chainPresent finds the chains' declarations and the jumps to them in iptables-save output.
func chainPresent(out string, c Chain) string {
	var seen []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		for i, w := range f {
			if (i == 0 && strings.HasPrefix(w, ":") && c.matches(w[1:])) || (i > 0 && (f[i-1] == "-j" || f[i-1] == "-g") && c.matches(w)) || (i == 0 && w == "-A" && c.marked(line)) {
				seen = append(seen, strings.TrimSpace(line))
				break
			}
		}
	}
	// A provider may have hundreds of rules: the first few locate it well enough.
	if len(seen) > 3 {
		return fmt.Sprintf("%s; and %d more lines", strings.Join(seen[:3], "; "), len(seen)-3)
	}
	return strings.Join(seen, "; ")
}
