package weave

import "github.com/netconform/netconform/providers"

// EncapKind is weave's own encapsulation.
const EncapKind providers.EncapKind = "weave"

// Overhead is weave's worst case. Its fast datapath adds VXLAN-like headers, but sleeve mode (the
// fallback when fast datapath is unavailable, and always with encryption) adds more; weave's own
// figures range from about 84 to 87 bytes. kops uses 87 when it derives 8912 from AWS's 9001, so
// netconform uses the same conservative figure.
const Overhead = 87

// encapsulation is weave's encapsulation with its conservative overhead.
func encapsulation(note string) providers.Encapsulation {
	return providers.Encapsulation{Kind: EncapKind, Overhead: Overhead, Note: note}
}
