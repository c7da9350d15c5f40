package redistest

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Defaults and timings of a deployment started by StartSentinel.
const (
	defaultMasterName      = "mymaster"
	defaultSentinels       = 3
	defaultDownAfter       = 2 * time.Second
	defaultFailoverTimeout = 5 * time.Second
	// sentinelReadyTimeout bounds the start of a deployment and every wait
	// for it to settle.
	sentinelReadyTimeout = 30 * time.Second
)

// sentinelTimings are the SENTINEL DEBUG settings of every sentinel
// started here, in milliseconds (see StartSentinel for why).
var sentinelTimings = []string{
	"info-period", "1000",
	"publish-period", "1000",
	"tilt-period", "5000",
}

// SentinelOptions configure a deployment started by [StartSentinel]. The
// zero value is a master with one replica watched by three sentinels.
type SentinelOptions struct {
	// MasterName is the name the sentinels monitor the master under;
	// "mymaster" when empty.
	MasterName string
	// Replicas is the number of replicas; 0 means 1, since a failover
	// needs one.
	Replicas int
	// Sentinels is the number of sentinel processes; 0 means 3.
	Sentinels int
	// Quorum is the number of sentinels that must agree that the master is
	// down; 0 means a majority of Sentinels.
	Quorum int
	// DownAfter is down-after-milliseconds: how long the master may fail to
	// answer before a sentinel considers it down. 0 means 2 seconds.
	DownAfter time.Duration
	// FailoverTimeout is failover-timeout. Besides bounding a failover, it
	// sets how long sentinels wait before they try again when an election
	// failed (twice this), so it is kept short. 0 means 5 seconds.
	FailoverTimeout time.Duration
	// Args are extra redis-server arguments for the master and the
	// replicas, appended after the defaults so that they override them.
	Args []string
}

// A Sentinel is a Redis master with replicas, watched by a group of Redis
// Sentinel processes. Its methods fail the test on an error and must be
// called from the test's goroutine.
//
// Failovers change the roles: the fields name the processes as they were
// started, and [Sentinel.Master] and [Sentinel.Replicas] tell what they are
// now, as the sentinels report it.
type Sentinel struct {
	// Servers are the data servers as started: Servers[0] the first
	// master, the others its replicas.
	Servers []*Server
	// Sentinels are the sentinel processes. One restarted with
	// [Server.Restart] keeps its configuration file but runs with Redis's
	// default internal timings, not those StartSentinel sets.
	Sentinels []*Server

	t               testing.TB
	name            string
	downAfter       time.Duration
	failoverTimeout time.Duration
}

