package redisconf

import (
	"crypto/tls"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cledar/storekit/kv"
)

// secret is a password that the tests look for in texts that must not
// hold it.
const secret = "hunter2-s3cr~t"

func TestParseURL(t *testing.T) {
	tlsDefault := &tls.Config{MinVersion: tls.VersionTLS12}
	for _, tt := range []struct {
		url  string
		want Config
	}{
		{"redis://", Config{}},
		{"redis://localhost", Config{Host: "localhost"}},
		{"redis://cache.internal:6380/3", Config{Host: "cache.internal", Port: 6380, DB: 3}},
		{"redis://cache:6379/", Config{Host: "cache", Port: 6379}},
		{"REDIS://cache", Config{Host: "cache"}},
		{"redis://app:" + secret + "@cache/1", Config{Host: "cache", DB: 1, Username: "app", Password: secret}},
		{"redis://:" + secret + "@cache", Config{Host: "cache", Password: secret}},
		{"redis://app@cache", Config{Host: "cache", Username: "app"}},
		{"redis://a%40b:p%3Aw%2F%3F%23%25@cache", Config{Host: "cache", Username: "a@b", Password: "p:w/?#%"}},
		{"redis://app:p@ss@cache", Config{Host: "cache", Username: "app", Password: "p@ss"}},
		{"redis://[::1]:7000/2", Config{Host: "::1", Port: 7000, DB: 2}},
		{"redis://[fe80::1%25eth0]", Config{Host: "fe80::1%eth0"}},
		{"redis://10.0.0.1?db=4", Config{Host: "10.0.0.1", DB: 4}},
		{"redis://cache?dial_timeout=3&read_timeout=500ms&write_timeout=1m",
			Config{Host: "cache", DialTimeout: 3 * time.Second, ReadTimeout: 500 * time.Millisecond, WriteTimeout: time.Minute}},
		{"redis://cache?&dial_timeout=2s&", Config{Host: "cache", DialTimeout: 2 * time.Second}},
		{"rediss://cache:6380", Config{Host: "cache", Port: 6380, TLS: tlsDefault}},
		{"rediss://cache?skip_verify=true&tls_server_name=redis.example.com",
			Config{Host: "cache", TLS: &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true, ServerName: "redis.example.com"}}},
		{"unix:///run/redis/redis.sock", Config{Socket: "/run/redis/redis.sock"}},
		{"unix://app:" + secret + "@/run/redis%20x.sock?db=2", Config{Socket: "/run/redis x.sock", DB: 2, Username: "app", Password: secret}},
		{"redis+cluster://n1:7000,n2:7001,n3", Config{ClusterAddrs: []string{"n1:7000", "n2:7001", "n3:6379"}}},
		{"redis+cluster://app:" + secret + "@n1:7000/0?addr=n2:7001&addr=[::1]:7002",
			Config{ClusterAddrs: []string{"n1:7000", "n2:7001", "[::1]:7002"}, Username: "app", Password: secret}},
		{"rediss+cluster://n1:7000?skip_verify=1",
			Config{ClusterAddrs: []string{"n1:7000"}, TLS: &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true}}},
		{"redis+sentinel://s1,s2:26380/mymaster", Config{MasterName: "mymaster", SentinelAddrs: []string{"s1:26379", "s2:26380"}}},
		{"redis+sentinel://app:" + secret + "@s1:26379/my%2Fmaster/2?sentinel_username=watch&sentinel_password=sp%2Bw&addr=s3",
			Config{MasterName: "my/master", SentinelAddrs: []string{"s1:26379", "s3:26379"}, DB: 2, Username: "app", Password: secret,
				SentinelUsername: "watch", SentinelPassword: "sp+w"}},
		{"rediss+sentinel://s1/m/?db=1", Config{MasterName: "m", SentinelAddrs: []string{"s1:26379"}, DB: 1, TLS: tlsDefault}},
	} {
		got, err := ParseURL(tt.url)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tt.url, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseURL(%q) =\n%#v\nwant\n%#v", tt.url, fields(got), fields(tt.want))
		}
	}
}

