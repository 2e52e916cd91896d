package netpol

import (
	"errors"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validate reports what the API server would refuse in p's spec, so that a scenario author
// learns it when writing the scenario rather than from a failed apply on a cluster: a
// protocol other than TCP, UDP and SCTP, a port out of range or a malformed port name, endPort
// with a named port or without a port, endPort below port, a peer with nothing or with ipBlock
// and a selector together, a malformed label selector, a malformed CIDR, an except that is not
// a strict subset of its cidr, a policyType other than Ingress and Egress. Evaluate assumes
// valid policies.
//
// CIDRs are held to the strict form (no leading zeros, no IPv4-mapped IPv6, no bits beyond
// the prefix length), as servers with StrictIPCIDRValidation check them: older servers accept
// the sloppy forms with a warning, but a scenario should say exactly which addresses it means.
// Metadata (the name and namespace) is not checked.
func Validate(p networkingv1.NetworkPolicy) error {
	spec := field.NewPath("spec")
	errs := selectorErrs(&p.Spec.PodSelector, spec.Child("podSelector"))
	for i, r := range p.Spec.Ingress {
		errs = append(errs, ruleErrs(r.From, r.Ports, spec.Child("ingress").Index(i), "from")...)
	}
	for i, r := range p.Spec.Egress {
		errs = append(errs, ruleErrs(r.To, r.Ports, spec.Child("egress").Index(i), "to")...)
	}
	types := spec.Child("policyTypes")
	if len(p.Spec.PolicyTypes) > 2 {
		errs = append(errs, field.Invalid(types, p.Spec.PolicyTypes, "may not specify more than two policyTypes"))
	}
	for i, t := range p.Spec.PolicyTypes {
		if t != networkingv1.PolicyTypeIngress && t != networkingv1.PolicyTypeEgress {
			errs = append(errs, field.NotSupported(types.Index(i), t, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("network policy %s/%s: %w", p.Namespace, p.Name, errs.ToAggregate())
}

// ruleErrs checks one ingress or egress rule at path; peersField is "from" or "to".
func ruleErrs(peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort, path *field.Path, peersField string) field.ErrorList {
	var errs field.ErrorList
	for i := range ports {
		errs = append(errs, portErrs(&ports[i], path.Child("ports").Index(i))...)
	}
	for i := range peers {
		errs = append(errs, peerErrs(&peers[i], path.Child(peersField).Index(i))...)
	}
	return errs
}

// portErrs checks a NetworkPolicyPort (NetworkPolicyPort.endPort: "cannot be defined if the
// port field is not defined or if the port field is defined as a named (string) port. The
// endPort must be equal or greater than port").
func portErrs(p *networkingv1.NetworkPolicyPort, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if p.Protocol != nil {
		switch *p.Protocol {
		case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		default:
			errs = append(errs, field.NotSupported(path.Child("protocol"), *p.Protocol, []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}))
		}
	}
	switch {
	case p.Port == nil:
		if p.EndPort != nil {
			errs = append(errs, field.Invalid(path.Child("endPort"), *p.EndPort, "may not be specified when `port` is not specified"))
		}
	case p.Port.Type == intstr.String:
		for _, msg := range validation.IsValidPortName(p.Port.StrVal) {
			errs = append(errs, field.Invalid(path.Child("port"), p.Port.StrVal, msg))
		}
		if p.EndPort != nil {
			errs = append(errs, field.Invalid(path.Child("endPort"), *p.EndPort, "may not be specified when `port` is non-numeric"))
		}
	default:
		for _, msg := range validation.IsValidPortNum(int(p.Port.IntVal)) {
			errs = append(errs, field.Invalid(path.Child("port"), p.Port.IntVal, msg))
		}
		if p.EndPort != nil {
			for _, msg := range validation.IsValidPortNum(int(*p.EndPort)) {
				errs = append(errs, field.Invalid(path.Child("endPort"), *p.EndPort, msg))
			}
			if *p.EndPort < p.Port.IntVal {
				errs = append(errs, field.Invalid(path.Child("endPort"), *p.EndPort, "must be greater than or equal to `port`"))
			}
		}
	}
	return errs
}

// peerErrs checks a NetworkPolicyPeer: at least one field, and ipBlock alone ("If this field
// is set then neither of the other fields can be").
func peerErrs(p *networkingv1.NetworkPolicyPeer, path *field.Path) field.ErrorList {
	errs := selectorErrs(p.PodSelector, path.Child("podSelector"))
	errs = append(errs, selectorErrs(p.NamespaceSelector, path.Child("namespaceSelector"))...)
	switch {
	case p.IPBlock == nil && p.PodSelector == nil && p.NamespaceSelector == nil:
		errs = append(errs, field.Required(path, "must specify a peer"))
	case p.IPBlock != nil && (p.PodSelector != nil || p.NamespaceSelector != nil):
		errs = append(errs, field.Forbidden(path, "may not specify both ipBlock and another peer"))
	}
	if p.IPBlock != nil {
		errs = append(errs, blockErrs(p.IPBlock, path.Child("ipBlock"))...)
	}
	return errs
}

// blockErrs checks an IPBlock: a CIDR, and every except a strict subset of it (IPBlock.except:
// "Except values will be rejected if they are outside the cidr range"; the server also refuses
// one equal to the cidr).
func blockErrs(b *networkingv1.IPBlock, path *field.Path) field.ErrorList {
	if b.CIDR == "" {
		return field.ErrorList{field.Required(path.Child("cidr"), "")}
	}
	var errs field.ErrorList
	cidr, err := parseCIDR(b.CIDR)
	if err != nil {
		errs = append(errs, field.Invalid(path.Child("cidr"), b.CIDR, err.Error()))
	}
	for i, s := range b.Except {
		ex, err := parseCIDR(s)
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(path.Child("except").Index(i), s, err.Error()))
		case cidr.IsValid() && (ex.Bits() <= cidr.Bits() || !cidr.Contains(ex.Addr())):
			errs = append(errs, field.Invalid(path.Child("except").Index(i), s, "must be a strict subset of `cidr`"))
		}
	}
	return errs
}

// parseCIDR reads a CIDR in the strict form (see Validate).
func parseCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	switch {
	case err != nil:
		return netip.Prefix{}, errors.New("must be a valid CIDR value, without leading zeros (e.g. 10.9.8.0/24 or 2001:db8::/64)")
	case p.Addr().Is4In6():
		return netip.Prefix{}, errors.New("must not have an IPv4-mapped IPv6 address")
	case p != p.Masked():
		return netip.Prefix{}, fmt.Errorf("must not have bits set beyond the prefix length (%s)", p.Masked())
	}
	return p, nil
}

// selectorErrs checks a label selector as the server does (keys, values, operators and their
// values); a nil selector is absent, not wrong.
func selectorErrs(s *metav1.LabelSelector, path *field.Path) field.ErrorList {
	return metav1validation.ValidateLabelSelector(s, metav1validation.LabelSelectorValidationOptions{}, path)
}
