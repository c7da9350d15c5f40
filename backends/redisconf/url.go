package redisconf

import (
	"crypto/tls"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// A scheme is what a URL's scheme says of the Config.
type scheme struct {
	topology Topology
	tls      bool
	unix     bool
}

// schemes are the URL schemes ParseURL reads.
var schemes = map[string]scheme{
	"redis":           {topology: Standalone},
	"rediss":          {topology: Standalone, tls: true},
	"unix":            {topology: Standalone, unix: true},
	"redis+cluster":   {topology: Cluster},
	"rediss+cluster":  {topology: Cluster, tls: true},
	"redis+sentinel":  {topology: Sentinel},
	"rediss+sentinel": {topology: Sentinel, tls: true},
}

// schemeList names the schemes in error texts.
const schemeList = "redis://, rediss://, unix://, redis+cluster://, rediss+cluster://, redis+sentinel:// or rediss+sentinel://"

// ParseURL returns the Config that a Redis URL describes (see the package
// documentation for the forms and the options). A URL that cannot be read
// gives a [*URLError] wrapping [kv.ErrInvalid] that names what is wrong; it
// never holds a password. The Config it returns passes [Config.Validate].
func ParseURL(raw string) (Config, error) {
	p := urlParser{u: splitURL(raw)}
	cfg, err := p.parse()
	if err != nil {
		return Config{}, &URLError{URL: p.u.redacted(), Part: err.part, Reason: err.reason}
	}
	return cfg, nil
}

// A urlParser reads one URL into a Config.
type urlParser struct {
	u      splitted
	scheme scheme
	cfg    Config
	tls    *tls.Config
	pathDB bool // the path gave the database
}

// A partError is what is wrong with a part of a URL.
type partError struct{ part, reason string }

// wrong returns the partError of part.
func wrong(part, reason string) *partError { return &partError{part: part, reason: reason} }

// parse reads the URL, part by part.
func (p *urlParser) parse() (Config, *partError) {
	u := p.u
	if !u.hasScheme {
		return Config{}, wrong("scheme", "missing: a Redis URL starts with "+schemeList)
	}
	if !validScheme(u.scheme) {
		return Config{}, wrong("scheme", "not a URL scheme; want "+schemeList)
	}
	s, ok := schemes[strings.ToLower(u.scheme)]
	if !ok {
		return Config{}, wrong("scheme", strconv.Quote(u.scheme)+" is not one of "+schemeList)
	}
	p.scheme = s
	if s.tls {
		p.tls = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if u.fragStart >= 0 {
		return Config{}, wrong("fragment", "a Redis URL has none (a # in a password is written %23)")
	}
	steps := []func() *partError{p.userinfo, p.hosts, p.path, p.query}
	for _, step := range steps {
		if err := step(); err != nil {
			return Config{}, err
		}
	}
	p.cfg.TLS = p.tls
	return p.cfg, nil
}

// validScheme reports whether s has the characters of a URL scheme.
func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case i > 0 && ('0' <= r && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

// userinfo reads the user name and the password. Neither is quoted in an
// error: a password holding an unescaped / ? or # moves the boundaries of
// the URL's parts, so a part of it could pass for the user name.
func (p *urlParser) userinfo() *partError {
	u := p.u
	if !u.hasUserinfo {
		return nil
	}
	user, err := unescapeUserinfo(u.user)
	if err != "" {
		return wrong("user name", err)
	}
	pw, err := unescapeUserinfo(u.password)
	if err != "" {
		return wrong("password", err)
	}
	p.cfg.Username, p.cfg.Password = user, pw
	return nil
}

// unescapeUserinfo returns s, a user name or a password as a URL holds it,
// with its percent-encoding undone, or why it cannot be read.
func unescapeUserinfo(s string) (string, string) {
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		return "", "holds " + strconv.Quote(s[i:i+1]) + ", which must be percent-encoded"
	}
	v, err := url.PathUnescape(s)
	if err != nil {
		return "", "holds a % that does not start a percent-encoded byte (write % as %25)"
	}
	return v, ""
}

// hosts reads the host part: one server's address, a cluster's seeds or
// the sentinels'; none for a Unix socket.
func (p *urlParser) hosts() *partError {
	hosts := p.u.hosts
	switch {
	case p.scheme.unix:
		if hosts != "" {
			return wrong("host", "a unix:// URL has none: write unix:///path/to/redis.sock")
		}
		return nil
	case p.scheme.topology == Standalone:
		if strings.Contains(hosts, ",") {
			return wrong("host", "one server only; a cluster's URL starts with redis+cluster://, a Sentinel's with redis+sentinel://")
		}
		h, port, err := splitHostPort(hosts, 0)
		if err != nil {
			return err
		}
		p.cfg.Host, p.cfg.Port = h, port
		return nil
	}
	if hosts == "" {
		return wrong("host", "missing: name at least one address")
	}
	for a := range strings.SplitSeq(hosts, ",") {
		if err := p.addAddr(a); err != nil {
			return err
		}
	}
	return nil
}

// addAddr adds the address of a cluster's seed or a sentinel.
func (p *urlParser) addAddr(a string) *partError {
	if a == "" {
		return wrong("host", "an empty address in the list")
	}
	defaultPort := DefaultPort
	if p.scheme.topology == Sentinel {
		defaultPort = DefaultSentinelPort
	}
	h, port, err := splitHostPort(a, defaultPort)
	if err != nil {
		return err
	}
	if h == "" {
		return wrong("host", "missing in "+strconv.Quote(a))
	}
	addr := net.JoinHostPort(h, strconv.Itoa(port))
	if p.scheme.topology == Sentinel {
		p.cfg.SentinelAddrs = append(p.cfg.SentinelAddrs, addr)
	} else {
		p.cfg.ClusterAddrs = append(p.cfg.ClusterAddrs, addr)
	}
	return nil
}

// splitHostPort reads host[:port] or [ipv6]:port; a missing port is
// defaultPort.
func splitHostPort(s string, defaultPort int) (string, int, *partError) {
	host, port, hasPort := s, "", false
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, wrong("host", strconv.Quote(s)+" has no ] after its IPv6 address")
		}
		host = s[1:end]
		rest := s[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return "", 0, wrong("host", strconv.Quote(s)+" has more than a port after its IPv6 address")
			}
			port, hasPort = rest[1:], true
		}
		ip, zone, hasZone := strings.Cut(host, "%25") // a zone: [fe80::1%25eth0]
		if net.ParseIP(ip) == nil || !strings.Contains(ip, ":") || hasZone && (zone == "" || !validHost(zone)) {
			return "", 0, wrong("host", strconv.Quote(s)+" holds no IPv6 address between [ and ]")
		}
		if hasZone {
			host = ip + "%" + zone
		}
	} else {
		if strings.Count(s, ":") > 1 {
			return "", 0, wrong("host", strconv.Quote(s)+": an IPv6 address is written in brackets, as [::1]:6379")
		}
		host, port, hasPort = strings.Cut(s, ":")
		if !validHost(host) {
			return "", 0, wrong("host", strconv.Quote(host)+" is not a host name or an IP address")
		}
	}
	if !hasPort {
		return host, defaultPort, nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > maxPort || port[0] == '+' {
		return "", 0, wrong("port", strconv.Quote(port)+" is not a number between 1 and 65535")
	}
	return host, n, nil
}

