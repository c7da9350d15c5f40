package redistest

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// A Cluster is a local Redis Cluster of masters without replicas.
type Cluster struct {
	// Servers are the masters; Servers[i] serves an equal share of the slots.
	Servers []*Server
}

// Addrs returns the masters' addresses.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		addrs[i] = s.Addr()
	}
	return addrs
}

// StartCluster starts a Redis Cluster of masters redis-server processes
// (started as by [Start], with keyspace notifications on), splits the slots
// evenly between them, joins them and waits until every node reports the
// cluster healthy. It skips t like Start when redis-server is missing.
func StartCluster(t testing.TB, masters int) *Cluster {
	t.Helper()
	if masters < 1 {
		t.Fatalf("redistest: StartCluster(%d): need at least one master", masters)
	}
	c := &Cluster{}
	for range masters {
		s := Start(t, &Options{Args: []string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "5000",
		}})
		c.Servers = append(c.Servers, s) // each in its own directory, for nodes.conf
	}
	for i, s := range c.Servers {
		lo, hi := i*clusterSlots/masters, (i+1)*clusterSlots/masters
		args := []string{"CLUSTER", "ADDSLOTS"}
		for slot := lo; slot < hi; slot++ {
			args = append(args, strconv.Itoa(slot))
		}
		s.MustDo(args...)
	}
	for _, s := range c.Servers[1:] {
		host, port, err := net.SplitHostPort(s.Addr())
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		c.Servers[0].MustDo("CLUSTER", "MEET", host, port)
	}
	deadline := time.Now().Add(readyTimeout)
	for _, s := range c.Servers {
		for {
			info, err := s.Do("CLUSTER", "INFO")
			text, _ := info.(string)
			if err == nil && strings.Contains(text, "cluster_state:ok") &&
				strings.Contains(text, fmt.Sprintf("cluster_known_nodes:%d\r", masters)) &&
				clusterSlotsKnown(s, masters) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("redistest: cluster on %v not ready within %v: %v %q", c.Addrs(), readyTimeout, err, text)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return c
}

// clusterSlotsKnown reports whether s's CLUSTER SLOTS reply names masters
// different nodes, so a client that reads the topology from s sees all of
// them.
func clusterSlotsKnown(s *Server, masters int) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	v, err := do(ctx, s.addr, s.password, "CLUSTER", "SLOTS")
	ranges, _ := v.([]any)
	if err != nil {
		return false
	}
	nodes := make(map[string]bool)
	for _, r := range ranges {
		rr, _ := r.([]any)
		if len(rr) < 3 {
			return false
		}
		master, _ := rr[2].([]any)
		if len(master) < 2 {
			return false
		}
		nodes[fmt.Sprint(master[0], ":", master[1])] = true
	}
	return len(nodes) == masters
}
