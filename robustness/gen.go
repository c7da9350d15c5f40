package robustness

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/cledar/storekit/kv"
)

// genKeys are the key suffixes of every sequence: few, so that operations
// meet on the same keys, and among them the empty suffix, bytes that are
// not UTF-8, NUL, a space and a newline, and each byte that a glob pattern
// treats specially.
var genKeys = []string{"a", "b", "c", "ab", "*", "?", "[", `\`, "]", "a\x00b", "\xff\xfe", "", "a b\n"}

// genValues are the values writes choose from: empty, binary, counters
// (at the ends of int64 too) and values that look like counters but are
// not.
var genValues = []string{
	"", "x", "y", "\x00\xff", "0", "1", "41", "-7", "9223372036854775806",
	"-9223372036854775807", "01", "+1", " 1", "1.5", "abc", "-0", "9223372036854775808",
}

// genDeltas are Incr's deltas, the ends of int64 among them to overflow.
var genDeltas = []int64{1, -1, 0, 7, -100, math.MaxInt64, math.MinInt64, 1 << 62}

// genPatterns are the globs Scan appends to the escaped prefix.
var genPatterns = []string{
	"*", "?", "a*", "*b", "[ab]*", "[^a]*", `\*`, `\?`, `\[`, `\\`, "?*", "a?", "[", "[a-c]", "*\x00*", "", "[]]", `[\]]`, "[b-a]*",
}

// Durations of the generator. On a real server a long TTL does not run
// out during a sequence, and a short one is always followed by a Sleep
// that outlasts it by far, so that no result depends on how fast the
// machine is; on a ManualClock, TTLs and sleeps are short and mixed, and
// keys expire between any two steps.
const (
	shortTTL   = 200 * time.Millisecond
	shortSleep = 600 * time.Millisecond
	minLongTTL = 100 * time.Second
)

// A generator makes random sequences from one seed. Exact sequences are for
// a store on a ManualClock; the others for real time.
type generator struct {
	r     *rand.Rand
	exact bool
	m     *refModel
}

// generate returns a sequence of n steps (a few more where a short TTL
// needs its Sleep) made from seed.
func generate(seed uint64, n int, exact bool) []step {
	g := &generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), exact: exact, m: newRefModel("")}
	var seq []step
	for len(seq) < n {
		s := g.step()
		seq = append(seq, s)
		g.m.apply(s)
		if !exact && hasShortTTL(s) {
			seq = append(seq, step{Kind: kSleep, TTL: shortSleep})
			g.m.apply(seq[len(seq)-1])
		}
	}
	return seq
}

// hasShortTTL reports whether s may give a key a TTL that runs out within
// a real sequence: one that must be followed by a Sleep.
func hasShortTTL(s step) bool {
	switch s.Kind {
	case kSetWithTTL, kSetIfAbsent, kCompareAndSwap, kExpire:
		return s.TTL > 0 && s.TTL < minLongTTL
	case kSetMulti:
		for _, it := range s.Items {
			if it.TTL > 0 && it.TTL < minLongTTL {
				return true
			}
		}
	}
	return false
}

func (g *generator) pick(n int) int { return g.r.IntN(n) }

func (g *generator) key() string {
	// The first few keys come up more often, so that ops meet.
	if g.pick(3) > 0 {
		return genKeys[g.pick(4)]
	}
	return genKeys[g.pick(len(genKeys))]
}

func (g *generator) keys() []string {
	ks := make([]string, g.pick(5))
	for i := range ks {
		ks[i] = g.key()
	}
	return ks
}

func (g *generator) value() []byte {
	return []byte(genValues[g.pick(len(genValues))])
}

// ttl returns a positive TTL: long, or now and then short, in real time;
// of up to three seconds on a ManualClock.
func (g *generator) ttl() time.Duration {
	if g.exact {
		return time.Duration(1+g.pick(3000)) * time.Millisecond
	}
	if g.pick(6) == 0 {
		return shortTTL
	}
	return minLongTTL + time.Duration(g.pick(200_000))*time.Millisecond
}

// writeTTL returns the ttl of a write that may set one: now and then
// zero, or negative (ErrInvalid).
func (g *generator) writeTTL() time.Duration {
	switch g.pick(8) {
	case 0, 1, 2:
		return 0
	case 3:
		return -time.Second
	}
	return g.ttl()
}

// current returns the key's value in the model, or a random value.
func (g *generator) current(key string) []byte {
	if e := g.m.live(key); e != nil && !e.isHist && g.pick(3) > 0 {
		return append([]byte{}, e.val...)
	}
	return g.value()
}

// version returns a version near key's latest one in the model.
func (g *generator) version(key string) int64 {
	var v int64
	if e := g.m.live(key); e != nil {
		v = e.version()
	}
	return v + int64(g.pick(4)) - 2
}

// step returns a random step, its arguments chosen with the model's state
// in mind so that conditions hold about half the time.
func (g *generator) step() step {
	k := g.key()
	switch g.pick(27) {
	case 0, 1:
		return step{Kind: kGet, Key: k}
	case 2, 3:
		return step{Kind: kSet, Key: k, Value: g.value()}
	case 4:
		ttl := g.ttl()
		if g.pick(10) == 0 {
			ttl = -time.Duration(g.pick(2)) * time.Second
		}
		return step{Kind: kSetWithTTL, Key: k, Value: g.value(), TTL: ttl}
	case 5:
		return step{Kind: kDelete, Key: k}
	case 6:
		return step{Kind: kGetMulti, Keys: g.keys()}
	case 7:
		items := make([]item, g.pick(5))
		for i := range items {
			items[i] = item{Key: g.key(), Value: g.value()}
			if g.pick(3) == 0 {
				items[i].TTL = g.writeTTL()
			}
		}
		return step{Kind: kSetMulti, Items: items}
	case 8:
		return step{Kind: kDeleteMulti, Keys: g.keys()}
	case 9:
		if g.pick(3) == 0 {
			return step{Kind: kScan, Pattern: kv.EscapePattern(g.key())}
		}
		return step{Kind: kScan, Pattern: genPatterns[g.pick(len(genPatterns))]}
	case 10:
		return step{Kind: kTTL, Key: k}
	case 11:
		return step{Kind: kGetWithTTL, Key: k}
	case 12:
		ttl := g.ttl()
		if g.pick(10) == 0 {
			ttl = 0
		}
		return step{Kind: kExpire, Key: k, TTL: ttl}
	case 13:
		return step{Kind: kPersist, Key: k}
	case 14:
		return step{Kind: kSetIfAbsent, Key: k, Value: g.value(), TTL: g.writeTTL()}
	case 15:
		return step{Kind: kCompareAndSwap, Key: k, Old: g.current(k), Value: g.value(), TTL: g.writeTTL()}
	case 16:
		return step{Kind: kCompareAndDelete, Key: k, Old: g.current(k)}
	case 17:
		if e := g.m.live(k); g.pick(4) == 0 && (e == nil || !e.isHist) {
			// A counter near the ends of int64, to overflow.
			v := []byte(strconv.FormatInt(math.MaxInt64-int64(g.pick(3)), 10))
			return step{Kind: kSet, Key: k, Value: v}
		}
		return step{Kind: kIncr, Key: k, N: genDeltas[g.pick(len(genDeltas))]}
	case 18, 19:
		return step{Kind: kAppend, Key: k, Value: g.value()}
	case 20:
		return step{Kind: kAppendIf, Key: k, Value: g.value(), N: g.version(k)}
	case 21:
		return step{Kind: kHistory, Key: k}
	case 22:
		return step{Kind: kAt, Key: k, N: g.version(k)}
	case 23:
		return step{Kind: kLatest, Key: k}
	case 24:
		return step{Kind: kLatestMulti, Keys: g.keys()}
	case 25:
		return step{Kind: kPrune, Key: k, N: g.version(k) + 1}
	}
	if g.exact {
		return step{Kind: kSleep, TTL: time.Duration(1+g.pick(1500)) * time.Millisecond}
	}
	return step{Kind: kGet, Key: k}
}
