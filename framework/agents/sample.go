package agents

// SamplePairs picks at most limit ordered pairs of distinct nodes so that every node is a source
// and a destination at least once, for clusters too large to probe all N x (N-1) pairs
// (issue 15's --max-pairs). It takes whole "shifts": shift k pairs node i with node i+k (mod N),
// which gives every node one outgoing and one incoming pair; shifts 1, 2, ... are added while
// they fit. When limit is below N, shift 1 alone is still returned: covering every node is the
// point, and the caller reports that it probed more than asked. limit <= 0 means every pair.
// The order of nodes decides which pairs; the same nodes give the same pairs every time.
func SamplePairs(nodes []string, limit int) [][2]string {
	n := len(nodes)
	if n < 2 {
		return nil
	}
	shifts := n - 1
	if limit > 0 && limit < n*(n-1) {
		shifts = limit / n
		if shifts < 1 {
			shifts = 1
		}
	}
	out := make([][2]string, 0, shifts*n)
	for k := 1; k <= shifts; k++ {
		for i := range nodes {
			out = append(out, [2]string{nodes[i], nodes[(i+k)%n]})
		}
	}
	return out
}
