// Command rediscontainer runs a Redis server in a container through
// testcontainers-go for the redistest harness, its last resort when neither
// STOREKIT_REDIS_ADDR nor a redis-server binary gives it a server; with
// -kind postgres it runs a PostgreSQL server instead, the last resort of
// the pgtest harness of the PostgreSQL backend. It is a module of its own,
// so that testcontainers, the Docker client and what they need stay out of
// storekit's module graphs: the harnesses run it with `go run .` in this
// directory.
//
// Usage:
//
//	go run . [-image IMAGE] [-- redis-server argument ...]
//	go run . -kind postgres [-image IMAGE] [-- postgres argument ...]
//
// A PostgreSQL container (of the official image, postgres:15 by default)
// trusts every connection (POSTGRES_HOST_AUTH_METHOD=trust), so that the
// user postgres logs in without a password, and counts as ready once its
// log says it accepts connections for the second time (the image's first
// start of the server only initialises it) and its port 5432 answers.
//
// It writes exactly one line to standard output, then keeps quiet there:
//
//   - "addr HOST:PORT" once the server in the container is ready; the
//     container then runs until standard input closes or a SIGTERM or
//     SIGINT arrives, when it is removed and the command exits 0;
//   - "unavailable REASON" when no Docker engine answers, and it exits 0;
//   - "error MESSAGE" when the container cannot be started, and it exits 1.
//
// A line that never comes means the command did not build or run; what went
// wrong is on standard error, where testcontainers also logs.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	stdlog "log"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	tcredis "github.com/testcontainers/testcontainers-go/modules/redis"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Bounds of the steps, generous for a busy machine: they catch a hang.
const (
	healthTimeout    = 10 * time.Second
	terminateTimeout = 30 * time.Second
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the command with its arguments and streams, and returns the exit
// status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("rediscontainer", flag.ContinueOnError)
	flags.SetOutput(stderr)
	kind := flags.String("kind", "redis", "the server to run: redis or postgres")
	image := flags.String("image", "", "the image to run (default redis:7.0, or postgres:15 with -kind postgres)")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	starter, ok := starters[*kind]
	if !ok {
		fmt.Fprintf(stderr, "rediscontainer: -kind %q: want redis or postgres\n", *kind)
		return 2
	}
	if *image == "" {
		*image = starter.image
	}
	tclog.SetDefault(stdlog.New(stderr, "", stdlog.LstdFlags))

	// Standard input closing means the harness is gone or done.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		cancel()
	}()

	if reason := dockerUnavailable(ctx); reason != "" {
		fmt.Fprintf(stdout, "unavailable no Docker engine for testcontainers: %s\n", oneLine(reason))
		return 0
	}
	addr, ctr, err := starter.start(ctx, *image, flags.Args())
	defer func() {
		if err := terminate(ctr); err != nil {
			fmt.Fprintf(stderr, "rediscontainer: %v\n", err)
		}
	}()
	if err != nil {
		fmt.Fprintf(stdout, "error %s\n", oneLine(err.Error()))
		return 1
	}
	fmt.Fprintf(stdout, "addr %s\n", addr)
	<-ctx.Done()
	return 0
}

// oneLine returns msg with its line breaks turned into "; ", for the
// command's one line of output.
func oneLine(msg string) string {
	return strings.Join(strings.FieldsFunc(msg, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
}

// dockerUnavailable returns why testcontainers cannot reach a Docker
// engine, or "" if one answers.
func dockerUnavailable(ctx context.Context) (reason string) {
	defer func() {
		if r := recover(); r != nil {
			reason = fmt.Sprintf("testcontainers panicked looking for Docker: %v", r)
		}
	}()
	provider, err := testcontainers.ProviderDefault.GetProvider()
	if err != nil {
		return err.Error()
	}
	defer provider.Close()
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	if err := provider.Health(ctx); err != nil {
		return err.Error()
	}
	return ""
}

// A starter starts one kind of server: start runs it with serverArgs in a
// container of image and returns its host:port once it is ready, and the
// container, which may be set even on an error; image is the default one.
type starter struct {
	image string
	start func(ctx context.Context, image string, serverArgs []string) (string, testcontainers.Container, error)
}

// starters holds the starter of each value of -kind.
var starters = map[string]starter{
	"redis":    {image: "redis:7.0", start: startRedis},
	"postgres": {image: "postgres:15", start: startPostgres},
}

// startRedis runs redis-server with serverArgs in a container of image.
func startRedis(ctx context.Context, image string, serverArgs []string) (string, testcontainers.Container, error) {
	ctr, err := tcredis.Run(ctx, image,
		testcontainers.WithCmd(append([]string{"redis-server"}, serverArgs...)...))
	if ctr == nil {
		// A nil *RedisContainer in the interface would not compare equal
		// to nil in terminate.
		return "", nil, fmt.Errorf("start a %s container: %w", image, err)
	}
	if err != nil {
		return "", ctr, fmt.Errorf("start a %s container: %w", image, err)
	}
	uri, err := ctr.ConnectionString(ctx)
	if err != nil {
		return "", ctr, fmt.Errorf("the %s container's address: %w", image, err)
	}
	u, err := url.Parse(uri)
	if err != nil {
		return "", ctr, fmt.Errorf("the %s container's address %q: %w", image, uri, err)
	}
	if u.Host == "" {
		return "", ctr, fmt.Errorf("the %s container's address %q has no host:port", image, uri)
	}
	return u.Host, ctr, nil
}

// postgresPort is the port the postgres image's server listens on.
const postgresPort = "5432/tcp"

// startPostgres runs postgres with serverArgs in a container of image.
func startPostgres(ctx context.Context, image string, serverArgs []string) (string, testcontainers.Container, error) {
	opts := []testcontainers.ContainerCustomizer{
		testcontainers.WithExposedPorts(postgresPort),
		testcontainers.WithEnv(map[string]string{"POSTGRES_HOST_AUTH_METHOD": "trust"}),
		testcontainers.WithWaitStrategy(
			wait.ForLog("database system is ready to accept connections").WithOccurrence(2),
			wait.ForListeningPort(postgresPort)),
	}
	if len(serverArgs) > 0 {
		opts = append(opts, testcontainers.WithCmd(append([]string{"postgres"}, serverArgs...)...))
	}
	ctr, err := testcontainers.Run(ctx, image, opts...)
	if ctr == nil {
		return "", nil, fmt.Errorf("start a %s container: %w", image, err)
	}
	if err != nil {
		return "", ctr, fmt.Errorf("start a %s container: %w", image, err)
	}
	addr, err := ctr.PortEndpoint(ctx, postgresPort, "")
	if err != nil {
		return "", ctr, fmt.Errorf("the %s container's address: %w", image, err)
	}
	return addr, ctr, nil
}

// terminate removes ctr, if there is one, within terminateTimeout.
func terminate(ctr testcontainers.Container) error {
	if ctr == nil {
		return nil
	}
	return testcontainers.TerminateContainer(ctr, testcontainers.StopTimeout(terminateTimeout))
}
