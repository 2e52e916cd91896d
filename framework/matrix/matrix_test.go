package matrix

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseEntries(t *testing.T) {
	for _, c := range []struct {
		in     string
		swtch  bool
		want   Entry
		errHas string
	}{
		{in: "kubenet", want: Entry{Given: "kubenet", Name: "kubenet"}},
		{in: "flannel:backend=host-gw,iptablesResyncSeconds=5", want: Entry{Given: "flannel:backend=host-gw,iptablesResyncSeconds=5", Name: "flannel", Options: []string{"backend=host-gw", "iptablesResyncSeconds=5"}}},
		{in: "kubenet->calico:mtu=1400", swtch: true, want: Entry{Given: "calico:mtu=1400", Name: "calico", Options: []string{"mtu=1400"}, From: "kubenet"}},
		{in: ":x=y", errHas: "want NAME"},
		{in: "calico:", errHas: "want NAME"},
		{in: "calico:mtu", errHas: `option "mtu": want KEY=VALUE`},
		{in: "calico:mtu=1,", errHas: `option "": want KEY=VALUE`},
		{in: "kubenet-calico", swtch: true, errHas: "want FROM->TO"},
		{in: "->calico", swtch: true, errHas: "want FROM->TO"},
		{in: "kubenet->", swtch: true, errHas: "want FROM->TO"},
		{in: "a->b->c", swtch: true, errHas: "want FROM->TO"},
		{in: "calico:mtu=1->kubenet", swtch: true, errHas: "options are TO's"},
		{in: "kubenet->calico:mtu", swtch: true, errHas: "want KEY=VALUE"},
	} {
		parse := ParseProvider
		if c.swtch {
			parse = ParseSwitch
		}
		got, err := parse(c.in)
		if c.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), c.errHas) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%q: err %v; want one line with %q", c.in, err, c.errHas)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

func TestCellsNamesAndOrder(t *testing.T) {
	mustP := func(s string) Entry {
		e, err := ParseProvider(s)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	sw, err := ParseSwitch("kubenet->calico:mtu=1400")
	if err != nil {
		t.Fatal(err)
	}
	sw.Networking = "calico" // the caller's, from the registry
	cells := Cells([]string{"v1.33.13", "v1.34.4"}, []Entry{mustP("kubenet"), mustP("flannel:backend=host-gw"), mustP("kubenet")}, []Entry{sw})
	var names []string
	for i, c := range cells {
		if c.Index != i {
			t.Errorf("cell %d has index %d", i, c.Index)
		}
		names = append(names, c.Name)
	}
	want := []string{
		"kubenet-v1.33.13", "flannel_backend-host-gw-v1.33.13", "kubenet-v1.33.13-2", "kubenet-to-calico_mtu-1400-v1.33.13",
		"kubenet-v1.34.4", "flannel_backend-host-gw-v1.34.4", "kubenet-v1.34.4-2", "kubenet-to-calico_mtu-1400-v1.34.4",
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("names %q\nwant  %q", names, want)
	}
	last := cells[7]
	if last.From != "kubenet" || last.ProviderName != "calico" || last.Provider != "calico:mtu=1400" || last.Networking != "calico" || last.KubernetesVersion != "v1.34.4" ||
		!reflect.DeepEqual(last.Args, []string{"--provider-option", "mtu=1400", "--matrix-cell", "7:kubenet-to-calico_mtu-1400-v1.34.4"}) {
		t.Errorf("switch cell: %+v", last)
	}
	for _, c := range cells {
		ref, err := ParseRef(c.Ref())
		if err != nil || ref.Index != c.Index || ref.Name != c.Name {
			t.Errorf("%s: ref %q reads back as %+v, %v", c.Name, c.Ref(), ref, err)
		}
	}
}

func TestParseRefRefuses(t *testing.T) {
	for _, s := range []string{"", "3", "x:a", "-1:a", "3:", "3:a:b", "3:a/b"} {
		if _, err := ParseRef(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestCheckVersion(t *testing.T) {
	for _, v := range []string{"v1.34.4", "v1.36.3", "v1.35.0-rc.1"} {
		if err := CheckVersion(v); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
	for _, v := range []string{"1.34.4", "v1.34", "latest", "v1.34.4 ", ""} {
		if err := CheckVersion(v); err == nil {
			t.Errorf("%q accepted", v)
		}
	}
}

// Every split of a plan into N shards holds each cell exactly once, the shards differ in size by
// one at most, and a shard's cells are the plan's, unchanged.
func TestShardsCoverThePlan(t *testing.T) {
	var entries []Entry
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		entries = append(entries, Entry{Given: n, Name: n})
	}
	cells := Cells([]string{"v1.33.13", "v1.34.4", "v1.35.4"}, entries, nil)
	for n := 1; n <= len(cells); n++ {
		seen := map[int]int{}
		lo, hi := len(cells), 0
		for i := 1; i <= n; i++ {
			part, err := Shard{I: i, N: n}.Of(cells)
			if err != nil {
				t.Fatalf("%d/%d: %v", i, n, err)
			}
			lo, hi = min(lo, len(part)), max(hi, len(part))
			for _, c := range part {
				seen[c.Index]++
				if !reflect.DeepEqual(c, cells[c.Index]) {
					t.Errorf("%d/%d: cell %d differs from the plan's", i, n, c.Index)
				}
			}
		}
		for _, c := range cells {
			if seen[c.Index] != 1 {
				t.Errorf("N=%d: cell %s in %d shards", n, c.Name, seen[c.Index])
			}
		}
		if hi-lo > 1 {
			t.Errorf("N=%d: shard sizes from %d to %d", n, lo, hi)
		}
	}
	if _, err := (Shard{I: 1, N: len(cells) + 1}).Of(cells); err == nil {
		t.Error("more shards than cells: a shard would run nothing, and was accepted")
	}
}

func TestParseShard(t *testing.T) {
	if s, err := ParseShard("2/3"); err != nil || s != (Shard{I: 2, N: 3}) || s.String() != "2/3" {
		t.Errorf("2/3: %+v %v", s, err)
	}
	for _, s := range []string{"0/2", "3/2", "x", "", "1/0", "-1/2", "1/2/3", "1 /2", "a/b"} {
		if _, err := ParseShard(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}
