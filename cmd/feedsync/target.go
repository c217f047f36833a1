package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
)

// target is what create, update, delete, resolve, conflicts and show work
// on: a feed file (the positional FEED) or, with --store, a store. The
// commands describe their change once (an edit, or a function called for
// each item) and the two kinds of target apply it.
type target struct {
	name  string // the feed file, or the store's DSN
	store bool
}

// targetOf returns the target given by the positional arguments and the
// --store flag: exactly one of FEED and --store DSN.
func targetOf(pos []string, dsn string) (target, error) {
	if dsn == "" {
		if err := wantArgs(pos, "FEED"); err != nil {
			return target{}, err
		}
		return target{name: pos[0]}, nil
	}
	if len(pos) > 0 {
		return target{}, &usageError{msg: fmt.Sprintf("unexpected argument %q: --store names what to work on", pos[0]), hint: "Give either FEED or --store DSN."}
	}
	if !isStore(dsn) {
		return target{}, &usageError{msg: fmt.Sprintf("--store %q is not a store", dsn), hint: "Name a store as " + storeDSNs + "."}
	}
	return target{name: dsn, store: true}, nil
}

// label names the target in messages and hints.
func (t target) label() string {
	if t.store {
		return storeLabel(t.name)
	}
	return t.name
}

// args is how the target is written on a command line, for hints.
func (t target) args() string {
	if t.store {
		return "--store " + t.label()
	}
	return t.name
}

// line is the line of it in a feed file; 0 for an item of a store, which
// has no lines.
func (t target) line(it *feedsync.Item) int {
	if t.store {
		return 0
	}
	return it.Line()
}

// eachItemOf calls fn for each item of t: a feed's items in file order, a
// store's in change order (one read-only transaction).
func (m *Main) eachItemOf(ctx context.Context, t target, fn func(*feedsync.Item) error) error {
	if !t.store {
		f, err := m.open(t.name)
		if err != nil {
			return err
		}
		defer f.Close()
		return eachItem(ctx, t.name, feedsync.NewReader(f), fn)
	}
	st, err := m.openStore(ctx, t.name, false)
	if err != nil {
		return err
	}
	defer st.Close()
	tx, err := st.Begin(ctx, false)
	if err != nil {
		return inFile(t.label(), err)
	}
	defer tx.Rollback()
	for it, err := range tx.All(ctx) {
		if err != nil {
			return inFile(t.label(), err)
		}
		if err := fn(it); err != nil {
			return err
		}
	}
	return nil
}

// editStore applies e to the store e.in names, in one transaction: the
// store holds the change completely or not at all. A store is made by
// create (e.add) when it does not exist; the other edits need one.
func (m *Main) editStore(ctx context.Context, e edit) error {
	t := target{name: e.in, store: true}
	if e.out != "" {
		return usagef("-o cannot be used with --store: a store is changed in place")
	}
	st, err := m.openStore(ctx, e.in, e.add != nil)
	if err != nil {
		return err
	}
	defer st.Close()
	tx, err := st.Begin(ctx, true)
	if err != nil {
		return inFile(t.label(), err)
	}
	defer tx.Rollback()
	if e.change != nil {
		// Read past the default limits, as from a feed file (repairLimits):
		// an item stored beyond them is repaired by editing it.
		it, err := store.GetForRepair(ctx, tx, e.id)
		if err != nil {
			return inFile(t.label(), err)
		}
		if it == nil {
			return &usageError{
				msg:  fmt.Sprintf("no item with id %q", e.id),
				hint: fmt.Sprintf("Run 'feedsync show %s' to list the items.", t.args()),
			}
		}
		out, err := e.change(it)
		if err != nil {
			return err
		}
		if out != it { // an edit that changes nothing returns it (FS-UPDATE-6)
			if _, err := tx.Put(ctx, out); err != nil {
				return inFile(t.label(), err)
			}
		}
	}
	if e.add != nil {
		if err := addToStore(ctx, tx, e); err != nil {
			var ue *usageError
			if errors.As(err, &ue) {
				return err
			}
			return inFile(t.label(), err)
		}
	}
	return inFile(t.label(), tx.Commit())
}

// addToStore puts e.add's item, in the store's format; a store without
// feed info (a new one) takes e.newFeed's.
func addToStore(ctx context.Context, tx store.Tx, e edit) error {
	info, format, err := tx.FeedInfo(ctx)
	if err != nil {
		return err
	}
	var h *feedsync.Header
	if format == feedsync.FormatUnknown {
		h = e.newFeed()
		if err := tx.SetFeedInfo(ctx, h.Info(), h.Format); err != nil {
			return err
		}
	} else {
		h = feedsync.NewHeader(format, info)
	}
	it, err := e.add(h)
	if err != nil {
		return err
	}
	old, err := tx.Get(ctx, it.ID())
	if err != nil {
		return err
	}
	if old != nil {
		return &usageError{msg: fmt.Sprintf("an item with id %q exists already", it.ID()), hint: "Choose another --id, or change the item with 'feedsync update'."}
	}
	_, err = tx.Put(ctx, it)
	return err
}

// lineNote is " (line N)" for an item read from a feed file, "" for one
// from a store, which has no lines.
func lineNote(line int) string {
	if line <= 0 {
		return ""
	}
	return fmt.Sprintf(" (line %d)", line)
}
