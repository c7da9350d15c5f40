package redisconf

import (
	"errors"
	"strings"
	"testing"

	"github.com/cledar/storekit/kv"
)

// FuzzParseURL parses scheme://user:password@rest and rest alone: ParseURL
// never panics, fails only with a *URLError wrapping kv.ErrInvalid, returns
// only Configs that Validate accepts and whose printed URL it reads back to
// the same Config; and when the password holds a ~ and nothing else does
// (so that any ~ printed comes from it), neither the error nor the printed
// Config holds a ~.
func FuzzParseURL(f *testing.F) {
	for _, seed := range [][4]string{
		{"redis", "app", secret, "cache:6379/1?dial_timeout=3s"},
		{"rediss", "", secret, "[::1]:7000?skip_verify=true&tls_server_name=x"},
		{"unix", "app", secret, "/run/redis.sock?db=2"},
		{"redis+cluster", "app", secret, "n1:7000,n2?addr=n3:7002"},
		{"redis+sentinel", "app", secret, "s1,s2:26380/mymaster/2?sentinel_password=sp&sentinel_username=w"},
		{"redis", "app", "pw~/x", "cache"},
		{"redis", "a:b", "pw~?x", "cache#x"},
		{"redis", "app", "pw~%zz", "cache?db=x"},
		{"redis+sentinel", "app", "pw~", "s1/m?sentinel_password=%zz&x=1"},
		{"REDIS", "app", "p@ss~", "h:0"},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}
	f.Fuzz(func(t *testing.T, scheme, user, password, rest string) {
		raw := scheme + "://" + user + ":" + password + "@" + rest
		cfg, err := checkParse(t, raw)
		public := strings.ToLower(scheme + user + rest)
		if !strings.Contains(password, "~") || strings.Contains(public, "~") || strings.Contains(public, "%7e") ||
			strings.Contains(scheme+user+password, "://") {
			checkParse(t, rest)
			return
		}
		if err != nil && strings.Contains(err.Error(), "~") {
			t.Errorf("ParseURL(%q): the error shows the password: %v", raw, err)
		}
		if err == nil && strings.Contains(cfg.String()+cfg.GoString(), "~") {
			t.Errorf("ParseURL(%q): the Config prints its password: %v", raw, cfg)
		}
		checkParse(t, rest)
	})
}

// checkParse parses raw and checks what every result of ParseURL must be.
func checkParse(t *testing.T, raw string) (Config, error) {
	t.Helper()
	cfg, err := ParseURL(raw)
	if err != nil {
		var ue *URLError
		if !errors.Is(err, kv.ErrInvalid) || !errors.As(err, &ue) || ue.Part == "" || ue.Reason == "" {
			t.Errorf("ParseURL(%q): %v, want a *URLError wrapping kv.ErrInvalid", raw, err)
		}
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("ParseURL(%q) = %v, which Validate refuses: %v", raw, cfg, err)
	}
	printed := cfg.Redacted()
	back, err := ParseURL(printed)
	if err != nil {
		t.Errorf("ParseURL(%q) prints as %q, which it cannot read: %v", raw, printed, err)
	} else if back.Redacted() != printed {
		t.Errorf("ParseURL(%q) prints as %q, read back as %q", raw, printed, back.Redacted())
	}
	return cfg, nil
}
