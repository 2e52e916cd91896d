package providers

// Image is a container image an installer runs: its component name (what --provider-image
// NAME=REF replaces) and its reference.
type Image struct {
	Name string `json:"name"`
	Ref  string `json:"ref"`
}

// UpstreamImager is implemented by installers that run their provider's upstream images, which
// netconform does not build (KindUpstreamImages). Before a cluster is created, a run makes
// sure this machine's docker has each of them (present, or pulled within a few seconds'
// answer) and loads them into the nodes; one given with --provider-image replaces it.
type UpstreamImager interface {
	UpstreamImages() []Image
}

// ImagesToEnsure are in's upstream images that given (--provider-image NAME=REF) does not
// replace; nil for an installer that runs no upstream images.
func ImagesToEnsure(in Installer, given map[string]string) []Image {
	u, ok := in.(UpstreamImager)
	if !ok {
		return nil
	}
	var out []Image
	for _, img := range u.UpstreamImages() {
		if given[img.Name] == "" {
			out = append(out, img)
		}
	}
	return out
}
