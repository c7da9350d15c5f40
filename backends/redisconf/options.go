package redisconf

import (
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// An option is a query option of a URL: where it may appear, and what it
// sets.
type option struct {
	topologies []Topology // where it may appear; nil: everywhere
	tls        bool       // only over TLS
	repeatable bool
	secret     bool // its value is never shown
	set        func(p *urlParser, v string) *partError
}

// options are the query options ParseURL reads, by name.
var options = map[string]option{
	"db": {topologies: []Topology{Standalone, Sentinel}, set: (*urlParser).setDB},
	"dial_timeout": {set: func(p *urlParser, v string) *partError {
		return setDuration(&p.cfg.DialTimeout, "dial_timeout", v)
	}},
	"read_timeout": {set: func(p *urlParser, v string) *partError {
		return setDuration(&p.cfg.ReadTimeout, "read_timeout", v)
	}},
	"write_timeout": {set: func(p *urlParser, v string) *partError {
		return setDuration(&p.cfg.WriteTimeout, "write_timeout", v)
	}},
	"addr": {topologies: []Topology{Cluster, Sentinel}, repeatable: true, set: (*urlParser).addAddr},
	"sentinel_username": {topologies: []Topology{Sentinel}, set: func(p *urlParser, v string) *partError {
		p.cfg.SentinelUsername = v
		return nil
	}},
	"sentinel_password": {topologies: []Topology{Sentinel}, secret: true, set: func(p *urlParser, v string) *partError {
		p.cfg.SentinelPassword = v
		return nil
	}},
	"skip_verify": {tls: true, set: func(p *urlParser, v string) *partError {
		skip, err := strconv.ParseBool(v)
		if err != nil {
			return wrong("option skip_verify", strconv.Quote(v)+" is not true or false")
		}
		p.tls.InsecureSkipVerify = skip
		return nil
	}},
	"tls_server_name": {tls: true, set: func(p *urlParser, v string) *partError {
		if v == "" {
			return wrong("option tls_server_name", "empty")
		}
		p.tls.ServerName = v
		return nil
	}},
}

// publicOption reports whether the value of the option named name, as a
// URL writes it, holds no secret: a known option that is not secret.
func publicOption(name string) bool {
	o, ok := options[name]
	return ok && !o.secret
}

// query reads the options.
func (p *urlParser) query() *partError {
	seen := make(map[string]bool)
	var unknown []string
	for field := range strings.SplitSeq(p.u.query, "&") {
		if field == "" {
			continue
		}
		name, value, _ := strings.Cut(field, "=")
		o, ok := options[name]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		part := "option " + name
		switch {
		case seen[name] && !o.repeatable:
			return wrong(part, "given twice")
		case o.topologies != nil && !slices.Contains(o.topologies, p.scheme.topology):
			return wrong(part, "not for "+p.u.scheme+"://")
		case o.tls && p.tls == nil:
			return wrong(part, "only over TLS (rediss://)")
		}
		seen[name] = true
		v, err := url.QueryUnescape(value)
		if err != nil {
			return wrong(part, "holds a % that does not start a percent-encoded byte (write % as %25)")
		}
		if err := o.set(p, v); err != nil {
			return err
		}
	}
	if len(unknown) > 0 {
		return unknownOptions(unknown)
	}
	return nil
}

// unknownOptions is the error for options that ParseURL does not know.
// Their names are quoted, never their values.
func unknownOptions(names []string) *partError {
	known := slices.Sorted(maps.Keys(options))
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = strconv.Quote(n)
	}
	part := "option " + quoted[0]
	if len(names) > 1 {
		part = "options " + strings.Join(quoted, ", ")
	}
	return wrong(part, "unknown; the options are "+strings.Join(known, ", "))
}

// setDB reads the db option.
func (p *urlParser) setDB(v string) *partError {
	if p.pathDB {
		return wrong("option db", "the path gives the database already")
	}
	n, err := database(v)
	if err != nil {
		return wrong("option db", err.reason)
	}
	p.cfg.DB = n
	return nil
}

// setDuration reads a duration option: a Go duration such as 500ms, or a
// whole number of seconds (as go-redis reads them), that must be positive.
func setDuration(d *time.Duration, name, v string) *partError {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 && n <= math.MaxInt64/int64(time.Second) {
		*d = time.Duration(n) * time.Second
		return nil
	}
	dur, err := time.ParseDuration(v)
	if err != nil || dur <= 0 {
		return wrong("option "+name, strconv.Quote(v)+" is not a positive duration, such as 500ms, 3s or 3")
	}
	*d = dur
	return nil
}
