package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cledar/storekit/kv"
)

// The broken stores of the conditional writes, counters, expiry changes,
// bulk writes and conditional appends. Those that do in two steps what the
// contract wants done in one wait a moment between the steps, as a second
// round trip would, so that racing callers reliably interleave.

// stepGap is the moment between the two steps of a broken read-then-write.
const stepGap = 200 * time.Microsecond

// write stores value at key in s, with SetWithTTL when ttl is positive.
func write(ctx context.Context, s fullStore, key string, value []byte, ttl time.Duration) error {
	if ttl > 0 {
		return s.SetWithTTL(ctx, key, value, ttl)
	}
	return s.Set(ctx, key, value)
}

func errNegativeTTL(ttl time.Duration) error { return fmt.Errorf("ttl %v: %w", ttl, kv.ErrInvalid) }

// Conditional.

// setIfAbsentCheckThenSet reads the key, then writes it in a second step if
// it was missing: racing callers all find it missing, and all win.
type setIfAbsentCheckThenSet struct{ fullStore }

func (s setIfAbsentCheckThenSet) SetIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if ttl < 0 {
		return false, errNegativeTTL(ttl)
	}
	if _, _, err := s.Latest(ctx, key); !errors.Is(err, kv.ErrNotFound) {
		return false, err // nil when the key exists
	}
	time.Sleep(stepGap)
	return true, write(ctx, s.fullStore, key, value, ttl)
}

// setIfAbsentReplacesHistory counts only a plain value as present.
type setIfAbsentReplacesHistory struct{ fullStore }

func (s setIfAbsentReplacesHistory) SetIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if _, err := s.Get(ctx, key); errors.Is(err, kv.ErrWrongType) {
		return true, write(ctx, s.fullStore, key, value, ttl)
	}
	return s.fullStore.SetIfAbsent(ctx, key, value, ttl)
}

// setIfAbsentTTL passes SetIfAbsent's TTL through fix.
type setIfAbsentTTL struct {
	fullStore
	fix func(time.Duration) time.Duration
}

func (s setIfAbsentTTL) SetIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	return s.fullStore.SetIfAbsent(ctx, key, value, s.fix(ttl))
}

// setIfAbsentSeesExpired counts a key written with SetWithTTL as present
// until it is written again or deleted, expired or not.
type setIfAbsentSeesExpired struct {
	fullStore
	withTTL sync.Map
}

func (s *setIfAbsentSeesExpired) SetWithTTL(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	err := s.fullStore.SetWithTTL(ctx, key, value, ttl)
	if err == nil {
		s.withTTL.Store(key, true)
	}
	return err
}

func (s *setIfAbsentSeesExpired) Set(ctx context.Context, key string, value []byte) error {
	s.withTTL.Delete(key)
	return s.fullStore.Set(ctx, key, value)
}

func (s *setIfAbsentSeesExpired) Delete(ctx context.Context, key string) (bool, error) {
	s.withTTL.Delete(key)
	return s.fullStore.Delete(ctx, key)
}

func (s *setIfAbsentSeesExpired) SetIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if _, ok := s.withTTL.Load(key); ok && ttl >= 0 {
		return false, nil
	}
	return s.fullStore.SetIfAbsent(ctx, key, value, ttl)
}

// casReadThenWrite compares with a Get and swaps with a Set, in two steps:
// racing callers that read the same value all swap, and updates are lost.
type casReadThenWrite struct{ fullStore }

func (s casReadThenWrite) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	if ttl < 0 {
		return false, errNegativeTTL(ttl)
	}
	cur, err := s.Get(ctx, key)
	switch {
	case errors.Is(err, kv.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	case !bytes.Equal(cur, old):
		return false, nil
	}
	time.Sleep(stepGap)
	if ttl > 0 {
		return true, s.SetWithTTL(ctx, key, new, ttl)
	}
	left, err := s.TTL(ctx, key)
	if err != nil {
		return false, err
	}
	if err := s.Set(ctx, key, new); err != nil || left <= 0 {
		return err == nil, err
	}
	_, err = s.Expire(ctx, key, left)
	return err == nil, err
}

// casDropsTTL removes the expiry of a key it swapped with kv.KeepTTL.
type casDropsTTL struct{ fullStore }

