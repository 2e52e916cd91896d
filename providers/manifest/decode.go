package manifest

import (
	"context"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/e2e-framework/klient/decoder"
	"sigs.k8s.io/e2e-framework/klient/k8s"
)

// Decode reads a multi-document YAML stream (an upstream manifest, a rendered chart) into the
// objects a provider adjusts and applies. The splitting and decoding is e2e-framework's
// klient/decoder: it splits on "---" lines, decodes each document with client-go's scheme, skips
// documents without a kind (empty, comment-only, such as Helm's "# Source:" headers of templates
// that render nothing) and falls back to *unstructured.Unstructured for kinds the scheme does
// not know. A document that has fields but no kind is skipped as well (the decoder cannot tell it
// from a comment-only one), where the hand-written decoding rejected it (one installer's only when it
// had an apiVersion); the upstream manifests have none.
//
// CustomResourceDefinitions are the one unknown kind accepted: they come back in crds, for
// ApplyCRDs (the apiextensions types are not a dependency). Any other unknown kind is an error
// here, as it was when the providers decoded by hand, rather than an object Apply cannot apply.
func Decode(r io.Reader) (crds []*unstructured.Unstructured, objs []runtime.Object, err error) {
	// The context only reaches the handler below, which does no I/O.
	err = decoder.DecodeEach(context.Background(), r, func(_ context.Context, obj k8s.Object) error {
		// DecodeAny returns a nil object and no error for a document that decodes to a type
		// without object metadata (a List); nothing here can apply one.
		if obj == nil {
			return errors.New("a document is not a single object with metadata (a List?)")
		}
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			objs = append(objs, obj)
			return nil
		}
		if gvk := u.GroupVersionKind(); gvk.Group != "apiextensions.k8s.io" || gvk.Kind != "CustomResourceDefinition" {
			return fmt.Errorf("%s %s: kind not known to client-go's scheme and not a CustomResourceDefinition", gvk, u.GetName())
		}
		crds = append(crds, u)
		return nil
	})
	if err != nil {
		// The callers name the manifest; the count locates the failing document in it.
		return nil, nil, fmt.Errorf("after %d objects: %w", len(crds)+len(objs), err)
	}
	return crds, objs, nil
}
