package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/netconform/netconform/framework/images"
	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/platform/kind"
	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/providers"
)

// Where a kind run's provider images come from (--images).
const (
	imagesAuto     = "auto"
	imagesUpstream = "upstream"
	imagesLocal    = "local"
)

// imageOptions are run's and switch's --images and --registry-mirror (kind only).
type imageOptions struct {
	images string
	mirror string
}

func (o *imageOptions) addImageFlags(f *pflag.FlagSet) {
	f.StringVar(&o.images, "images", imagesLocal, "where the provider's images come from on kind: local (the images given with --provider-image, loaded into the nodes), "+
		"upstream (the provider's release images, pulled by the nodes, through --registry-mirror when given), or auto (upstream when they can be pulled now, else local)")
	f.StringVar(&o.mirror, "registry-mirror", "", "HOST[:PORT] of a registry mirror the kind nodes pull docker.io, quay.io, ghcr.io and registry.k8s.io images through, over plain HTTP "+
		"(it serves an image under HOST:PORT/REPOSITORY:TAG, e.g. ghcr.io/flannel-io/flannel:v0.28.10 as HOST:PORT/flannel-io/flannel:v0.28.10)")
}

// checkImages refuses a bad --images or --registry-mirror before anything is created; platform
// is the run's (they apply to kind only).
func (o imageOptions) checkImages(platform string) error {
	switch o.images {
	case imagesAuto, imagesUpstream, imagesLocal:
	default:
		return fmt.Errorf("--images %q: want auto, upstream or local", o.images)
	}
	if o.mirror != "" {
		if _, err := images.ParseMirror(o.mirror); err != nil {
			return fmt.Errorf("--registry-mirror %q: %w", o.mirror, err)
		}
	}
	if platform != "kind" && (o.images != imagesLocal || o.mirror != "") {
		return fmt.Errorf("--images and --registry-mirror apply to --platform kind (on %s the nodes pull what the cluster's own configuration says)", platform)
	}
	return nil
}

// runProvider is a provider a run installs, by the name it was given, with its installer.
type runProvider struct {
	name string
	in   providers.Installer
}

// imagePlan is where a kind run's provider images come from, decided before anything exists.
type imagePlan struct {
	// refs are the images by component the installers run (providers.Cluster.ImageRefs): the
	// given ones (--provider-image), without the providers' components when upstream images run.
	refs map[string]string
	// load are upstream images found in this machine's docker, to load into the nodes (a
	// provider netconform builds no images for, with local images).
	load []string
	// mirror is the registry mirror for the nodes (Host "" without --registry-mirror).
	mirror kind.Mirror
	// source is for the result; nil when the providers run no images.
	source *results.ImageSource
}

// kindOptions are the kind platform's options that carry the plan.
func (p imagePlan) kindOptions() []kind.Option {
	if p.mirror.Host == "" {
		return nil
	}
	return []kind.Option{kind.WithRegistryMirror(p.mirror)}
}

// plan decides where the images of ps come from, given the images given with --provider-image:
// local runs the given ones (and, for a provider netconform builds none of, its upstream images
// from this machine's docker); upstream has the nodes pull the providers' release images, after
// asking the mirror (or, without one, their registries through docker) that it serves them, all
// within seconds; auto is upstream when that answer is yes, else local. upstream that cannot be
// pulled, like local upstream images that cannot be had, is an error: the run ends before a
// cluster exists.
func (o imageOptions) plan(ctx context.Context, given map[string]string, t kube.Timeouts, out io.Writer, ps ...runProvider) (imagePlan, error) {
	p := imagePlan{refs: given}
	var all []providers.Image
	var refs []string
	for _, rp := range ps {
		for _, img := range providers.UpstreamImages(rp.in) {
			all = append(all, img)
			if !slices.Contains(refs, img.Ref) {
				refs = append(refs, img.Ref)
			}
		}
	}
	if o.mirror != "" {
		regs := images.MirroredRegistries()
		for _, r := range images.Registries(refs) {
			if !slices.Contains(regs, r) {
				regs = append(regs, r)
			}
		}
		p.mirror = kind.Mirror{Host: o.mirror, Registries: regs}
	}
	if len(all) == 0 {
		return p, nil
	}
	src := &results.ImageSource{Asked: o.images, Mirror: o.mirror}
	p.source = src
	if o.images != imagesLocal {
		err := o.pullable(ctx, refs, t)
		switch {
		case err == nil:
			p.refs = providers.WithoutImages(given, all)
			src.Source, src.Refs = imagesUpstream, refs
			var unused []string
			for name := range given {
				if _, kept := p.refs[name]; !kept {
					unused = append(unused, name)
				}
			}
			note := ""
			if len(unused) > 0 {
				slices.Sort(unused)
				note = " (not the local images given for " + strings.Join(unused, ", ") + ")"
			}
			fmt.Fprintf(out, "images: upstream, pulled by the nodes%s: %s%s\n", o.through(), strings.Join(refs, ", "), note)
			return p, nil
		case o.images == imagesUpstream:
			p.source = nil
			return p, fmt.Errorf("--images upstream: the nodes could not pull %v", err)
		}
		src.Why = err.Error()
		fmt.Fprintf(out, "images: local (--images auto: the upstream images cannot be pulled%s: %v)\n", o.through(), err)
	}
	src.Source = imagesLocal
	for _, rp := range ps {
		if !buildsNone(rp.name) {
			// Components given no local image run their upstream one, pulled by the nodes.
			for _, img := range providers.ImagesToEnsure(rp.in, given) {
				src.Refs = append(src.Refs, img.Ref)
			}
			continue
		}
		found, err := ensureUpstreamImages(ctx, rp.name, rp.in, given, t, out)
		if err != nil {
			p.source = nil
			return p, err
		}
		p.load = append(p.load, found...)
	}
	return p, nil
}

// through names the mirror the nodes pull through, if any.
func (o imageOptions) through() string {
	if o.mirror == "" {
		return ""
	}
	return " through the registry mirror " + o.mirror
}

// pullable asks whether the nodes can pull refs: the mirror when there is one (it serves each
// manifest), else each image's registry through this machine's docker (it answers the pull);
// each answer within ImageAnswer, nothing downloaded.
func (o imageOptions) pullable(ctx context.Context, refs []string, t kube.Timeouts) error {
	c := images.Checker{Docker: os.Getenv(dockerEnv), Inspect: t.ImageAnswer, Answer: t.ImageAnswer, Pull: t.ImagePull}
	var err error
	if o.mirror != "" {
		_, err = c.InMirror(ctx, o.mirror, refs)
	} else {
		_, err = c.Pullable(ctx, refs)
	}
	return err
}

// buildsNone says whether netconform builds no images of its own for the provider (its kind
// status is upstream-images): its local images are its upstream ones from this machine's docker.
func buildsNone(name string) bool {
	p, err := lookupProvider(name)
	return err == nil && p.Descriptor().Kind.Status == providers.KindUpstreamImages
}
