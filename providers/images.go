package providers

import "maps"

// Image is a container image an installer runs: its component name (what --provider-image
// NAME=REF replaces) and its reference.
type Image struct {
	Name string `json:"name"`
	Ref  string `json:"ref"`
}

// UpstreamImager is implemented by every installer that runs container images: for the options
// it was made with, each image's component name (what --provider-image NAME=REF replaces, and
// what scripts/provider-images.sh prints for the images it builds) and the provider's pinned
// upstream release reference. `run --images upstream` has the nodes pull these (through
// --registry-mirror when given); `--images local` runs the images given with --provider-image.
// A provider netconform builds no images for (KindUpstreamImages) runs these in both cases: local
// then means from this machine's docker, loaded into the nodes (ImagesToEnsure).
type UpstreamImager interface {
	UpstreamImages() []Image
}

// UpstreamImages are in's upstream images; nil for an installer that runs none (kubenet).
func UpstreamImages(in Installer) []Image {
	if u, ok := in.(UpstreamImager); ok {
		return u.UpstreamImages()
	}
	return nil
}

// ImagesToEnsure are in's upstream images that given (--provider-image NAME=REF) does not
// replace; nil for an installer that runs no upstream images.
func ImagesToEnsure(in Installer, given map[string]string) []Image {
	var out []Image
	for _, img := range UpstreamImages(in) {
		if given[img.Name] == "" {
			out = append(out, img)
		}
	}
	return out
}

// WithoutImages is given (--provider-image NAME=REF) without the components of imgs: what is
// left when the upstream images run instead of local ones (manifests given the same way stay).
func WithoutImages(given map[string]string, imgs []Image) map[string]string {
	out := maps.Clone(given)
	for _, img := range imgs {
		delete(out, img.Name)
	}
	return out
}
