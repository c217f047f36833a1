package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// Exit codes.
const (
	exitOK          = 0   // the command did what was asked
	exitProblem     = 1   // it worked and found a problem (validate, verify; conflicts or rejections with --fail-on-*)
	exitUsage       = 2   // the command line or an input was wrong
	exitInterrupted = 130 // stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report Ctrl-C)
)

// command is one entry of the command table.
type command struct {
	name    string
	summary string
	new     func(m *Main) runner
}

// runner is what each subcommand implements, one per file.
type runner interface {
	// Run runs the command with the arguments that follow its name.
	Run(ctx context.Context, args []string) error
	// Usage prints the command's help to Main.Stdout.
	Usage()
	// flags returns the command's flag set, bound to fields of the
	// command. Usage must mention every flag (a test checks it).
	flags() *flag.FlagSet
}

// commands is the command table, in the order "feedsync help" lists them.
// To add a command, write NAME.go with a type implementing runner and add
// one line here.
var commands = []command{
	{"produce", "make or refresh a feed from JSON Lines data", func(m *Main) runner { return &ProduceCommand{m: m} }},
	{"convert", "make a FeedSync feed from a plain RSS, Atom or JSON feed, or upgrade SSE 0.93", func(m *Main) runner { return &ConvertCommand{m: m} }},
	{"merge", "merge another endpoint's feed into yours", func(m *Main) runner { return &MergeCommand{m: m} }},
	{"create", "add an item to a feed", func(m *Main) runner { return &CreateCommand{m: m} }},
	{"update", "change the fields of an item", func(m *Main) runner { return &UpdateCommand{m: m} }},
	{"delete", "delete an item (it stays as a tombstone)", func(m *Main) runner { return &DeleteCommand{m: m} }},
	{"conflicts", "list items with conflicting versions", func(m *Main) runner { return &ConflictsCommand{m: m} }},
	{"resolve", "settle an item's conflicts by keeping one version", func(m *Main) runner { return &ResolveCommand{m: m} }},
	{"validate", "check a feed and list every problem", func(m *Main) runner { return &ValidateCommand{m: m} }},
	{"show", "list items with their sync metadata", func(m *Main) runner { return &ShowCommand{m: m} }},
	{"verify", "tell whether two feeds or stores hold the same items", func(m *Main) runner { return &VerifyCommand{m: m} }},
	{"export", "write a plain feed for ordinary readers: live items only", func(m *Main) runner { return &ExportCommand{m: m} }},
	{"compact", "thin histories and tombstones, and forget old deletions", func(m *Main) runner { return &CompactCommand{m: m} }},
	{"serve", "serve stores over HTTP for other endpoints to sync with", func(m *Main) runner { return &ServeCommand{m: m} }},
	{"sync", "sync a store or feed file with a server, both ways", func(m *Main) runner { return &SyncCommand{m: m} }},
	{"version", "print the version of feedsync", func(m *Main) runner { return &VersionCommand{m: m} }},
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func main() {
	m := NewMain()
	// SIGINT (Ctrl-C) and SIGTERM (kill, service managers) both cancel ctx:
	// the command stops at the next item, removes its temporary file or
	// rolls back its transaction, and exits 130 saying "interrupted". A
	// second signal is not caught, so it ends a command that is stuck.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	err := m.Run(ctx, os.Args[1:])
	stop()
	os.Exit(m.Report(err))
}

// Main is the program: its streams, environment and clock are fields so
// tests can run it with buffers, a fake environment and a fixed time.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment: FEEDSYNC_BY, and XDG_CONFIG_HOME or
	// HOME for the endpoint file (see endpoint.go).
	Getenv func(string) string
	// Now is the clock that stamps history entries (FS-HIST-3).
	Now func() time.Time

	// forceProgress shows progress lines even when Stderr is not a
	// terminal, with Now as their clock (tests).
	forceProgress bool
}

// NewMain returns a Main wired to the process.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Now: time.Now}
}

// Run runs the command line args (without the program name).
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		m.usage(m.Stderr)
		return &usageError{msg: "no command given"}
	}
	name, rest := args[0], args[1:]
	if name == "--version" || name == "-version" {
		name = "version"
	}
	switch name {
	case "-h", "-help", "--help", "help":
		if name == "help" && len(rest) > 0 {
			c, ok := lookup(rest[0])
			if !ok {
				return &usageError{msg: fmt.Sprintf("help: unknown command %q", rest[0]), hint: "Run 'feedsync help' for the list of commands."}
			}
			c.new(m).Usage()
			return nil
		}
		m.usage(m.Stdout)
		return nil
	}
	c, ok := lookup(name)
	if !ok {
		return &usageError{msg: fmt.Sprintf("unknown command %q", name), hint: "Run 'feedsync help' for the list of commands."}
	}
	r := c.new(m)
	err := r.Run(ctx, rest)
	if errors.Is(err, flag.ErrHelp) {
		r.Usage()
		return nil
	}
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) && ue.hint == "" {
			ue.hint = fmt.Sprintf("Run 'feedsync help %s' for usage.", name)
		}
		return &cmdError{cmd: name, err: err}
	}
	return nil
}