// validHost reports whether h has the characters of a host name or an IPv4
// address (or is empty).
func validHost(h string) bool {
	for _, r := range h {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '-', r == '.', r == '_':
		default:
			return false
		}
	}
	return true
}

// path reads the path: the database of one server, the master's name and
// database of a Sentinel deployment, the socket's path.
func (p *urlParser) path() *partError {
	path := p.u.path
	switch {
	case p.scheme.unix:
		socket, err := url.PathUnescape(path)
		if err != nil || strings.TrimLeft(socket, "/") == "" {
			return wrong("path", "not the path of a Unix socket, such as unix:///run/redis.sock")
		}
		p.cfg.Socket = socket
		return nil
	case p.scheme.topology == Sentinel:
		name, db, hasDB := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		master, err := url.PathUnescape(name)
		if err != nil || master == "" {
			return wrong("master name", "missing: write redis+sentinel://host:26379/mymaster[/db]")
		}
		p.cfg.MasterName = master
		if hasDB && db != "" {
			return p.pathDatabase(db)
		}
		return nil
	}
	db := strings.TrimPrefix(path, "/")
	if db == "" {
		return nil
	}
	if p.scheme.topology == Cluster && db != "0" {
		return wrong("database", "a cluster has database 0 only")
	}
	return p.pathDatabase(db)
}

// pathDatabase reads the database number in the path.
func (p *urlParser) pathDatabase(db string) *partError {
	n, err := database(db)
	if err != nil {
		return err
	}
	p.cfg.DB, p.pathDB = n, true
	return nil
}

// database reads a database number.
func database(s string) (int, *partError) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || s[0] == '+' {
		return 0, wrong("database", strconv.Quote(s)+" is not a number of 0 or more")
	}
	return n, nil
}
