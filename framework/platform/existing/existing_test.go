package existing

import "testing"

// imageID reads crictl inspecti's answer; anything else is no ID, so the image is loaded.
func TestImageID(t *testing.T) {
	for in, want := range map[string]string{
		`{"status":{"id":"sha256:d3b496f100e3","repoTags":["docker.io/netconform/probe:eeb39cd575f4"]},"info":{}}`: "sha256:d3b496f100e3",
		`{"status":{}}`:            "",
		"FATA[0000] no such image": "",
		"":                         "",
	} {
		if got := imageID([]byte(in)); got != want {
			t.Errorf("imageID(%q) = %q, want %q", in, got, want)
		}
	}
}