func (s casDropsTTL) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	ok, err := s.fullStore.CompareAndSwap(ctx, key, old, new, ttl)
	if ok && ttl == kv.KeepTTL {
		_, err = s.Persist(ctx, key)
	}
	return ok, err
}

// casMissingIsEmpty takes a missing key for an empty value.
type casMissingIsEmpty struct{ fullStore }

func (s casMissingIsEmpty) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	if len(old) == 0 {
		if _, err := s.Get(ctx, key); errors.Is(err, kv.ErrNotFound) {
			return s.SetIfAbsent(ctx, key, new, ttl)
		}
	}
	return s.fullStore.CompareAndSwap(ctx, key, old, new, ttl)
}

// casStopsAtNUL compares values as C strings, up to the first NUL.
type casStopsAtNUL struct{ fullStore }

func (s casStopsAtNUL) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	if cur, err := s.Get(ctx, key); err == nil && cutNUL(string(cur)) == cutNUL(string(old)) {
		old = cur
	}
	return s.fullStore.CompareAndSwap(ctx, key, old, new, ttl)
}

// casRewritesOnMismatch writes the value it found back when it does not
// swap, as a script that always ends in SET would: watchers hear an OpSet,
// and the key loses its expiry.
type casRewritesOnMismatch struct{ fullStore }

func (s casRewritesOnMismatch) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	ok, err := s.fullStore.CompareAndSwap(ctx, key, old, new, ttl)
	if !ok && err == nil {
		if cur, err := s.Get(ctx, key); err == nil {
			return false, s.Set(ctx, key, cur)
		}
	}
	return ok, err
}

// casHistoryFalse reports false, not kv.ErrWrongType, for a history.
type casHistoryFalse struct{ fullStore }

func (s casHistoryFalse) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	ok, err := s.fullStore.CompareAndSwap(ctx, key, old, new, ttl)
	if errors.Is(err, kv.ErrWrongType) {
		return false, nil
	}
	return ok, err
}

// cadIgnoresValue deletes any plain value, whatever old is.
type cadIgnoresValue struct{ fullStore }

func (s cadIgnoresValue) CompareAndDelete(ctx context.Context, key string, old []byte) (bool, error) {
	if _, err := s.Get(ctx, key); err != nil {
		if errors.Is(err, kv.ErrNotFound) {
			err = nil
		}
		return false, err
	}
	return s.Delete(ctx, key)
}

// Counter.

// incrMissingFails refuses to count a missing key as 0.
type incrMissingFails struct{ fullStore }

func (s incrMissingFails) Incr(ctx context.Context, key string, delta int64) (int64, error) {
	if _, err := s.Get(ctx, key); errors.Is(err, kv.ErrNotFound) {
		return 0, err
	}
	return s.fullStore.Incr(ctx, key, delta)
}

// incrLaxFormat reads its counters with strconv.ParseInt after trimming
// spaces, so "+1", "01", "-0" and " 1" count as numbers.
type incrLaxFormat struct{ fullStore }

func (s incrLaxFormat) Incr(ctx context.Context, key string, delta int64) (int64, error) {
	if v, err := s.Get(ctx, key); err == nil {
		n, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
		if err == nil && strconv.FormatInt(n, 10) != string(v) {
			if err := s.Set(ctx, key, strconv.AppendInt(nil, n, 10)); err != nil {
				return 0, err
			}
		}
	}
	return s.fullStore.Incr(ctx, key, delta)
}

// incrLosesUpdates reads the counter, then writes the sum in a second step.
type incrLosesUpdates struct{ fullStore }

func (s incrLosesUpdates) Incr(ctx context.Context, key string, delta int64) (int64, error) {
	var n int64
	v, err := s.Get(ctx, key)
	switch {
	case errors.Is(err, kv.ErrNotFound):
	case err != nil:
		return 0, err
	default:
		var ok bool
		if n, ok = parseCounter(v); !ok {
			return 0, fmt.Errorf("not a counter: %w", kv.ErrWrongType)
		}
	}
	if delta > 0 && n > math.MaxInt64-delta || delta < 0 && n < math.MinInt64-delta {
		return 0, fmt.Errorf("overflow: %w", kv.ErrInvalid)
	}
	time.Sleep(stepGap)
	return n + delta, s.Set(ctx, key, strconv.AppendInt(nil, n+delta, 10))
}

// incrWrapsOverflow wraps around the int64 range instead of refusing.
type incrWrapsOverflow struct{ fullStore }

