package providers

// Registry finds the providers netconform knows. providers/catalog implements it; packages under
// framework/ take one as a dependency instead of importing the catalog, so that the framework
// never links a concrete provider and a test can hand it a smaller set (issue 12).
type Registry interface {
	// All returns every provider in a stable order; the slice is the caller's.
	All() []Provider
	// Lookup finds a provider by netconform name, spec.networking key or kops --networking
	// value, ignoring case; an unknown name gives an error that lists or suggests valid ones.
	Lookup(name string) (Provider, error)
	// BySpecKey finds the provider whose spec.networking key is exactly key.
	BySpecKey(key string) (Provider, bool)
}
