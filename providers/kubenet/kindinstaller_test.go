package kubenet_test

import (
	"testing"

	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/kubenet"
)

func TestKindInstaller(t *testing.T) {
	var p providers.Provider = kubenet.New()
	ki, ok := p.(providers.KindInstallable)
	if !ok {
		t.Fatal("kubenet is not KindInstallable")
	}
	in, h, err := ki.KindInstaller(nil, 8000)
	if err != nil || in != (kubenet.Installer{MTU: 8000}) || !h.NodeRoutes {
		t.Errorf("KindInstaller(nil, 8000) = %+v, %+v, %v", in, h, err)
	}
	if _, _, err := ki.KindInstaller(map[string]string{"mtu": "1"}, 0); err == nil {
		t.Error("kubenet accepted a setting")
	}
}
