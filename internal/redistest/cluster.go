package redistest

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// Timings of a cluster.
const (
	// defaultNodeTimeout is cluster-node-timeout when ClusterOptions leave
	// it unset.
	defaultNodeTimeout = 5 * time.Second
	// clusterReadyTimeout bounds the forming of a cluster and every wait for
	// it to be healthy again after a restart.
	clusterReadyTimeout = 30 * time.Second
)

// ClusterOptions configure a cluster started by [StartClusterWith].
type ClusterOptions struct {
	// Masters is the number of masters, at least 1. The slots are split
	// evenly between them in order: Cluster.Servers[i] starts out serving
	// the i-th share. An automatic failover needs a majority of the masters
	// alive, so tests that kill a master want at least 3.
	Masters int
	// Replicas is the number of replicas of each master.
	Replicas int
	// NodeTimeout is cluster-node-timeout: how long a node may fail to
	// answer before the others flag it as failing. A master killed with
	// [Cluster.KillMaster] is replaced by one of its replicas some time
	// after that: about NodeTimeout plus one to three seconds on a local
	// machine. Zero means 5 seconds.
	NodeTimeout time.Duration
	// Args are extra redis-server arguments for every node, appended after
	// the defaults so that they override them.
	Args []string
}

// A Cluster is a local Redis Cluster of masters and, when asked for, their
// replicas. Its methods fail the test on an error and must be called from
// the test's goroutine.
//
// Failovers change the roles: a killed master's replica takes over its
// slots, and the old master comes back from [Cluster.Rejoin] as that
// replica's replica. The fields name the processes as they were started;
// [Cluster.Nodes], [Cluster.Masters], [Cluster.MasterOf] and
// [Cluster.ReplicasOf] tell what they are now.
type Cluster struct {
	// Servers are the masters as started; Servers[i] started out serving
	// the i-th of len(Servers) equal shares of the slots.
	Servers []*Server
	// Replicas are the replicas as started: Replicas[i*r+j] is the j-th
	// replica of Servers[i], with r replicas per master.
	Replicas []*Server

	t           testing.TB
	nodeTimeout time.Duration
	ids         map[*Server]string // node IDs, kept across restarts by nodes.conf
}

// Addrs returns the addresses of the masters as started. They serve as a
// client's seed addresses, even after a failover.
func (c *Cluster) Addrs() []string {
	return addrs(c.Servers)
}

// All returns every node as started: the masters, then the replicas.
func (c *Cluster) All() []*Server {
	return append(slices.Clone(c.Servers), c.Replicas...)
}

// StartCluster starts a Redis Cluster of masters redis-server processes
// (started as by [Start], with keyspace notifications on), splits the slots
// evenly between them, joins them and waits until every node reports the
// cluster healthy. It skips t like Start when redis-server is missing. It
// is [StartClusterWith] with no replicas and the default node timeout.
func StartCluster(t testing.TB, masters int) *Cluster {
	t.Helper()
	return StartClusterWith(t, &ClusterOptions{Masters: masters})
}

