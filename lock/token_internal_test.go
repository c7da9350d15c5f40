package lock

import (
	"encoding/base32"
	"strings"
	"testing"
)

// TestNewToken checks that tokens are 128 random bits in unpadded base32,
// the alphabet of crypto/rand.Text, and differ from one another.
func TestNewToken(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	seen := make(map[[tokenLen]byte]bool)
	for range 1000 {
		var tok [tokenLen]byte
		newToken(&tok)
		for _, c := range tok {
			if !strings.ContainsRune(alphabet, rune(c)) {
				t.Fatalf("token %q has %q, outside the base32 alphabet", tok, c)
			}
		}
		b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(string(tok[:]))
		if err != nil || len(b) != 16 {
			t.Fatalf("token %q decodes to %d bytes, %v; want 16", tok, len(b), err)
		}
		if seen[tok] {
			t.Fatalf("token %q made twice", tok)
		}
		seen[tok] = true
	}
}