// fields prints every field of c, the passwords too, for a test's failure
// message.
func fields(c Config) string {
	type plain Config // without String and GoString
	return fmt.Sprintf("%+v tls=%+v", plain(c), c.TLS)
}

func TestParseURLErrors(t *testing.T) {
	pw := ":" + secret + "@"
	for _, tt := range []struct {
		url, part string
	}{
		{"", "scheme"},
		{"cache:6379", "scheme"},
		{"app" + pw + "cache:6379", "scheme"},
		{"http://app" + pw + "cache", "scheme"},
		{"re dis://app" + pw + "cache", "scheme"},
		{"redis://app" + pw + "cache:0", "port"},
		{"redis://app" + pw + "cache:65536", "port"},
		{"redis://app" + pw + "cache:+80", "port"},
		{"redis://app" + pw + "cache:", "port"},
		{"redis://app" + pw + "cache:http", "port"},
		{"redis://app" + pw + "ca che", "host"},
		{"redis://app" + pw + "::1", "host"},
		{"redis://app" + pw + "[::1", "host"},
		{"redis://app" + pw + "[::1]x", "host"},
		{"redis://app" + pw + "[cache]:6379", "host"},
		{"redis://app" + pw + "a,b", "host"},
		{"redis://app" + pw + "cache/x", "database"},
		{"redis://app" + pw + "cache/-1", "database"},
		{"redis://app" + pw + "cache/1/2", "database"},
		{"redis://app" + pw + "cache/1?db=2", "option db"},
		{"redis://app" + pw + "cache#frag", "fragment"},
		{"redis://app:" + secret + "#x@cache", "password"},
		{"redis://app:" + secret + "/x@cache", "password"},
		{"redis://app:" + secret + "?x@cache", "password"},
		{"redis://app:" + secret + "%zz@cache", "password"},
		{"redis://a%zz" + pw + "cache", "user name"},
		{"redis://app" + pw + "cache?pool_size=10", `option "pool_size"`},
		{"redis://app" + pw + "cache?password=" + secret, `option "password"`},
		{"redis://app" + pw + "cache?b=1&a=2", `options "b", "a"`},
		{"redis://app" + pw + "cache?dial_timeout=0", "option dial_timeout"},
		{"redis://app" + pw + "cache?dial_timeout=-1s", "option dial_timeout"},
		{"redis://app" + pw + "cache?read_timeout=soon", "option read_timeout"},
		{"redis://app" + pw + "cache?write_timeout=1s&write_timeout=2s", "option write_timeout"},
		{"redis://app" + pw + "cache?skip_verify=true", "option skip_verify"},
		{"rediss://app" + pw + "cache?skip_verify=maybe", "option skip_verify"},
		{"rediss://app" + pw + "cache?tls_server_name=", "option tls_server_name"},
		{"redis://app" + pw + "cache?addr=b:1", "option addr"},
		{"redis://app" + pw + "cache?db=%zz", "option db"},
		{"redis://app" + pw + "cache?db=x", "option db"},
		{"redis://app" + pw + "cache?db", "option db"},
		{"redis://app" + pw + "cache?sentinel_password=" + secret, "option sentinel_password"},
		{"unix://app" + pw + "cache/run/redis.sock", "host"},
		{"unix://app" + pw + "/", "path"},
		{"redis+cluster://app" + pw, "host"},
		{"redis+cluster://app" + pw + "a,,b", "host"},
		{"redis+cluster://app" + pw + "a:7000,:7001", "host"},
		{"redis+cluster://app" + pw + "a/1", "database"},
		{"redis+cluster://app" + pw + "a?db=1", "option db"},
		{"redis+cluster://app" + pw + "a?addr=b:x", "port"},
		{"redis+sentinel://app" + pw + "s1", "master name"},
		{"redis+sentinel://app" + pw + "s1/", "master name"},
		{"redis+sentinel://app" + pw + "s1/m/x", "database"},
		{"redis+sentinel://app" + pw + "s1/m?sentinel_password=%zz" + secret, "option sentinel_password"},
		{"redis+sentinel://app" + pw + "s1/m?sentinel_password=" + secret + "#" + secret, "fragment"},
		{"redis+sentinel://app" + pw + "s1/m?Sentinel_Password=" + secret, `option "Sentinel_Password"`},
	} {
		cfg, err := ParseURL(tt.url)
		if err == nil {
			t.Errorf("ParseURL(%q) = %v, want an error", tt.url, cfg)
			continue
		}
		var ue *URLError
		switch {
		case !errors.Is(err, kv.ErrInvalid):
			t.Errorf("ParseURL(%q): %v does not wrap kv.ErrInvalid", tt.url, err)
		case !errors.As(err, &ue) || ue.Part != tt.part:
			t.Errorf("ParseURL(%q): %v: the part is not %q", tt.url, err, tt.part)
		case strings.Contains(err.Error(), "hunter2"):
			t.Errorf("ParseURL(%q): the error holds the password: %v", tt.url, err)
		case !strings.HasPrefix(err.Error(), "redisconf: invalid Redis URL"):
			t.Errorf("ParseURL(%q): %v", tt.url, err)
		}
		t.Logf("%v", err)
	}
}