// StartClusterWith starts a Redis Cluster as opts describe: each node a
// redis-server process started as by [Start], in a directory of its own
// that keeps its nodes.conf across [Server.Restart]. The masters split the
// slots evenly, every node joins, each replica replicates its master, and
// StartClusterWith returns once every node reports cluster_state:ok, knows
// every other node, lists every master and replica in CLUSTER SLOTS, and
// every replica's link to its master is up (synchronised). It skips t like
// Start when redis-server is missing.
//
// Besides the node timeout, the nodes run with
// cluster-replica-validity-factor 0, so that a replica always counts as
// recent enough to take over however long its link was down,
// cluster-allow-replica-migration no, so that replicas stay with the
// master they were given, repl-diskless-sync-delay 0, so that a replica
// synchronises at once instead of after the default 5 seconds, and
// repl-ping-replica-period 1, so that a replica of a master without writes
// soon has a nonzero replication offset: CLUSTER SLOTS leaves out replicas
// whose offset is still 0, which would otherwise last up to 10 seconds.
//
// Timings on a local machine: a cluster forms in 2 to 4 seconds (a master
// reports cluster_state:ok no sooner than 2 seconds after it starts); a
// killed master is replaced about 1 to 3 seconds after its node timeout; a
// graceful [Cluster.Failover] takes about a second.
func StartClusterWith(t testing.TB, opts *ClusterOptions) *Cluster {
	t.Helper()
	if opts == nil || opts.Masters < 1 || opts.Replicas < 0 {
		t.Fatalf("redistest: StartClusterWith(%+v): need at least one master and no negative replica count", opts)
	}
	nodeTimeout := opts.NodeTimeout
	if nodeTimeout <= 0 {
		nodeTimeout = defaultNodeTimeout
	}
	args := append([]string{
		"--cluster-enabled", "yes",
		"--cluster-config-file", "nodes.conf",
		"--cluster-node-timeout", strconv.FormatInt(nodeTimeout.Milliseconds(), 10),
		"--cluster-replica-validity-factor", "0",
		"--cluster-allow-replica-migration", "no",
		"--repl-diskless-sync-delay", "0",
		"--repl-ping-replica-period", "1",
	}, opts.Args...)
	start := time.Now()
	c := &Cluster{t: t, nodeTimeout: nodeTimeout, ids: make(map[*Server]string)}
	for range opts.Masters {
		c.Servers = append(c.Servers, Start(t, &Options{Args: args, clusterPort: true}))
	}
	for range opts.Masters * opts.Replicas {
		c.Replicas = append(c.Replicas, Start(t, &Options{Args: args, clusterPort: true}))
	}
	for _, s := range c.All() {
		id, _ := s.MustDo("CLUSTER", "MYID").(string)
		c.ids[s] = id
	}
	for i, s := range c.Servers {
		// Distinct epochs, as redis-cli --cluster create sets them, spare
		// the nodes resolving a collision.
		s.MustDo("CLUSTER", "SET-CONFIG-EPOCH", strconv.Itoa(i+1))
		lo, hi := i*clusterSlots/opts.Masters, (i+1)*clusterSlots/opts.Masters
		s.MustDo("CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(lo), strconv.Itoa(hi-1))
	}
	for _, s := range c.All()[1:] {
		host, port, err := net.SplitHostPort(s.Addr())
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		// The bus port is not the default port+10000 (see Options), so
		// MEET names it.
		bus, _ := s.MustDo("CONFIG", "GET", "cluster-port").([]any)
		if len(bus) != 2 {
			t.Fatalf("redistest: CONFIG GET cluster-port on %s: %v", s.Addr(), bus)
		}
		c.Servers[0].MustDo("CLUSTER", "MEET", host, port, fmt.Sprint(bus[1]))
	}
	for i, r := range c.Replicas {
		// A replica can follow its master once gossip has told it of the
		// master; until then CLUSTER REPLICATE answers "Unknown node".
		master := c.Servers[i/opts.Replicas]
		err := waitUntil(clusterReadyTimeout, func() error {
			_, err := r.ask("CLUSTER", "REPLICATE", c.ids[master])
			return err
		})
		if err != nil {
			t.Fatalf("redistest: CLUSTER REPLICATE %s (%s) on %s: %v", c.ids[master], master.Addr(), r.Addr(), err)
		}
	}
	err := waitUntil(clusterReadyTimeout, func() error {
		if err := c.healthy(); err != nil {
			return err
		}
		return c.complete(opts.Replicas)
	})
	if err != nil {
		t.Fatalf("redistest: cluster on %v not ready within %v: %v\n%s", c.Addrs(), clusterReadyTimeout, err, logs(c.All()))
	}
	t.Logf("redistest: cluster of %d masters and %d replicas ready after %v", len(c.Servers), len(c.Replicas), time.Since(start).Round(time.Millisecond))
	return c
}

// complete reports why the cluster is not yet whole: every node knows every
// other, and every slot range of CLUSTER SLOTS lists its master and all of
// its replicas.
func (c *Cluster) complete(replicas int) error {
	want := fmt.Sprintf("cluster_known_nodes:%d\r", len(c.ids))
	for _, s := range c.All() {
		info, err := s.ask("CLUSTER", "INFO")
		if text, _ := info.(string); err != nil || !strings.Contains(text, want) {
			return fmt.Errorf("%s: CLUSTER INFO lacks %q: %v %q", s.Addr(), strings.TrimSpace(want), err, text)
		}
		ranges, err := slotsOf(s)
		if err != nil {
			return err
		}
		for _, r := range ranges {
			if len(r.addrs) != 1+replicas {
				return fmt.Errorf("%s: CLUSTER SLOTS range %d-%d lists %v, want a master and %d replicas", s.Addr(), r.lo, r.hi, r.addrs, replicas)
			}
		}
	}
	return nil
}

// A ClusterNode is a node of a [Cluster] as the cluster sees it.
type ClusterNode struct {
	// Server is the node's process.
	Server *Server
	// ID is the node ID, which survives restarts.
	ID string
	// Master is true for a master, false for a replica.
	Master bool
	// MasterID is a replica's master's node ID.
	MasterID string
	// Failed is true when the node was flagged as failing (fail or fail?).
	Failed bool
	// Slots is the number of slots the node serves.
	Slots int
}

// Nodes returns every node with its role as a running node sees it in
// CLUSTER NODES, in the order of [Cluster.All]. Nodes may disagree for a
// moment while a failover spreads; [Cluster.KillMaster],
// [Cluster.Failover] and [Cluster.Rejoin] return once they agree.
func (c *Cluster) Nodes() []ClusterNode {
	c.t.Helper()
	var errs []error
	for _, s := range c.All() {
		if !s.Running() {
			continue
		}
		nodes, err := c.nodesFrom(s)
		if err == nil {
			return nodes
		}
		errs = append(errs, err)
	}
	c.t.Fatalf("redistest: no cluster node answers CLUSTER NODES: %v", errors.Join(errs...))
	return nil
}

// Masters returns the masters that serve slots now, by their first slot.
func (c *Cluster) Masters() []*Server {
	c.t.Helper()
	var masters []*Server
	for _, r := range c.slotRanges() {
		if m := c.server(r.addrs[0]); !slices.Contains(masters, m) {
			masters = append(masters, m)
		}
	}
	return masters
}

// ReplicasOf returns the nodes that replicate master now, as the cluster
// sees it, failed ones included.
func (c *Cluster) ReplicasOf(master *Server) []*Server {
	c.t.Helper()
	var replicas []*Server
	for _, n := range c.Nodes() {
		if !n.Master && n.MasterID == c.ids[master] {
			replicas = append(replicas, n.Server)
		}
	}
	return replicas
}

// MasterOf returns the master that serves key now, as CLUSTER SLOTS on a
// running node tells.
func (c *Cluster) MasterOf(key string) *Server {
	c.t.Helper()
	for _, s := range c.All() {
		if !s.Running() {
			continue
		}
		v, err := s.ask("CLUSTER", "KEYSLOT", key)
		if slot, ok := v.(int64); err == nil && ok {
			return c.MasterOfSlot(int(slot))
		}
	}
	c.t.Fatalf("redistest: no cluster node answers CLUSTER KEYSLOT %q", key)
	return nil
}

// MasterOfSlot returns the master that serves slot now, as CLUSTER SLOTS
// on a running node tells.
func (c *Cluster) MasterOfSlot(slot int) *Server {
	c.t.Helper()
	for _, r := range c.slotRanges() {
		if r.lo <= slot && slot <= r.hi {
			return c.server(r.addrs[0])
		}
	}
	c.t.Fatalf("redistest: no master serves slot %d", slot)
	return nil
}

// KillMaster kills master with SIGKILL ([Server.Kill]) and waits until one
// of its replicas has taken over its slots and every running node reports
// cluster_state:ok and agrees on the roles, then returns the promoted
// replica. It fails the test if master is not a master with a running
// replica, if too few masters would remain to elect a replacement, or if
// the failover does not complete within 30 seconds or ten node timeouts,
// whichever is longer.
func (c *Cluster) KillMaster(master *Server) *Server {
	c.t.Helper()
	var replicas []*Server
	masters := 0
	for _, n := range c.Nodes() {
		switch {
		case n.Server == master && (!n.Master || n.Slots == 0):
			c.t.Fatalf("redistest: KillMaster(%s): it is not a master serving slots", master.Addr())
		case n.Master && n.Slots > 0 && !n.Failed:
			masters++
		case !n.Master && n.MasterID == c.ids[master] && n.Server.Running():
			replicas = append(replicas, n.Server)
		}
	}
	if len(replicas) == 0 {
		c.t.Fatalf("redistest: KillMaster(%s): it has no running replica to take over", master.Addr())
	}
	if masters-1 <= len(c.Servers)/2 {
		c.t.Fatalf("redistest: KillMaster(%s): %d of %d masters would remain, too few to elect a replacement", master.Addr(), masters-1, len(c.Servers))
	}
	start := time.Now()
	master.Kill()
	var promoted *Server
	wait := c.failoverWait()
	err := waitUntil(wait, func() error {
		promoted = nil
		for _, r := range replicas {
			if got, _ := role(r); got == "master" {
				promoted = r
			}
		}
		if promoted == nil {
			return fmt.Errorf("no replica of %s reports ROLE master", master.Addr())
		}
		return c.healthy()
	})
	if err != nil {
		c.t.Fatalf("redistest: master %s killed, no replica took over within %v: %v\n%s", master.Addr(), wait, err, logs(c.All()))
	}
	c.t.Logf("redistest: master %s killed; replica %s took over and the cluster is ok after %v",
		master.Addr(), promoted.Addr(), time.Since(start).Round(time.Millisecond))
	return promoted
}

// Failover asks replica to take over from its master with CLUSTER
// FAILOVER, the graceful manual failover in which the master stops
// writes until replica has caught up, and waits until replica is a master,
// its old master (if running) its replica, and every running node reports
// cluster_state:ok and agrees on the roles. It fails the test if replica is
// not a replica or the failover does not complete within the bound of
// [Cluster.KillMaster].
func (c *Cluster) Failover(replica *Server) {
	c.t.Helper()
	if r, _ := role(replica); r != "slave" {
		c.t.Fatalf("redistest: Failover(%s): ROLE is %q, want a replica", replica.Addr(), r)
	}
	start := time.Now()
	sent := time.Time{}
	wait := c.failoverWait()
	err := waitUntil(wait, func() error {
		r, err := role(replica)
		if err != nil {
			return err
		}
		if r != "master" {
			// A manual failover that the master does not complete in time
			// is abandoned; ask again then.
			if time.Since(sent) > 10*time.Second {
				if _, err := replica.ask("CLUSTER", "FAILOVER"); err != nil {
					return fmt.Errorf("CLUSTER FAILOVER: %w", err)
				}
				sent = time.Now()
			}
			return fmt.Errorf("%s still reports ROLE %s", replica.Addr(), r)
		}
		return c.healthy()
	})
	if err != nil {
		c.t.Fatalf("redistest: CLUSTER FAILOVER of %s not complete within %v: %v\n%s", replica.Addr(), wait, err, logs(c.All()))
	}
	c.t.Logf("redistest: CLUSTER FAILOVER: %s took over and the cluster is ok after %v",
		replica.Addr(), time.Since(start).Round(time.Millisecond))
}

// Rejoin restarts s, a node stopped or killed earlier ([Server.Restart]),
// and waits until the cluster is healthy with it: a master that lost its
// slots to a failover comes back as the replica of the node that took them
// over. Its data is gone; its node ID and view of the cluster come back
// from nodes.conf.
func (c *Cluster) Rejoin(s *Server) {
	c.t.Helper()
	s.Restart()
	if err := c.WaitHealthy(clusterReadyTimeout); err != nil {
		c.t.Fatalf("redistest: cluster not healthy within %v of restarting %s: %v\n%s", clusterReadyTimeout, s.Addr(), err, logs(c.All()))
	}
}

// WaitHealthy waits up to timeout until every running node reports
// cluster_state:ok, flags no running node as failing, sees every slot
// served by a running master and every running replica in CLUSTER SLOTS,
// and every running replica's link to its master is up. It returns why the
// cluster is not healthy when timeout passes. It does not use the test, so
// any goroutine may call it.
func (c *Cluster) WaitHealthy(timeout time.Duration) error {
	return waitUntil(timeout, c.healthy)
}

// failoverWait bounds a failover.
func (c *Cluster) failoverWait() time.Duration {
	return max(30*time.Second, 10*c.nodeTimeout)
}

// healthy reports why the cluster is not healthy (see WaitHealthy), or nil.
func (c *Cluster) healthy() error {
	var running []*Server
	for _, s := range c.All() {
		if s.Running() {
			running = append(running, s)
		}
	}
	for _, s := range running {
		info, err := s.ask("CLUSTER", "INFO")
		if text, _ := info.(string); err != nil || !strings.Contains(text, "cluster_state:ok\r") {
			return fmt.Errorf("%s: CLUSTER INFO is not ok: %v %q", s.Addr(), err, text)
		}
		nodes, err := c.nodesFrom(s)
		if err != nil {
			return err
		}
		byID := make(map[string]ClusterNode)
		slots := 0
		for _, n := range nodes {
			byID[n.ID] = n
			if n.Master && n.Slots > 0 {
				if !n.Server.Running() {
					return fmt.Errorf("%s: CLUSTER NODES has stopped %s serving %d slots", s.Addr(), n.Server.Addr(), n.Slots)
				}
				slots += n.Slots
			}
		}
		if slots != clusterSlots {
			return fmt.Errorf("%s: CLUSTER NODES has %d slots served, want %d", s.Addr(), slots, clusterSlots)
		}
		for _, r := range running {
			n, ok := byID[c.ids[r]]
			if !ok || n.Failed {
				return fmt.Errorf("%s: CLUSTER NODES does not know running %s as a healthy node: %+v", s.Addr(), r.Addr(), n)
			}
			if !n.Master && !byID[n.MasterID].Master {
				return fmt.Errorf("%s: CLUSTER NODES has %s replicate %s, which is no master", s.Addr(), r.Addr(), n.MasterID)
			}
		}
		if me := byID[c.ids[s]]; !me.Master {
			info, err := s.ask("INFO", "replication")
			text, _ := info.(string)
			if err != nil || infoField(text, "master_link_status") != "up" {
				return fmt.Errorf("%s: replica's link to its master is not up: %v %q", s.Addr(), err, text)
			}
		}
		ranges, err := slotsOf(s)
		if err != nil {
			return err
		}
		listed := make(map[string]bool)
		for _, r := range ranges {
			for _, a := range r.addrs {
				listed[a] = true
			}
		}
		for _, r := range running {
			if !listed[r.Addr()] {
				return fmt.Errorf("%s: CLUSTER SLOTS does not list %s: %v", s.Addr(), r.Addr(), ranges)
			}
		}
	}
	return nil
}

// nodesFrom asks s for CLUSTER NODES.
func (c *Cluster) nodesFrom(s *Server) ([]ClusterNode, error) {
	v, err := s.ask("CLUSTER", "NODES")
	text, _ := v.(string)
	if err != nil || text == "" {
		return nil, fmt.Errorf("%s: CLUSTER NODES: %v %q", s.Addr(), err, text)
	}
	var nodes []ClusterNode
	for line := range strings.Lines(strings.TrimSpace(text)) {
		// <id> <ip:port@cport> <flags> <master> <ping-sent> <pong-recv>
		// <config-epoch> <link-state> <slot> <slot> ...
		f := strings.Fields(line)
		if len(f) < 8 {
			return nil, fmt.Errorf("%s: malformed CLUSTER NODES line %q", s.Addr(), line)
		}
		n := ClusterNode{ID: f[0], MasterID: strings.TrimPrefix(f[3], "-")}
		flags := strings.Split(f[2], ",")
		if slices.Contains(flags, "handshake") || slices.Contains(flags, "noaddr") {
			continue // a node being met under a temporary ID, or one lost
		}
		for _, flag := range flags {
			switch flag {
			case "master":
				n.Master = true
			case "fail", "fail?":
				n.Failed = true
			}
		}
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") {
				continue // a slot being migrated or imported
			}
			lo, hi, found := strings.Cut(r, "-")
			if !found {
				hi = lo
			}
			l, err1 := strconv.Atoi(lo)
			h, err2 := strconv.Atoi(hi)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("%s: malformed slots %q in CLUSTER NODES", s.Addr(), r)
			}
			n.Slots += h - l + 1
		}
		for srv, id := range c.ids {
			if id == n.ID {
				n.Server = srv
			}
		}
		if n.Server == nil {
			return nil, fmt.Errorf("%s: CLUSTER NODES names unknown node %q", s.Addr(), line)
		}
		nodes = append(nodes, n)
	}
	all := c.All()
	slices.SortFunc(nodes, func(a, b ClusterNode) int {
		return slices.Index(all, a.Server) - slices.Index(all, b.Server)
	})
	return nodes, nil
}

