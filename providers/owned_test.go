package providers

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeNode answers the commands Leftovers runs with canned output.
type fakeNode map[string]string

func (f fakeNode) RunOnNode(_ context.Context, node string, argv []string, _ io.Reader) ([]byte, error) {
	key := strings.Join(argv, " ")
	for prefix, out := range f {
		if strings.HasPrefix(key, prefix) {
			return []byte(out), nil
		}
	}
	return nil, fmt.Errorf("unexpected command %q", key)
}

var kubenetLike = NodeState{
	Files:  []string{"/etc/cni/net.d/10-k.conflist"},
	Links:  []string{"cbr0"},
	Routes: []Route{{Dst: "10.244.1.0/24", Via: "172.18.0.3"}},
	Chains: []Chain{{Table: "nat", Name: "K-MASQ"}},
}

func TestLeftoversNamesEveryItem(t *testing.T) {
	node := fakeNode{
		"sh -c":                "-rw-r--r-- 1 root root 400 Nov 25 21:00 /etc/cni/net.d/10-k.conflist\n",
		"ip -o link show":      "1: lo: <LOOPBACK,UP> mtu 65536\n5: cbr0: <BROADCAST,UP> mtu 1500 qdisc\n7: vethab@if2: <UP> mtu 1500\n",
		"ip -o route show":     "default via 172.18.0.1 dev eth0\n10.244.1.0/24 via 172.18.0.3 dev eth0 \n10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink\n",
		"iptables-save -t nat": "*nat\n:K-MASQ - [0:0]\n-A POSTROUTING -s 10.244.0.0/16 -j K-MASQ\nCOMMIT\n",
	}
	got, err := kubenetLike.Leftovers(context.Background(), node, "w1", false)
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, l := range got {
		s = append(s, l.String())
	}
	want := []string{
		"w1: file /etc/cni/net.d/10-k.conflist left behind",
		"w1: link cbr0 left behind",
		"w1: route 10.244.1.0/24 via 172.18.0.3 left behind",
		"w1: chain nat/K-MASQ left behind",
	}
	if len(s) != len(want) {
		t.Fatalf("leftovers %q, want %d", s, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(s[i], want[i]) {
			t.Errorf("leftover %d = %q, want prefix %q", i, s[i], want[i])
		}
	}
	got, err = kubenetLike.Leftovers(context.Background(), node, "w1", true)
	if err != nil || len(got) != 3 {
		t.Errorf("with routes skipped: %v %v, want 3 leftovers", got, err)
	}
}

func TestNoLeftoversOnCleanNode(t *testing.T) {
	node := fakeNode{
		"sh -c":                "",
		"ip -o link show":      "1: lo: <LOOPBACK,UP> mtu 65536\n6: cni0: <UP> mtu 1450\n9: cbr0x: <UP> mtu 1500\n",
		"ip -o route show":     "10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink\n",
		"iptables-save -t nat": "*nat\n:K-MASQ-OTHER - [0:0]\n-A POSTROUTING -j K-MASQ-OTHER\nCOMMIT\n",
	}
	got, err := kubenetLike.Leftovers(context.Background(), node, "w1", false)
	if err != nil || len(got) != 0 {
		t.Errorf("leftovers %v, %v; want none (similar names are not leftovers)", got, err)
	}
}

func TestCleanupOrder(t *testing.T) {
	var kinds []string
	for _, s := range kubenetLike.Cleanup() {
		kinds = append(kinds, s.Kind)
	}
	if got := strings.Join(kinds, ","); got != "file,route,chain,link" {
		t.Errorf("cleanup order %s", got)
	}
}

// The chain cleanup runs against stand-in iptables-save and iptables that print a saved table
// and log what they are asked: the jumps from built-in chains are deleted as saved (comment
// quoting included), the provider's chains flushed and deleted, and nothing else touched.
func TestChainCleanupScript(t *testing.T) {
	if _, err := exec.LookPath("awk"); err != nil {
		t.Skip("no awk on this host")
	}
	dir := t.TempDir()
	saved := `*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:cali-nat-outgoing - [0:0]
:cali-POSTROUTING - [0:0]
:calico-other - [0:0]
:KUBE-POSTROUTING - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-POSTROUTING
-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A cali-POSTROUTING -j cali-nat-outgoing
-A calico-other -g cali-nat-outgoing
-A POSTROUTING -m comment --comment "cali:S93hcgKJrXEqnTfs" -m mark --mark 0x10000/0x10000 -j ACCEPT
-A POSTROUTING -m comment --comment "other:cali:x" -j ACCEPT
COMMIT
`
	if err := os.WriteFile(filepath.Join(dir, "saved"), []byte(saved), 0o644); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "log")
	writeExe(t, filepath.Join(dir, "iptables-save"), "#!/bin/sh\ncat "+filepath.Join(dir, "saved")+"\n")
	writeExe(t, filepath.Join(dir, "iptables"), "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\"; done >>"+log+"\necho >>"+log+"\n")
	steps := NodeState{Chains: []Chain{{Table: "nat", Name: "cali-*", Rules: []string{"--comment cali:"}}}}.Cleanup()
	if len(steps) != 1 {
		t.Fatalf("steps %+v", steps)
	}
	cmd := exec.Command(steps[0].Argv[0], steps[0].Argv[1:]...)
	cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cleanup: %v: %s", err, out)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	want := "[-t][nat][-D][POSTROUTING][-m][comment][--comment][cali:O3lYWMrLQYEMJtB5][-j][cali-POSTROUTING]\n" +
		"[-t][nat][-D][calico-other][-g][cali-nat-outgoing]\n" +
		"[-t][nat][-D][POSTROUTING][-m][comment][--comment][cali:S93hcgKJrXEqnTfs][-m][mark][--mark][0x10000/0x10000][-j][ACCEPT]\n" +
		"[-t][nat][-F][cali-nat-outgoing]\n[-t][nat][-F][cali-POSTROUTING]\n" +
		"[-t][nat][-X][cali-nat-outgoing]\n[-t][nat][-X][cali-POSTROUTING]\n"
	if string(b) != want {
		t.Errorf("iptables calls:\n%s\nwant:\n%s", b, want)
	}
	if seen := chainPresent(saved, Chain{Table: "nat", Name: "cali-*", Rules: []string{"--comment cali:"}}); !strings.Contains(seen, ":cali-nat-outgoing") || strings.Contains(seen, "KUBE-POSTROUTING") {
		t.Errorf("chainPresent = %q", seen)
	}
	// Only the comment is left: still a leftover.
	if seen := chainPresent("-A FORWARD -m comment --comment \"cali:mp77cMpurHhyjLrM\" -j MARK --set-xmark 0x10000/0x10000\n", Chain{Table: "filter", Name: "cali-*", Rules: []string{"--comment cali:"}}); !strings.Contains(seen, "cali:mp77") {
		t.Errorf("chainPresent = %q", seen)
	}
}

