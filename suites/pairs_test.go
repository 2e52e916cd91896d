package suites

import (
	"fmt"
	"testing"

	"github.com/netconform/netconform/framework/agents"
)

func TestNodePairs(t *testing.T) {
	nodes := make([]string, 10)
	for i := range nodes {
		nodes[i] = fmt.Sprintf("n%02d", i)
	}
	defer func() { env = nil }()
	for _, tc := range []struct {
		maxPairs    int
		same, cross bool
		want        int
	}{
		{0, true, true, 100},
		{0, false, true, 90},
		{0, true, false, 10},
		{100, true, true, 100}, // the bound is not below the pairs: all of them
		{40, true, true, 40},   // 10 same-node pairs, then 3 shifts of 10
		{25, false, true, 20},  // whole shifts only
		{5, false, true, 10},   // below the node count: one shift still, to cover every node
		{5, true, false, 10},   // same-node pairs are not sampled
	} {
		env = &Env{Fleet: &agents.Fleet{ClusterNodes: nodes}, MaxPairs: tc.maxPairs}
		pairs := nodePairs(tc.same, tc.cross)
		if len(pairs) != tc.want {
			t.Errorf("max %d same %v cross %v: %d pairs, want %d", tc.maxPairs, tc.same, tc.cross, len(pairs), tc.want)
		}
		src, dst, seen := map[string]bool{}, map[string]bool{}, map[[2]string]bool{}
		for _, p := range pairs {
			if seen[p] {
				t.Errorf("max %d: pair %v twice", tc.maxPairs, p)
			}
			seen[p] = true
			if (p[0] == p[1] && !tc.same) || (p[0] != p[1] && !tc.cross) {
				t.Errorf("max %d same %v cross %v: pair %v", tc.maxPairs, tc.same, tc.cross, p)
			}
			if p[0] != p[1] {
				src[p[0]], dst[p[1]] = true, true
			}
		}
		if tc.cross && (len(src) != len(nodes) || len(dst) != len(nodes)) {
			t.Errorf("max %d: %d sources and %d destinations across nodes, want every node as both", tc.maxPairs, len(src), len(dst))
		}
	}
}