// StartSentinel starts a master and its replicas (redis-server processes
// started as by [Start], the replicas with --replicaof and
// repl-diskless-sync-delay 0 so that they synchronise at once), waits until
// the replicas are in sync, then starts the sentinels: each a
// "redis-server sentinel.conf --sentinel" process (the same program as
// redis-sentinel) with the configuration file, which it rewrites, in a
// directory of its own, monitoring the master under opts.MasterName with
// down-after-milliseconds, failover-timeout and parallel-syncs 1. It
// returns once every sentinel reports the master, knows every replica as
// healthy and knows every other sentinel. Everything stops when t ends, the
// sentinels first. It skips t like Start when redis-server is missing. opts
// may be nil.
//
// Each sentinel's internal timings are shortened with SENTINEL DEBUG, as
// Redis's own sentinel tests do: info-period 1 s (default 10 s), so that a
// sentinel never picks a replica to promote on stale INFO or declares none
// good, and sees a converted old master within a second; publish-period
// 1 s (default 2 s), which halves the time sentinels take to find each
// other and the 4 publish periods they wait before they turn an old master
// into a replica; and tilt-period 5 s (default 30 s), how long a sentinel
// stops acting after its timer ran more than 2 s late, as it does on a
// machine that stalls. Their directories are on tmpfs when there is one
// (see [Start]), since a sentinel fsyncs its configuration on every change
// and a slow fsync alone stalls it into TILT mode.
//
// Timings on a local machine, with the defaults: the deployment is ready in
// one to two seconds; [Sentinel.KillMaster] sees a new master about 1 to 2
// seconds after DownAfter, longer when the sentinels' first election fails
// and they wait two failover timeouts to try again; [Sentinel.Failover]
// takes about a second, and [Sentinel.Settle] after it about 5 more.
func StartSentinel(t testing.TB, opts *SentinelOptions) *Sentinel {
	t.Helper()
	var o SentinelOptions
	if opts != nil {
		o = *opts
	}
	o.MasterName = cmp.Or(o.MasterName, defaultMasterName)
	o.Replicas = max(o.Replicas, 1)
	o.Sentinels = cmp.Or(o.Sentinels, defaultSentinels)
	o.Quorum = cmp.Or(o.Quorum, o.Sentinels/2+1)
	o.DownAfter = cmp.Or(o.DownAfter, defaultDownAfter)
	o.FailoverTimeout = cmp.Or(o.FailoverTimeout, defaultFailoverTimeout)
	if o.Sentinels < 1 || o.Quorum < 1 || o.Quorum > o.Sentinels || strings.ContainsAny(o.MasterName, " \t\r\n\"") {
		t.Fatalf("redistest: StartSentinel(%+v): need at least one sentinel, a quorum between 1 and their number, and a master name without spaces", o)
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		skip(t, "this test starts its own Redis Sentinel, but redis-server is not on PATH: %v", err)
	}
	start := time.Now()
	sn := &Sentinel{t: t, name: o.MasterName, downAfter: o.DownAfter, failoverTimeout: o.FailoverTimeout}

	dataArgs := append([]string{"--repl-diskless-sync-delay", "0"}, o.Args...)
	master := Start(t, &Options{Args: dataArgs})
	sn.Servers = append(sn.Servers, master)
	host, port, _ := net.SplitHostPort(master.Addr())
	for range o.Replicas {
		args := append([]string{"--replicaof", host, port}, dataArgs...)
		sn.Servers = append(sn.Servers, Start(t, &Options{Args: args}))
	}
	// The sentinels learn of the replicas from the master's INFO, asked for
	// when they connect: have them listed by then.
	err = waitUntil(sentinelReadyTimeout, func() error { return sn.replicating(master) })
	if err != nil {
		t.Fatalf("redistest: replicas of %s not in sync within %v: %v", master.Addr(), sentinelReadyTimeout, err)
	}

	for range o.Sentinels {
		s := startProcess(t, bin, "", func(dir string, p int) ([]string, error) {
			conf := filepath.Join(dir, "sentinel.conf")
			text := fmt.Sprintf(`port %d
bind 127.0.0.1
dir %q
daemonize no
sentinel monitor %s %s %s %d
sentinel down-after-milliseconds %[3]s %[7]d
sentinel failover-timeout %[3]s %[8]d
sentinel parallel-syncs %[3]s 1
`, p, dir, o.MasterName, host, port, o.Quorum, o.DownAfter.Milliseconds(), o.FailoverTimeout.Milliseconds())
			return []string{conf, "--sentinel"}, os.WriteFile(conf, []byte(text), 0o600)
		})
		s.MustDo(append([]string{"SENTINEL", "DEBUG"}, sentinelTimings...)...)
		sn.Sentinels = append(sn.Sentinels, s)
	}
	if err := waitUntil(sentinelReadyTimeout, func() error { return sn.settled(master) }); err != nil {
		t.Fatalf("redistest: sentinels %v not ready within %v: %v\n%s", sn.SentinelAddrs(), sentinelReadyTimeout, err, logs(sn.Sentinels))
	}
	t.Logf("redistest: master, %d replicas and %d sentinels ready after %v", o.Replicas, o.Sentinels, time.Since(start).Round(time.Millisecond))
	return sn
}

// SentinelAddrs returns the sentinels' addresses.
func (sn *Sentinel) SentinelAddrs() []string {
	return addrs(sn.Sentinels)
}

// MasterName returns the name the sentinels monitor the master under.
func (sn *Sentinel) MasterName() string { return sn.name }

