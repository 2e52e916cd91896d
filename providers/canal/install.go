package canal

import (
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/calico"
)

var _ providers.KindInstallable = Provider{}

// KindInstaller implements providers.KindInstallable: Canal is installed by calico's installer
// in its canal mode.
func (Provider) KindInstaller(settings map[string]string, mtu int) (providers.Installer, providers.Healthy, error) {
	o, err := calico.CanalOptionsFrom(settings)
	if err != nil {
		return nil, providers.Healthy{}, err
	}
	o.MTU = mtu
	in := calico.Installer{Options: o}
	return in, in.Healthy(), nil
}
