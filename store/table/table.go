package table

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
)

// ErrConfig is returned by Open for a Config it cannot track: no table, no
// key, no by, a column the table does not have, a base store that is not a
// database store.
var ErrConfig = errors.New("table: invalid configuration")

// Config says which table to track and how its rows become items.
type Config struct {
	// Table is the application's table. With PostgreSQL it may be
	// qualified ("app.tasks"); it must be when the store keeps its own
	// tables in a schema of their own (postgres.Options.Schema), since the
	// store's connections search only that schema. With SQLite it is a
	// table of the main database.
	Table string
	// Key is the column that identifies a row. Its text form is the item's
	// key (converter.IDs[string] turns it into the sync id), so it must be
	// unique and should never change: a row whose key changes is the
	// deletion of one item and the creation of another.
	Key string
	// Columns are the columns that make an item's payload. Default: every
	// column of the table but Key.
	Columns []string
	// By is this endpoint's identifier, written in the history entry of
	// every change the application makes to the table (FS-BY-1). Required.
	By string
	// Items converts a row (column name → its value as text, nil for
	// NULL) to a payload and back. Default: converter.Map with Format, so
	// title, link, description, content and published columns go into the
	// feed format's standard elements.
	Items converter.ItemConverter[map[string]any]
	// Format is the format of the items made from rows. Default:
	// feedsync.RSS.
	Format feedsync.Format
	// Now gives the time of a change. Default: time.Now.
	Now func() time.Time
}

// Store is a store.Store over an application's table: items are kept by
// the base store, which also holds the shadow metadata (the log of changed
// keys, sync metadata and conflict copies), and the table holds each live
// item's winning value.
type Store struct {
	base  store.Store
	cfg   Config
	d     dialect
	key   column
	cols  []column
	ids   converter.IDs[string]
	known func(*etree.Element) bool // children of a payload Items reads
}

var _ store.Store = (*Store)(nil)

// column is a column of the tracked table.
type column struct {
	name string
	typ  string // the declared type, for casts (PostgreSQL)
}

// Open starts tracking cfg.Table in the database of base, which must be a
// store of package store/sqlite or store/postgres opened on the database
// that holds the table. The first time, it installs the triggers and the
// shadow log and lists every existing row as changed, so the next
// transaction publishes them as creations. Open takes ownership of base:
// Close closes it.
func Open(ctx context.Context, base store.Store, cfg Config) (*Store, error) {
	fail := func(err error) (*Store, error) { return nil, fmt.Errorf("table: open %s: %w", cfg.Table, err) }
	switch {
	case cfg.Table == "":
		return fail(fmt.Errorf("%w: no table", ErrConfig))
	case cfg.Key == "":
		return fail(fmt.Errorf("%w: no key column", ErrConfig))
	case cfg.By == "":
		return fail(fmt.Errorf("%w: no by (FS-BY-1)", ErrConfig))
	case !feedsync.ValidBy(cfg.By):
		return fail(fmt.Errorf("%w: by %q is not in the URN NSS character set (FS-TYPE-6)", ErrConfig, cfg.By))
	}
	if cfg.Format != feedsync.Atom {
		cfg.Format = feedsync.RSS
	}
	s := &Store{base: base, cfg: cfg}
	if cfg.Items == nil {
		m := converter.Map{Format: cfg.Format}
		s.cfg.Items, s.known = m, m.Known
	} else if k, ok := cfg.Items.(interface{ Known(*etree.Element) bool }); ok {
		s.known = k.Known
	}
	tx, err := base.Begin(ctx, true)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	sq, ok := tx.(store.SQLTx)
	if !ok {
		return fail(fmt.Errorf("%w: the base store keeps no SQL tables (use store/sqlite or store/postgres)", ErrConfig))
	}
	if s.d, err = newDialect(ctx, sq, cfg.Table); err != nil {
		return fail(err)
	}
	if err := s.columns(ctx, sq); err != nil {
		return fail(err)
	}
	s.d.prepare(s.key, s.cols)
	if err := s.d.install(ctx, sq); err != nil {
		return fail(fmt.Errorf("install triggers: %w", err))
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return s, nil
}

// columns reads the table's columns and picks the key and payload ones.
func (s *Store) columns(ctx context.Context, tx store.SQLTx) error {
	all, err := s.d.columns(ctx, tx)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		return fmt.Errorf("%w: no table %s", ErrConfig, s.cfg.Table)
	}
	find := func(name string) (column, bool) {
		i := slices.IndexFunc(all, func(c column) bool { return c.name == name })
		if i < 0 {
			return column{}, false
		}
		return all[i], true
	}
	var ok bool
	if s.key, ok = find(s.cfg.Key); !ok {
		return fmt.Errorf("%w: table %s has no key column %q", ErrConfig, s.cfg.Table, s.cfg.Key)
	}
	if len(s.cfg.Columns) == 0 {
		for _, c := range all {
			if c.name != s.cfg.Key {
				s.cols = append(s.cols, c)
			}
		}
		return nil
	}
	for _, name := range s.cfg.Columns {
		c, ok := find(name)
		if !ok || name == s.cfg.Key {
			return fmt.Errorf("%w: table %s has no payload column %q", ErrConfig, s.cfg.Table, name)
		}
		s.cols = append(s.cols, c)
	}
	return nil
}

