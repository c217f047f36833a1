package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

// VersionCommand prints the version of the command.
type VersionCommand struct {
	m *Main

	json bool
}

func (c *VersionCommand) flags() *flag.FlagSet {
	fs := newFlagSet("version")
	fs.BoolVar(&c.json, "json", false, "")
	return fs
}

// buildInfo is what 'feedsync version' prints.
type buildInfo struct {
	// Version is the module version the command was built from: a release
	// such as v1.2.0, a pseudo-version (v0.0.0-DATE-COMMIT) for a build
	// from a clone, or "(devel)" when Go recorded none.
	Version string `json:"version"`
	// Commit and Modified describe the clone the command was built in,
	// when Go recorded them (go build in a git checkout).
	Commit   string `json:"commit,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// buildVersion reads the version Go recorded in the binary.
func buildVersion() buildInfo {
	v := buildInfo{Version: "(devel)", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// Run prints the version.
func (c *VersionCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseArgs(c.flags(), args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos); err != nil {
		return err
	}
	v := buildVersion()
	if c.json {
		return c.m.printJSON(v)
	}
	fmt.Fprintf(c.m.Stdout, "feedsync %s", v.Version)
	if v.Commit != "" {
		commit := v.Commit
		if len(commit) > 12 {
			commit = commit[:12]
		}
		fmt.Fprintf(c.m.Stdout, " (commit %s", commit)
		if v.Modified {
			fmt.Fprint(c.m.Stdout, ", modified")
		}
		fmt.Fprint(c.m.Stdout, ")")
	}
	fmt.Fprintf(c.m.Stdout, " %s %s\n", v.Go, v.Platform)
	return nil
}

// Usage prints the help of version.
func (c *VersionCommand) Usage() {
	fmt.Fprint(c.m.Stdout, `The version command prints the version of feedsync, as Go recorded it when
the command was built: a release, or for a build from a clone a
pseudo-version and the commit. 'feedsync --version' does the same.

Usage:

	feedsync version [arguments]

Arguments:

	--json
	    Print the version as one JSON object on standard output:
	    {"version", "commit", "modified", "go", "platform"} (commit and
	    modified when Go recorded them).

Example:

	feedsync version --json
`)
}
