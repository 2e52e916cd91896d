package agents

import (
	"fmt"
	"testing"
)

func TestSamplePairs(t *testing.T) {
	nodes := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprint("n", i)
		}
		return out
	}
	for _, tc := range []struct{ n, max, want int }{
		{1, 0, 0}, {2, 0, 2}, {3, 0, 6}, {6, 0, 30}, {6, 100, 30}, {6, 30, 30},
		{6, 12, 12}, {6, 13, 12}, {6, 5, 6}, {6, 1, 6}, {100, 250, 200}, {1000, 2500, 2000},
	} {
		got := SamplePairs(nodes(tc.n), tc.max)
		if len(got) != tc.want {
			t.Errorf("%d nodes, max %d: %d pairs, want %d", tc.n, tc.max, len(got), tc.want)
		}
		if tc.n < 2 {
			continue
		}
		src, dst, seen := map[string]bool{}, map[string]bool{}, map[[2]string]bool{}
		for _, p := range got {
			if p[0] == p[1] {
				t.Errorf("%d nodes, max %d: a node paired with itself: %v", tc.n, tc.max, p)
			}
			if seen[p] {
				t.Errorf("%d nodes, max %d: pair %v twice", tc.n, tc.max, p)
			}
			seen[p] = true
			src[p[0]], dst[p[1]] = true, true
		}
		if len(src) != tc.n || len(dst) != tc.n {
			t.Errorf("%d nodes, max %d: %d sources and %d destinations, want every node as both", tc.n, tc.max, len(src), len(dst))
		}
	}
}
