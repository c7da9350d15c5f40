package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"
)

// A command is one of storekit's commands.
type command struct {
	name, args, summary string
	// min and max bound the number of arguments.
	min, max int
	// backend is the default backend: goredis, or memory for the demo.
	backend string
	// endless commands run until stopped: -timeout bounds their connecting
	// only.
	endless bool
	// flags adds the command's own flags, which set f.
	flags func(fs *flag.FlagSet, f *cmdFlags)
	run   func(ctx context.Context, a *app, s *opened, args []string, f *cmdFlags) error
}

// cmdFlags are the flags of single commands.
type cmdFlags struct {
	decode bool          // get, config get, config history: print values as JSON
	ttl    time.Duration // set: expiry
	stopAt time.Duration // watch: -for
	count  int           // watch: -n
	prefix string        // config: the config store's prefix
}

func decodeFlag(fs *flag.FlagSet, f *cmdFlags) {
	fs.BoolVar(&f.decode, "decode", false, "print the value as JSON, read as the Python services write it")
	fs.BoolVar(&f.decode, "json", false, "the same as -decode")
}

func watchFlags(fs *flag.FlagSet, f *cmdFlags) {
	fs.DurationVar(&f.stopAt, "for", 0, "stop after this long (default: until Ctrl-C or SIGTERM)")
	fs.IntVar(&f.count, "n", 0, "stop after this many changes (resyncs not counted; default: no limit)")
}

func configFlags(fs *flag.FlagSet, f *cmdFlags) {
	fs.StringVar(&f.prefix, "prefix", "", "the config store's key prefix (configstore.Options.Prefix)")
}

func configDecodeFlags(fs *flag.FlagSet, f *cmdFlags) {
	configFlags(fs, f)
	decodeFlag(fs, f)
}

func configWatchFlags(fs *flag.FlagSet, f *cmdFlags) {
	configFlags(fs, f)
	watchFlags(fs, f)
}

// commands are storekit's commands, in the order of -h.
var commands = []command{
	{name: "get", args: "KEY", summary: "print the value of KEY (-decode: as JSON)", min: 1, max: 1, flags: decodeFlag, run: get},
	{name: "set", args: "KEY VALUE|-", summary: "write a value (-: from standard input; -ttl: an expiry)", min: 2, max: 2,
		flags: func(fs *flag.FlagSet, f *cmdFlags) {
			fs.DurationVar(&f.ttl, "ttl", 0, "give the key this expiry (default: none)")
		}, run: set},
	{name: "del", args: "KEY", summary: "delete KEY", min: 1, max: 1, run: del},
	{name: "ttl", args: "KEY", summary: "print the time KEY has left", min: 1, max: 1, run: ttl},
	{name: "keys", args: "PATTERN", summary: "list the keys matching a Redis glob pattern (SCAN)", min: 1, max: 1, run: keys},
	{name: "watch", args: "PATTERN", summary: "print changes to matching keys as they happen", min: 1, max: 1,
		endless: true, flags: watchFlags, run: watch},
	{name: "config versions", args: "KEY", summary: "print the latest version of a configuration", min: 1, max: 1,
		flags: configFlags, run: configVersions},
	{name: "config history", args: "KEY", summary: "print every version of a configuration", min: 1, max: 1,
		flags: configDecodeFlags, run: configHistory},
	{name: "config get", args: "KEY [VERSION]", summary: "print a configuration, the latest version or VERSION", min: 1, max: 2,
		flags: configDecodeFlags, run: configGet},
	{name: "config watch", args: "PATTERN", summary: "print changes to configurations as they happen", min: 1, max: 1,
		endless: true, flags: configWatchFlags, run: configWatch},
	{name: "stats", summary: "print what the store tells about itself", run: stats},
	{name: "demo", summary: "walk through storekit (in memory unless -redis or -url is given)", backend: "memory", run: runDemo},
}

// runCommand parses the command's flags and arguments, opens the store and
// runs the command.
func (a *app) runCommand(ctx context.Context, c command, args []string) (err error) {
	fs := a.flagSet("storekit " + c.name)
	var f cmdFlags
	if c.flags != nil {
		c.flags(fs, &f)
	}
	pos, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(a.stdout, "usage: storekit %s %s\n\n%s.\n\nFlags:\n", c.name, c.args, c.summary)
		fs.SetOutput(a.stdout)
		fs.PrintDefaults()
		return nil
	}
	if err != nil {
		return usagef("%s: %v", c.name, err)
	}
	switch {
	case len(pos) < c.min:
		return usagef("%s: want %s", c.name, c.args)
	case len(pos) > c.max:
		return usagef("%s: unexpected arguments %q", c.name, pos[c.max:])
	case a.output != "text" && a.output != "json":
		return usagef("-o %q: want text or json", a.output)
	}
	a.conn.password = a.getenv(envPassword)
	a.conn.creates = c.name == "demo"
	// The demo runs in memory unless told otherwise on its command line.
	if a.conn.url == "" && !a.conn.addr.set && c.name != "demo" {
		a.conn.url = a.getenv(envURL)
	}

	backend := c.backend
	if backend == "" {
		backend = "goredis"
	}
	cmdCtx, cancel := ctx, context.CancelFunc(func() {})
	if !c.endless {
		cmdCtx, cancel = context.WithTimeout(ctx, a.timeout)
	}
	defer cancel()
	openCtx, cancelOpen := context.WithTimeout(cmdCtx, a.timeout)
	defer cancelOpen()
	status := func(string) {}
	if c.name == "demo" {
		status = func(s string) { fmt.Fprintln(a.stdout, s+" ...") }
	}
	s, err := a.open(openCtx, a.conn, backend, status)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.close(); err == nil {
			err = cerr
		}
	}()
	return c.run(cmdCtx, a, s, pos, &f)
}

// parseArgs parses fs's flags wherever they stand among args, so that
// "get KEY -o json" works as "get -o json KEY", and returns the other
// arguments. "--" ends the flags.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