// A slotRange is one entry of CLUSTER SLOTS: the master's address first,
// then its replicas'.
type slotRange struct {
	lo, hi int
	addrs  []string
}

// slotsOf asks s for CLUSTER SLOTS.
func slotsOf(s *Server) ([]slotRange, error) {
	v, err := s.ask("CLUSTER", "SLOTS")
	if err != nil {
		return nil, fmt.Errorf("%s: CLUSTER SLOTS: %w", s.Addr(), err)
	}
	arr, _ := v.([]any)
	ranges := make([]slotRange, 0, len(arr))
	for _, e := range arr {
		ee, _ := e.([]any)
		if len(ee) < 3 {
			return nil, fmt.Errorf("%s: malformed CLUSTER SLOTS entry %v", s.Addr(), e)
		}
		lo, _ := ee[0].(int64)
		hi, _ := ee[1].(int64)
		r := slotRange{lo: int(lo), hi: int(hi)}
		for _, node := range ee[2:] {
			nn, _ := node.([]any)
			if len(nn) < 2 {
				return nil, fmt.Errorf("%s: malformed CLUSTER SLOTS node %v", s.Addr(), node)
			}
			r.addrs = append(r.addrs, net.JoinHostPort(fmt.Sprint(nn[0]), fmt.Sprint(nn[1])))
		}
		ranges = append(ranges, r)
	}
	slices.SortFunc(ranges, func(a, b slotRange) int { return a.lo - b.lo })
	return ranges, nil
}

// slotRanges returns CLUSTER SLOTS of a running node.
func (c *Cluster) slotRanges() []slotRange {
	c.t.Helper()
	var errs []error
	for _, s := range c.All() {
		if !s.Running() {
			continue
		}
		ranges, err := slotsOf(s)
		if err == nil {
			return ranges
		}
		errs = append(errs, err)
	}
	c.t.Fatalf("redistest: no cluster node answers CLUSTER SLOTS: %v", errors.Join(errs...))
	return nil
}

// server returns the node at addr.
func (c *Cluster) server(addr string) *Server {
	c.t.Helper()
	for _, s := range c.All() {
		if s.Addr() == addr {
			return s
		}
	}
	c.t.Fatalf("redistest: %s is not a node of this cluster", addr)
	return nil
}