func (s incrWrapsOverflow) Incr(ctx context.Context, key string, delta int64) (int64, error) {
	n, err := s.fullStore.Incr(ctx, key, delta)
	if errors.Is(err, kv.ErrInvalid) {
		v, gerr := s.Get(ctx, key)
		if gerr != nil {
			return 0, gerr
		}
		cur, _ := parseCounter(v)
		n = cur + delta
		err = s.Set(ctx, key, strconv.AppendInt(nil, n, 10))
	}
	return n, err
}

// incrDropsTTL removes the expiry of a key it added to.
type incrDropsTTL struct{ fullStore }

func (s incrDropsTTL) Incr(ctx context.Context, key string, delta int64) (int64, error) {
	n, err := s.fullStore.Incr(ctx, key, delta)
	if err == nil {
		_, err = s.Persist(ctx, key)
	}
	return n, err
}

// Expiry changes.

// expireMissingTrue reports true whenever Expire did not fail.
type expireMissingTrue struct{ fullStore }

func (s expireMissingTrue) Expire(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	_, err := s.fullStore.Expire(ctx, key, ttl)
	return err == nil, err
}

// persistReportsRemoval reports whether an expiry was removed, as Redis
// PERSIST does, rather than whether the key exists.
type persistReportsRemoval struct{ fullStore }

func (s persistReportsRemoval) Persist(ctx context.Context, key string) (bool, error) {
	left, terr := s.TTL(ctx, key)
	ok, err := s.fullStore.Persist(ctx, key)
	return ok && terr == nil && left != kv.NoExpiry, err
}

// getWithTTLStale serves GetWithTTL's TTL from the expiries SetWithTTL
// set, which later writes and expiry changes do not update.
type getWithTTLStale struct {
	fullStore
	expires sync.Map
}

func (s *getWithTTLStale) SetWithTTL(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	err := s.fullStore.SetWithTTL(ctx, key, value, ttl)
	if err == nil {
		s.expires.Store(key, time.Now().Add(ttl))
	}
	return err
}

func (s *getWithTTLStale) GetWithTTL(ctx context.Context, key string) ([]byte, time.Duration, error) {
	v, ttl, err := s.fullStore.GetWithTTL(ctx, key)
	if t, ok := s.expires.Load(key); ok && err == nil {
		ttl = time.Until(t.(time.Time))
	}
	return v, ttl, err
}

// expireSkipsHistory checks the key with Get before it sets the expiry,
// and so takes a history for a missing key.
type expireSkipsHistory struct{ fullStore }

func (s expireSkipsHistory) Expire(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if _, err := s.Get(ctx, key); errors.Is(err, kv.ErrWrongType) && ttl > 0 {
		return false, nil
	}
	return s.fullStore.Expire(ctx, key, ttl)
}

// expireZeroDeletes deletes a key given a TTL of zero or less, as Redis
// EXPIRE does.
type expireZeroDeletes struct{ fullStore }

func (s expireZeroDeletes) Expire(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return s.Delete(ctx, key)
	}
	return s.fullStore.Expire(ctx, key, ttl)
}

// Bulk writes.

// setMultiFirstWins keeps the first item of a key listed more than once.
type setMultiFirstWins struct{ fullStore }

func (s setMultiFirstWins) SetMulti(ctx context.Context, items []kv.Item) error {
	var first []kv.Item
	for _, it := range items {
		if !slices.ContainsFunc(first, func(f kv.Item) bool { return f.Key == it.Key }) {
			first = append(first, it)
		}
	}
	return s.fullStore.SetMulti(ctx, first)
}

// setMultiEachItem writes every item in turn, a key listed twice twice:
// the last item wins, but watchers hear the key's events for each item.
type setMultiEachItem struct{ fullStore }

func (s setMultiEachItem) SetMulti(ctx context.Context, items []kv.Item) error {
	for _, it := range items {
		if it.TTL < 0 {
			return errNegativeTTL(it.TTL)
		}
	}
	for _, it := range items {
		if err := write(ctx, s.fullStore, it.Key, it.Value, it.TTL); err != nil {
			return err
		}
	}
	return nil
}

// setMultiPartial writes the items one at a time, and meets a negative TTL
// only when it reaches its item.
type setMultiPartial struct{ fullStore }

