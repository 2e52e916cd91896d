// Package timeouts holds every bound netconform puts on a wait, in one struct, so that each
// wait has a name and a slow machine can stretch all of them with one flag (--timeout-scale).
// Waits a user sets with a flag of their own (--drain-timeout, aws --timeout) are not here.
package timeouts

import (
	"fmt"
	"reflect"
	"time"
)

// Timeouts are the bounds, sized for a 3-node kind cluster on a 2-core machine.
type Timeouts struct {
	// Factor is the scale the durations were multiplied by (1 by default); ginkgo spec timeouts,
	// declared next to their specs, are scaled with it (Scaled).
	Factor float64

	// Talking to the API server.
	APICall   time.Duration // a single API request
	Reachable time.Duration // the API server answers at all

	// The cluster and its networking.
	NodesReady    time.Duration // nodes Ready after networking is installed
	RolloutReady  time.Duration // a DaemonSet or Deployment rolled out
	CoreDNSReady  time.Duration // CoreDNS replicas Ready after networking is installed
	CoreDNSBefore time.Duration // CoreDNS pods appear before any networking exists
	NamespaceGone time.Duration // a namespace deletion completes
	ClusterDelete time.Duration // deleting the cluster at the end, also after an interrupt
	CRDEstablish  time.Duration // a provider's CRDs Established before its objects are created
	ProviderReady time.Duration // a provider's own sign of health on every node (a subnet lease, routes to the peers)

	// The probe agents.
	AgentsReady       time.Duration // agents Ready on every Ready node
	ImagePullGrace    time.Duration // after one node's pull failure, for the others to report theirs
	ServiceProgrammed time.Duration // the agents' Service answers through kube-proxy
	ProbeImageLoad    time.Duration // saving the probe image and importing it into every kind node
	ImageLoad         time.Duration // the same for one provider image (hundreds of MB)
	ImageAnswer       time.Duration // docker image inspect of an upstream image, and the registry's first answer to its docker pull
	ImagePull         time.Duration // an upstream image's docker pull, once the registry answered
	Probe             time.Duration // one probe between agents

	// Evidence.
	Collector time.Duration // one evidence collector

	// Switching providers node by node.
	NodeBack    time.Duration // node, new provider and prober Ready after the restart
	NodeRestart time.Duration // systemctl restart of containerd and kubelet
	CleanupStep time.Duration // one step of removing the old provider's state from a node
	Leftovers   time.Duration // looking for the old provider's state on one node
	ProberLogs  time.Duration // collecting one prober's records
	NodeCommand time.Duration // one short command on a node (writing the probers' peers file)

	// Suites.
	Suites            time.Duration // every selected spec together
	PolicyTakesEffect time.Duration // a NetworkPolicy enforced on every affected pair
	Bulk              time.Duration // one bulk TCP transfer

	// PollInterval is how often a wait looks again; it is not scaled.
	PollInterval time.Duration
	// ShortPoll is how often the waits a check spends its own overhead on look again: the
	// probe agents becoming Ready, and their pods and namespace being gone. Those end within
	// seconds, and a whole PollInterval would be a large part of each; it is not scaled.
	ShortPoll time.Duration
}

// Default returns the bounds at scale 1.
func Default() Timeouts {
	return Timeouts{
		Factor:            1,
		APICall:           15 * time.Second,
		Reachable:         10 * time.Second,
		NodesReady:        3 * time.Minute,
		RolloutReady:      4 * time.Minute,
		CoreDNSReady:      3 * time.Minute,
		CoreDNSBefore:     90 * time.Second,
		NamespaceGone:     90 * time.Second,
		ClusterDelete:     3 * time.Minute,
		CRDEstablish:      60 * time.Second,
		ProviderReady:     90 * time.Second,
		AgentsReady:       2 * time.Minute,
		ImagePullGrace:    15 * time.Second,
		ServiceProgrammed: 30 * time.Second,
		ProbeImageLoad:    3 * time.Minute,
		ImageLoad:         6 * time.Minute,
		ImageAnswer:       5 * time.Second,
		ImagePull:         10 * time.Minute,
		Probe:             5 * time.Second,
		Collector:         10 * time.Second,
		NodeBack:          3 * time.Minute,
		NodeRestart:       2 * time.Minute,
		CleanupStep:       30 * time.Second,
		Leftovers:         30 * time.Second,
		ProberLogs:        60 * time.Second,
		NodeCommand:       15 * time.Second,
		Suites:            30 * time.Minute,
		PolicyTakesEffect: 45 * time.Second,
		Bulk:              20 * time.Second,
		PollInterval:      time.Second,
		ShortPoll:         200 * time.Millisecond,
	}
}

// unscaled are the fields Scale leaves alone: how often to look, not how long to wait.
var unscaled = map[string]bool{"PollInterval": true, "ShortPoll": true}

// Scale returns t with every duration but the poll intervals multiplied by f; f must be positive.
func (t Timeouts) Scale(f float64) (Timeouts, error) {
	if f <= 0 || f > 100 {
		return t, fmt.Errorf("timeout scale %g: want a factor above 0 and at most 100 (2 doubles every bound)", f)
	}
	v := reflect.ValueOf(&t).Elem()
	for i := range v.NumField() {
		field := v.Field(i)
		if d, ok := field.Interface().(time.Duration); ok && !unscaled[v.Type().Field(i).Name] {
			field.SetInt(int64(float64(d) * f))
		}
	}
	t.Factor *= f
	return t, nil
}

// Short is ShortPoll, or PollInterval in bounds made without it.
func (t Timeouts) Short() time.Duration {
	if t.ShortPoll > 0 {
		return t.ShortPoll
	}
	return t.PollInterval
}

// Scaled is d at t's scale, for bounds declared next to their code (ginkgo spec timeouts).
func (t Timeouts) Scaled(d time.Duration) time.Duration {
	if t.Factor == 0 {
		return d
	}
	return time.Duration(float64(d) * t.Factor)
}
