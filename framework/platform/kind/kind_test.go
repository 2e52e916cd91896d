package kind

import (
	"strings"
	"testing"

	"github.com/netconform/netconform/framework/agents"
)

func TestNetworkArgs(t *testing.T) {
	k := New("c1", t.TempDir(), WithNetwork(Network{MTU: 9001, Subnet: "172.20.32.0/19", Gateway: "172.20.32.1",
		Reserved: []string{"172.20.32.2", "172.20.32.3"}}))
	got := strings.Join(k.networkArgs(), " ")
	want := "network create --driver bridge --opt com.docker.network.driver.mtu=9001 --subnet 172.20.32.0/19 --gateway 172.20.32.1" +
		" --aux-address reserved0=172.20.32.2 --aux-address reserved1=172.20.32.3 netconform-c1"
	if got != want {
		t.Errorf("docker %s\nwant   %s", got, want)
	}
	if got := strings.Join(New("c2", t.TempDir(), WithNetwork(Network{MTU: 9001})).networkArgs(), " "); got != "network create --driver bridge --opt com.docker.network.driver.mtu=9001 netconform-c2" {
		t.Errorf("MTU only: docker %s", got)
	}
}

// Delete finds a leftover external agent by the label framework/agents gives it, on the
// cluster's network.
func TestExternalListArgs(t *testing.T) {
	got := strings.Join(externalListArgs(New("c1", t.TempDir()).NetworkName()), " ")
	if want := "ps -aq --filter network=netconform-c1 --filter label=" + agents.ExternalLabel; got != want {
		t.Errorf("docker %s\nwant   %s", got, want)
	}
}
