package flannel

import "github.com/netconform/netconform/providers"

var _ providers.KindInstallable = Provider{}

// KindInstaller reads the --provider-option settings into the installer's options on kind.
func (Provider) KindInstaller(settings map[string]string, mtu int) (providers.Installer, providers.Healthy, error) {
	return providers.KindInstallerFrom(settings, OptionsFrom, func(o Options) Installer {
		o.MTU = mtu
		return Installer{Options: o}
	})
}
