package suites

import (
	"strings"
	"testing"

	"github.com/netconform/netconform/framework/probe"
)

func TestPolicyExpectedFromCatalog(t *testing.T) {
	for provider, want := range map[string]string{
		"calico":      "",
		"kube-router": "",
		"cilium":      "",
		"flannel":     "not-applicable: flannel does not enforce NetworkPolicy",
		"kubenet":     "not-applicable: kubenet does not enforce NetworkPolicy",
		"":            "not-applicable: the provider is not known",
		"nosuch":      `not-applicable: provider "nosuch" is not in the catalog`,
	} {
		if got := policyNotExpected(provider); (want == "") != (got == "") || !strings.HasPrefix(got, want) {
			t.Errorf("%q: %q, want %q", provider, got, want)
		}
	}
}

// Only packets a policy stopped count as blocked: an agent that could not be asked is not.
func TestBlockedOutcomes(t *testing.T) {
	for o, want := range map[probe.Outcome]bool{probe.Timeout: true, probe.Refused: true, probe.Reset: true, probe.OK: false, probe.AgentUnreachable: false, probe.Error: false} {
		if blocked(o) != want {
			t.Errorf("blocked(%s) = %v", o, !want)
		}
	}
}
