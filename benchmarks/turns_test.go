package benchmarks

import "github.com/cledar/storekit/internal/parbench"

// spread returns the entrant name whose goroutines each count their calls
// from a start of their own, so that they spread over the keys.
func spread(name string, call func(i int) error) parbench.Entrant {
	return parbench.Entrant{Name: name, Call: func(g, i int) error { return call(g*7 + i) }}
}
