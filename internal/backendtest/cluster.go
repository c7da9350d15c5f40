package backendtest

import (
	"fmt"
	"slices"

	"github.com/cledar/storekit/internal/rediskv"
)

// KeyPerMaster returns one key of the form prefix+number for each master
// of a cluster whose masters serve equal shares of the slots in order, as
// redistest.StartCluster splits them: the i-th key lives on master i.
func KeyPerMaster(masters int, prefix string) []string {
	keys := make([]string, masters)
	for n := 0; slices.Contains(keys, ""); n++ {
		k := fmt.Sprintf("%s%d", prefix, n)
		if m := rediskv.Slot(k) * masters / rediskv.SlotCount; keys[m] == "" {
			keys[m] = k
		}
	}
	return keys
}
