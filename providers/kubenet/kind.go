package kubenet

import (
	"fmt"

	"github.com/netconform/netconform/providers"
)

var _ providers.KindInstallable = Provider{}

// KindInstaller installs kubenet's stand-in on kind; kubenet has no options of its own there.
func (Provider) KindInstaller(settings map[string]string, mtu int) (providers.Installer, providers.Healthy, error) {
	if len(settings) > 0 {
		return nil, providers.Healthy{}, fmt.Errorf("kubenet takes no provider options (got %v)", settings)
	}
	return Installer{MTU: mtu}, Healthy(), nil
}