// TestParseURLErrorText: the error quotes the URL with its password
// replaced, and what is wrong with the part it names.
func TestParseURLErrorText(t *testing.T) {
	for url, want := range map[string]string{
		"redis://app:" + secret + "@cache:637900/0": `redisconf: invalid Redis URL "redis://app:xxxxx@cache:637900/0": port: "637900" is not a number between 1 and 65535`,
		"redis://app:" + secret + "@cache?pool_size=10&dial_timeout=1s": `redisconf: invalid Redis URL "redis://app:xxxxx@cache?pool_size=xxxxx&dial_timeout=1s": ` +
			`option "pool_size": unknown; the options are addr, db, dial_timeout, read_timeout, sentinel_password, sentinel_username, skip_verify, tls_server_name, write_timeout`,
		"cache:6379": `redisconf: invalid Redis URL: scheme: missing: a Redis URL starts with redis://, rediss://, unix://, redis+cluster://, rediss+cluster://, redis+sentinel:// or rediss+sentinel://`,
	} {
		if _, err := ParseURL(url); err == nil || err.Error() != want {
			t.Errorf("ParseURL error:\n got %v\nwant %s", err, want)
		}
	}
}

// TestRedacted: a Config prints as its URL without its passwords, whatever
// the verb, and ParseURL reads the URL back.
func TestRedacted(t *testing.T) {
	for _, tt := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "redis://localhost:6379/0"},
		{Config{Host: "h", Port: 1, DB: 2, Username: "alice", Password: secret, TLS: &tls.Config{}}, "rediss://alice:xxxxx@h:1/2"},
		{Config{Host: "::1", Password: secret}, "redis://:xxxxx@[::1]:6379/0"},
		{Config{Host: "fe80::1%eth0"}, "redis://[fe80::1%25eth0]:6379/0"},
		{Config{Username: "a@b"}, "redis://a%40b@localhost:6379/0"},
		{Config{Socket: "/run/redis x.sock", DB: 3}, "unix:///run/redis%20x.sock?db=3"},
		{Config{ClusterAddrs: []string{"n1:7000", "n2:7001"}, Password: secret, DialTimeout: 2 * time.Second, ReadTimeout: time.Second},
			"redis+cluster://:xxxxx@n1:7000,n2:7001?dial_timeout=2s&read_timeout=1s"},
		{Config{MasterName: "my/m", SentinelAddrs: []string{"s1:26379"}, SentinelUsername: "w", SentinelPassword: secret, WriteTimeout: time.Millisecond,
			TLS: &tls.Config{InsecureSkipVerify: true, ServerName: "r.example.com"}},
			"rediss+sentinel://s1:26379/my%2Fm/0?sentinel_password=xxxxx&sentinel_username=w&skip_verify=true&tls_server_name=r.example.com&write_timeout=1ms"},
	} {
		if got := tt.cfg.Redacted(); got != tt.want {
			t.Errorf("Redacted() = %q, want %q", got, tt.want)
		}
		for _, s := range []string{tt.cfg.String(), tt.cfg.GoString(), fmt.Sprint(tt.cfg), fmt.Sprintf("%v %+v %#v %s", tt.cfg, tt.cfg, tt.cfg, tt.cfg),
			fmt.Sprintf("%v %+v", &tt.cfg, &tt.cfg)} {
			if strings.Contains(s, "hunter2") {
				t.Errorf("formatted with a password: %s", s)
			}
		}
		back, err := ParseURL(tt.want)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tt.want, err)
		} else if back.Redacted() != tt.want {
			t.Errorf("ParseURL(%q).Redacted() = %q", tt.want, back.Redacted())
		}
	}
	if got, want := (Config{Password: secret}).GoString(), "redisconf.Config(redis://:xxxxx@localhost:6379/0)"; got != want {
		t.Errorf("GoString = %q, want %q", got, want)
	}
}

