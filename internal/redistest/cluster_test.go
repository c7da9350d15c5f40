package redistest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// startReplicated starts the cluster of the failover tests.
func startReplicated(t *testing.T) *Cluster {
	t.Helper()
	return StartClusterWith(t, &ClusterOptions{Masters: 3, Replicas: 1, NodeTimeout: 2 * time.Second})
}

func TestClusterWithReplicas(t *testing.T) {
	t.Parallel()
	c := startReplicated(t)
	if len(c.Servers) != 3 || len(c.Replicas) != 3 || len(c.All()) != 6 {
		t.Fatalf("Servers=%d Replicas=%d All=%d, want 3, 3 and 6", len(c.Servers), len(c.Replicas), len(c.All()))
	}
	if got := c.Masters(); !slices.Equal(got, c.Servers) {
		t.Errorf("Masters = %v, want the masters as started %v", addrs(got), c.Addrs())
	}
	nodes := c.Nodes()
	if len(nodes) != 6 {
		t.Fatalf("Nodes = %+v, want 6", nodes)
	}
	for i, n := range nodes {
		if n.Server != c.All()[i] || n.Failed {
			t.Errorf("Nodes[%d] = %+v, want %s, not failed", i, n, c.All()[i].Addr())
		}
		if wantMaster := i < 3; n.Master != wantMaster || (n.Slots > 0) != wantMaster {
			t.Errorf("Nodes[%d] = %+v, want master=%v, serving slots only as a master", i, n, wantMaster)
		}
	}
	for i, m := range c.Servers {
		if got := c.ReplicasOf(m); !slices.Equal(got, c.Replicas[i:i+1]) {
			t.Errorf("ReplicasOf(%s) = %v, want [%s]", m.Addr(), addrs(got), c.Replicas[i].Addr())
		}
		if got := c.MasterOfSlot(i * clusterSlots / 3); got != m {
			t.Errorf("MasterOfSlot(%d) = %s, want %s", i*clusterSlots/3, got.Addr(), m.Addr())
		}
	}
	// A replica is in sync: a write to the master reaches it.
	m := c.MasterOf("foo")
	m.MustDo("SET", "foo", "1")
	r := c.ReplicasOf(m)[0]
	if err := waitUntil(readyTimeout, func() error {
		n, err := r.Do("DBSIZE")
		if err != nil || n != int64(1) {
			return fmt.Errorf("replica %s: DBSIZE = %v, %v; want 1", r.Addr(), n, err)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}

	// Graceful failover: the replica takes over, the master follows it.
	c.Failover(r)
	if got := c.MasterOf("foo"); got != r {
		t.Errorf("after Failover(%s): MasterOf(foo) = %s", r.Addr(), got.Addr())
	}
	if got := c.ReplicasOf(r); !slices.Equal(got, []*Server{m}) {
		t.Errorf("after Failover(%s): ReplicasOf = %v, want the old master %s", r.Addr(), addrs(got), m.Addr())
	}
	if got := r.MustDo("GET", "foo"); got != "1" {
		t.Errorf("GET foo on the new master = %v, want 1", got)
	}
	r.MustDo("SET", "foo", "2")
}

func TestClusterKillMaster(t *testing.T) {
	t.Parallel()
	c := startReplicated(t)
	old := c.MasterOf("foo")
	replica := c.ReplicasOf(old)[0]
	old.MustDo("SET", "foo", "1")

	promoted := c.KillMaster(old)
	if promoted != replica {
		t.Errorf("KillMaster(%s) promoted %s, want its replica %s", old.Addr(), promoted.Addr(), replica.Addr())
	}
	// Every live node agrees: the old master failed, the replica serves.
	for _, s := range c.All() {
		if !s.Running() {
			continue
		}
		nodes, err := c.nodesFrom(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			switch n.Server {
			case old:
				if !n.Failed || n.Slots != 0 {
					t.Errorf("%s: CLUSTER NODES has the killed master as %+v, want failed without slots", s.Addr(), n)
				}
			case promoted:
				if !n.Master || n.Slots == 0 {
					t.Errorf("%s: CLUSTER NODES has the promoted replica as %+v, want a master with slots", s.Addr(), n)
				}
			}
		}
		info := s.MustDo("CLUSTER", "INFO").(string)
		if !strings.Contains(info, "cluster_state:ok") {
			t.Errorf("%s: CLUSTER INFO %q, want cluster_state:ok", s.Addr(), info)
		}
	}
	if got := c.MasterOf("foo"); got != promoted {
		t.Errorf("MasterOf(foo) = %s, want %s", got.Addr(), promoted.Addr())
	}
	promoted.MustDo("SET", "foo", "2")

	// The killed master comes back as the replica of the one that took over,
	// and can take over again.
	c.Rejoin(old)
	if got := c.ReplicasOf(promoted); !slices.Equal(got, []*Server{old}) {
		t.Errorf("after Rejoin: ReplicasOf(%s) = %v, want [%s]", promoted.Addr(), addrs(got), old.Addr())
	}
	c.Failover(old)
	if got := old.MustDo("GET", "foo"); got != "2" {
		t.Errorf("GET foo on the old master back in charge = %v, want 2", got)
	}
}
