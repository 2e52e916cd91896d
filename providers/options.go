package providers

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Target is what a provider's options are given for: kops' cluster spec (AWS plans and
// switches, lint) or netconform's own installers on kind.
type Target string

// Targets.
const (
	ForKops Target = "kops"
	ForKind Target = "kind"
)

// Schema returns the options the provider takes for target: its kops options, and on kind also
// KindOptions, which replace a kops option of the same name (a backend option may accept more
// values there). Every command that takes --provider-option validates against this one list.
func (d Descriptor) Schema(t Target) []Option {
	out := slices.Clone(d.Options)
	if t != ForKind {
		return out
	}
	for _, k := range d.KindOptions {
		i := slices.IndexFunc(out, func(o Option) bool { return o.Name == k.Name })
		if i >= 0 {
			out[i] = k
		} else {
			out = append(out, k)
		}
	}
	return out
}

// ParseOptions types KEY=VALUE settings by d's schema for t (an int option's value becomes an
// int, a bool option's a bool) and validates each with Option.Validate. A key the schema does
// not list is an error naming the closest known one: a typo must not be carried silently into
// a spec or an install. Errors never contain the value of a secret option. Keys are checked in
// sorted order, so the first error is always the same one.
func ParseOptions(d Descriptor, t Target, kv map[string]string) (map[string]any, error) {
	schema := d.Schema(t)
	out := make(map[string]any, len(kv))
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		i := slices.IndexFunc(schema, func(o Option) bool { return o.Name == k })
		if i < 0 {
			return nil, unknownOption(d, t, schema, k)
		}
		o := schema[i]
		v, err := o.typed(kv[k])
		if err == nil {
			err = o.Validate(v)
		}
		if err != nil {
			return nil, fmt.Errorf("%s %w", d.Name, err)
		}
		out[k] = v
	}
	return out, nil
}

func unknownOption(d Descriptor, t Target, schema []Option, key string) error {
	names := make([]string, 0, len(schema))
	for _, o := range schema {
		names = append(names, o.Name)
	}
	slices.Sort(names)
	if len(names) == 0 {
		return fmt.Errorf("%s takes no options on %s (got %s)", d.Name, t, key)
	}
	hint := ""
	if c := Closest(key, names); c != "" {
		hint = fmt.Sprintf("did you mean %s? ", c)
	}
	return fmt.Errorf("%s has no option %s on %s; %soptions: %s", d.Name, key, t, hint, strings.Join(names, ", "))
}

// typed reads a command-line value as the option's type.
func (o Option) typed(s string) (any, error) {
	show := strconv.Quote(s)
	if o.Secret {
		show = "(secret value hidden)"
	}
	switch o.Type {
	case TypeInt:
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("option %s: want an integer, got %s", o.Name, show)
		}
		return n, nil
	case TypeBool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("option %s: want true or false, got %s", o.Name, show)
		}
		return b, nil
	case TypeString:
		return s, nil
	}
	return nil, fmt.Errorf("option %s (%s) cannot be given as KEY=VALUE: write it in the cluster spec", o.Name, o.Type)
}

// Closest returns the candidate nearest to name by edit distance, ignoring case, when it is
// near enough to be a likely typo (at most a third of the name's length, and at least one
// edit allowed); otherwise "".
func Closest(name string, candidates []string) string {
	best, bestD := "", -1
	n := strings.ToLower(name)
	for _, c := range candidates {
		d := editDistance(n, strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > max(1, len([]rune(name))/3) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
