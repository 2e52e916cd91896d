package manifest

import (
	"encoding/base64"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netconform/netconform/framework/redact"
)

// A Secret's values never reach YAML (golden files, what users are shown), in either field or
// encoding, and the object handed to Apply keeps them.
func TestYAMLMasksSecretValues(t *testing.T) {
	const pw = "correct-horse-battery-staple"
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "kube-system"},
		StringData: map[string]string{"network-password": pw},
		Data:       map[string][]byte{"other": []byte(pw + "-2")},
	}
	y, err := YAML(Typed(sec))
	if err != nil {
		t.Fatal(err)
	}
	out := string(y)
	for _, leak := range []string{pw, base64.StdEncoding.EncodeToString([]byte(pw)), base64.StdEncoding.EncodeToString([]byte(pw + "-2"))} {
		if strings.Contains(out, leak) {
			t.Errorf("YAML shows a secret value (%q):\n%s", leak, out)
		}
	}
	if strings.Count(out, redact.Mask) != 2 || !strings.Contains(out, "kind: Secret") || !strings.Contains(out, "network-password:") {
		t.Errorf("want both keys, masked, in a typed Secret:\n%s", out)
	}
	if sec.StringData["network-password"] != pw || string(sec.Data["other"]) != pw+"-2" {
		t.Error("YAML changed the object that is applied")
	}
}
