package configstore

import "sort"

// Tracked returns the keys s holds state for, sorted.
func Tracked[T any](s *Store[T]) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.keys))
	for k := range s.keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Idle reports whether s has no re-read queued or running and no call in
// progress.
func Idle[T any](s *Store[T]) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queuedKeys() > 0 {
		return false
	}
	for _, e := range s.keys {
		if e.refs > 0 || e.queued != 0 || e.retry != nil {
			return false
		}
	}
	return true
}

// Hold stops s from handling events (and everything else that needs its
// lock) until the returned function is called.
func Hold[T any](s *Store[T]) (release func()) {
	s.mu.Lock()
	return s.mu.Unlock
}

// Epoch returns how many resyncs s has handled.
func Epoch[T any](s *Store[T]) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.epoch
}
