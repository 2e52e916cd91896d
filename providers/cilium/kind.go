package cilium

import "github.com/netconform/netconform/providers"

var _ providers.KindInstallable = Provider{}

// KindInstaller reads the --provider-option settings into the installer's options on kind.
func (Provider) KindInstaller(settings map[string]string, mtu int) (providers.Installer, providers.Healthy, error) {
	o, err := OptionsFrom(settings)
	if err != nil {
		return nil, providers.Healthy{}, err
	}
	o.MTU = mtu
	in := Installer{Options: o}
	return in, in.Healthy(), nil
}
