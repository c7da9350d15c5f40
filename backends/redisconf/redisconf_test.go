package redisconf

import (
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
)

func TestAddrAndString(t *testing.T) {
	for _, tt := range []struct {
		host string
		port int
		want string
	}{
		{"", 0, "localhost:6379"},
		{"redis.internal", 0, "redis.internal:6379"},
		{"", 7000, "localhost:7000"},
		{"::1", 6380, "[::1]:6380"},
	} {
		if got := (Config{Host: tt.host, Port: tt.port}).Addr(); got != tt.want {
			t.Errorf("Addr of %q, %d = %q, want %q", tt.host, tt.port, got, tt.want)
		}
	}
	c := Config{Host: "h", Port: 1, DB: 2, Username: "alice", Password: "hunter2-pw", TLS: &tls.Config{}}
	if got, want := c.String(), `rediss://alice:xxxxx@h:1/2`; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c)} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("formatted with the password: %s", s)
		}
	}
	if got := (Config{}).String(); got != "redis://localhost:6379/0" {
		t.Errorf("String without a password = %q", got)
	}
}
