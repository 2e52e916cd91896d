package lyftvpc

import (
	"fmt"

	"github.com/netconform/netconform/providers"
)

var _ providers.Linter = Provider{}

// LintRules are the lint checks about lyftvpc: it allocates pod addresses in the cluster's VPC,
// which it must be told.
func (Provider) LintRules() []providers.LintRule {
	return []providers.LintRule{
		{ID: "NC013", Severity: providers.LintError, Title: "lyftvpc without spec.networkID", Check: checkNetworkID},
	}
}

// NC013
func checkNetworkID(c providers.LintCluster) []providers.LintFinding {
	if c.NetworkID.Value != "" {
		return nil
	}
	return []providers.LintFinding{{Path: c.Block.Path, Line: c.Block.Line,
		Message: fmt.Sprintf("lyftvpc needs the VPC ID in %s, which is not set", c.NetworkID.Path),
		Fix:     fmt.Sprintf("set %s to the VPC's ID (vpc-...)", c.NetworkID.Path)}}
}