func (s setMultiPartial) SetMulti(ctx context.Context, items []kv.Item) error {
	for _, it := range items {
		if it.TTL < 0 {
			return errNegativeTTL(it.TTL)
		}
		if err := write(ctx, s.fullStore, it.Key, it.Value, it.TTL); err != nil {
			return err
		}
	}
	return nil
}

// bulkEmptyWriteFails refuses an empty list, as Redis MSET and DEL do.
type bulkEmptyWriteFails struct{ fullStore }

func (s bulkEmptyWriteFails) SetMulti(ctx context.Context, items []kv.Item) error {
	if len(items) == 0 {
		return errors.New("ERR wrong number of arguments for 'mset' command")
	}
	return s.fullStore.SetMulti(ctx, items)
}

func (s bulkEmptyWriteFails) DeleteMulti(ctx context.Context, keys []string) (int, error) {
	if len(keys) == 0 {
		return 0, errors.New("ERR wrong number of arguments for 'del' command")
	}
	return s.fullStore.DeleteMulti(ctx, keys)
}

// bulkWriteLimit refuses a bulk write of more than 512 items.
type bulkWriteLimit struct{ fullStore }

const bulkLimit = 512

func (s bulkWriteLimit) SetMulti(ctx context.Context, items []kv.Item) error {
	if len(items) > bulkLimit {
		return fmt.Errorf("%d items, more than %d", len(items), bulkLimit)
	}
	return s.fullStore.SetMulti(ctx, items)
}

func (s bulkWriteLimit) DeleteMulti(ctx context.Context, keys []string) (int, error) {
	if len(keys) > bulkLimit {
		return 0, fmt.Errorf("%d keys, more than %d", len(keys), bulkLimit)
	}
	return s.fullStore.DeleteMulti(ctx, keys)
}

// setMultiSkipsHistory leaves out the items whose key holds a history, as
// a script that writes only string keys would.
type setMultiSkipsHistory struct{ fullStore }

func (s setMultiSkipsHistory) SetMulti(ctx context.Context, items []kv.Item) error {
	var plain []kv.Item
	for _, it := range items {
		if _, err := s.Get(ctx, it.Key); !errors.Is(err, kv.ErrWrongType) {
			plain = append(plain, it)
		}
	}
	return s.fullStore.SetMulti(ctx, plain)
}

// setMultiDropsTTL writes every item without expiry.
type setMultiDropsTTL struct{ fullStore }

func (s setMultiDropsTTL) SetMulti(ctx context.Context, items []kv.Item) error {
	plain := slices.Clone(items)
	for i := range plain {
		if plain[i].TTL > 0 {
			plain[i].TTL = 0
		}
	}
	return s.fullStore.SetMulti(ctx, plain)
}

// deleteMultiCountsDuplicates counts every listed key that existed, as
// often as it is listed.
type deleteMultiCountsDuplicates struct{ fullStore }

func (s deleteMultiCountsDuplicates) DeleteMulti(ctx context.Context, keys []string) (int, error) {
	n := 0
	for _, k := range keys {
		if _, err := s.TTL(ctx, k); err == nil {
			n++
		}
	}
	_, err := s.fullStore.DeleteMulti(ctx, keys)
	return n, err
}

// Conditional appends.

// appendIfAppendsOnConflict reports a conflict but appends all the same.
type appendIfAppendsOnConflict struct{ fullStore }

func (s appendIfAppendsOnConflict) AppendIf(ctx context.Context, key string, value []byte, expect int64) (int64, error) {
	v, err := s.fullStore.AppendIf(ctx, key, value, expect)
	if errors.Is(err, kv.ErrConflict) {
		if _, aerr := s.Append(ctx, key, value); aerr != nil {
			return 0, aerr
		}
	}
	return v, err
}

// appendIfPlainConflict reports a conflict with kv.ErrConflict alone, so
// the caller cannot learn the latest version.
type appendIfPlainConflict struct{ fullStore }

func (s appendIfPlainConflict) AppendIf(ctx context.Context, key string, value []byte, expect int64) (int64, error) {
	v, err := s.fullStore.AppendIf(ctx, key, value, expect)
	if errors.Is(err, kv.ErrConflict) {
		err = fmt.Errorf("append %s: version mismatch: %w", kv.QuoteKey(key), kv.ErrConflict)
	}
	return v, err
}