// Report prints err, if any, to Stderr and returns the exit code for it.
func (m *Main) Report(err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, context.Canceled) {
		// Not "context canceled": the user stopped it, and nothing was
		// left half-written.
		msg := "feedsync: interrupted"
		var ce *cmdError
		if errors.As(err, &ce) {
			msg = "feedsync " + ce.cmd + ": interrupted"
		}
		fmt.Fprintln(m.Stderr, msg)
		return exitInterrupted
	}
	msg := messageOf(err)
	if !strings.HasPrefix(msg, "feedsync") {
		msg = "feedsync: " + msg
	}
	fmt.Fprintln(m.Stderr, msg)
	if ruleID.MatchString(msg) {
		fmt.Fprintln(m.Stderr, rulesHint)
	}
	return ExitCode(err)
}

// messageOf is the text of err as the user reads it: core errors carry
// their package prefix inside our own, and once is enough; a network error
// (*url.Error) repeats the method and URL that the message already names,
// so its own "Post \"URL\": " goes.
func messageOf(err error) string {
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		if inner := fmt.Sprintf("%s %q: ", ue.Op, ue.URL); strings.Count(msg, ue.URL) > 1 {
			msg = strings.Replace(msg, inner, "", 1)
		}
	}
	return cleanMsg(msg)
}

// ruleID matches a rule ID cited in a message (FS-TYPE-2, A-10).
var ruleID = regexp.MustCompile(`\b(FS-[A-Z]+-[0-9]+|A-[0-9]+)\b`)

// rulesHint tells where the rule IDs that messages cite are explained.
const rulesHint = "feedsync: rule IDs such as FS-TYPE-2 are explained in docs/RULES.md of the feedsync source"

// ExitCode maps an error returned by Run to the process exit code: 0 for
// nil, 1 when the command found a problem it was asked to look for, 2 for
// usage and input errors, 130 when a signal interrupted it.
func ExitCode(err error) int {
	var p *problemError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &p):
		return exitProblem
	}
	return exitUsage
}

// usage prints the list of commands.
func (m *Main) usage(w io.Writer) {
	fmt.Fprint(w, `feedsync creates, changes, merges and inspects FeedSync feeds: RSS 2.0 and
Atom 1.0 feeds whose items carry sx:sync version metadata, so that several
endpoints can edit the same items and converge.

Usage:

	feedsync <command> [arguments]

Commands:

`)
	for _, c := range commands {
		fmt.Fprintf(w, "\t%-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Every command that writes history takes --by ENDPOINT, this endpoint's own
identifier. Without it FEEDSYNC_BY is used, or else an identifier generated
once and kept in the user config directory (feedsync/endpoint): two
endpoints that share one never converge (FS-BY-1, FS-CONFLICT-6).

Files are written atomically: a temporary file in the same directory is
renamed over the target only when everything succeeded.

Rule IDs in messages and help (FS-MERGE-6, A-4) are defined in
docs/RULES.md of the feedsync source.

Exit status: 0 ok; 1 a problem was found (validate, verify, convert
--upgrade with values it could not upgrade, conflicts --fail-on-conflicts,
merge --fail-on-conflicts or --fail-on-reject); 2 a usage or input error;
130 interrupted (SIGINT or SIGTERM).

Example:

	feedsync produce tasks.jsonl --by laptop -o tasks.xml
	feedsync merge tasks.xml tablet.xml -o tasks.xml

Run 'feedsync help <command>' for more about a command.
`)
}

// cmdError is an error of one command; it prints as "feedsync CMD: ...".
type cmdError struct {
	cmd string
	err error
}

func (e *cmdError) Error() string { return "feedsync " + e.cmd + ": " + e.err.Error() }
func (e *cmdError) Unwrap() error { return e.err }

// usageError is a wrong command line: exit 2, with a hint on what to do.
type usageError struct {
	msg  string
	hint string
}

func (e *usageError) Error() string {
	if e.hint == "" {
		return e.msg
	}
	return e.msg + "\n" + e.hint
}

// usagef returns a usageError.
func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// problemError says the command found what it was asked to look for:
// problems in a feed, or conflicts with --fail-on-conflicts. Exit 1.
type problemError struct{ msg string }

func (e *problemError) Error() string { return e.msg }
