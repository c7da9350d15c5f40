package postgres

import (
	"context"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cledar/storekit/kv"
)

// A listener is a store's one connection that LISTENs on the table's
// channel, shared by all of the store's watches. It reads each
// notification once and queues its events on every watch whose pattern
// matches the key. It starts with the first watch and stops when the last
// one ends or the store closes. When its connection fails it connects
// again, and every watch gets an OpResync for the events it may have
// missed meanwhile.
type listener struct {
	s      *Store
	cancel context.CancelFunc // stops run
	// handoff holds a listening connection that a Watch made while the
	// listener had none, for run to take instead of making its own.
	handoff chan *pgx.Conn

	mu        sync.Mutex
	watches   map[*watch]struct{}
	connected bool // run holds a listening connection
}

// startListener starts the store's listener on conn, a connection that
// listens already. The caller holds s.watchMu.
func (s *Store) startListener(conn *pgx.Conn) *listener {
	ctx, cancel := context.WithCancel(s.life)
	l := &listener{
		s:         s,
		cancel:    cancel,
		handoff:   make(chan *pgx.Conn, 1),
		watches:   make(map[*watch]struct{}),
		connected: true,
	}
	s.lis = l
	s.watchers.Add(1)
	go func() {
		defer s.watchers.Done()
		l.run(ctx, conn)
	}()
	return l
}

// listen opens a connection of its own, with the pool's settings, that
// listens on the store's channel.
func (s *Store) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, wrap("watch", "", err)
	}
	if _, err := conn.Exec(ctx, `LISTEN `+s.q.channel); err != nil {
		closeConn(conn)
		return nil, wrap("watch", "", err)
	}
	return conn, nil
}

// closeConn closes conn, waiting a few seconds at most.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn.Close(ctx)
}

// run reads notifications from conn until ctx ends, connecting again
// whenever the connection fails.
func (l *listener) run(ctx context.Context, conn *pgx.Conn) {
	defer func() {
		if conn != nil {
			closeConn(conn)
		}
		select {
		case extra := <-l.handoff:
			closeConn(extra)
		default:
		}
	}()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err == nil {
			l.notified(n.Payload)
			continue
		}
		l.mu.Lock()
		l.connected = false
		l.mu.Unlock()
		closeConn(conn)
		if conn = l.reconnect(ctx); conn == nil {
			return
		}
		l.s.counters.Watch.Resubscribe()
		l.reconnected()
	}
}

// reconnect returns a new listening connection, its own or one a Watch
// handed over, trying again with a growing pause; nil once ctx ends.
func (l *listener) reconnect(ctx context.Context) *pgx.Conn {
	backoff := 50 * time.Millisecond
	for {
		if ctx.Err() != nil {
			return nil
		}
		select {
		case conn := <-l.handoff:
			return conn
		default:
		}
		if conn, err := l.s.listen(ctx); err == nil {
			return conn
		}
		select {
		case <-ctx.Done():
			return nil
		case conn := <-l.handoff:
			return conn
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// reconnected marks the listener connected again and queues an OpResync on
// every watch. A connection that a Watch handed over meanwhile is closed:
// the listener has one.
func (l *listener) reconnected() {
	l.mu.Lock()
	l.connected = true
	var extra *pgx.Conn
	select {
	case extra = <-l.handoff:
	default:
	}
	for w := range l.watches {
		w.q.push(kv.Event{Op: kv.OpResync})
	}
	l.mu.Unlock()
	if extra != nil {
		closeConn(extra)
	}
}

// hand offers conn, a listening connection a Watch made because the
// listener had none, to run. It returns conn when the listener does not
// need it (it has a connection, or was handed one already), for the caller
// to close.
func (l *listener) hand(conn *pgx.Conn) *pgx.Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.connected {
		return conn
	}
	select {
	case l.handoff <- conn:
		return nil
	default:
		return conn
	}
}

// isConnected reports whether the listener holds a listening connection.
func (l *listener) isConnected() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.connected
}

// add makes w receive the listener's events.
func (l *listener) add(w *watch) {
	l.mu.Lock()
	l.watches[w] = struct{}{}
	l.mu.Unlock()
}

// remove stops w receiving the listener's events and reports whether no
// watch is left.
func (l *listener) remove(w *watch) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.watches, w)
	return len(l.watches) == 0
}

// notified queues the events of payload, as the trigger writes it, on the
// watches whose pattern matches its key: the kinds of event, one letter
// each, a colon, and the key in hex ("r:" alone for a resync, which every
// watch gets).
func (l *listener) notified(payload string) {
	ops, hexKey, _ := strings.Cut(payload, ":")
	key, err := hex.DecodeString(hexKey)
	// A payload that is not the trigger's: every watch re-reads, to be safe.
	resync := ops == "r" || err != nil
	l.mu.Lock()
	defer l.mu.Unlock()
	for w := range l.watches {
		switch {
		case resync:
			w.q.push(kv.Event{Op: kv.OpResync})
		case kv.Match(w.pattern, string(key)):
			for _, c := range ops {
				w.q.push(kv.Event{Op: opOf[c], Key: string(key)})
			}
		}
	}
}

// opOf maps the trigger's letters to kinds of event.
var opOf = map[rune]kv.Op{
	's': kv.OpSet, 'd': kv.OpDelete, 'e': kv.OpExpire, 'x': kv.OpExpired,
	'a': kv.OpAppend, 'o': kv.OpOther, 'r': kv.OpResync,
}
