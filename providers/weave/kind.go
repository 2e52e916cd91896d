package weave

import (
	"fmt"

	"github.com/netconform/netconform/providers"
)

var _ providers.KindInstallable = Provider{}

// KindInstaller reads the --provider-option settings (kops' names) into the installer's
// options on kind; --mtu is weave's mtu when that option is not given.
func (Provider) KindInstaller(settings map[string]string, mtu int) (providers.Installer, providers.Healthy, error) {
	return providers.KindInstallerFrom(settings, func(kv map[string]string) (Options, error) {
		o, err := OptionsFrom(kv)
		if err != nil {
			return o, err
		}
		switch {
		case mtu > 0 && o.MTU > 0 && mtu != o.MTU:
			return o, fmt.Errorf("weave: --mtu %d and --provider-option mtu=%d disagree; give one", mtu, o.MTU)
		case mtu > 0:
			o.MTU = mtu
		}
		return o, o.validateSettings()
	}, func(o Options) Installer { return Installer{Options: o} })
}
