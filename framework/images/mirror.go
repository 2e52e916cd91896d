package images

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Where an image was found by the checks that do not pull it into this machine's docker.
const (
	// Mirrored: the registry mirror serves its manifest (Checker.InMirror).
	Mirrored Found = "in the registry mirror"
	// Pullable: its registry answered docker's pull with the manifest (Checker.Pullable).
	Pullable Found = "pullable"
)

// dockerHub is the registry of references that name none, as containerd and docker read them.
const dockerHub = "docker.io"

// Mirrored registries: the ones the providers' upstream images and kind's and Kubernetes' own
// images come from. A run with a mirror configures each of them, and the registry of every
// upstream image it runs, to pull through it.
func MirroredRegistries() []string {
	return []string{dockerHub, "quay.io", "ghcr.io", "registry.k8s.io"}
}

// Ref is an image reference read as containerd reads it: the registry (docker.io when the
// reference names none), the repository within it (library/NAME for a one-part name on Docker
// Hub) and the tag or digest.
type Ref struct {
	Registry, Repository string
	// Tag is "latest" when the reference has neither tag nor digest.
	Tag, Digest string
}

// ParseRef reads an image reference (docker.io/calico/node:v3.28.5, weaveworks/weave-kube:2.8.1,
// quay.io/cilium/cilium@sha256:...).
func ParseRef(ref string) (Ref, error) {
	var r Ref
	rest := ref
	if i := strings.Index(rest, "@"); i >= 0 {
		rest, r.Digest = rest[:i], rest[i+1:]
		if !strings.Contains(r.Digest, ":") {
			return Ref{}, fmt.Errorf("image %q: digest %q: want ALGORITHM:HEX", ref, r.Digest)
		}
	}
	if i := strings.LastIndex(rest, ":"); i > strings.LastIndex(rest, "/") {
		rest, r.Tag = rest[:i], rest[i+1:]
		if r.Tag == "" {
			return Ref{}, fmt.Errorf("image %q: empty tag", ref)
		}
	}
	if r.Tag == "" && r.Digest == "" {
		r.Tag = "latest"
	}
	first, path, ok := strings.Cut(rest, "/")
	// The first part names a registry when it looks like a host (a dot, a port, localhost), as
	// docker's reference grammar says; else the whole is a Docker Hub repository.
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		r.Registry, r.Repository = first, path
	} else {
		r.Registry, r.Repository = dockerHub, rest
	}
	if r.Registry == "index.docker.io" || r.Registry == "registry-1.docker.io" {
		r.Registry = dockerHub
	}
	if r.Registry == dockerHub && !strings.Contains(r.Repository, "/") {
		r.Repository = "library/" + r.Repository
	}
	if r.Repository == "" || strings.HasPrefix(r.Repository, "/") || strings.HasSuffix(r.Repository, "/") || strings.Contains(r.Repository, "//") {
		return Ref{}, fmt.Errorf("image %q: no repository", ref)
	}
	return r, nil
}

// String is the fully qualified reference.
func (r Ref) String() string { return r.Registry + "/" + r.Repository + r.suffix() }

