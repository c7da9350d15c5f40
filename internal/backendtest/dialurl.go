package backendtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// A URLDialer is a backend's DialURL with default options; it returns a
// nil store with an error.
type URLDialer func(ctx context.Context, rawURL string) (kv.Store, error)

// URLDialerOf adapts a backend's DialURL to a [URLDialer].
func URLDialerOf[S kv.Store, O any](dial func(context.Context, string, *O) (S, error)) URLDialer {
	return func(ctx context.Context, rawURL string) (kv.Store, error) {
		s, err := dial(ctx, rawURL, nil)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// selectGet is a script that reads KEYS[1] in database ARGV[1], so that a
// test sees where a store wrote.
const selectGet = "redis.call('SELECT', ARGV[1]) return redis.call('GET', KEYS[1])"

// writeIn checks that s writes key where srv keeps database db.
func writeIn(t *testing.T, s kv.Store, srv *redistest.Server, db int, key string) {
	t.Helper()
	ctx := Context(t)
	if err := s.Set(ctx, key, []byte("v-"+key)); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
	if v, err := srv.Do("EVAL", selectGet, "1", key, strconv.Itoa(db)); err != nil || v != "v-"+key {
		t.Errorf("GET %q in database %d of %s = %v, %v; want what the store wrote", key, db, srv.Addr(), v, err)
	}
}

// mustDial dials rawURL, failing the test on an error, and closes the store
// when the test ends.
func mustDial(t *testing.T, dial URLDialer, rawURL string) kv.Store {
	t.Helper()
	s, err := dial(Context(t), rawURL)
	if err != nil {
		t.Fatalf("DialURL(%q): %v", rawURL, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// checkDialFails checks that dialling rawURL fails as [CheckDialError]
// says, with an error wrapping want.
func checkDialFails(t *testing.T, backend string, dial URLDialer, rawURL string, want error, password string) {
	t.Helper()
	s, err := dial(Context(t), rawURL)
	if s != nil {
		_ = s.Close()
	}
	CheckDialError(t, backend, err, want, password)
	t.Logf("DialURL: %v", err)
}

// RunDialURL checks a backend's DialURL (dial) and Dial (b.Dial) of a
// Config that ParseURL read, against servers of their own: an ACL user
// writes in the database the URL names and a store of database 0 does not
// see it; a wrong password, an unknown user, a port where nothing listens
// and a URL that cannot be read fail at once with kv.ErrPermission,
// kv.ErrUnavailable and kv.ErrInvalid, without the password; a Unix
// socket; and TLS (with redis-server's --tls-port): a certificate of an
// unknown authority or of another name is refused, skip_verify accepts it,
// and a Config whose TLS trusts the certificate's CA, with the
// certificate's name in tls_server_name, verifies it.
func RunDialURL(t *testing.T, b Backend, dial URLDialer) {
	t.Run("ACLUserAndDatabase", func(t *testing.T) {
		const password, userPW = "server-pw-0c4d", "app-pw-hunter2-91b"
		srv := redistest.Start(t, &redistest.Options{Password: password})
		srv.MustDo("ACL", "SETUSER", "app", "on", ">"+userPW, "~*", "+@all")
		url := "redis://app:" + userPW + "@" + srv.Addr()
		writeIn(t, mustDial(t, dial, url+"/3?dial_timeout=5s&read_timeout=5&write_timeout=5s"), srv, 3, "url:db3")
		db0 := mustDial(t, dial, url)
		if _, err := db0.Get(Context(t), "url:db3"); !errors.Is(err, kv.ErrNotFound) {
			t.Errorf("Get in database 0 of a key written in database 3: err = %v, want kv.ErrNotFound", err)
		}
		checkDialFails(t, b.Name, dial, "redis://app:wrong-"+userPW+"@"+srv.Addr()+"/3", kv.ErrPermission, userPW)
		checkDialFails(t, b.Name, dial, "redis://nobody:"+userPW+"@"+srv.Addr(), kv.ErrPermission, userPW)
		checkDialFails(t, b.Name, dial, "redis://:"+userPW+"@"+closedAddr(t), kv.ErrUnavailable, userPW)
		s, err := dial(Context(t), "redis://app:"+userPW+"@"+srv.Addr()+"/3?pool_size=10")
		if s != nil || !errors.Is(err, kv.ErrInvalid) || strings.Contains(err.Error(), userPW) {
			t.Errorf("DialURL with an unknown option = %v, %v; want kv.ErrInvalid without the password", s, err)
		}
	})
	t.Run("UnixSocket", func(t *testing.T) {
		socket := filepath.Join(t.TempDir(), "redis.sock")
		srv := redistest.Start(t, &redistest.Options{Args: []string{"--unixsocket", socket, "--unixsocketperm", "700"}})
		writeIn(t, mustDial(t, dial, "unix://"+socket+"?db=2"), srv, 2, "url:unix")
	})
	t.Run("TLS", func(t *testing.T) { runDialTLS(t, b, dial) })
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// runDialTLS is RunDialURL's TLS test.
func runDialTLS(t *testing.T, b Backend, dial URLDialer) {
	dir := t.TempDir()
	certFile, keyFile, roots := writeCert(t, dir, "redis.test")
	// The plain port stays, for the harness to see the server up.
	tlsAddr := closedAddr(t)
	_, tlsPort := SplitHostPort(t, tlsAddr)
	srv := redistest.Start(t, &redistest.Options{Args: []string{
		"--tls-port", strconv.Itoa(tlsPort), "--tls-cert-file", certFile, "--tls-key-file", keyFile,
		"--tls-ca-cert-file", certFile, "--tls-auth-clients", "no",
	}})

	checkDialFails(t, b.Name, dial, "rediss://"+tlsAddr, kv.ErrUnavailable, "no-password")
	writeIn(t, mustDial(t, dial, "rediss://"+tlsAddr+"/1?skip_verify=true"), srv, 1, "url:tls-unverified")

	dialTrusting := func(rawURL string) (kv.Store, error) {
		cfg, err := redisconf.ParseURL(rawURL)
		if err != nil {
			t.Fatal(err)
		}
		cfg.TLS.RootCAs = roots
		return b.Dial(Context(t), cfg)
	}
	// The certificate is for redis.test, not 127.0.0.1.
	if s, err := dialTrusting("rediss://" + tlsAddr); err == nil {
		_ = s.Close()
		t.Error("Dial of a server whose certificate names another host succeeded")
	}
	s, err := dialTrusting("rediss://" + tlsAddr + "/4?tls_server_name=redis.test")
	if err != nil {
		t.Fatalf("Dial with the CA and the certificate's name: %v", err)
	}
	defer s.Close()
	writeIn(t, s, srv, 4, "url:tls-verified")
}

// writeCert writes a self-signed certificate for name and its key into dir,
// and returns their files and a pool that trusts the certificate.
func writeCert(t *testing.T, dir, name string) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		DNSNames:              []string{name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", keyDER)
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}

// writePEM writes one PEM block to file.
func writePEM(t *testing.T, file, blockType string, der []byte) {
	t.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// RunDialURLCluster checks a backend's DialURL of a redis+cluster:// URL on
// a local three-master cluster, with two seeds in the host part and one in
// an addr option: every master's keys are written where the cluster keeps
// them. A redis+cluster:// URL of a server that is not a cluster node fails
// with kv.ErrNotSupported.
func RunDialURLCluster(t *testing.T, b Backend, dial URLDialer) {
	cl := redistest.StartCluster(t, 3)
	addrs := cl.Addrs()
	s := mustDial(t, dial, "redis+cluster://"+addrs[0]+","+addrs[1]+"?addr="+addrs[2]+"&dial_timeout=5s")
	for _, k := range KeyPerMaster(len(addrs), "url:") {
		writeIn(t, s, cl.MasterOf(k), 0, k)
	}
	srv := redistest.Start(t, nil)
	s, err := dial(Context(t), "redis+cluster://"+srv.Addr())
	if err == nil {
		_ = s.Close()
		t.Fatalf("DialURL of redis+cluster:// at a server without cluster support succeeded")
	}
	if !strings.HasPrefix(err.Error(), b.Name+": could not initialize Redis client: ") || !errors.Is(err, kv.ErrNotSupported) ||
		!strings.Contains(err.Error(), "cluster support") {
		t.Errorf("DialURL of redis+cluster:// at a server without cluster support: %v", err)
	}
	t.Logf("redis+cluster:// of a server without cluster support: %v", err)
}

// RunDialURLSentinel checks a backend's DialURL of a redis+sentinel:// URL
// on a master, a replica and three sentinels that let in an ACL user
// (sentinel_username and sentinel_password): the store writes in the
// master's database that the URL names; a wrong sentinel password or master
// name fails, without the password.
func RunDialURLSentinel(t *testing.T, b Backend, dial URLDialer) {
	sn := redistest.StartSentinel(t, nil)
	const watchPW = "watch-pw-hunter2-77e"
	for _, s := range sn.Sentinels {
		s.MustDo("ACL", "SETUSER", "watcher", "on", ">"+watchPW, "allcommands", "allkeys", "allchannels")
	}
	hosts := strings.Join(sn.SentinelAddrs(), ",")
	url := "redis+sentinel://" + hosts + "/" + sn.MasterName() + "/2?sentinel_username=watcher&sentinel_password="
	writeIn(t, mustDial(t, dial, url+watchPW), sn.Master(), 2, "url:sentinel")

	for _, bad := range []string{url + "wrong-" + watchPW, "redis+sentinel://" + hosts + "/no-such-master?sentinel_username=watcher&sentinel_password=" + watchPW} {
		s, err := dial(Context(t), bad)
		if err == nil {
			_ = s.Close()
			t.Errorf("DialURL(%q) succeeded", bad)
			continue
		}
		if !strings.HasPrefix(err.Error(), b.Name+": could not initialize Redis client: ") || strings.Contains(err.Error(), watchPW) {
			t.Errorf("DialURL of a wrong sentinel password or master name: %v", err)
		}
		t.Logf("DialURL: %v", err)
	}
}

// RunDialURLDeadlines runs [RunDeadlines] on stores that dial makes from
// URLs with timeouts of 30 seconds: every call returns by its context's
// deadline all the same.
func RunDialURLDeadlines(t *testing.T, dial URLDialer) {
	RunDeadlines(t, func(t *testing.T, addr string) kv.Store {
		return mustDial(t, dial, "redis://"+addr+"?dial_timeout=30s&read_timeout=30s&write_timeout=30s")
	})
}
