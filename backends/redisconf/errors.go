package redisconf

import (
	"strconv"
	"strings"

	"github.com/cledar/storekit/kv"
)

// A URLError is the error of [ParseURL] for a URL it cannot read. It wraps
// [kv.ErrInvalid]. Its text, such as
//
//	redisconf: invalid Redis URL "redis://app:xxxxx@cache:63790/0": port: "63790" is not a number between 1 and 65535
//
// names the part that is wrong and why, and never holds a password.
type URLError struct {
	// URL is the URL with its password, the values of options that may
	// be secret and its fragment replaced by xxxxx; it is empty when the
	// URL has no valid scheme, since its parts cannot then be told apart.
	URL string
	// Part is what is wrong: "scheme", "user name", "password", "host",
	// "port", "database", "master name", "path", "fragment", or an option
	// such as "option dial_timeout".
	Part string
	// Reason says what is wrong with Part.
	Reason string
}

func (e *URLError) Error() string {
	var b strings.Builder
	b.WriteString("redisconf: invalid Redis URL")
	if e.URL != "" {
		b.WriteString(" ")
		b.WriteString(strconv.Quote(e.URL))
	}
	b.WriteString(": ")
	b.WriteString(e.Part)
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// Unwrap returns kv.ErrInvalid.
func (e *URLError) Unwrap() error { return kv.ErrInvalid }

// RedactError returns err with c's passwords (Password and
// SentinelPassword) replaced by xxxxx in its text, or err itself when its
// text holds neither; it unwraps to err, so that errors.Is and errors.As
// see what err holds. It returns nil for a nil err. The Redis backends pass
// the errors of the clients they build from c through it.
func (c Config) RedactError(err error) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	for _, pw := range []string{c.Password, c.SentinelPassword} {
		if pw != "" {
			text = strings.ReplaceAll(text, pw, redactedText)
		}
	}
	if text == err.Error() {
		return err
	}
	return &redactedError{text: text, err: err}
}

// A redactedError is an error whose text had passwords removed.
type redactedError struct {
	text string
	err  error
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }
