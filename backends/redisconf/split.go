package redisconf

import (
	"strings"
)

// A splitted URL is a raw URL cut into its parts, still percent-encoded.
//
// The user information ends at the URL's last @, wherever it is: a
// password that holds an unescaped / ? or # then stays whole, so that
// ParseURL can refuse it without showing any of it, and the redacted URL
// hides all of it.
type splitted struct {
	raw string

	hasScheme bool
	scheme    string

	hasUserinfo bool
	user        string
	password    string
	pwStart     int // where the password starts in raw; -1 for none
	pwEnd       int

	hosts      string
	path       string
	query      string
	queryStart int // where the query starts in raw; -1 for none
	fragStart  int // where the fragment's # is in raw; -1 for none
}

// splitURL cuts raw into its parts.
func splitURL(raw string) splitted {
	u := splitted{raw: raw, pwStart: -1, queryStart: -1, fragStart: -1}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return u
	}
	u.hasScheme, u.scheme = true, scheme
	offset := len(scheme) + len("://")
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		u.hasUserinfo = true
		user, pw, hasPW := strings.Cut(rest[:at], ":")
		u.user = user
		if hasPW {
			u.password = pw
			u.pwStart, u.pwEnd = offset+len(user)+1, offset+at
		}
		rest = rest[at+1:]
		offset += at + 1
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		u.fragStart = offset + i
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		u.query, u.queryStart = rest[i+1:], offset+i+1
		rest = rest[:i]
	}
	u.hosts, u.path = rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		u.hosts, u.path = rest[:i], rest[i:]
	}
	return u
}

// redactedText replaces a secret in a printed URL.
const redactedText = "xxxxx"

// redacted returns the raw URL with what may be secret replaced by xxxxx:
// the password (found by position, as ParseURL reads it), the value of
// every option but those known to hold no secret (so sentinel_password's,
// and that of a misspelt one), and the fragment. It is "" for a URL with no
// valid scheme, whose parts cannot be told apart.
func (u splitted) redacted() string {
	if !u.hasScheme || !validScheme(u.scheme) {
		return ""
	}
	var b strings.Builder
	head := u.raw
	if u.queryStart >= 0 {
		head = u.raw[:u.queryStart]
	} else if u.fragStart >= 0 {
		head = u.raw[:u.fragStart]
	}
	if u.pwStart >= 0 {
		b.WriteString(head[:u.pwStart])
		b.WriteString(redactedText)
		b.WriteString(head[u.pwEnd:])
	} else {
		b.WriteString(head)
	}
	if u.queryStart >= 0 {
		for i, field := range strings.Split(u.query, "&") {
			if i > 0 {
				b.WriteByte('&')
			}
			name, _, hasValue := strings.Cut(field, "=")
			b.WriteString(name)
			if hasValue {
				b.WriteByte('=')
				if publicOption(name) {
					b.WriteString(field[len(name)+1:])
				} else {
					b.WriteString(redactedText)
				}
			}
		}
	}
	if u.fragStart >= 0 {
		b.WriteString("#" + redactedText)
	}
	return b.String()
}
