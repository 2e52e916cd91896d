package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/netconform/netconform/framework/results"
)

// The summary says where the provider's images came from when the run chose (--images), and
// nothing about it otherwise.
func TestSummaryNamesTheImageSource(t *testing.T) {
	for _, c := range []struct {
		src  *results.ImageSource
		want string
	}{
		{nil, ""},
		{&results.ImageSource{Source: "upstream", Asked: "upstream", Mirror: "172.17.0.1:5000", Refs: []string{"ghcr.io/flannel-io/flannel:v0.28.10"}},
			"Provider images: upstream, registry mirror 172.17.0.1:5000, pulled by the nodes: ghcr.io/flannel-io/flannel:v0.28.10\n"},
		{&results.ImageSource{Source: "local", Asked: "auto", Why: "ghcr.io/a:1 (docker pull: no such host)"},
			"Provider images: local (--images auto); upstream not used: ghcr.io/a:1 (docker pull: no such host)\n"},
	} {
		r := &results.Result{Provider: "flannel", Platform: "kind", Images: c.src}
		var b bytes.Buffer
		if err := Markdown(&b, r); err != nil {
			t.Fatal(err)
		}
		has := strings.Contains(b.String(), "Provider images:")
		if (c.want == "") == has || (c.want != "" && !strings.Contains(b.String(), c.want)) {
			t.Errorf("%+v: summary\n%s\nwant %q", c.src, b.String(), c.want)
		}
	}
}
