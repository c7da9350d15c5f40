package redistest

import (
	"fmt"
	"net"
	"slices"
	"testing"
	"time"
)

func TestSentinelKillMaster(t *testing.T) {
	t.Parallel()
	sn := StartSentinel(t, &SentinelOptions{Replicas: 1, Sentinels: 3, DownAfter: 2 * time.Second, MasterName: "mymaster"})
	if sn.MasterName() != "mymaster" || len(sn.SentinelAddrs()) != 3 || len(sn.Servers) != 2 {
		t.Fatalf("MasterName=%q SentinelAddrs=%v Servers=%d, want mymaster, 3 and 2",
			sn.MasterName(), sn.SentinelAddrs(), len(sn.Servers))
	}
	for _, s := range sn.Sentinels {
		if r, err := role(s); err != nil || r != "sentinel" {
			t.Errorf("sentinel %s: ROLE %q, %v", s.Addr(), r, err)
		}
	}
	for _, s := range sn.Servers {
		got := s.MustDo("CONFIG", "GET", "notify-keyspace-events")
		if arr, _ := got.([]any); len(arr) != 2 || arr[1] != "AKE" {
			t.Errorf("%s: CONFIG GET notify-keyspace-events = %v, want AKE", s.Addr(), got)
		}
	}
	old := sn.Master()
	if old != sn.Servers[0] {
		t.Fatalf("Master = %s, want the first master %s", old.Addr(), sn.Servers[0].Addr())
	}
	if got := sn.Replicas(); !slices.Equal(got, sn.Servers[1:]) {
		t.Errorf("Replicas = %v, want %v", addrs(got), addrs(sn.Servers[1:]))
	}
	old.MustDo("SET", "k", "1")

	m := sn.KillMaster()
	if m == old || m != sn.Servers[1] || old.Running() {
		t.Fatalf("KillMaster: new master %s, old %s running=%v; want the replica %s and the old one dead",
			m.Addr(), old.Addr(), old.Running(), sn.Servers[1].Addr())
	}
	if got := sn.Master(); got != m {
		t.Errorf("Master after KillMaster = %s, want %s", got.Addr(), m.Addr())
	}
	if got := m.MustDo("GET", "k"); got != "1" {
		t.Errorf("GET k on the new master = %v, want 1 (replicated before the kill)", got)
	}
	m.MustDo("SET", "k", "2")

	// The killed master comes back as a replica, and can take over again.
	sn.Rejoin(old)
	if got := sn.Replicas(); !slices.Equal(got, []*Server{old}) {
		t.Errorf("Replicas after Rejoin = %v, want [%s]", addrs(got), old.Addr())
	}
	if got := old.MustDo("GET", "k"); got != "2" {
		t.Errorf("GET k on the rejoined replica = %v, want 2", got)
	}
	if got := sn.Failover(); got != old {
		t.Fatalf("Failover after Rejoin: new master %s, want %s", got.Addr(), old.Addr())
	}
	old.MustDo("SET", "k", "3")
}

func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	sn := StartSentinel(t, &SentinelOptions{Replicas: 2, Sentinels: 3, MasterName: "other"})
	old := sn.Master()
	m := sn.Failover()
	if m == old || !slices.Contains(sn.Servers[1:], m) {
		t.Fatalf("Failover: new master %s, want one of the replicas %v", m.Addr(), addrs(sn.Servers[1:]))
	}
	for _, s := range sn.Sentinels {
		v := s.MustDo("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "other")
		if arr, _ := v.([]any); len(arr) != 2 || net.JoinHostPort(fmt.Sprint(arr[0]), fmt.Sprint(arr[1])) != m.Addr() {
			t.Errorf("sentinel %s reports %v as master, want %s", s.Addr(), v, m.Addr())
		}
	}
	if got := m.MustDo("SET", "k", "1"); got != "OK" {
		t.Errorf("SET on the new master = %v, want OK", got)
	}
	// The sentinels turn the old master into a replica of the new one.
	sn.Settle()
	if got := sn.Replicas(); len(got) != 2 || !slices.Contains(got, old) {
		t.Errorf("Replicas after Settle = %v, want 2 with the old master %s", addrs(got), old.Addr())
	}
	if _, err := old.Do("SET", "k", "2"); err == nil {
		t.Error("SET on the old master succeeded after Settle, want a READONLY error")
	}
}
