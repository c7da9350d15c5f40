package redisproto

// ScanNodes runs a SCAN iteration on each of n servers in turn and passes
// the keys to yield, until yield returns false. page(i, cursor) sends one
// SCAN with cursor to server i and returns the keys of its reply and the
// next cursor, 0 once the iteration is complete. check runs before every
// page. An error of check or page is yielded and ends the scan.
func ScanNodes(n int, check func() error, page func(i int, cursor uint64) ([]string, uint64, error), yield func(string, error) bool) {
	for i := range n {
		var cursor uint64
		for {
			if err := check(); err != nil {
				yield("", err)
				return
			}
			keys, next, err := page(i, cursor)
			if err != nil {
				yield("", err)
				return
			}
			for _, k := range keys {
				if !yield(k, nil) {
					return
				}
			}
			if next == 0 {
				break
			}
			cursor = next
		}
	}
}
