package suites

import "github.com/netconform/netconform/framework/agents"

// nodePairs are the ordered (source, destination) pairs of nodes a pair check probes: with
// same, every node with itself; with cross, the pairs of distinct nodes. Every pair, source by
// source, unless --max-pairs (Env.MaxPairs) is below their number: then the same-node pairs
// count first, and the distinct pairs are a sample (agents.SamplePairs) in which every node is
// a source and a destination at least once, even if that takes more than asked. Pair checks
// cost O(N²) questions; the sample keeps a large cluster's check to O(limit). The observations
// name the pairs probed.
func nodePairs(same, cross bool) [][2]string {
	nodes := env.Fleet.Nodes()
	n := len(nodes)
	total := 0
	if same {
		total += n
	}
	if cross {
		total += n * (n - 1)
	}
	var out [][2]string
	if env.MaxPairs <= 0 || total <= env.MaxPairs || !cross {
		for _, src := range nodes {
			for _, dst := range nodes {
				if (src == dst && same) || (src != dst && cross) {
					out = append(out, [2]string{src, dst})
				}
			}
		}
		return out
	}
	if same {
		for _, node := range nodes {
			out = append(out, [2]string{node, node})
		}
	}
	return append(out, agents.SamplePairs(nodes, max(env.MaxPairs-len(out), 1))...)
}
