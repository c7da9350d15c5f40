// Command storekit runs storekit's walk-through demo.
//
//	storekit demo                       # on the in-memory store
//	storekit demo -redis 127.0.0.1:6379 # on Redis, through go-redis
//	storekit demo -redis 127.0.0.1:6379 -backend rueidis
//
// The demo tells the story of storekit's README step by step, ending with
// the configuration store (package configstore), checks every result, and
// exits non-zero at the first step that does not do what it should. On
// Redis it touches only keys under its own random prefix and deletes them
// when it ends.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "storekit:", err)
		os.Exit(1)
	}
}

const usage = `usage: storekit <command> [flags]

commands:
  demo    walk through storekit on a store (in-memory by default)

Run 'storekit demo -h' for the demo's flags.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg backendConfig
	fs.StringVar(&cfg.backend, "backend", "", "store to use: memory, goredis or rueidis (default memory, or goredis when -redis is set)")
	fs.StringVar(&cfg.addr, "redis", "", "Redis address host:port; selects the goredis backend unless -backend says otherwise")
	fs.IntVar(&cfg.db, "db", 0, "Redis database number")
	fs.StringVar(&cfg.username, "user", "", "Redis ACL user name (the password comes from $STOREKIT_REDIS_PASSWORD)")
	fs.BoolVar(&cfg.enableEvents, "enable-keyspace-events", false, "let the watch and config store steps turn on the Redis keyspace notifications they need (CONFIG SET)")
	timeout := fs.Duration("timeout", 30*time.Second, "time limit for the whole demo")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("demo: unexpected arguments %q", fs.Args())
	}
	cfg.password = os.Getenv("STOREKIT_REDIS_PASSWORD")

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	store, name, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	d := &demo{out: stdout, store: store, prefix: demoPrefix()}
	d.newWriter = func(ctx context.Context) (*outsideWriter, error) { return openOutsideWriter(ctx, cfg, store) }
	fmt.Fprintf(stdout, "storekit demo on %s (keys under %q)\n", name, d.prefix)
	err = d.run(ctx)
	if cerr := d.cleanup(); err == nil {
		err = cerr
	}
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "demo finished: every step did what it should")
	return nil
}