// appendIfCheckThenAppend reads the latest version, then appends in a
// second step: racing callers at one version all append.
type appendIfCheckThenAppend struct{ fullStore }

func (s appendIfCheckThenAppend) AppendIf(ctx context.Context, key string, value []byte, expect int64) (int64, error) {
	if expect < 0 {
		return 0, fmt.Errorf("expect %d: %w", expect, kv.ErrInvalid)
	}
	_, latest, err := s.Latest(ctx, key)
	if err != nil && !errors.Is(err, kv.ErrNotFound) {
		return 0, err
	}
	if latest != expect {
		return 0, &kv.VersionConflict{Key: key, Expected: expect, Latest: latest}
	}
	time.Sleep(stepGap)
	return s.Append(ctx, key, value)
}

// appendIfConflictRereads appends atomically, but when it conflicts it
// reports a latest version read in a second step, after the attempt: other
// writers may have reached the expected version by then.
type appendIfConflictRereads struct{ fullStore }

func (s appendIfConflictRereads) AppendIf(ctx context.Context, key string, value []byte, expect int64) (int64, error) {
	v, err := s.fullStore.AppendIf(ctx, key, value, expect)
	var vc *kv.VersionConflict
	if !errors.As(err, &vc) {
		return v, err
	}
	time.Sleep(stepGap)
	_, latest, lerr := s.Latest(ctx, key)
	if lerr != nil && !errors.Is(lerr, kv.ErrNotFound) {
		return 0, lerr
	}
	return 0, &kv.VersionConflict{Key: key, Expected: expect, Latest: latest}
}

// appendIfAcceptsNegative takes a negative expect for 0.
type appendIfAcceptsNegative struct{ fullStore }

func (s appendIfAcceptsNegative) AppendIf(ctx context.Context, key string, value []byte, expect int64) (int64, error) {
	return s.fullStore.AppendIf(ctx, key, value, max(expect, 0))
}

// appendIfPlainIsMissing counts a plain value as no version at all, and
// replaces it.
type appendIfPlainIsMissing struct{ fullStore }

func (s appendIfPlainIsMissing) AppendIf(ctx context.Context, key string, value []byte, expect int64) (int64, error) {
	if _, err := s.Get(ctx, key); err == nil && expect >= 0 {
		if expect != 0 {
			return 0, &kv.VersionConflict{Key: key, Expected: expect, Latest: 0}
		}
		if _, err := s.Delete(ctx, key); err != nil {
			return 0, err
		}
	}
	return s.fullStore.AppendIf(ctx, key, value, expect)
}

// Context.

// atomicIgnoresCancel drops the cancellation and deadline of the context of
// every conditional, counter, expiry-changing and bulk write.
type atomicIgnoresCancel struct{ fullStore }

func noCancel(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

func (s atomicIgnoresCancel) SetIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	return s.fullStore.SetIfAbsent(noCancel(ctx), key, value, ttl)
}

func (s atomicIgnoresCancel) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	return s.fullStore.CompareAndSwap(noCancel(ctx), key, old, new, ttl)
}

func (s atomicIgnoresCancel) CompareAndDelete(ctx context.Context, key string, old []byte) (bool, error) {
	return s.fullStore.CompareAndDelete(noCancel(ctx), key, old)
}

func (s atomicIgnoresCancel) Incr(ctx context.Context, key string, delta int64) (int64, error) {
	return s.fullStore.Incr(noCancel(ctx), key, delta)
}

func (s atomicIgnoresCancel) Expire(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	return s.fullStore.Expire(noCancel(ctx), key, ttl)
}

func (s atomicIgnoresCancel) Persist(ctx context.Context, key string) (bool, error) {
	return s.fullStore.Persist(noCancel(ctx), key)
}

func (s atomicIgnoresCancel) SetMulti(ctx context.Context, items []kv.Item) error {
	return s.fullStore.SetMulti(noCancel(ctx), items)
}

func (s atomicIgnoresCancel) DeleteMulti(ctx context.Context, keys []string) (int, error) {
	return s.fullStore.DeleteMulti(noCancel(ctx), keys)
}

func (s atomicIgnoresCancel) AppendIf(ctx context.Context, key string, value []byte, expect int64) (int64, error) {
	return s.fullStore.AppendIf(noCancel(ctx), key, value, expect)
}
