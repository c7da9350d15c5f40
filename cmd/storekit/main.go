// Command storekit reads, writes and watches the keys of a store, and runs
// storekit's walk-through demo.
//
//	storekit [flags] <command> [flags] [args]
//
//	storekit -redis localhost:6379 get user:1
//	storekit -redis localhost:6379 -o json keys 'user:*'
//	storekit -redis localhost:6379 watch 'user:*'         # until Ctrl-C
//	storekit -redis localhost:6379 config history example_config
//	storekit demo                                         # on the in-memory store
//	storekit demo -redis localhost:6379 -backend rueidis
//	storekit demo -url postgres://app@db:5432/app          # on PostgreSQL
//
// # Commands
//
//	get KEY               the value: its bytes as stored; -decode prints it
//	                      as JSON, read as the Python services write it
//	set KEY VALUE|-       write a value (- reads it from standard input);
//	                      -ttl DURATION gives it an expiry
//	del KEY               delete a key
//	ttl KEY               the time a key has left
//	keys PATTERN          the keys matching a Redis glob pattern, as SCAN
//	                      finds them (a key may show more than once)
//	watch PATTERN         changes to matching keys, as they happen, until
//	                      Ctrl-C or SIGTERM, -for DURATION or -n COUNT
//	config versions KEY   the latest version of a configuration
//	config history KEY    every version of a configuration that holds a value
//	config get KEY [N]    the latest version of a configuration, or version N
//	config watch PATTERN  changes to the configurations matching a pattern (or
//	                      a key), with their new versions
//	stats                 what the store tells about itself: the backend, its
//	                      capabilities and, on rueidis, the counters of this
//	                      process's client-side cache
//	demo                  walk through storekit, checking every result
//
// The config commands read what package configstore (and the Python
// RedisConfigStore) writes, under -prefix.
//
// # Connecting
//
// -backend memory|goredis|rueidis|postgres chooses the store (goredis by
// default, postgres for a PostgreSQL URL; the demo runs in memory unless
// -redis or -url is given). -url takes a Redis URL (redis://, rediss:// for
// TLS, unix://, redis+cluster:// with seeds, redis+sentinel:// with
// sentinels and a master name; see package redisconf) or a PostgreSQL URL
// (postgres:// or postgresql://, as pgx reads it), or else the environment
// variable STOREKIT_URL (not for the demo); otherwise -redis host:port names
// the server (localhost:6379 by default), -db the database and -user the ACL
// user. A password comes from the URL or the environment variable
// STOREKIT_REDIS_PASSWORD (for PostgreSQL: PGPASSWORD or ~/.pgpass) and is
// never printed. Flags go before or after the command; "--" ends them.
//
// On PostgreSQL the store is the table -pg-table (storekit by default) in
// the schema -pg-schema (public by default), the defaults of package
// postgres's Options. The demo creates that table when it is missing, as
// -pg-create makes the other commands do; without it they refuse a
// database that lacks it, since a wrong name would otherwise read as keys
// not found.
//
// # Output
//
// Text for people by default. With -o json every key, value, event or
// version is one JSON object on a line of its own, with these fields:
// "key"; "value" with "encoding" ("utf8", or "base64" when the bytes are not
// UTF-8); "json", the value decoded, with -decode; "version"; "op" (set,
// delete, expire, expired, append, other, resync for a watch; updated,
// deleted, failed for a configuration); "time"; "ttl_ms" (-1 for no expiry);
// "error". A key that is not UTF-8 is base64 with "key_encoding": "base64".
//
// # Exit codes
//
//	0  success
//	1  not found: the key or version does not exist
//	2  usage: an unknown command or flag, a bad argument
//	3  the store could not be used: unreachable, no answer in time,
//	   credentials or rights refused, no such database or table (PostgreSQL)
//	4  any other failure: a value of another kind or not JSON, a capability
//	   the store or server lacks, a demo step that did not do what it should
//	5  the demo skipped steps the store or server cannot run (it names the fix)
//
// Errors are printed once, to standard error, with the fix when there is one.
//
// # The demo
//
// The demo tells the story of storekit's README step by step, ending with
// the configuration store (package configstore), and checks every result.
// A step the store or server cannot run is skipped with its reason and the
// setting that would let it run; the summary counts the steps that passed,
// were skipped and failed. On Redis and PostgreSQL it touches only keys
// under its own random prefix and deletes them when it ends.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	// go-redis logs failed dials on its own; the errors say it once.
	redis.SetLogger(quietLogger{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// run runs the command line args and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv, open: openStore}
	return a.run(ctx, args)
}

// An app is one run of the command.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// open opens the store; tests give the commands a store of their own.
	open func(ctx context.Context, c connection, def string, status func(string)) (*opened, error)

	// The flags every command takes.
	conn    connection
	output  string
	timeout time.Duration
}

// registerCommon adds the flags every command takes to fs.
func (a *app) registerCommon(fs *flag.FlagSet) {
	a.conn.register(fs)
	fs.StringVar(&a.output, "o", a.output, "output: text or json (one JSON object per line)")
	fs.DurationVar(&a.timeout, "timeout", a.timeout,
		"time limit for connecting and the command (watch: for connecting; demo: for the whole demo)")
}

func (a *app) run(ctx context.Context, args []string) int {
	a.output, a.timeout = "text", 30*time.Second
	fs := a.flagSet("storekit")
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		a.usage(fs)
	case err != nil:
		err = usagef("%v", err)
	default:
		err = a.dispatch(ctx, fs, fs.Args())
	}
	return a.exit(err)
}

// exit prints err, once, and returns its exit code.
func (a *app) exit(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errReported):
		return exitCode(err)
	}
	fmt.Fprintln(a.stderr, "storekit:", err)
	if fix := fixOf(err); fix != "" {
		fmt.Fprintln(a.stderr, "fix:", fix)
	}
	var usage *usageError
	if errors.As(err, &usage) {
		fmt.Fprintln(a.stderr, "Run 'storekit -h' for usage.")
	}
	return exitCode(err)
}

// errReported marks an error whose story the output already told.
var errReported = errors.New("reported")

// flagSet returns a flag set named name that reports its errors as usage
// errors, printing nothing itself but -h.
func (a *app) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a.registerCommon(fs)
	return fs
}

// usage prints the help of -h to standard output.
func (a *app) usage(fs *flag.FlagSet) {
	fmt.Fprint(a.stdout, "usage: storekit [flags] <command> [flags] [args]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(a.stdout, "  %-26s %s\n", c.name+" "+c.args, c.summary)
	}
	fmt.Fprint(a.stdout, "\nFlags (before or after the command; -- ends them):\n")
	fs.SetOutput(a.stdout)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	fmt.Fprintf(a.stdout, "\nThe Redis password comes from $%s and is never printed.\n"+
		"On PostgreSQL (-url postgres://...) the demo creates its table; the other commands need it, or -pg-create.\n"+
		"Run 'storekit <command> -h' for a command's own flags.\n\n%s", envPassword, exitCodes)
}

// dispatch runs the command args names.
func (a *app) dispatch(ctx context.Context, global *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return usagef("no command given")
	}
	name := args[0]
	if name == "help" {
		a.usage(global)
		return nil
	}
	if name == "config" && len(args) > 1 {
		name += " " + args[1]
		args = args[1:]
	}
	for _, c := range commands {
		if c.name == name {
			return a.runCommand(ctx, c, args[1:])
		}
	}
	return usagef("unknown command %q", name)
}