func (r Ref) suffix() string {
	s := ""
	if r.Tag != "" {
		s = ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// InMirror is the reference under which a mirror serves this image: the mirror in place of the
// registry, the repository unchanged (docker.io/calico/node:v3.28.5 through 10.0.0.1:5000 is
// 10.0.0.1:5000/calico/node:v3.28.5). That is where containerd asks the mirror for it, and so
// where an image must be pushed to be served.
func (r Ref) InMirror(mirror string) string { return mirror + "/" + r.Repository + r.suffix() }

// manifestURL is where containerd requests r's manifest on a mirror: the repository and the
// tag (or digest), with the upstream registry in the ns parameter.
func (r Ref) manifestURL(mirror string) string {
	ref := r.Tag
	if r.Digest != "" {
		ref = r.Digest
	}
	return "http://" + mirror + "/v2/" + r.Repository + "/manifests/" + ref + "?ns=" + url.QueryEscape(r.Registry)
}

// Registries are the distinct registries of refs, in order (references that do not parse are
// left out: they are refused where they are used).
func Registries(refs []string) []string {
	var out []string
	for _, ref := range refs {
		if r, err := ParseRef(ref); err == nil && !slices.Contains(out, r.Registry) {
			out = append(out, r.Registry)
		}
	}
	return out
}

var hostLabel = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`)

// ParseMirror checks a registry mirror given as HOST[:PORT] (a name, an IPv4 address or an IPv6
// one in brackets; no scheme, no path, no credentials) and returns it unchanged. The nodes speak
// plain HTTP to it.
func ParseMirror(s string) (string, error) {
	switch {
	case s == "":
		return "", errors.New("empty: want HOST[:PORT]")
	case strings.Contains(s, "://"):
		return "", errors.New("want HOST[:PORT] without a scheme (the nodes speak plain HTTP to the mirror)")
	case strings.ContainsAny(s, "/?#"):
		return "", errors.New("want HOST[:PORT] without a path (a mirror serves the registries' repositories at its root)")
	case strings.Contains(s, "@"):
		return "", errors.New("want HOST[:PORT] without credentials (netconform configures none)")
	case strings.ContainsAny(s, " \t\n"):
		return "", errors.New("want HOST[:PORT] without spaces")
	}
	host, port := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return "", errors.New("an IPv6 address without its closing bracket: want [ADDRESS]:PORT")
		}
		host, port = s[1:end], s[end+1:]
		if port != "" {
			if !strings.HasPrefix(port, ":") {
				return "", errors.New("want [ADDRESS]:PORT")
			}
			port = port[1:]
			if port == "" {
				return "", errors.New("empty port")
			}
		}
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() || a.Zone() != "" {
			return "", fmt.Errorf("%q in brackets is not an IPv6 address", host)
		}
	case strings.Count(s, ":") > 1:
		return "", errors.New("an IPv6 address needs brackets: want [ADDRESS]:PORT")
	case strings.Contains(s, ":"):
		var err error
		if host, port, err = net.SplitHostPort(s); err != nil {
			return "", fmt.Errorf("want HOST[:PORT]: %w", err)
		}
		if port == "" {
			return "", errors.New("empty port")
		}
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return "", fmt.Errorf("port %q: want 1 to 65535", port)
		}
	}
	if strings.HasPrefix(s, "[") {
		return s, nil
	}
	if host == "" {
		return "", errors.New("empty host: want HOST[:PORT]")
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !a.Is4() {
			return "", fmt.Errorf("%q: want an IPv4 address, a name, or an IPv6 address in brackets", host)
		}
		return s, nil
	}
	if len(host) > 253 {
		return "", errors.New("host name longer than 253 characters")
	}
	for _, l := range strings.Split(host, ".") {
		if len(l) > 63 || !hostLabel.MatchString(l) {
			return "", fmt.Errorf("host %q is not a host name or an address", host)
		}
	}
	return s, nil
}

// manifestTypes are the manifest media types containerd accepts, as it asks for them.
const manifestTypes = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, " +
	"application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"

// InMirror asks the registry mirror, over plain HTTP as the nodes will, for each image's manifest
// (a HEAD request where containerd would send its GET, each answer within Answer), all at once.
// The results are in refs' order; the error, when the mirror lacks any, is one line (Missing).
// Nothing is pulled: the nodes pull through the mirror themselves.
func (c Checker) InMirror(ctx context.Context, mirror string, refs []string) ([]Result, error) {
	client := &http.Client{Timeout: c.Answer}
	return each(refs, func(ref string) Result {
		if err := headManifest(ctx, client, mirror, ref); err != nil {
			return Result{Ref: ref, Err: err}
		}
		return Result{Ref: ref, Found: Mirrored}
	})
}

func headManifest(ctx context.Context, client *http.Client, mirror, ref string) error {
	r, err := ParseRef(ref)
	if err != nil {
		return err
	}
	u := r.manifestURL(mirror)
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
	if err != nil {
		return fmt.Errorf("mirror %s: %w", mirror, err)
	}
	req.Header.Set("Accept", manifestTypes)
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fmt.Errorf("mirror %s: no answer within %s", mirror, client.Timeout)
		}
		return fmt.Errorf("mirror %s: %s", mirror, oneLine(unwrapURL(err), err))
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("mirror %s: not there (HTTP 404 for %s; push it as %s)", mirror, strings.TrimPrefix(u, "http://"+mirror), r.InMirror(mirror))
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("mirror %s: asks for credentials (HTTP %d); netconform gives the nodes none", mirror, resp.StatusCode)
	default:
		return fmt.Errorf("mirror %s: HTTP %d after %s", mirror, resp.StatusCode, time.Since(start).Round(time.Millisecond))
	}
}

// unwrapURL is a url.Error's cause without the request line, which names the URL again.
func unwrapURL(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// Pullable asks each image's registry, through this machine's docker, whether it would serve the
// image: `docker pull` is stopped as soon as the registry has answered with the manifest (its
// first line of progress), or after Answer when it has not; nothing is downloaded. A registry
// that refuses (no such image, no route, no name) is an error, all on one line (Missing). The
// nodes then pull the images themselves, from the same registries.
func (c Checker) Pullable(ctx context.Context, refs []string) ([]Result, error) {
	return each(refs, func(ref string) Result {
		if err := c.pull(ctx, ref, "docker pull", true); err != nil {
			return Result{Ref: ref, Err: err}
		}
		return Result{Ref: ref, Found: Pullable}
	})
}
