package calico

import (
	"fmt"

	"github.com/netconform/netconform/providers"
)

var _ providers.Linter = Provider{}

// LintRules are the lint checks about calico's own options.
func (Provider) LintRules() []providers.LintRule {
	return []providers.LintRule{
		{ID: "NC018", Severity: providers.LintWarning, Title: "calico on more than 50 nodes without Typha", Check: checkTypha, CountsNodes: true},
	}
}

// NC018: without Typha every node's Felix watches the API server itself, which Calico's docs
// call a load problem above 50 nodes.
func checkTypha(c providers.LintCluster) []providers.LintFinding {
	b := c.Block
	if c.InstanceGroups == 0 {
		return nil
	}
	if n, _ := b.Options["typhaReplicas"].(int); n > 0 {
		return nil
	}
	if c.Nodes <= typhaNodes {
		return nil
	}
	return []providers.LintFinding{{Path: b.Path, Line: b.Line,
		Message: fmt.Sprintf("calico on up to %d nodes without Typha: Calico recommends Typha above %d nodes and strongly above 100", c.Nodes, typhaNodes),
		Fix:     fmt.Sprintf("set %s: 3", b.OptionPath("typhaReplicas"))}}
}