// Master returns the server that every running sentinel reports as the
// master (SENTINEL GET-MASTER-ADDR-BY-NAME). It waits a while for them to
// agree and fails the test if they do not.
func (sn *Sentinel) Master() *Server {
	sn.t.Helper()
	var m *Server
	err := waitUntil(sentinelReadyTimeout, func() (err error) {
		m, err = sn.master()
		return err
	})
	if err != nil {
		sn.t.Fatalf("redistest: the sentinels do not agree on a master within %v: %v", sentinelReadyTimeout, err)
	}
	return m
}

// Replicas returns the running data servers other than [Sentinel.Master].
// Right after a failover some may still replicate the old master, or be
// it; [Sentinel.Settle] waits until they replicate the new one.
func (sn *Sentinel) Replicas() []*Server {
	sn.t.Helper()
	m := sn.Master()
	var replicas []*Server
	for _, s := range sn.Servers {
		if s != m && s.Running() {
			replicas = append(replicas, s)
		}
	}
	return replicas
}

// Failover has a sentinel fail the master over with SENTINEL FAILOVER, as
// an operator would, and waits until every running sentinel reports
// another master and that server answers ROLE as a master; it returns the
// new master. The old master stays a master until the sentinels turn it
// into a replica of the new one, about 5 seconds later ([Sentinel.Settle]
// waits for that). It fails the test if no failover completes within 45
// seconds (longer for a long DownAfter or FailoverTimeout).
func (sn *Sentinel) Failover() *Server {
	sn.t.Helper()
	old := sn.Master()
	running := sn.running()
	if len(running) == 0 {
		sn.t.Fatalf("redistest: Failover: no sentinel is running")
	}
	// One sentinel only: two forced failovers at once could promote two
	// replicas. It refuses while it has no fresh INFO of a healthy replica
	// (NOGOODSLAVE), and answers INPROG to a retry once it has started.
	s := running[0]
	start := time.Now()
	wait := sn.failoverWait()
	err := waitUntil(wait, func() error {
		if m, err := sn.master(); err == nil && m != old {
			return nil // a retry's first attempt got through after all
		}
		_, err := s.ask("SENTINEL", "FAILOVER", sn.name)
		var re ReplyError
		if err == nil || errors.As(err, &re) && strings.HasPrefix(string(re), "INPROG") {
			return nil
		}
		return fmt.Errorf("sentinel %s: %w", s.Addr(), err)
	})
	if err != nil {
		sn.t.Fatalf("redistest: SENTINEL FAILOVER %s refused for %v: %v\n%s", sn.name, wait, err, logs(sn.Sentinels))
	}
	m := sn.waitNewMaster(old, start, wait)
	sn.t.Logf("redistest: SENTINEL FAILOVER: the sentinels report %s as master after %v",
		m.Addr(), time.Since(start).Round(time.Millisecond))
	return m
}

// KillMaster kills the master with SIGKILL ([Server.Kill]) and waits until
// every running sentinel reports another master and that server answers
// ROLE as a master; it returns the new master. It fails the test if that
// does not happen within 45 seconds (longer for a long DownAfter or
// FailoverTimeout). [Sentinel.Rejoin] brings the killed server back.
func (sn *Sentinel) KillMaster() *Server {
	sn.t.Helper()
	old := sn.Master()
	if len(sn.Replicas()) == 0 {
		sn.t.Fatalf("redistest: KillMaster: master %s has no running replica to take over", old.Addr())
	}
	start := time.Now()
	old.Kill()
	m := sn.waitNewMaster(old, start, sn.failoverWait())
	sn.t.Logf("redistest: master %s killed; the sentinels report %s as master after %v",
		old.Addr(), m.Addr(), time.Since(start).Round(time.Millisecond))
	return m
}

// Rejoin restarts s, a data server stopped or killed earlier, as a replica
// of the current master: it restarts it ([Server.Restart]) with
// --replicaof naming the master added to its arguments, as an operator
// would bring a failed server back, so the sentinels never see it as a
// second master. Then it waits as [Sentinel.Settle] does. Its data is gone
// and comes back from the master.
func (sn *Sentinel) Rejoin(s *Server) {
	sn.t.Helper()
	m := sn.Master()
	if s == m {
		sn.t.Fatalf("redistest: Rejoin(%s): it is the master", s.Addr())
	}
	host, port, _ := net.SplitHostPort(m.Addr())
	s.args = append(withoutArg(s.args, "--replicaof", 2), "--replicaof", host, port)
	s.Restart()
	sn.Settle()
}

