package manifest

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// stream has the shapes the upstream manifests and Helm renderings have: a leading separator, a
// comment-only document (Helm's "# Source:" of a template that renders nothing), an empty
// document, a whitespace-only one, a CRD, comments inside documents, a trailing separator.
const stream = `---
# Source: chart/templates/empty.yaml
---
---

---
# Source: chart/templates/config.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: config # the name
  namespace: kube-system
data:
  mtu: "1450"
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: things.example.com
spec:
  group: example.com
  names: {kind: Thing, plural: things}
  scope: Cluster
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          size: {type: integer, minimum: 1}
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: kube-system
---
`

func TestDecodeSkipsEmptyDocumentsAndSeparatesCRDs(t *testing.T) {
	crds, objs, err := Decode(strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	if len(crds) != 1 || crds[0].GetName() != "things.example.com" {
		t.Fatalf("crds %v", crds)
	}
	if len(objs) != 2 {
		t.Fatalf("%d objects, want the ConfigMap and the DaemonSet: %v", len(objs), objs)
	}
	if cm, ok := objs[0].(*corev1.ConfigMap); !ok || cm.Name != "config" || cm.Data["mtu"] != "1450" {
		t.Errorf("first object %#v", objs[0])
	}
	if ds, ok := objs[1].(*appsv1.DaemonSet); !ok || ds.Name != "agent" {
		t.Errorf("second object %#v", objs[1])
	}
}

func TestDecodeRefusesWhatCannotBeApplied(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown kind": "apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: x\n",
		"list":         "apiVersion: v1\nkind: List\nitems: []\n",
		"bad yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata: [\n",
		"bad field":    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: 3\n",
	} {
		if _, _, err := Decode(strings.NewReader(doc)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}
