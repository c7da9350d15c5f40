package robustness

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cledar/storekit/kv"
)

// A fullStore is a store with every capability of package kv, as every
// backend of storekit has; the differential tests need them all.
type fullStore interface {
	kv.Store
	kv.MultiGetter
	kv.Scanner
	kv.ExpiryChanger
	kv.Watcher
	kv.ConditionalHistorian
	kv.MultiLatest
	kv.Pruner
	kv.Conditional
	kv.Counter
	kv.BulkWriter
}

// asFull returns s as a fullStore, or an error naming what it lacks.
func asFull(s kv.Store) (fullStore, error) {
	f, ok := s.(fullStore)
	if !ok {
		return nil, fmt.Errorf("%T lacks a capability of package kv that the differential tests need", s)
	}
	return f, nil
}

// execStep runs s on store, with keys under prefix, and returns what it
// returned. A Sleep calls sleep.
func execStep(ctx context.Context, st fullStore, prefix string, s step, sleep func(time.Duration)) outcome {
	key := prefix + s.Key
	full := func(keys []string) []string {
		out := make([]string, len(keys))
		for i, k := range keys {
			out[i] = prefix + k
		}
		return out
	}
	switch s.Kind {
	case kSleep:
		sleep(s.TTL)
		return outcome{}
	case kGet:
		v, err := st.Get(ctx, key)
		return outcome{Value: v, Err: errClass(err)}
	case kSet:
		return outcome{Err: errClass(st.Set(ctx, key, s.Value))}
	case kSetWithTTL:
		return outcome{Err: errClass(st.SetWithTTL(ctx, key, s.Value, s.TTL))}
	case kDelete:
		ok, err := st.Delete(ctx, key)
		return outcome{Bool: ok, Err: errClass(err)}
	case kGetMulti:
		vals, err := st.GetMulti(ctx, full(s.Keys))
		return outcome{Values: vals, Err: errClass(err)}
	case kSetMulti:
		items := make([]kv.Item, len(s.Items))
		for i, it := range s.Items {
			items[i] = kv.Item{Key: prefix + it.Key, Value: it.Value, TTL: it.TTL}
		}
		err := st.SetMulti(ctx, items)
		o := outcome{Err: errClass(err)}
		if be := (*kv.BulkError)(nil); errors.As(err, &be) {
			o.Done = be.Done
		}
		return o
	case kDeleteMulti:
		n, err := st.DeleteMulti(ctx, full(s.Keys))
		o := outcome{Int: int64(n), Err: errClass(err)}
		if be := (*kv.BulkError)(nil); errors.As(err, &be) {
			o.Done = be.Done
		}
		return o
	case kScan:
		var keys []string
		for k, err := range st.Scan(ctx, kv.EscapePattern(prefix)+s.Pattern) {
			if err != nil {
				return outcome{Err: errClass(err)}
			}
			suffix, ok := strings.CutPrefix(k, prefix)
			if !ok {
				// A key outside the prefix: keep it whole and marked,
				// so that the comparison shows it.
				suffix = "<outside prefix>" + k
			}
			keys = append(keys, suffix)
		}
		slices.Sort(keys)
		return outcome{Keys: slices.Compact(keys)}
	case kTTL:
		d, err := st.TTL(ctx, key)
		return outcome{TTL: d, Err: errClass(err)}
	case kGetWithTTL:
		v, d, err := st.GetWithTTL(ctx, key)
		return outcome{Value: v, TTL: d, Err: errClass(err)}
	case kExpire:
		ok, err := st.Expire(ctx, key, s.TTL)
		return outcome{Bool: ok, Err: errClass(err)}
	case kPersist:
		ok, err := st.Persist(ctx, key)
		return outcome{Bool: ok, Err: errClass(err)}
	case kSetIfAbsent:
		ok, err := st.SetIfAbsent(ctx, key, s.Value, s.TTL)
		return outcome{Bool: ok, Err: errClass(err)}
	case kCompareAndSwap:
		ok, err := st.CompareAndSwap(ctx, key, s.Old, s.Value, s.TTL)
		return outcome{Bool: ok, Err: errClass(err)}
	case kCompareAndDelete:
		ok, err := st.CompareAndDelete(ctx, key, s.Old)
		return outcome{Bool: ok, Err: errClass(err)}
	case kIncr:
		n, err := st.Incr(ctx, key, s.N)
		return outcome{Int: n, Err: errClass(err)}
	case kAppend:
		n, err := st.Append(ctx, key, s.Value)
		return outcome{Int: n, Err: errClass(err)}
	case kAppendIf:
		n, err := st.AppendIf(ctx, key, s.Value, s.N)
		o := outcome{Int: n, Err: errClass(err)}
		if vc := (*kv.VersionConflict)(nil); errors.As(err, &vc) {
			o.Conflict = vc.Latest
			if vc.Key != key || vc.Expected != s.N {
				o.Err = fmt.Sprintf("other: VersionConflict{Key: %q, Expected: %d}", vc.Key, vc.Expected)
			}
		} else if o.Err == "ErrConflict" {
			o.Err = "other: ErrConflict that is no *kv.VersionConflict"
		}
		return o
	case kHistory:
		h, err := st.History(ctx, key)
		return outcome{History: h, Err: errClass(err)}
	case kAt:
		v, err := st.At(ctx, key, s.N)
		return outcome{Value: v, Err: errClass(err)}
	case kLatest:
		v, n, err := st.Latest(ctx, key)
		return outcome{Value: v, Int: n, Err: errClass(err)}
	case kLatestMulti:
		vals, err := st.LatestMulti(ctx, full(s.Keys))
		o := outcome{Err: errClass(err)}
		for _, v := range vals {
			o.Latests = append(o.Latests, latestResult{Value: v.Value, Version: v.Version, Found: v.Found, Err: errClass(v.Err)})
		}
		return o
	case kPrune:
		n, err := st.Prune(ctx, key, s.N)
		return outcome{Int: int64(n), Err: errClass(err)}
	}
	return outcome{Err: "other: no such step " + s.Kind.String()}
}
