package kopeio

import (
	"fmt"
	"maps"
	"slices"

	"github.com/netconform/netconform/providers"
)

var _ providers.KindInstallable = Provider{}

// KindInstaller is kops' kopeio-vxlan on kind. kops gives it no settings, and the MTU is the
// agent's own (the underlay's minus 100), so it takes no --provider-option and no --mtu.
func (Provider) KindInstaller(settings map[string]string, mtu int) (providers.Installer, providers.Healthy, error) {
	if len(settings) > 0 {
		return nil, providers.Healthy{}, fmt.Errorf("kopeio takes no provider options (kops' spec.networking.kopeio has none; got %v)", slices.Sorted(maps.Keys(settings)))
	}
	if mtu > 0 {
		return nil, providers.Healthy{}, fmt.Errorf("kopeio: --mtu %d: its agent sets vxlan1 to the underlay MTU minus %d itself, and netconform gives pods the same; no other MTU can be set", mtu, DeviceOverhead)
	}
	in := Installer{}
	return in, in.Healthy(), nil
}
