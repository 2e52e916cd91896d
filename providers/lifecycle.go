package providers

import "fmt"

// Status is where a provider stands in kops.
type Status string

// Statuses. Supported, Experimental, Deprecated and Removed describe a provider in general;
// NotYet and Unsupported are only returned by Lifecycle.At for a given pair of versions.
const (
	StatusSupported    Status = "supported"
	StatusExperimental Status = "experimental"
	StatusDeprecated   Status = "deprecated"
	StatusRemoved      Status = "removed"
	// StatusNotYet: the kops release is older than the one that introduced the provider.
	StatusNotYet Status = "not-yet-available"
	// StatusUnsupported: the provider does not run on the Kubernetes release.
	StatusUnsupported Status = "unsupported"
)

// Usable reports whether a cluster can be created with a provider in status s.
func (s Status) Usable() bool {
	return s == StatusSupported || s == StatusExperimental || s == StatusDeprecated
}

// Lifecycle records when kops added, deprecated and removed a provider, and the Kubernetes
// releases it stops working with.
type Lifecycle struct {
	// Status is the provider's standing in the newest kops release netconform knows about.
	Status Status `json:"status"`
	// IntroducedInKops is the first kops release that offered the provider (as experimental).
	IntroducedInKops Version `json:"introducedInKops,omitzero"`
	// DeprecatedInKops is the first kops release that deprecated it.
	DeprecatedInKops Version `json:"deprecatedInKops,omitzero"`
	// RemovedInKops is the first kops release that refuses it.
	RemovedInKops Version `json:"removedInKops,omitzero"`
	// UnsupportedFromKubernetes is the first Kubernetes release it does not support.
	UnsupportedFromKubernetes Version `json:"unsupportedFromKubernetes,omitzero"`
	// DefaultFromKops and DefaultUntilKops bound the kops releases (from inclusive, until
	// exclusive) in which kops create cluster picks this provider when --networking is not
	// given. Both zero: never the default.
	DefaultFromKops  Version `json:"defaultFromKops,omitzero"`
	DefaultUntilKops Version `json:"defaultUntilKops,omitzero"`
	// IsDefault is true when the provider was ever kops' default.
	IsDefault bool `json:"isDefault,omitempty"`
	// Note qualifies the facts above.
	Note string `json:"note,omitempty"`
}

// Verdict is a provider's standing for one kops release and one Kubernetes release.
type Verdict struct {
	Status Status
	// Reason is a sentence fragment explaining Status ("removed in kops 1.19").
	Reason string
}

// At returns the provider's standing with kops release kops and Kubernetes release kubernetes.
// A zero kops means the newest kops release; a zero kubernetes skips the Kubernetes check. The
// most severe standing wins: removed or not yet available, then unsupported, then deprecated.
func (l Lifecycle) At(kops, kubernetes Version) Verdict {
	switch {
	case !l.RemovedInKops.IsZero() && (kops.IsZero() || kops.AtLeast(l.RemovedInKops)):
		return Verdict{StatusRemoved, fmt.Sprintf("removed in kops %s", l.RemovedInKops)}
	case !kops.IsZero() && !l.IntroducedInKops.IsZero() && !kops.AtLeast(l.IntroducedInKops):
		return Verdict{StatusNotYet, fmt.Sprintf("not available before kops %s", l.IntroducedInKops)}
	case !kubernetes.IsZero() && !l.UnsupportedFromKubernetes.IsZero() && kubernetes.AtLeast(l.UnsupportedFromKubernetes):
		return Verdict{StatusUnsupported, fmt.Sprintf("not supported from Kubernetes %s", l.UnsupportedFromKubernetes)}
	case !l.DeprecatedInKops.IsZero() && (kops.IsZero() || kops.AtLeast(l.DeprecatedInKops)):
		return Verdict{StatusDeprecated, fmt.Sprintf("deprecated since kops %s", l.DeprecatedInKops)}
	case l.Status == StatusExperimental:
		return Verdict{StatusExperimental, "experimental in kops"}
	}
	return Verdict{StatusSupported, "supported"}
}

// DefaultAt reports whether kops release kops picks the provider when --networking is not
// given. A zero kops means the newest release.
func (l Lifecycle) DefaultAt(kops Version) bool {
	if !l.IsDefault {
		return false
	}
	if !l.DefaultFromKops.IsZero() && !kops.IsZero() && !kops.AtLeast(l.DefaultFromKops) {
		return false
	}
	if !l.DefaultUntilKops.IsZero() && (kops.IsZero() || kops.AtLeast(l.DefaultUntilKops)) {
		return false
	}
	return true
}
