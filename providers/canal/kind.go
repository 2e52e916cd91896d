package canal

import (
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/calico"
)

var _ providers.KindInstallable = Provider{}

// KindInstaller installs canal with calico's installer, which knows both: canal is calico's
// policy engine over flannel's VXLAN.
func (Provider) KindInstaller(settings map[string]string, mtu int) (providers.Installer, providers.Healthy, error) {
	return providers.KindInstallerFrom(settings, calico.CanalOptionsFrom, func(o calico.Options) calico.Installer {
		o.MTU = mtu
		return calico.Installer{Options: o}
	})
}
