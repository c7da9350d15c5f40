package redisconf

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Redacted returns c as a URL that [ParseURL] reads back, with its
// passwords replaced by xxxxx, such as
//
//	redis://app:xxxxx@cache.internal:6379/0
//	rediss+sentinel://app:xxxxx@10.0.0.1:26379,10.0.0.2:26379/mymaster/0?sentinel_password=xxxxx
//
// What a URL cannot say of c.TLS (such as its RootCAs) does not show.
func (c Config) Redacted() string {
	var b strings.Builder
	b.WriteString(c.scheme())
	b.WriteString("://")
	if c.Username != "" || c.Password != "" {
		ui := url.User(c.Username)
		if c.Password != "" {
			ui = url.UserPassword(c.Username, redactedText)
		}
		b.WriteString(ui.String())
		b.WriteByte('@')
	}
	q := url.Values{}
	switch {
	case c.Topology() == Sentinel:
		b.WriteString(hostList(c.SentinelAddrs))
		b.WriteString("/" + url.PathEscape(c.MasterName) + "/" + strconv.Itoa(c.DB))
		if c.SentinelUsername != "" {
			q.Set("sentinel_username", c.SentinelUsername)
		}
		if c.SentinelPassword != "" {
			q.Set("sentinel_password", redactedText)
		}
	case c.Topology() == Cluster:
		b.WriteString(hostList(c.ClusterAddrs))
	case c.Socket != "":
		b.WriteString((&url.URL{Path: c.Socket}).EscapedPath())
		if c.DB != 0 {
			q.Set("db", strconv.Itoa(c.DB))
		}
	default:
		b.WriteString(hostList([]string{c.Addr()}))
		b.WriteString("/" + strconv.Itoa(c.DB))
	}
	for name, d := range map[string]time.Duration{"dial_timeout": c.DialTimeout, "read_timeout": c.ReadTimeout, "write_timeout": c.WriteTimeout} {
		if d > 0 {
			q.Set(name, d.String())
		}
	}
	if c.TLS != nil && c.Socket == "" {
		if c.TLS.InsecureSkipVerify {
			q.Set("skip_verify", "true")
		}
		if c.TLS.ServerName != "" {
			q.Set("tls_server_name", c.TLS.ServerName)
		}
	}
	if len(q) > 0 {
		b.WriteByte('?')
		b.WriteString(q.Encode()) // sorted by name
	}
	return b.String()
}

// hostList returns addrs as the host part of a URL: joined with commas,
// with the % of an IPv6 zone percent-encoded.
func hostList(addrs []string) string {
	escaped := make([]string, len(addrs))
	for i, a := range addrs {
		escaped[i] = strings.Replace(a, "%", "%25", 1)
	}
	return strings.Join(escaped, ",")
}

// scheme returns the URL scheme of c.
func (c Config) scheme() string {
	s := "redis"
	switch {
	case c.Socket != "" && c.Topology() == Standalone:
		return "unix"
	case c.TLS != nil:
		s = "rediss"
	}
	switch c.Topology() {
	case Cluster:
		s += "+cluster"
	case Sentinel:
		s += "+sentinel"
	}
	return s
}

// String returns [Config.Redacted], so that a Config prints with %v and
// %+v without its passwords.
func (c Config) String() string { return c.Redacted() }

// GoString returns c.Redacted() in the form redisconf.Config(URL), so that
// %#v does not print the passwords either.
func (c Config) GoString() string { return "redisconf.Config(" + c.Redacted() + ")" }