func writeExe(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// A dual-stack provider's state: its IPv6 routes are looked for among the IPv6 routes and its
// IPv6 chain in ip6tables, each named so in the leftovers.
func TestLeftoversIPv6(t *testing.T) {
	dual := NodeState{
		Routes: []Route{{Dst: "10.244.1.0/24", Via: "172.18.0.3"}, {Dst: "fd00:10:244:1::/64", Via: "fc00::3"}},
		Chains: []Chain{{Table: "nat", Name: "K-MASQ"}, {Table: "nat", Name: "K-MASQ", IPv6: true}},
	}
	node := fakeNode{
		"sh -c":                 "",
		"ip -o link show":       "1: lo: <LOOPBACK,UP> mtu 65536\n",
		"ip -o route show":      "default via 172.18.0.1 dev eth0\n",
		"ip -6 -o route show":   "fd00:10:244:1::/64 via fc00::3 dev eth0 metric 1024 pref medium\n",
		"iptables-save -t nat":  "*nat\nCOMMIT\n",
		"ip6tables-save -t nat": "*nat\n:K-MASQ - [0:0]\n-A POSTROUTING -s fd00:10:244::/56 -j K-MASQ\nCOMMIT\n",
	}
	got, err := dual.Leftovers(context.Background(), node, "w1", false)
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, l := range got {
		s = append(s, l.Kind+" "+l.Item)
	}
	if want := "route fd00:10:244:1::/64 via fc00::3|chain nat/K-MASQ (ip6tables)"; strings.Join(s, "|") != want {
		t.Errorf("leftovers %q, want %q", s, want)
	}
	steps := dual.Cleanup()
	if len(steps) != 4 || steps[3].Item != "nat/K-MASQ (ip6tables)" || steps[3].Argv[3] != "ip6tables" || steps[2].Argv[3] != "iptables" {
		t.Errorf("cleanup %+v", steps)
	}
}

// The chain cleanup of an IPv6 chain asks ip6tables-save and ip6tables, never iptables.
func TestChainCleanupScriptIPv6(t *testing.T) {
	if _, err := exec.LookPath("awk"); err != nil {
		t.Skip("no awk on this host")
	}
	dir := t.TempDir()
	saved := "*nat\n:POSTROUTING ACCEPT [0:0]\n:K-MASQ - [0:0]\n-A POSTROUTING -s fd00:10:244::/56 -j K-MASQ\n-A K-MASQ -j MASQUERADE\nCOMMIT\n"
	if err := os.WriteFile(filepath.Join(dir, "saved"), []byte(saved), 0o644); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "log")
	writeExe(t, filepath.Join(dir, "ip6tables-save"), "#!/bin/sh\ncat "+filepath.Join(dir, "saved")+"\n")
	writeExe(t, filepath.Join(dir, "ip6tables"), "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\"; done >>"+log+"\necho >>"+log+"\n")
	writeExe(t, filepath.Join(dir, "iptables-save"), "#!/bin/sh\necho iptables-save >>"+log+"\n")
	writeExe(t, filepath.Join(dir, "iptables"), "#!/bin/sh\necho iptables >>"+log+"\n")
	steps := NodeState{Chains: []Chain{{Table: "nat", Name: "K-MASQ", IPv6: true}}}.Cleanup()
	cmd := exec.Command(steps[0].Argv[0], steps[0].Argv[1:]...)
	cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cleanup: %v: %s", err, out)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	want := "[-t][nat][-D][POSTROUTING][-s][fd00:10:244::/56][-j][K-MASQ]\n[-t][nat][-F][K-MASQ]\n[-t][nat][-X][K-MASQ]\n"
	if string(b) != want {
		t.Errorf("calls:\n%s\nwant:\n%s", b, want)
	}
}
