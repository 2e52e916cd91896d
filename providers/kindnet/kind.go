package kindnet

import (
	"fmt"

	"github.com/netconform/netconform/providers"
)

var _ providers.KindInstallable = Provider{}

// KindInstaller is kind's kindnetd on kind. kindnetd gives pods the MTU of the node's eth0
// itself, so it takes no --mtu.
func (Provider) KindInstaller(settings map[string]string, mtu int) (providers.Installer, providers.Healthy, error) {
	if mtu > 0 {
		return nil, providers.Healthy{}, fmt.Errorf("kindnet: --mtu %d: kindnetd gives pods the MTU of the node's eth0 itself; no other MTU can be set", mtu)
	}
	return providers.KindInstallerFrom(settings, OptionsFrom, func(o Options) Installer { return Installer{Options: o} })
}