func TestValidate(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Host: "h", Port: 65535, DB: 15},
		{Socket: "/run/redis.sock"},
		{ClusterAddrs: []string{"a:1", "[::1]:2"}},
		{MasterName: "m", SentinelAddrs: []string{"s:26379"}, DB: 3},
	} {
		if err := cfg.Validate(); err != nil {
			t.Errorf("Validate(%v): %v", cfg, err)
		}
	}
	for _, cfg := range []Config{
		{ClusterAddrs: []string{"a:1"}, MasterName: "m", SentinelAddrs: []string{"s:1"}},
		{ClusterAddrs: []string{"a:1"}, SentinelAddrs: []string{"s:1"}},
		{MasterName: "m"},
		{SentinelAddrs: []string{"s:1"}},
		{Socket: "/s", ClusterAddrs: []string{"a:1"}},
		{ClusterAddrs: []string{"a:1"}, DB: 1},
		{ClusterAddrs: []string{"a"}},
		{MasterName: "m", SentinelAddrs: []string{"s"}},
		{DB: -1},
		{Port: -1},
		{Port: 65536},
		{DialTimeout: -1},
		{ReadTimeout: -1},
		{WriteTimeout: -1},
	} {
		err := cfg.Validate()
		if !errors.Is(err, kv.ErrInvalid) {
			t.Errorf("Validate(%v) = %v, want kv.ErrInvalid", fields(cfg), err)
		}
	}
}

// TestTopologyAndAddrs: what a Config describes, and where a client of it
// starts.
func TestTopologyAndAddrs(t *testing.T) {
	for _, tt := range []struct {
		cfg      Config
		topology Topology
		addrs    []string
	}{
		{Config{}, Standalone, []string{"localhost:6379"}},
		{Config{Socket: "/s"}, Standalone, []string{"/s"}},
		{Config{ClusterAddrs: []string{"a:1", "b:2"}}, Cluster, []string{"a:1", "b:2"}},
		{Config{MasterName: "m", SentinelAddrs: []string{"s:1"}}, Sentinel, []string{"s:1"}},
	} {
		if got := tt.cfg.Topology(); got != tt.topology {
			t.Errorf("Topology(%v) = %v, want %v", tt.cfg, got, tt.topology)
		}
		if got := tt.cfg.Addrs(); !reflect.DeepEqual(got, tt.addrs) {
			t.Errorf("Addrs(%v) = %v, want %v", tt.cfg, got, tt.addrs)
		}
	}
}

// TestRedactError: the passwords leave the text, the wrapped errors stay.
func TestRedactError(t *testing.T) {
	cfg := Config{Password: "pw-main-1", SentinelPassword: "pw-sentinel-2"}
	cause := errors.New("dial: pw-main-1 and pw-sentinel-2 refused")
	err := cfg.RedactError(fmt.Errorf("wrapped: %w", cause))
	if got, want := err.Error(), "wrapped: dial: xxxxx and xxxxx refused"; got != want {
		t.Errorf("RedactError = %q, want %q", got, want)
	}
	if !errors.Is(err, cause) {
		t.Errorf("RedactError(%v) does not wrap the cause", err)
	}
	if plain := errors.New("refused"); cfg.RedactError(plain) != plain {
		t.Error("RedactError changed an error without a password")
	}
	if cfg.RedactError(nil) != nil {
		t.Error("RedactError(nil) != nil")
	}
}