// withoutArg returns args without any occurrence of name and the n-1
// values that follow it.
func withoutArg(args []string, name string, n int) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == name {
			i += n - 1
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// Settle waits until the deployment is steady: every running sentinel
// reports the same master, which answers ROLE as master; every other
// running data server replicates it with its link up, and every sentinel
// lists it so, as a healthy replica; and every sentinel knows every other
// running sentinel. After [Sentinel.Failover] that takes about 5 seconds,
// which the sentinels wait before they turn the old master into a replica
// (4 publish periods and an INFO period, see StartSentinel). It fails the
// test if that does not happen within 30 seconds.
func (sn *Sentinel) Settle() {
	sn.t.Helper()
	start := time.Now()
	err := waitUntil(sentinelReadyTimeout, func() error {
		m, err := sn.master()
		if err != nil {
			return err
		}
		return sn.settled(m)
	})
	if err != nil {
		sn.t.Fatalf("redistest: sentinel deployment not settled within %v: %v\n%s", sentinelReadyTimeout, err, logs(sn.Sentinels))
	}
	sn.t.Logf("redistest: sentinel deployment settled after %v", time.Since(start).Round(time.Millisecond))
}

// failoverWait bounds a failover: room for two failed elections, each
// followed by the sentinels' wait of two failover timeouts.
func (sn *Sentinel) failoverWait() time.Duration {
	return max(45*time.Second, sn.downAfter+8*sn.failoverTimeout)
}

// waitNewMaster waits until the sentinels agree on a master other than old
// that answers ROLE as master, and returns it.
func (sn *Sentinel) waitNewMaster(old *Server, start time.Time, wait time.Duration) *Server {
	sn.t.Helper()
	var m *Server
	err := waitUntil(wait-time.Since(start), func() error {
		var err error
		m, err = sn.master()
		if err != nil {
			return err
		}
		if m == old {
			return fmt.Errorf("the sentinels still report %s as master", old.Addr())
		}
		if r, err := role(m); err != nil || r != "master" {
			return fmt.Errorf("the sentinels report %s as master, but its ROLE is %q (%v)", m.Addr(), r, err)
		}
		return nil
	})
	if err != nil {
		sn.t.Fatalf("redistest: no new master for %s within %v of the failover's start: %v\n%s", sn.name, wait, err, logs(sn.Sentinels))
	}
	return m
}

// running returns the running sentinels.
func (sn *Sentinel) running() []*Server {
	var rs []*Server
	for _, s := range sn.Sentinels {
		if s.Running() {
			rs = append(rs, s)
		}
	}
	return rs
}

// master returns the server every running sentinel reports as the master.
func (sn *Sentinel) master() (*Server, error) {
	addr := ""
	for _, s := range sn.running() {
		v, err := s.ask("SENTINEL", "GET-MASTER-ADDR-BY-NAME", sn.name)
		arr, _ := v.([]any)
		if err != nil || len(arr) != 2 {
			return nil, fmt.Errorf("sentinel %s: GET-MASTER-ADDR-BY-NAME %s: %v %v", s.Addr(), sn.name, v, err)
		}
		a := net.JoinHostPort(fmt.Sprint(arr[0]), fmt.Sprint(arr[1]))
		if addr != "" && a != addr {
			return nil, fmt.Errorf("the sentinels disagree on the master: %s or %s", addr, a)
		}
		addr = a
	}
	if addr == "" {
		return nil, errors.New("no sentinel is running")
	}
	for _, s := range sn.Servers {
		if s.Addr() == addr {
			return s, nil
		}
	}
	return nil, fmt.Errorf("the sentinels report %s as master, which is none of %v", addr, addrs(sn.Servers))
}

// replicating reports why the running data servers other than m do not all
// replicate m with their link up, or nil.
func (sn *Sentinel) replicating(m *Server) error {
	if r, err := role(m); err != nil || r != "master" {
		return fmt.Errorf("%s: ROLE %q, want master (%v)", m.Addr(), r, err)
	}
	_, port, _ := net.SplitHostPort(m.Addr())
	for _, s := range sn.Servers {
		if s == m || !s.Running() {
			continue
		}
		v, err := s.ask("INFO", "replication")
		info, _ := v.(string)
		if err != nil || infoField(info, "role") != "slave" || infoField(info, "master_port") != port ||
			infoField(info, "master_link_status") != "up" {
			return fmt.Errorf("%s does not replicate %s with its link up: %v %q", s.Addr(), m.Addr(), err, info)
		}
	}
	return nil
}

// settled reports why the deployment with master m is not steady (see
// Settle), or nil.
func (sn *Sentinel) settled(m *Server) error {
	if err := sn.replicating(m); err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(m.Addr())
	running := sn.running()
	for _, s := range running {
		v, err := s.ask("SENTINEL", "MASTER", sn.name)
		if err != nil {
			return fmt.Errorf("sentinel %s: SENTINEL MASTER: %w", s.Addr(), err)
		}
		if f := fields(v); f["port"] != port || f["flags"] != "master" {
			return fmt.Errorf("sentinel %s: SENTINEL MASTER %s: port %s flags %q, want %s and master", s.Addr(), sn.name, f["port"], f["flags"], port)
		}
		known, err := sn.listed(s, "REPLICAS")
		if err != nil {
			return err
		}
		for _, r := range sn.Servers {
			if r == m || !r.Running() {
				continue
			}
			if f := known[r.Addr()]; !healthy(f, "slave") || f["role-reported"] != "slave" ||
				f["master-link-status"] != "ok" || f["master-port"] != port {
				return fmt.Errorf("sentinel %s: SENTINEL REPLICAS lists %s as %v, want a healthy replica of %s", s.Addr(), r.Addr(), f, m.Addr())
			}
		}
		known, err = sn.listed(s, "SENTINELS")
		if err != nil {
			return err
		}
		for _, o := range running {
			if f := known[o.Addr()]; o != s && !healthy(f, "sentinel") {
				return fmt.Errorf("sentinel %s: SENTINEL SENTINELS lists %s as %v, want a healthy sentinel", s.Addr(), o.Addr(), f)
			}
		}
	}
	return nil
}

// listed asks sentinel s for SENTINEL what (REPLICAS or SENTINELS) of the
// master and returns the instances' fields by address.
func (sn *Sentinel) listed(s *Server, what string) (map[string]map[string]string, error) {
	v, err := s.ask("SENTINEL", what, sn.name)
	if err != nil {
		return nil, fmt.Errorf("sentinel %s: SENTINEL %s: %w", s.Addr(), what, err)
	}
	arr, _ := v.([]any)
	out := make(map[string]map[string]string)
	for _, e := range arr {
		f := fields(e)
		out[net.JoinHostPort(f["ip"], f["port"])] = f
	}
	return out, nil
}

// healthy reports whether the flags of an instance a sentinel lists say it
// is of kind ("slave" or "sentinel") and neither down nor disconnected.
// Others, such as master_down (a sentinel's recent vote that the old master
// was down), do not matter.
func healthy(f map[string]string, kind string) bool {
	flags := strings.Split(f["flags"], ",")
	return slices.Contains(flags, kind) && !slices.ContainsFunc(flags, func(flag string) bool {
		return flag == "s_down" || flag == "o_down" || flag == "disconnected"
	})
}

// fields turns a flat array of names and values into a map.
func fields(v any) map[string]string {
	arr, _ := v.([]any)
	f := make(map[string]string)
	for i := 0; i+1 < len(arr); i += 2 {
		f[fmt.Sprint(arr[i])] = fmt.Sprint(arr[i+1])
	}
	return f
}

// addrs returns the servers' addresses.
func addrs(servers []*Server) []string {
	out := make([]string, len(servers))
	for i, s := range servers {
		out[i] = s.Addr()
	}
	return out
}
