package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/feedsync/go-feedsync/feedsync"
)

// newFlagSet returns a flag set that reports errors to its caller instead
// of printing them: Run turns them into usage errors with a hint.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseArgs parses args with fs and returns the positional arguments.
// Unlike fs.Parse it accepts flags after positional arguments too, since
// users type "feedsync merge a.xml b.xml -o out.xml": it parses, takes one
// positional argument, and parses again. After "--" everything is
// positional; "-" (stdin) is an ordinary positional argument.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{msg: flagMessage(err.Error(), args)}
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagMessages are the flag package's errors that name a flag as "-NAME",
// and how we say them.
var flagMessages = []struct{ prefix, format string }{
	{"flag provided but not defined: -", "unknown flag %s"},
	{"flag needs an argument: -", "flag %s needs a value"},
	{"bad flag syntax: ", "bad flag syntax: %s"},
}

// flagMessage rewrites an error of the flag package so that it names the
// flag as the user typed it: "unknown flag --nope", not "flag provided but
// not defined: -nope" (the package always prints one dash).
func flagMessage(msg string, args []string) string {
	for _, m := range flagMessages {
		name, ok := strings.CutPrefix(msg, m.prefix)
		if !ok {
			continue
		}
		return fmt.Sprintf(m.format, typedFlag(name, args))
	}
	// invalid value "x" for flag -policy: ...
	if i := strings.Index(msg, " for flag -"); i >= 0 {
		rest := msg[i+len(" for flag -"):]
		name, cause, _ := strings.Cut(rest, ": ")
		return msg[:i] + " for " + typedFlag(name, args) + ": " + cause
	}
	return msg
}

// typedFlag returns the argument in args that gave the flag name, without
// any "=value": "--nope" or "-nope".
func typedFlag(name string, args []string) string {
	for _, a := range args {
		if a == "--" {
			break
		}
		flag, _, _ := strings.Cut(a, "=")
		if flag == "-"+name || flag == "--"+name {
			return flag
		}
	}
	return "-" + name
}

// wantArgs checks the number of positional arguments.
func wantArgs(pos []string, names ...string) error {
	switch {
	case len(pos) < len(names):
		return usagef("missing %s", strings.Join(names[len(pos):], " and "))
	case len(pos) > len(names):
		return usagef("unexpected argument %q", pos[len(names)])
	}
	return nil
}

// listFlag is a flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// formatFlag is --format rss|atom; the zero value means "not given".
type formatFlag struct{ f feedsync.Format }

func (f *formatFlag) String() string {
	if f.f == feedsync.FormatUnknown {
		return ""
	}
	return f.f.String()
}

func (f *formatFlag) Set(s string) error {
	v, err := feedsync.ParseFormat(strings.ToLower(s))
	if err != nil {
		return fmt.Errorf("%q is not a feed format: use rss or atom", s)
	}
	f.f = v
	return nil
}

// fileError says which file an error is about: "FILE: cause".
type fileError struct {
	name string
	err  error
}

func (e *fileError) Error() string {
	var se *feedsync.SyntaxError
	if errors.As(e.err, &se) && se.Line > 0 && e.err == error(se) {
		return fmt.Sprintf("%s: line %d: %s", e.name, se.Line, se.Msg)
	}
	return e.name + ": " + e.err.Error()
}

func (e *fileError) Unwrap() error { return e.err }

// inFile wraps err with the file it is about; "-" is standard input.
func inFile(name string, err error) error {
	if err == nil {
		return nil
	}
	var fe *fileError
	if errors.As(err, &fe) {
		return err
	}
	return &fileError{name: displayName(name), err: err}
}

func displayName(name string) string {
	if name == "-" {
		return "<stdin>"
	}
	return name
}