// ID returns the base store's identifier.
func (s *Store) ID() string { return s.base.ID() }

// Close closes the base store. The triggers stay: changes made while no
// Store is open are published by the next one.
func (s *Store) Close() error { return s.base.Close() }

// Items returns the converter between rows and payloads, for a
// collection.Collection over the Store.
func (s *Store) Items() converter.ItemConverter[map[string]any] { return s.cfg.Items }

// Begin starts a transaction. Every transaction first publishes the rows
// the application changed since the last one (see Publish): a writable one
// in itself, with the table locked against writers until it ends, so a
// merge never overwrites a row changed since it read it; a read-only one
// in a short writable transaction before it, if any row changed.
func (s *Store) Begin(ctx context.Context, writable bool) (store.Tx, error) {
	if !writable {
		if _, err := s.publishIfChanged(ctx); err != nil {
			return nil, err
		}
		return s.base.Begin(ctx, false)
	}
	tx, err := s.base.Begin(ctx, true)
	if err != nil {
		return nil, err
	}
	sq := tx.(store.SQLTx) // checked by Open
	if err := s.d.lock(ctx, sq); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("table: lock %s: %w", s.cfg.Table, err)
	}
	n, err := s.publish(ctx, sq)
	if err != nil {
		tx.Rollback()
		return nil, err
	}
	return &writeTx{SQLTx: sq, s: s, published: n}, nil
}

// Publish turns the rows the application changed since the last
// transaction into item changes now, and returns how many items changed.
// Begin does it anyway; call it to publish at a moment of your choosing.
func (s *Store) Publish(ctx context.Context) (int, error) {
	tx, err := s.Begin(ctx, true)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	n := tx.(*writeTx).published
	return n, tx.Commit()
}

func (s *Store) publishIfChanged(ctx context.Context) (int, error) {
	tx, err := s.base.Begin(ctx, false)
	if err != nil {
		return 0, err
	}
	pending, err := s.d.pending(ctx, tx.(store.SQLTx))
	tx.Rollback()
	if err != nil || !pending {
		return 0, err
	}
	return s.Publish(ctx)
}

// logBatch is how many log entries publish reads at a time.
const logBatch = 500

