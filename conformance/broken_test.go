package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cledar/storekit/kv"
)

// A brokenStore wraps the reference store so that it breaks one rule; the
// methods it does not override are forwarded, so every optional interface is
// still there.
type brokenStore struct {
	name     string
	breaks   string   // the rule broken
	caughtBy []string // cases expected to report it (at least one must)
	wrap     func(s fullStore) kv.Store
}

var brokenStores = []brokenStore{
	{"NotFoundUnwrapped", "Get of a missing key wraps kv.ErrNotFound",
		[]string{"Basic/GetMissing"}, func(s fullStore) kv.Store { return notFoundUnwrapped{s} }},
	{"QuotesWholeKey", "an error's text quotes a bounded part of the key",
		[]string{"Basic/LongKeyError"}, func(s fullStore) kv.Store { return quotesWholeKey{s} }},
	{"LiesAboutDelete", "Delete reports whether it removed a key",
		[]string{"Basic/Delete"}, func(s fullStore) kv.Store { return liesAboutDelete{s} }},
	{"SharedSlices", "values are copied in and out",
		[]string{"Basic/CopyIn", "Basic/CopyOut"}, func(s fullStore) kv.Store { return &sharedSlices{fullStore: s} }},
	{"TruncatesValuesAtNUL", "values hold any bytes",
		[]string{"Binary/Values", "Binary/LargeValue"}, func(s fullStore) kv.Store { return truncatesValuesAtNUL{s} }},
	{"DropsEmptyValues", "an empty value is found, not kv.ErrNotFound",
		[]string{"Binary/Values"}, func(s fullStore) kv.Store { return dropsEmptyValues{s} }},
	{"TruncatesKeysAtNUL", "keys may hold NUL",
		[]string{"Binary/Keys"}, func(s fullStore) kv.Store { return truncatesKeysAtNUL{s} }},
	{"ReordersBulk", "GetMulti keeps the order of the keys",
		[]string{"Bulk/OrderAndMissing"}, func(s fullStore) kv.Store { return reordersBulk{s} }},
	{"DedupesBulk", "GetMulti keeps duplicate keys",
		[]string{"Bulk/Duplicates"}, func(s fullStore) kv.Store { return dedupesBulk{s} }},
	{"BulkEmptyFails", "GetMulti of no keys is not an error",
		[]string{"Bulk/Empty"}, func(s fullStore) kv.Store { return bulkEmptyFails{s} }},
	{"LatestMultiPlainMissing", "LatestMulti reports a plain value as version 1",
		[]string{"LatestMulti/OrderAndMissing", "LatestMulti/ThousandKeys"},
		func(s fullStore) kv.Store { return latestMultiPlainMissing{s} }},
	{"LiteralGlob", "Scan patterns follow kv.Match ('?', sets and escapes treated literally)",
		[]string{"Scan/Patterns", "Scan/EscapedKeys"}, func(s fullStore) kv.Store { return literalGlob{s} }},
	{"ScanYieldsDeleted", "Scan never yields a deleted key",
		[]string{"Scan/LiveKeys", "Scan/Patterns"}, func(s fullStore) kv.Store { return &scanYieldsDeleted{fullStore: s} }},
	{"SharesStaleGets", "a Get that starts after a Set returned never returns the value it replaced",
		[]string{"Concurrency/ReadAfterWrite"}, func(s fullStore) kv.Store { return &sharesStaleGets{fullStore: s} }},
	{"WritesAfterCancel", "SetMulti stores copies, whatever becomes of its context",
		[]string{"BulkWrite/CopyIn"}, func(s fullStore) kv.Store { return &writesAfterCancel{fullStore: s} }},
	{"SharesStaleBulkReads", "a GetMulti that starts after a SetMulti returned never returns a value it replaced",
		[]string{"Concurrency/BulkReadAfterWrite"}, func(s fullStore) kv.Store { return &sharesStaleBulkReads{fullStore: s} }},
	{"HandsOverBulkResults", "each GetMulti gets its own results, in the order of its keys, however many run at once",
		[]string{"Concurrency/BulkReadAfterWrite"},
		func(s fullStore) kv.Store { return &sharesStaleBulkReads{fullStore: s, handOver: true} }},
	{"ScanIgnoresBreak", "Scan stops when the loop breaks",
		[]string{"Scan/EarlyBreak"}, func(s fullStore) kv.Store { return scanIgnoresBreak{s} }},
	{"IgnoresTTL", "SetWithTTL expires the key",
		[]string{"TTL/Expired", "TTL/ReadBack"}, func(s fullStore) kv.Store { return ignoresTTL{s} }},
	{"ExpiredInScan", "Scan never yields an expired key",
		[]string{"TTL/Expired"}, func(s fullStore) kv.Store { return &expiredInScan{fullStore: s} }},
	{"TTLTooLong", "TTL reports no more than the TTL set",
		[]string{"TTL/ReadBack"}, func(s fullStore) kv.Store { return ttlTooLong{s} }},
	{"AcceptsBadTTL", "SetWithTTL rejects a TTL <= 0 with kv.ErrInvalid and writes nothing",
		[]string{"TTL/Invalid"}, func(s fullStore) kv.Store { return acceptsBadTTL{s} }},
	{"NoFirstResync", "the first event of a watch is an OpResync",
		[]string{"Watch/FirstEventResync"}, func(s fullStore) kv.Store { return filterEvents{s, skipFirst()} }},
	{"DropsEvents", "every change to a matching key is reported",
		[]string{"Watch/Set", "Watch/Delete", "Watch/PerKeyOrder"}, func(s fullStore) kv.Store { return filterEvents{s, everyOther()} }},
	{"NoExpiredEvent", "expiry is reported as OpExpired",
		[]string{"Watch/Expired"}, func(s fullStore) kv.Store { return filterEvents{s, dropOp(kv.OpExpired)} }},
	{"WatchIgnoresPattern", "a key that does not match the pattern is not reported",
		[]string{"Watch/NonMatching", "Watch/EscapedPattern"}, func(s fullStore) kv.Store { return watchPattern{s, func(string) string { return "*" }} }},
	{"WatchUnescapes", "an escaped pattern reports only its key",
		[]string{"Watch/EscapedPattern"}, func(s fullStore) kv.Store {
			return watchPattern{s, func(p string) string { return strings.ReplaceAll(p, `\`, "") }}
		}},
	{"WatchOutlivesContext", "a watch's channel is closed when its context ends",
		[]string{"Watch/CancelCloses"}, func(s fullStore) kv.Store { return watchOutlivesContext{s} }},
	{"WatchBlocksStore", "a watch never blocks the store",
		[]string{"Watch/SlowConsumer"}, func(s fullStore) kv.Store { return &watchBlocksStore{fullStore: s} }},
	{"SilentOverflow", "a consumer that fell behind is told with an OpResync",
		[]string{"Watch/SlowConsumer"}, func(s fullStore) kv.Store { return silentOverflow{s} }},
	{"CacheLagsEvents", "a read after a watcher's event sees that change",
		[]string{"Watch/ReadSeesEvent", "Watch/ReadAfterLastEvent"}, func(s fullStore) kv.Store { return newCacheLagsEvents(s) }},
	{"HistoryOffByOne", "versions count from 1",
		[]string{"History/AppendVersions", "History/At", "History/Latest"}, func(s fullStore) kv.Store { return historyOffByOne{s} }},
	{"HistoryNewestFirst", "History returns the oldest entry first",
		[]string{"History/OldestFirst"}, func(s fullStore) kv.Store { return historyNewestFirst{s} }},
	{"GetReadsHistory", "Get of a history reports kv.ErrWrongType",
		[]string{"History/GetWrongType"}, func(s fullStore) kv.Store { return getReadsHistory{s} }},
	{"AppendDropsPlain", "Append converts a plain value into version 1",
		[]string{"History/AppendConverts"}, func(s fullStore) kv.Store { return appendDropsPlain{s} }},
	{"PruneTrims", "Prune empties old entries and keeps their versions",
		[]string{"Prune/Basic", "Prune/ThenAppend"}, func(s fullStore) kv.Store { return pruneRewrites{s, trimEntries} }},
	{"PrunesNewest", "Prune never empties the newest entry",
		[]string{"Prune/NeverNewest"}, func(s fullStore) kv.Store { return pruneRewrites{s, emptyNewestToo} }},
	{"PruneWalksPastEmpty", "Prune stops at the first entry already empty",
		[]string{"Prune/StopsAtEmpty"}, func(s fullStore) kv.Store { return pruneRewrites{s, emptyPastEmpty} }},
	{"PruneByRewrite", "Prune is reported as OpSet",
		[]string{"Prune/Events"}, func(s fullStore) kv.Store { return pruneRewrites{s, emptyCorrectly} }},
	{"PruneCountsAll", "Prune reports how many entries it emptied",
		[]string{"Prune/NeverNewest", "Prune/StopsAtEmpty"}, func(s fullStore) kv.Store { return pruneCountsAll{s} }},
	{"PruneConvertsPlain", "Prune of a plain value does nothing",
		[]string{"Prune/MissingAndPlain"}, func(s fullStore) kv.Store { return pruneConvertsPlain{s} }},
	{"PruneAcceptsBadBefore", "Prune with before below 1 returns kv.ErrInvalid",
		[]string{"Prune/Invalid"}, func(s fullStore) kv.Store { return pruneAcceptsBadBefore{s} }},
	{"SetIfAbsentCheckThenSet", "of concurrent SetIfAbsent calls on a missing key exactly one wins",
		[]string{"Conditional/SetIfAbsentRace"}, func(s fullStore) kv.Store { return setIfAbsentCheckThenSet{s} }},
	{"SetIfAbsentReplacesHistory", "a history exists for SetIfAbsent",
		[]string{"Conditional/SetIfAbsent"}, func(s fullStore) kv.Store { return setIfAbsentReplacesHistory{s} }},
	{"SetIfAbsentDropsTTL", "SetIfAbsent with a positive TTL gives the key that expiry",
		[]string{"Conditional/SetIfAbsentTTL"}, func(s fullStore) kv.Store {
			return setIfAbsentTTL{s, func(ttl time.Duration) time.Duration { return min(ttl, 0) }}
		}},
	{"SetIfAbsentAcceptsNegativeTTL", "SetIfAbsent with a negative TTL returns kv.ErrInvalid and writes nothing",
		[]string{"Conditional/SetIfAbsentTTL"}, func(s fullStore) kv.Store {
			return setIfAbsentTTL{s, func(ttl time.Duration) time.Duration { return max(ttl, 0) }}
		}},
	{"SetIfAbsentSeesExpired", "an expired key does not exist for SetIfAbsent",
		[]string{"Conditional/SetIfAbsentExpired"}, func(s fullStore) kv.Store { return &setIfAbsentSeesExpired{fullStore: s} }},
	{"CASReadThenWrite", "the compare and the swap of CompareAndSwap are one step",
		[]string{"Conditional/CASConcurrentIncrements", "Update/Concurrent"}, func(s fullStore) kv.Store { return casReadThenWrite{s} }},
	{"CASDropsTTL", "CompareAndSwap with kv.KeepTTL keeps the expiry",
		[]string{"Conditional/CASExpiry"}, func(s fullStore) kv.Store { return casDropsTTL{s} }},
	{"CASMissingIsEmpty", "CompareAndSwap tells an empty value from a missing key",
		[]string{"Conditional/CompareAndSwap"}, func(s fullStore) kv.Store { return casMissingIsEmpty{s} }},
	{"CASStopsAtNUL", "CompareAndSwap compares values byte for byte",
		[]string{"Conditional/CompareAndSwap"}, func(s fullStore) kv.Store { return casStopsAtNUL{s} }},
	{"CASHistoryFalse", "CompareAndSwap of a history returns kv.ErrWrongType",
		[]string{"Conditional/CompareAndSwap"}, func(s fullStore) kv.Store { return casHistoryFalse{s} }},
	{"CASRewritesOnMismatch", "a CompareAndSwap that did not swap is not reported",
		[]string{"Conditional/Events"}, func(s fullStore) kv.Store { return casRewritesOnMismatch{s} }},
	{"CADIgnoresValue", "CompareAndDelete deletes only a value equal to old",
		[]string{"Conditional/CompareAndDelete"}, func(s fullStore) kv.Store { return cadIgnoresValue{s} }},
	{"IncrMissingFails", "Incr counts a missing key as 0",
		[]string{"Counter/Create"}, func(s fullStore) kv.Store { return incrMissingFails{s} }},
	{"IncrLaxFormat", "Incr accepts only the decimal text Redis writes",
		[]string{"Counter/Format"}, func(s fullStore) kv.Store { return incrLaxFormat{s} }},
	{"IncrLosesUpdates", "Incr is atomic",
		[]string{"Counter/Concurrent"}, func(s fullStore) kv.Store { return incrLosesUpdates{s} }},
	{"IncrWrapsOverflow", "Incr beyond the int64 range returns kv.ErrInvalid and writes nothing",
		[]string{"Counter/Overflow"}, func(s fullStore) kv.Store { return incrWrapsOverflow{s} }},
	{"IncrDropsTTL", "Incr keeps the key's expiry",
		[]string{"Counter/KeepsExpiry"}, func(s fullStore) kv.Store { return incrDropsTTL{s} }},
	{"ExpireMissingTrue", "Expire reports whether the key exists",
		[]string{"ExpiryChange/Expire"}, func(s fullStore) kv.Store { return expireMissingTrue{s} }},
	{"PersistReportsRemoval", "Persist reports whether the key exists, not whether it had an expiry",
		[]string{"ExpiryChange/Persist"}, func(s fullStore) kv.Store { return persistReportsRemoval{s} }},
	{"GetWithTTLStale", "GetWithTTL returns the TTL the key has now",
		[]string{"ExpiryChange/GetWithTTL"}, func(s fullStore) kv.Store { return &getWithTTLStale{fullStore: s} }},
	{"ExpireSkipsHistory", "Expire gives a history an expiry too",
		[]string{"ExpiryChange/Expires", "ExpiryChange/Persist"}, func(s fullStore) kv.Store { return expireSkipsHistory{s} }},
	{"ExpireZeroDeletes", "Expire with a TTL <= 0 returns kv.ErrInvalid and changes nothing",
		[]string{"ExpiryChange/Invalid"}, func(s fullStore) kv.Store { return expireZeroDeletes{s} }},
	{"SetMultiFirstWins", "the last item of a key listed twice in SetMulti wins",
		[]string{"BulkWrite/Duplicates", "BulkWrite/Helpers"}, func(s fullStore) kv.Store { return setMultiFirstWins{s} }},
	{"SetMultiEachItem", "SetMulti writes a key listed twice once, and watchers hear it once",
		[]string{"BulkWrite/Events"}, func(s fullStore) kv.Store { return setMultiEachItem{s} }},
	{"SetMultiPartial", "SetMulti with a negative TTL writes nothing",
		[]string{"BulkWrite/InvalidTTL", "BulkWrite/Helpers"}, func(s fullStore) kv.Store { return setMultiPartial{s} }},
	{"BulkEmptyWriteFails", "SetMulti and DeleteMulti of an empty list are no error",
		[]string{"BulkWrite/Empty"}, func(s fullStore) kv.Store { return bulkEmptyWriteFails{s} }},
	{"BulkWriteLimit", "SetMulti and DeleteMulti of 1,000 keys work in one call",
		[]string{"BulkWrite/ThousandKeys"}, func(s fullStore) kv.Store { return bulkWriteLimit{s} }},
	{"SetMultiSkipsHistory", "SetMulti replaces a history",
		[]string{"BulkWrite/OverwritesHistory"}, func(s fullStore) kv.Store { return setMultiSkipsHistory{s} }},
	{"SetMultiDropsTTL", "SetMulti writes an item with a TTL as SetWithTTL does",
		[]string{"BulkWrite/TTL"}, func(s fullStore) kv.Store { return setMultiDropsTTL{s} }},
	{"DeleteMultiCountsDuplicates", "DeleteMulti counts a key listed twice once",
		[]string{"BulkWrite/DeleteMulti", "BulkWrite/Helpers"}, func(s fullStore) kv.Store { return deleteMultiCountsDuplicates{s} }},
	{"AppendIfAppendsOnConflict", "AppendIf at another version writes nothing",
		[]string{"AppendIf/Conflict"}, func(s fullStore) kv.Store { return appendIfAppendsOnConflict{s} }},
	{"AppendIfPlainConflict", "AppendIf's conflict is a *kv.VersionConflict",
		[]string{"AppendIf/Conflict"}, func(s fullStore) kv.Store { return appendIfPlainConflict{s} }},
	{"AppendIfCheckThenAppend", "of concurrent AppendIf calls at one version exactly one appends",
		[]string{"AppendIf/Race"}, func(s fullStore) kv.Store { return appendIfCheckThenAppend{s} }},
	{"AppendIfConflictRereads", "an AppendIf that conflicts reports the latest version it found, never the one it expected",
		[]string{"AppendIf/ConflictWhileWriting"}, func(s fullStore) kv.Store { return appendIfConflictRereads{s} }},
	{"AppendIfAcceptsNegative", "AppendIf with a negative expect returns kv.ErrInvalid and writes nothing",
		[]string{"AppendIf/Invalid"}, func(s fullStore) kv.Store { return appendIfAcceptsNegative{s} }},
	{"AppendIfPlainIsMissing", "AppendIf counts a plain value as version 1",
		[]string{"AppendIf/ConvertsPlain"}, func(s fullStore) kv.Store { return appendIfPlainIsMissing{s} }},
	{"AtomicIgnoresCancel", "a conditional, counter, expiry-changing or bulk write with a done context returns its error and writes nothing",
		[]string{"Context/Cancelled", "Context/DeadlineExceeded"}, func(s fullStore) kv.Store { return atomicIgnoresCancel{s} }},
	{"MixesUpKeys", "every method may be called from many goroutines at once",
		[]string{"Concurrency/SetGetDelete"}, func(s fullStore) kv.Store { return &mixesUpKeys{fullStore: s} }},
	{"IgnoresCancel", "a call with a done context returns the context's error",
		[]string{"Context/Cancelled", "Context/DeadlineExceeded"}, func(s fullStore) kv.Store { return ignoresCancel{s} }},
	{"WritesDespiteCancel", "a call with a done context writes nothing",
		[]string{"Context/Cancelled", "Context/DeadlineExceeded"}, func(s fullStore) kv.Store { return writesDespiteCancel{s} }},
	{"WorksAfterClose", "after Close every method returns kv.ErrClosed and watches end",
		[]string{"Close/MethodsFail", "Close/EndsWatch"}, func(s fullStore) kv.Store { return worksAfterClose{s} }},
	{"CloseTwiceFails", "Close is idempotent",
		[]string{"Close/Idempotent"}, func(s fullStore) kv.Store { return &closeTwiceFails{fullStore: s} }},
}

// Basic.

type notFoundUnwrapped struct{ fullStore }

func (s notFoundUnwrapped) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := s.fullStore.Get(ctx, key)
	if errors.Is(err, kv.ErrNotFound) {
		err = errors.New("not found")
	}
	return v, err
}

// quotesWholeKey quotes the whole key in Get's errors.
type quotesWholeKey struct{ fullStore }

func (s quotesWholeKey) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := s.fullStore.Get(ctx, key)
	if err != nil {
		err = fmt.Errorf("get %q: %w", key, err)
	}
	return v, err
}

type liesAboutDelete struct{ fullStore }

func (s liesAboutDelete) Delete(ctx context.Context, key string) (bool, error) {
	_, err := s.fullStore.Delete(ctx, key)
	return err == nil, err
}

// sharedSlices keeps the slices given to Set and hands them out from Get.
type sharedSlices struct {
	fullStore
	mu    sync.Mutex
	cache map[string][]byte
}

func (s *sharedSlices) Set(ctx context.Context, key string, value []byte) error {
	err := s.fullStore.Set(ctx, key, value)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache == nil {
		s.cache = make(map[string][]byte)
	}
	if err == nil {
		s.cache[key] = value
	}
	return err
}

func (s *sharedSlices) forget(key string) {
	s.mu.Lock()
	delete(s.cache, key)
	s.mu.Unlock()
}

func (s *sharedSlices) SetWithTTL(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	s.forget(key)
	return s.fullStore.SetWithTTL(ctx, key, value, ttl)
}

func (s *sharedSlices) Append(ctx context.Context, key string, value []byte) (int64, error) {
	s.forget(key)
	return s.fullStore.Append(ctx, key, value)
}

func (s *sharedSlices) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	v, ok := s.cache[key]
	s.mu.Unlock()
	if ok {
		return v, nil
	}
	return s.fullStore.Get(ctx, key)
}

func (s *sharedSlices) Delete(ctx context.Context, key string) (bool, error) {
	s.forget(key)
	return s.fullStore.Delete(ctx, key)
}

// Binary.

type truncatesValuesAtNUL struct{ fullStore }

func (s truncatesValuesAtNUL) Set(ctx context.Context, key string, value []byte) error {
	if i := bytes.IndexByte(value, 0); i >= 0 {
		value = value[:i]
	}
	return s.fullStore.Set(ctx, key, value)
}

type dropsEmptyValues struct{ fullStore }

func (s dropsEmptyValues) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := s.fullStore.Get(ctx, key)
	if err == nil && len(v) == 0 {
		return nil, fmt.Errorf("empty: %w", kv.ErrNotFound)
	}
	return v, err
}

type truncatesKeysAtNUL struct{ fullStore }

func cutNUL(key string) string { k, _, _ := strings.Cut(key, "\x00"); return k }

func (s truncatesKeysAtNUL) Get(ctx context.Context, key string) ([]byte, error) {
	return s.fullStore.Get(ctx, cutNUL(key))
}

func (s truncatesKeysAtNUL) Set(ctx context.Context, key string, value []byte) error {
	return s.fullStore.Set(ctx, cutNUL(key), value)
}

func (s truncatesKeysAtNUL) Delete(ctx context.Context, key string) (bool, error) {
	return s.fullStore.Delete(ctx, cutNUL(key))
}

// Bulk.

type reordersBulk struct{ fullStore }

func (s reordersBulk) GetMulti(ctx context.Context, keys []string) ([]kv.Value, error) {
	vals, err := s.fullStore.GetMulti(ctx, keys)
	slices.Reverse(vals)
	return vals, err
}

type dedupesBulk struct{ fullStore }

func (s dedupesBulk) GetMulti(ctx context.Context, keys []string) ([]kv.Value, error) {
	var uniq []string
	for _, k := range keys {
		if !slices.Contains(uniq, k) {
			uniq = append(uniq, k)
		}
	}
	return s.fullStore.GetMulti(ctx, uniq)
}

type bulkEmptyFails struct{ fullStore }

func (s bulkEmptyFails) GetMulti(ctx context.Context, keys []string) ([]kv.Value, error) {
	if len(keys) == 0 {
		return nil, errors.New("no keys")
	}
	return s.fullStore.GetMulti(ctx, keys)
}

// Scan.

// literalGlob keeps '*' but treats '?', sets and escapes as literal bytes.
type literalGlob struct{ fullStore }

func (s literalGlob) Scan(ctx context.Context, pattern string) iter.Seq2[string, error] {
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		if strings.IndexByte(`?[]\`, pattern[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(pattern[i])
	}
	return s.fullStore.Scan(ctx, b.String())
}

// scanYieldsDeleted also yields the keys deleted through it.
type scanYieldsDeleted struct {
	fullStore
	deleted sync.Map
}

func (s *scanYieldsDeleted) Delete(ctx context.Context, key string) (bool, error) {
	s.deleted.Store(key, true)
	return s.fullStore.Delete(ctx, key)
}

func (s *scanYieldsDeleted) Scan(ctx context.Context, pattern string) iter.Seq2[string, error] {
	return extraKeys(s.fullStore.Scan(ctx, pattern), &s.deleted, pattern)
}

// extraKeys yields the keys of seq, then those of extra that match pattern.
func extraKeys(seq iter.Seq2[string, error], extra *sync.Map, pattern string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for k, err := range seq {
			if !yield(k, err) {
				return
			}
		}
		for k := range extra.Range {
			if kv.Match(pattern, k.(string)) && !yield(k.(string), nil) {
				return
			}
		}
	}
}

type scanIgnoresBreak struct{ fullStore }

func (s scanIgnoresBreak) Scan(ctx context.Context, pattern string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for k, err := range s.fullStore.Scan(ctx, pattern) {
			yield(k, err)
		}
	}
}

// TTL.

type ignoresTTL struct{ fullStore }

func (s ignoresTTL) SetWithTTL(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("ttl %v: %w", ttl, kv.ErrInvalid)
	}
	return s.fullStore.Set(ctx, key, value)
}

// expiredInScan yields keys written with a TTL even after they expire.
type expiredInScan struct {
	fullStore
	withTTL sync.Map
}

func (s *expiredInScan) SetWithTTL(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	err := s.fullStore.SetWithTTL(ctx, key, value, ttl)
	if err == nil {
		s.withTTL.Store(key, true)
	}
	return err
}

func (s *expiredInScan) Scan(ctx context.Context, pattern string) iter.Seq2[string, error] {
	return extraKeys(s.fullStore.Scan(ctx, pattern), &s.withTTL, pattern)
}

type ttlTooLong struct{ fullStore }

func (s ttlTooLong) TTL(ctx context.Context, key string) (time.Duration, error) {
	d, err := s.fullStore.TTL(ctx, key)
	if d > 0 {
		d *= 2
	}
	return d, err
}

type acceptsBadTTL struct{ fullStore }

func (s acceptsBadTTL) SetWithTTL(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return s.fullStore.Set(ctx, key, value)
	}
	return s.fullStore.SetWithTTL(ctx, key, value, ttl)
}

// Watch.

// relay copies in to the returned channel through f, which returns the
// events to pass on for each event read. It closes the channel when in is
// closed, and stops sending once ctx is done.
func relay(ctx context.Context, in <-chan kv.Event, f func(kv.Event) []kv.Event) <-chan kv.Event {
	out := make(chan kv.Event)
	go func() {
		defer close(out)
		for ev := range in {
			for _, e := range f(ev) {
				select {
				case out <- e:
				case <-ctx.Done():
				}
			}
		}
	}()
	return out
}

// filterEvents passes the events of each watch through a filter made for it.
type filterEvents struct {
	fullStore
	newFilter func() func(kv.Event) []kv.Event
}

func (s filterEvents) Watch(ctx context.Context, pattern string) (<-chan kv.Event, error) {
	ch, err := s.fullStore.Watch(ctx, pattern)
	if err != nil {
		return nil, err
	}
	return relay(ctx, ch, s.newFilter()), nil
}

func skipFirst() func() func(kv.Event) []kv.Event {
	return func() func(kv.Event) []kv.Event {
		first := true
		return func(ev kv.Event) []kv.Event {
			if first {
				first = false
				return nil
			}
			return []kv.Event{ev}
		}
	}
}

func everyOther() func() func(kv.Event) []kv.Event {
	return func() func(kv.Event) []kv.Event {
		n := 0
		return func(ev kv.Event) []kv.Event {
			if ev.Op == kv.OpResync {
				return []kv.Event{ev}
			}
			if n++; n%2 == 0 {
				return nil
			}
			return []kv.Event{ev}
		}
	}
}

func dropOp(op kv.Op) func() func(kv.Event) []kv.Event {
	return func() func(kv.Event) []kv.Event {
		return func(ev kv.Event) []kv.Event {
			if ev.Op == op {
				return nil
			}
			return []kv.Event{ev}
		}
	}
}

// watchPattern watches another pattern than the one asked for.
type watchPattern struct {
	fullStore
	rewrite func(string) string
}

func (s watchPattern) Watch(ctx context.Context, pattern string) (<-chan kv.Event, error) {
	return s.fullStore.Watch(ctx, s.rewrite(pattern))
}

type watchOutlivesContext struct{ fullStore }

func (s watchOutlivesContext) Watch(ctx context.Context, pattern string) (<-chan kv.Event, error) {
	return s.fullStore.Watch(context.WithoutCancel(ctx), pattern)
}

// watchBlocksStore runs its own watches of Set, and Set waits until each
// watch has room for the event.
type watchBlocksStore struct {
	fullStore
	mu   sync.Mutex
	subs map[chan kv.Event]blockingSub
}

type blockingSub struct {
	pattern string
	done    <-chan struct{}
}

func (s *watchBlocksStore) Watch(ctx context.Context, pattern string) (<-chan kv.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ch := make(chan kv.Event, 16)
	ch <- kv.Event{Op: kv.OpResync}
	s.mu.Lock()
	if s.subs == nil {
		s.subs = make(map[chan kv.Event]blockingSub)
	}
	s.subs[ch] = blockingSub{pattern, ctx.Done()}
	s.mu.Unlock()
	context.AfterFunc(ctx, func() {
		s.mu.Lock()
		delete(s.subs, ch)
		s.mu.Unlock()
		close(ch)
	})
	return ch, nil
}

func (s *watchBlocksStore) Set(ctx context.Context, key string, value []byte) error {
	if err := s.fullStore.Set(ctx, key, value); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch, sub := range s.subs {
		if !kv.Match(sub.pattern, key) {
			continue
		}
		select {
		case ch <- kv.Event{Op: kv.OpSet, Key: key}:
		case <-sub.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// silentOverflow drops events when its small buffer is full, and never
// sends an OpResync after the first.
type silentOverflow struct{ fullStore }

func (s silentOverflow) Watch(ctx context.Context, pattern string) (<-chan kv.Event, error) {
	in, err := s.fullStore.Watch(ctx, pattern)
	if err != nil {
		return nil, err
	}
	out := make(chan kv.Event, 64)
	go func() {
		defer close(out)
		first := true
		for ev := range in {
			if ev.Op == kv.OpResync && !first {
				continue
			}
			first = false
			select {
			case out <- ev:
			default:
			}
		}
	}()
	return out, nil
}

// cacheLagsEvents serves Get from a cache of its own that a write clears
// only a moment after the store below made it, as a client-side cache does
// whose invalidations come after the change notifications: a write's
// watchers hear of it while Get still serves the value it replaced. The
// moment lasts until the next Get of the key (at most lagMax), and comes
// only for a key that was read during or since its previous write, so that a
// store written without reads runs at full speed. Every write clears the key
// before it returns, so a Get that follows a write in the same goroutine
// sees it. Only keys last written with Set are cached, so expiry is never
// served stale.
type cacheLagsEvents struct {
	fullStore
	mu    sync.Mutex
	cache map[string]lagEntry
	gen   map[string]uint64        // bumped when a write of the key begins
	plain map[string]bool          // the key's last write was Set
	read  map[string]bool          // the key was read since its last write began
	wait  map[string]chan struct{} // closed by the next Get of the key
}

// A lagEntry is a cached value and the key's gen when its read began.
type lagEntry struct {
	val []byte
	gen uint64
}

// lagMax bounds how long a write waits for a Get before it clears the key.
const lagMax = 50 * time.Millisecond

func newCacheLagsEvents(s fullStore) *cacheLagsEvents {
	return &cacheLagsEvents{fullStore: s, cache: map[string]lagEntry{}, gen: map[string]uint64{},
		plain: map[string]bool{}, read: map[string]bool{}, wait: map[string]chan struct{}{}}
}

func (s *cacheLagsEvents) Get(ctx context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	e, hit := s.cache[key]
	g, plain := s.gen[key], s.plain[key]
	s.read[key] = true
	if ch := s.wait[key]; ch != nil {
		close(ch)
		delete(s.wait, key)
	}
	s.mu.Unlock()
	if hit {
		return bytes.Clone(e.val), nil
	}
	v, err := s.fullStore.Get(ctx, key)
	if err == nil && plain {
		s.mu.Lock()
		s.cache[key] = lagEntry{bytes.Clone(v), g}
		s.mu.Unlock()
	}
	return v, err
}

// write runs w, a write of key; then, if the key was read during or since
// its previous write, waits for the next Get of it; then clears what was
// cached before the write began.
func (s *cacheLagsEvents) write(key string, plain bool, w func() error) {
	s.mu.Lock()
	s.gen[key]++
	g := s.gen[key]
	lag := s.read[key]
	s.read[key] = false
	next := make(chan struct{})
	if lag {
		s.wait[key] = next
	}
	s.mu.Unlock()
	err := w()
	if lag {
		select {
		case <-next:
		case <-time.After(lagMax):
		}
	}
	s.mu.Lock()
	if s.wait[key] == next {
		delete(s.wait, key)
	}
	if e, ok := s.cache[key]; ok && e.gen < g {
		delete(s.cache, key)
	}
	s.plain[key] = plain && err == nil
	s.mu.Unlock()
}

func (s *cacheLagsEvents) Set(ctx context.Context, key string, value []byte) (err error) {
	s.write(key, true, func() error { err = s.fullStore.Set(ctx, key, value); return err })
	return err
}

func (s *cacheLagsEvents) SetWithTTL(ctx context.Context, key string, value []byte, ttl time.Duration) (err error) {
	s.write(key, false, func() error { err = s.fullStore.SetWithTTL(ctx, key, value, ttl); return err })
	return err
}

func (s *cacheLagsEvents) Delete(ctx context.Context, key string) (ok bool, err error) {
	s.write(key, false, func() error { ok, err = s.fullStore.Delete(ctx, key); return err })
	return ok, err
}

func (s *cacheLagsEvents) Append(ctx context.Context, key string, value []byte) (v int64, err error) {
	s.write(key, false, func() error { v, err = s.fullStore.Append(ctx, key, value); return err })
	return v, err
}

func (s *cacheLagsEvents) Prune(ctx context.Context, key string, before int64) (n int, err error) {
	s.write(key, false, func() error { n, err = s.fullStore.Prune(ctx, key, before); return err })
	return n, err
}

// History.

// historyOffByOne counts versions from 0.
type historyOffByOne struct{ fullStore }

func (s historyOffByOne) Append(ctx context.Context, key string, value []byte) (int64, error) {
	v, err := s.fullStore.Append(ctx, key, value)
	return v - 1, err
}

func (s historyOffByOne) Latest(ctx context.Context, key string) ([]byte, int64, error) {
	v, n, err := s.fullStore.Latest(ctx, key)
	return v, n - 1, err
}

func (s historyOffByOne) At(ctx context.Context, key string, version int64) ([]byte, error) {
	return s.fullStore.At(ctx, key, version+1)
}

type historyNewestFirst struct{ fullStore }

func (s historyNewestFirst) History(ctx context.Context, key string) ([][]byte, error) {
	h, err := s.fullStore.History(ctx, key)
	slices.Reverse(h)
	return h, err
}

type getReadsHistory struct{ fullStore }

func (s getReadsHistory) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := s.fullStore.Get(ctx, key)
	if errors.Is(err, kv.ErrWrongType) {
		v, _, err = s.fullStore.Latest(ctx, key)
	}
	return v, err
}

type appendDropsPlain struct{ fullStore }

func (s appendDropsPlain) Append(ctx context.Context, key string, value []byte) (int64, error) {
	if _, err := s.fullStore.Get(ctx, key); err == nil {
		if _, err := s.fullStore.Delete(ctx, key); err != nil {
			return 0, err
		}
	}
	return s.fullStore.Append(ctx, key, value)
}

// Prune.

// pruneRewrites prunes by reading the history, changing it with edit, which
// returns the new entries and the count to report, and writing it again
// with Delete and Append. Missing keys and plain values are left alone.
type pruneRewrites struct {
	fullStore
	edit func(h [][]byte, before int64) ([][]byte, int)
}

func (s pruneRewrites) Prune(ctx context.Context, key string, before int64) (int, error) {
	if before < 1 {
		return 0, fmt.Errorf("before %d: %w", before, kv.ErrInvalid)
	}
	if _, err := s.Get(ctx, key); !errors.Is(err, kv.ErrWrongType) {
		if errors.Is(err, kv.ErrNotFound) {
			err = nil
		}
		return 0, err
	}
	h, err := s.History(ctx, key)
	if err != nil {
		return 0, err
	}
	h, n := s.edit(h, before)
	if n == 0 {
		return 0, nil
	}
	if _, err := s.Delete(ctx, key); err != nil {
		return 0, err
	}
	for _, v := range h {
		if _, err := s.Append(ctx, key, v); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// trimEntries removes the entries that Prune empties.
func trimEntries(h [][]byte, before int64) ([][]byte, int) {
	n := pruneEntries(slices.Clone(h), before, false)
	high := int(min(before-1, int64(len(h)-1)))
	return slices.Delete(h, high-n, high), n
}

// emptyNewestToo prunes as if the newest entry were an old one.
func emptyNewestToo(h [][]byte, before int64) ([][]byte, int) {
	return h, pruneEntries(h, before, true)
}

// emptyPastEmpty empties every entry below before but the newest, going on
// past the entries already empty.
func emptyPastEmpty(h [][]byte, before int64) ([][]byte, int) {
	n := 0
	for i := range min(before-1, int64(len(h)-1)) {
		if len(h[i]) > 0 {
			h[i] = []byte{}
			n++
		}
	}
	return h, n
}

// emptyCorrectly empties what Prune empties: pruneRewrites with it is wrong
// only in the events its Delete and Appends make.
func emptyCorrectly(h [][]byte, before int64) ([][]byte, int) {
	return h, pruneEntries(h, before, false)
}

// pruneCountsAll reports every version below before but the newest as
// emptied, whether it emptied it now or not.
type pruneCountsAll struct{ fullStore }

func (s pruneCountsAll) Prune(ctx context.Context, key string, before int64) (int, error) {
	if _, err := s.fullStore.Prune(ctx, key, before); err != nil {
		return 0, err
	}
	_, n, err := s.Latest(ctx, key)
	if err != nil {
		return 0, nil // a missing key
	}
	return int(min(before-1, n-1)), nil
}

// pruneConvertsPlain turns a plain value into a history of one before it
// prunes.
type pruneConvertsPlain struct{ fullStore }

func (s pruneConvertsPlain) Prune(ctx context.Context, key string, before int64) (int, error) {
	if v, err := s.Get(ctx, key); err == nil {
		if _, err := s.Delete(ctx, key); err != nil {
			return 0, err
		}
		if _, err := s.Append(ctx, key, v); err != nil {
			return 0, err
		}
	}
	return s.fullStore.Prune(ctx, key, before)
}

type pruneAcceptsBadBefore struct{ fullStore }

func (s pruneAcceptsBadBefore) Prune(ctx context.Context, key string, before int64) (int, error) {
	if before < 1 {
		return 0, nil
	}
	return s.fullStore.Prune(ctx, key, before)
}

// Concurrency.

// mixesUpKeys passes the key of a Set through a field shared by all
// goroutines (atomically, so -race stays quiet), so that concurrent Sets
// may write each other's keys.
type mixesUpKeys struct {
	fullStore
	pending atomic.Pointer[string]
}

func (s *mixesUpKeys) Set(ctx context.Context, key string, value []byte) error {
	s.pending.Store(&key)
	runtime.Gosched()
	return s.fullStore.Set(ctx, *s.pending.Load(), value)
}

// Context.

// ignoresCancel drops the cancellation and deadline of every context.
type ignoresCancel struct{ fullStore }

func (s ignoresCancel) Get(ctx context.Context, key string) ([]byte, error) {
	return s.fullStore.Get(context.WithoutCancel(ctx), key)
}

func (s ignoresCancel) Set(ctx context.Context, key string, value []byte) error {
	return s.fullStore.Set(context.WithoutCancel(ctx), key, value)
}

func (s ignoresCancel) Delete(ctx context.Context, key string) (bool, error) {
	return s.fullStore.Delete(context.WithoutCancel(ctx), key)
}

func (s ignoresCancel) GetMulti(ctx context.Context, keys []string) ([]kv.Value, error) {
	return s.fullStore.GetMulti(context.WithoutCancel(ctx), keys)
}

func (s ignoresCancel) Scan(ctx context.Context, pattern string) iter.Seq2[string, error] {
	return s.fullStore.Scan(context.WithoutCancel(ctx), pattern)
}

func (s ignoresCancel) SetWithTTL(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	return s.fullStore.SetWithTTL(context.WithoutCancel(ctx), key, value, ttl)
}

func (s ignoresCancel) TTL(ctx context.Context, key string) (time.Duration, error) {
	return s.fullStore.TTL(context.WithoutCancel(ctx), key)
}

func (s ignoresCancel) Append(ctx context.Context, key string, value []byte) (int64, error) {
	return s.fullStore.Append(context.WithoutCancel(ctx), key, value)
}

func (s ignoresCancel) Latest(ctx context.Context, key string) ([]byte, int64, error) {
	return s.fullStore.Latest(context.WithoutCancel(ctx), key)
}

func (s ignoresCancel) At(ctx context.Context, key string, version int64) ([]byte, error) {
	return s.fullStore.At(context.WithoutCancel(ctx), key, version)
}

func (s ignoresCancel) History(ctx context.Context, key string) ([][]byte, error) {
	return s.fullStore.History(context.WithoutCancel(ctx), key)
}

func (s ignoresCancel) Prune(ctx context.Context, key string, before int64) (int, error) {
	return s.fullStore.Prune(context.WithoutCancel(ctx), key, before)
}

// writesDespiteCancel writes, then reports the context's error.
type writesDespiteCancel struct{ fullStore }

func (s writesDespiteCancel) Set(ctx context.Context, key string, value []byte) error {
	if err := s.fullStore.Set(context.WithoutCancel(ctx), key, value); err != nil {
		return err
	}
	return ctx.Err()
}

func (s writesDespiteCancel) Delete(ctx context.Context, key string) (bool, error) {
	ok, err := s.fullStore.Delete(context.WithoutCancel(ctx), key)
	if err != nil {
		return ok, err
	}
	return ok, ctx.Err()
}

// Close.

// worksAfterClose ignores Close; the meta-test closes the store it wraps.
type worksAfterClose struct{ fullStore }

func (worksAfterClose) Close() error { return nil }

type closeTwiceFails struct {
	fullStore
	closed atomic.Bool
}

func (s *closeTwiceFails) Close() error {
	if s.closed.Swap(true) {
		return errors.New("already closed")
	}
	return s.fullStore.Close()
}

// latestMultiPlainMissing reads only histories in LatestMulti: a key that
// holds a plain value is reported missing, as a batch that reads lists only
// (LLEN, LINDEX) would report it.
type latestMultiPlainMissing struct{ fullStore }

func (s latestMultiPlainMissing) LatestMulti(ctx context.Context, keys []string) ([]kv.LatestValue, error) {
	out, err := s.fullStore.LatestMulti(ctx, keys)
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		if _, err := s.Get(ctx, k); err == nil {
			out[i] = kv.LatestValue{}
		}
	}
	return out, nil
}

// flights shares a call with the calls of the same id that start while
// it is still running, which lingers a millisecond after it: a read shared
// so may return a value that a write replaced before the later read
// started. Calls one after another never share.
type flights[T any] struct {
	mu sync.Mutex
	m  map[string]*flight[T]
}

// A flight is the call that flights shares.
type flight[T any] struct {
	done chan struct{}
	v    T
	err  error
}

// do runs call, or waits for the call of id that is running, and returns
// its value, whether it ran call, and its error.
func (fs *flights[T]) do(id string, call func() (T, error)) (v T, ran bool, err error) {
	fs.mu.Lock()
	if f := fs.m[id]; f != nil {
		fs.mu.Unlock()
		<-f.done
		return f.v, false, f.err
	}
	if fs.m == nil {
		fs.m = make(map[string]*flight[T])
	}
	f := &flight[T]{done: make(chan struct{})}
	fs.m[id] = f
	fs.mu.Unlock()
	f.v, f.err = call()
	time.Sleep(time.Millisecond)
	fs.mu.Lock()
	delete(fs.m, id)
	fs.mu.Unlock()
	close(f.done)
	return f.v, true, f.err
}

// sharesStaleGets shares a Get of a key with the Gets of it that start
// while the first is still running (see flights).
type sharesStaleGets struct {
	fullStore
	flights flights[[]byte]
}

func (s *sharesStaleGets) Get(ctx context.Context, key string) ([]byte, error) {
	v, _, err := s.flights.do(key, func() ([]byte, error) { return s.fullStore.Get(ctx, key) })
	return bytes.Clone(v), err
}

// sharesStaleBulkReads shares a GetMulti with the GetMultis of the same
// keys, in any order, that start while the first is still running (see
// flights), each given its values in the order of its keys. With handOver,
// a call that shares gets the values in the order of the first call's
// keys instead.
type sharesStaleBulkReads struct {
	fullStore
	handOver bool
	flights  flights[bulkRead]
}

// A bulkRead is what a GetMulti read: its keys and their values.
type bulkRead struct {
	keys []string
	vals []kv.Value
}

func (s *sharesStaleBulkReads) GetMulti(ctx context.Context, keys []string) ([]kv.Value, error) {
	id := strings.Join(slices.Sorted(slices.Values(keys)), "\x00")
	r, ran, err := s.flights.do(id, func() (bulkRead, error) {
		vals, err := s.fullStore.GetMulti(ctx, keys)
		return bulkRead{keys: slices.Clone(keys), vals: vals}, err
	})
	if err != nil {
		return nil, err
	}
	if !ran && s.handOver {
		keys = r.keys
	}
	vals := make([]kv.Value, len(keys))
	for i, k := range keys {
		v := r.vals[slices.Index(r.keys, k)]
		vals[i] = kv.Value{Data: bytes.Clone(v.Data), Found: v.Found}
	}
	return vals, nil
}

// writesAfterCancel keeps the items of each SetMulti whose context can be
// cancelled, without copying them, and writes them again, as they are then,
// before the next Get or GetMulti once that context was cancelled: a store
// whose commands go out after a call its context cut short returned.
type writesAfterCancel struct {
	fullStore
	mu      sync.Mutex
	pending []cancelledWrite
}

// A cancelledWrite is a SetMulti that writesAfterCancel may write again.
type cancelledWrite struct {
	ctx   context.Context
	items []kv.Item
}

func (s *writesAfterCancel) SetMulti(ctx context.Context, items []kv.Item) error {
	err := s.fullStore.SetMulti(ctx, items)
	if ctx.Done() != nil && ctx.Err() == nil {
		s.mu.Lock()
		s.pending = append(s.pending, cancelledWrite{ctx: ctx, items: items})
		s.mu.Unlock()
	}
	return err
}

// flush writes again the items of the SetMultis whose context was
// cancelled.
func (s *writesAfterCancel) flush() {
	s.mu.Lock()
	var due []cancelledWrite
	s.pending = slices.DeleteFunc(s.pending, func(w cancelledWrite) bool {
		if errors.Is(w.ctx.Err(), context.Canceled) {
			due = append(due, w)
			return true
		}
		return false
	})
	s.mu.Unlock()
	for _, w := range due {
		_ = s.fullStore.SetMulti(context.Background(), w.items)
	}
}

func (s *writesAfterCancel) Get(ctx context.Context, key string) ([]byte, error) {
	s.flush()
	return s.fullStore.Get(ctx, key)
}

func (s *writesAfterCancel) GetMulti(ctx context.Context, keys []string) ([]kv.Value, error) {
	s.flush()
	return s.fullStore.GetMulti(ctx, keys)
}
