package conformance_test

import (
	"fmt"
	"strings"

	"github.com/cledar/storekit/conformance"
)

// Cases lists the suite, for example to document which rules a backend
// keeps.
func ExampleCases() {
	for _, c := range conformance.Cases() {
		if strings.HasPrefix(c.Name, "Close/") {
			fmt.Printf("%s (needs %v): %s\n", c.Name, c.Needs, c.Rule)
		}
	}
	// Output:
	// Close/Idempotent (needs []): Close is idempotent: a second Close returns nil too
	// Close/MethodsFail (needs []): after Close every method, Watch included, returns an error wrapping kv.ErrClosed
	// Close/EndsWatch (needs [kv.Watcher]): Close closes the channel of every watch
}