// publish reads the log of changed keys and turns each changed row into
// an item change, in tx, then empties the log up to what it read.
func (s *Store) publish(ctx context.Context, tx store.SQLTx) (int, error) {
	n := 0
	for {
		var keys []string
		var last int64
		err := tx.QuerySQL(ctx, s.d.qLog, []any{logBatch}, func(scan func(...any) error) error {
			var k string
			if err := scan(&last, &k); err != nil {
				return err
			}
			keys = append(keys, k)
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("table: read the change log of %s: %w", s.cfg.Table, err)
		}
		if len(keys) == 0 {
			return n, nil
		}
		slices.Sort(keys)
		for _, k := range slices.Compact(keys) {
			changed, err := s.publishRow(ctx, tx, k)
			if err != nil {
				return n, fmt.Errorf("table: publish row %q of %s: %w", k, s.cfg.Table, err)
			}
			if changed {
				n++
			}
		}
		if _, err := tx.ExecSQL(ctx, s.d.qTrim, last); err != nil {
			return n, fmt.Errorf("table: trim the change log of %s: %w", s.cfg.Table, err)
		}
	}
}

// publishRow makes the item of key k agree with its row: a creation for a
// new row (FS-CREATE), an update for a changed one (FS-UPDATE, an undelete
// after a deletion, FS-UPDATE-5), a deletion for a row that is gone
// (FS-DELETE), and nothing when the row gives the payload the item has
// (FS-UPDATE-6): a row written back by a merge, or touched without change,
// publishes nothing.
func (s *Store) publishRow(ctx context.Context, tx store.SQLTx, k string) (bool, error) {
	id, err := s.ids.SyncID(k)
	if err != nil {
		return false, err
	}
	rec, found, err := s.readRow(ctx, tx, k)
	if err != nil {
		return false, err
	}
	it, err := tx.Get(ctx, id)
	if err != nil {
		return false, err
	}
	stamp := s.stamp()
	var out *feedsync.Item
	switch {
	case !found && (it == nil || it.Sync.Deleted):
		return false, nil
	case !found:
		out, err = feedsync.Delete(it, stamp)
	default:
		payload, perr := s.payload(id, rec, it)
		if perr != nil {
			return false, perr
		}
		switch {
		case it == nil:
			out, err = feedsync.Create(s.cfg.Format, payload, id, stamp, false)
		case it.Sync.Deleted:
			out, err = feedsync.Update(it, payload, stamp)
		default:
			have, derr := it.Digest()
			want, derr2 := feedsync.NewItem(it.Format(), payload).Digest()
			if derr == nil && derr2 == nil && have == want {
				return false, nil
			}
			out, err = feedsync.Update(it, payload, stamp)
		}
	}
	if err != nil {
		return false, err
	}
	if _, err := tx.Put(ctx, out); err != nil {
		return false, err
	}
	return true, nil
}

// payload returns the payload of a row. The children of the item's
// current payload that the converter does not read (data a peer added
// that no column holds) are kept, so that editing the row does not drop
// them (FS-TYPE-1).
func (s *Store) payload(id string, rec map[string]any, it *feedsync.Item) (*etree.Element, error) {
	p, err := s.cfg.Items.ToPayload(id, rec)
	if err != nil {
		return nil, err
	}
	if it == nil || s.known == nil {
		return p, nil
	}
	if it.Format() != s.cfg.Format {
		return p, nil
	}
	old, err := it.Payload()
	if err != nil {
		return nil, err
	}
	kept := false
	for _, c := range old.ChildElements() {
		if !s.known(c) && !(c.Tag == "sync" && (c.NamespaceURI() == feedsync.Namespace || c.NamespaceURI() == feedsync.LegacyNamespace)) {
			p.AddChild(c.Copy())
			kept = true
		}
	}
	if kept {
		// The kept children may use prefixes declared on the old root.
		for _, a := range old.Attr {
			if (a.Space == "xmlns" || a.Space == "" && a.Key == "xmlns") && p.SelectAttr(a.FullKey()) == nil {
				p.CreateAttr(a.FullKey(), a.Value)
			}
		}
	}
	return p, nil
}

func (s *Store) stamp() feedsync.Stamp {
	now := time.Now
	if s.cfg.Now != nil {
		now = s.cfg.Now
	}
	return feedsync.Stamp{By: s.cfg.By, When: now()}
}

// readRow returns the payload columns of the row whose key is k, as text.
func (s *Store) readRow(ctx context.Context, tx store.SQLTx, k string) (map[string]any, bool, error) {
	var rec map[string]any
	dest := make([]any, len(s.cols))
	vals := make([]*string, len(s.cols))
	for i := range dest {
		dest[i] = &vals[i]
	}
	err := tx.QuerySQL(ctx, s.d.qRow, []any{k}, func(scan func(...any) error) error {
		if rec != nil {
			return nil // a key that is not unique: the first row counts
		}
		if err := scan(dest...); err != nil {
			return err
		}
		rec = make(map[string]any, len(s.cols))
		for i, c := range s.cols {
			if vals[i] == nil {
				rec[c.name] = nil
			} else {
				rec[c.name] = *vals[i]
			}
		}
		return nil
	})
	return rec, rec != nil, err
}

// writeTx is a writable transaction: Put also writes the item's winning
// value into its row.
type writeTx struct {
	store.SQLTx
	s         *Store
	published int   // items changed by the publishing at Begin
	err       error // a failed write-back: the Tx may not commit
}

// Put stores it and writes its winner back into the table, with the
// triggers muted so that the write is not taken for the application's: a
// tombstone deletes the row, a live item inserts or updates it. Columns
// the payload has no value for are left as they are (or to their default
// in a new row). An item whose sync id is not the id of any key
// (converter.IDs[string].AppID refuses it) is kept without a row.
func (t *writeTx) Put(ctx context.Context, it *feedsync.Item) (int64, error) {
	if t.err != nil {
		return 0, fmt.Errorf("%w: %w", store.ErrTxFailed, t.err)
	}
	seq, err := t.SQLTx.Put(ctx, it)
	if err != nil {
		return seq, err
	}
	if err := t.s.writeBack(ctx, t.SQLTx, it); err != nil {
		// The item must not be committed without its row.
		t.err = fmt.Errorf("table: write item %s back into %s: %w", it.ID(), t.s.cfg.Table, err)
		return 0, t.err
	}
	return seq, nil
}

// The batch methods and the repair reads of the base store's transaction
// pass through a writable transaction: they change no item, so nothing is
// written back. Without them a merge into the table (consumer), a server
// comparing a peer's summary (httpfeed) and a client comparing the
// server's would fall back to a query per item, and a repair of an item
// stored beyond the reader's limits (store.Compact, feedsync resolve
// --store) could not read it. A read-only transaction is the base store's
// own and has them anyway.
var _ interface {
	store.BatchReader
	store.BatchWriter
	store.RepairReader
} = (*writeTx)(nil)

// failed returns the error of every method after a failed write-back.
func (t *writeTx) failed() error {
	if t.err != nil {
		return fmt.Errorf("%w: %w", store.ErrTxFailed, t.err)
	}
	return nil
}

// StatMany is the base store's (store.StatMany).
func (t *writeTx) StatMany(ctx context.Context, ids []string) ([]store.ItemStat, error) {
	if err := t.failed(); err != nil {
		return nil, err
	}
	return store.StatMany(ctx, t.SQLTx, ids)
}

// PeerVersions is the base store's (store.PeerVersions).
func (t *writeTx) PeerVersions(ctx context.Context, peer string, ids []string) ([]store.Version, error) {
	if err := t.failed(); err != nil {
		return nil, err
	}
	return store.PeerVersions(ctx, t.SQLTx, peer, ids)
}

// SetPeerVersions is the base store's (store.SetPeerVersions): what a
// peer holds is kept beside the items, not in the table.
func (t *writeTx) SetPeerVersions(ctx context.Context, peer string, ids []string, vs []store.Version) error {
	if err := t.failed(); err != nil {
		return err
	}
	return store.SetPeerVersions(ctx, t.SQLTx, peer, ids, vs)
}

// GetLimits is the base store's, for repairs (store.GetForRepair); Get
// when the base transaction reads with the default limits only.
func (t *writeTx) GetLimits(ctx context.Context, id string, opts feedsync.ReaderOptions) (*feedsync.Item, error) {
	if err := t.failed(); err != nil {
		return nil, err
	}
	if rr, ok := t.SQLTx.(store.RepairReader); ok {
		return rr.GetLimits(ctx, id, opts)
	}
	return t.SQLTx.Get(ctx, id)
}

// ChangesLimits is the base store's, for repairs (store.Compact); Changes
// when the base transaction reads with the default limits only.
func (t *writeTx) ChangesLimits(ctx context.Context, after int64, opts feedsync.ReaderOptions) iter.Seq2[store.Change, error] {
	if err := t.failed(); err != nil {
		return func(yield func(store.Change, error) bool) { yield(store.Change{}, err) }
	}
	if rr, ok := t.SQLTx.(store.RepairReader); ok {
		return rr.ChangesLimits(ctx, after, opts)
	}
	return t.SQLTx.Changes(ctx, after)
}

// Commit commits, unless a write-back failed: then it rolls back and
// returns store.ErrTxFailed with that failure.
func (t *writeTx) Commit() error {
	if t.err != nil {
		t.SQLTx.Rollback()
		return fmt.Errorf("%w: %w", store.ErrTxFailed, t.err)
	}
	return t.SQLTx.Commit()
}

// Remove forgets item id, as the base store does, and deletes its row: an
// item the store no longer holds must not stay in the application's table.
// Re-initialisation removes items whose deletion the source forgot
// (FS-RETAIN-3); a row left behind would bring the item back to life at the
// application's next edit of it.
func (t *writeTx) Remove(ctx context.Context, id string) (int64, error) {
	if t.err != nil {
		return 0, fmt.Errorf("%w: %w", store.ErrTxFailed, t.err)
	}
	seq, err := t.SQLTx.Remove(ctx, id)
	if err != nil {
		return seq, err
	}
	if err := t.s.deleteRow(ctx, t.SQLTx, id); err != nil {
		t.err = fmt.Errorf("table: delete the row of item %s from %s: %w", id, t.s.cfg.Table, err)
		return 0, t.err
	}
	return seq, nil
}

// deleteRow deletes the row of sync id id, with the triggers muted. An id
// that no key maps to has no row (see writeBack).
func (s *Store) deleteRow(ctx context.Context, tx store.SQLTx, id string) error {
	k, err := s.ids.AppID(id)
	if errors.Is(err, converter.ErrID) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.d.mute(ctx, tx, true); err != nil {
		return err
	}
	if _, err := tx.ExecSQL(ctx, s.d.qDelete, k); err != nil {
		return err
	}
	return s.d.mute(ctx, tx, false)
}

func (s *Store) writeBack(ctx context.Context, tx store.SQLTx, it *feedsync.Item) error {
	if it.Sync.Deleted {
		return s.deleteRow(ctx, tx, it.ID())
	}
	k, err := s.ids.AppID(it.ID())
	if errors.Is(err, converter.ErrID) {
		// An id that no key maps to (a peer's own naming, say "a%2A" for
		// "a*"): the item is kept and passed on to other peers, but no
		// row can hold it. Failing would let one such item stop every
		// merge from that peer.
		return nil
	}
	if err != nil {
		return err
	}
	rec, err := converter.FromItem(s.cfg.Items, it)
	if err != nil {
		return err
	}
	if err := s.d.mute(ctx, tx, true); err != nil {
		return err
	}
	var cols []column
	var args []any
	for _, c := range s.cols {
		v, ok := rec[c.name]
		if !ok {
			continue
		}
		text, err := s.d.value(v)
		if err != nil {
			return fmt.Errorf("column %s: %w", c.name, err)
		}
		cols = append(cols, c)
		args = append(args, text)
	}
	n, err := tx.ExecSQL(ctx, s.d.update(cols), append(args, k)...)
	if err != nil {
		return err
	}
	if n == 0 {
		if _, err := tx.ExecSQL(ctx, s.d.insert(cols), append([]any{k}, args...)...); err != nil {
			return err
		}
	}
	return s.d.mute(ctx, tx, false)
}

// valueText is the text form of a value a converter read from a payload,
// as the column gets it: strings as they are, numbers in their JSON form,
// objects and arrays as JSON text. bools come from the dialect.
func valueText(v any, boolText func(bool) string) (any, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		return boolText(v), nil
	case float64, int64, int:
		return fmt.Sprint(v), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// quote returns name as an SQL identifier; a qualified name ("app.tasks")
// is quoted part by part.
func quote(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
	}
	return strings.Join(parts, ".")
}

// plainName returns name with every character that is not an ASCII
// letter, digit or underscore replaced by one, for the names of the
// objects Open installs.
func plainName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}
