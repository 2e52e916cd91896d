package main

import (
	"fmt"

	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/kubenet"
)

// lookupInstaller maps a provider name to the code that installs it on kind, and to what a
// healthy node looks like under it.
func lookupInstaller(name string) (providers.Installer, providers.Healthy, error) {
	switch name {
	case "kubenet":
		return kubenet.Installer{}, kubenet.Healthy(), nil
	}
	return nil, providers.Healthy{}, fmt.Errorf("provider %q cannot be installed on kind by this netconform (installable: kubenet); 'netconform providers' lists every mode and why", name)
}

// healthyFor is what the suites expect of a provider named for `check`; unknown or empty
// names expect nothing provider-specific.
func healthyFor(name string) providers.Healthy {
	if _, h, err := lookupInstaller(name); err == nil {
		return h
	}
	return providers.Healthy{}
}
