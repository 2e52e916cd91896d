package suites

import (
	"fmt"

	"github.com/netconform/netconform/framework/probe"
	"github.com/netconform/netconform/providers/catalog"
)

// policyNotExpected says why NetworkPolicy is not checked with the provider, or "" when the
// provider enforces it (as the catalog says).
func policyNotExpected(provider string) string {
	if provider == "" {
		return "not-applicable: the provider is not known (pass --provider): whether it enforces NetworkPolicy is not known"
	}
	p, err := catalog.Lookup(provider)
	if err != nil {
		return fmt.Sprintf("not-applicable: provider %q is not in the catalog: whether it enforces NetworkPolicy is not known", provider)
	}
	if !p.Descriptor().EnforcesNetworkPolicy {
		return fmt.Sprintf("not-applicable: %s does not enforce NetworkPolicy", provider)
	}
	return ""
}

// blocked are the outcomes of a probe that a policy stopped: the agent was asked and its
// packets went unanswered or were rejected. An agent that could not be asked proves nothing.
func blocked(o probe.Outcome) bool {
	return o == probe.Timeout || o == probe.Refused || o == probe.Reset || o == probe.Unreachable
}
