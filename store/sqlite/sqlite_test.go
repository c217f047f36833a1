package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/internal/sqltx"
	"github.com/feedsync/go-feedsync/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "store.db"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// FS-ROBUST-6: items planted beyond the reader's limits fail normal reads
// with a message that says how to repair them, and are repaired.
func TestOversized(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "store.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.RunOversized(t, s, storetest.PlantSQL)
}

func TestDurable(t *testing.T) {
	storetest.RunDurable(t, func(t *testing.T) func() (store.Store, error) {
		path := filepath.Join(t.TempDir(), "store.db")
		return func() (store.Store, error) { return Open(context.Background(), path, Options{}) }
	})
}

func TestSchema(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var version int
	if err := s.db.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != len(migrations) {
		t.Errorf("schema_version = %d, want %d", version, len(migrations))
	}
	var rows int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_version`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Errorf("schema_version has %d rows, want 1", rows)
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
	// A database from a newer program is refused, not downgraded.
	if _, err := s.db.ExecContext(ctx, `UPDATE schema_version SET version = ?`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, path, Options{})
	if err == nil {
		s2.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	}
	if !errors.Is(err, store.ErrSchemaVersion) {
		t.Errorf("error %q does not wrap ErrSchemaVersion", err)
	}
}

func TestOpenRejectsPath(t *testing.T) {
	for _, path := range []string{"", "a?b.db"} {
		if s, err := Open(t.Context(), path, Options{}); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

// TestConnPool checks the Store's own pool of connections: a transaction
// reuses the connection and statements of an ended one and still sees
// what was committed since; a failed transaction's connection is not
// reused; a Begin waiting for a connection wakes up at Close.
func TestConnPool(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "store.db"), Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	setPeerSeq := func(seq int64) {
		t.Helper()
		tx, err := s.Begin(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.SetPeerSeq(ctx, "p", seq); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	// peerSeq reads in a read-only Tx and returns the connection it ran on.
	peerSeq := func(want int64) *conn {
		t.Helper()
		rtx, err := s.Begin(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		c := rtx.(*sqltx.Tx).Driver().(*tx).c
		if got, err := rtx.PeerSeq(ctx, "p"); err != nil || got != want {
			t.Fatalf("PeerSeq = %d, %v; want %d", got, err, want)
		}
		if err := rtx.Commit(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	setPeerSeq(1)
	c := peerSeq(1)
	setPeerSeq(2)
	if c2 := peerSeq(2); c2 != c {
		t.Error("a read-only Tx did not reuse the pooled connection")
	} else if _, ok := c.stmts[dialect.PeerSeq]; !ok {
		t.Error("the pooled connection lost its prepared statement")
	}

	// A failed Tx gives its connection up.
	tx, err := s.Begin(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := tx.LastSeq(canceled); err == nil {
		t.Fatal("LastSeq with a canceled ctx succeeded")
	}
	if err := tx.Commit(); !errors.Is(err, store.ErrTxFailed) {
		t.Errorf("Commit of a failed Tx: %v, want ErrTxFailed", err)
	}
	if c3 := peerSeq(2); c3 == c {
		t.Error("the connection of a failed Tx was reused")
	}

	// With the one connection taken, Begin waits, and Close ends the wait.
	tx, err = s.Begin(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		tx2, err := s.Begin(ctx, false)
		if err == nil {
			tx2.Rollback()
		}
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond) // let Begin start waiting, mostly
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, store.ErrClosed) {
		t.Errorf("Begin waiting at Close: %v, want ErrClosed", err)
	}
	if err := tx.Commit(); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Commit after Close: %v, want ErrClosed", err)
	}
	if len(s.idle) != 0 {
		t.Errorf("%d idle connections after Close", len(s.idle))
	}
}

// Migration 4 rewrites the uncompressed rows of a version 3 database in
// the stored form (itemrow.Encode).
func TestMigrationRecodesItems(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	storetest.RunRecode(t, func() (store.Store, error) { return Open(t.Context(), path, Options{}) },
		func(st store.Store, xml map[string][]byte) error {
			s := st.(*Store)
			for id, b := range xml {
				if _, err := s.db.ExecContext(t.Context(), `UPDATE items SET xml = ? WHERE id = ?`, b, id); err != nil {
					return err
				}
			}
			// Undo migrations 5 and 6 too: version 3 had peer_versions by
			// name, and an index by id.
			_, err := s.db.ExecContext(t.Context(), `DROP TABLE peer_versions; DROP TABLE peer_names;
CREATE TABLE peer_versions (peer TEXT NOT NULL, id TEXT NOT NULL, top_by TEXT NOT NULL, top_seq INTEGER NOT NULL,
	top_when INTEGER, conflicts TEXT NOT NULL, PRIMARY KEY (peer, id)) WITHOUT ROWID;
CREATE INDEX peer_versions_id ON peer_versions (id);
UPDATE schema_version SET version = 3`)
			return err
		},
		storetest.EncodedRows("items"))
}

// TestMigration2 opens a database of schema version 1, with changes and the
// pseudo item an earlier HTTP client kept its marks under: the migration
// gives the existing changes a history mark and drops the pseudo item.
func TestMigration2(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "store.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		migrations[0],
		`CREATE TABLE schema_version (version INTEGER NOT NULL)`,
		`INSERT INTO schema_version (version) VALUES (1)`,
		`UPDATE counter SET seq = 3`,
		`INSERT INTO peer_versions (peer, id, top_by, top_seq, top_when, conflicts) VALUES ('http://h/', '#httpfeed-token', '', 1, NULL, 'tok')`,
		`INSERT INTO peer_versions (peer, id, top_by, top_seq, top_when, conflicts) VALUES ('http://h/', 'item', 'laptop', 1, NULL, '')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tx, err := s.Begin(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	m1, ok1, err1 := tx.HistoryMark(ctx, 1)
	m3, ok3, err3 := tx.HistoryMark(ctx, 3)
	if err1 != nil || err3 != nil || !ok1 || !ok3 || m1 == "" || m1 != m3 {
		t.Errorf("HistoryMark(1), (3) after migration = %q %v %v, %q %v %v; want one mark", m1, ok1, err1, m3, ok3, err3)
	}
	if _, ok, err := tx.PeerVersion(ctx, "http://h/", "#httpfeed-token"); err != nil || ok {
		t.Errorf("the pseudo item survived the migration (%v, %v)", ok, err)
	}
	if _, ok, err := tx.PeerVersion(ctx, "http://h/", "item"); err != nil || !ok {
		t.Errorf("the migration dropped real knowledge (%v, %v)", ok, err)
	}
}

// TestMigration5 opens a database of schema version 4 whose peer_versions
// name peers in every row: the migration numbers the peers and keeps every
// version under its peer, and the versions work as before afterwards
// (set, read, forgotten per peer, removed with the item).
func TestMigration5(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "store.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	qs := append([]string{`CREATE TABLE schema_version (version INTEGER NOT NULL)`, `INSERT INTO schema_version (version) VALUES (4)`}, migrations[:4]...)
	for i := range 300 {
		qs = append(qs, fmt.Sprintf(`INSERT INTO peer_versions (peer, id, top_by, top_seq, top_when, conflicts) VALUES ('http://a/', 'item-%d', 'laptop', %d, 1767225600, '')`, i, i+1))
		if i%3 == 0 {
			qs = append(qs, fmt.Sprintf(`INSERT INTO peer_versions (peer, id, top_by, top_seq, top_when, conflicts) VALUES ('phone', 'item-%d', 'phone', 7, NULL, 'c%d')`, i, i))
		}
	}
	for _, q := range qs {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	db.Close()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var version, names int
	if err := s.db.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&version); err != nil || version != len(migrations) {
		t.Fatalf("schema_version = %d, %v; want %d", version, err, len(migrations))
	}
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM peer_names`).Scan(&names); err != nil || names != 2 {
		t.Errorf("peer_names holds %d rows, %v; want 2", names, err)
	}
	tx, err := s.Begin(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for i := range 300 {
		v, ok, err := tx.PeerVersion(ctx, "http://a/", fmt.Sprintf("item-%d", i))
		if err != nil || !ok || v.Top.By != "laptop" || v.Top.Sequence != int64(i+1) || v.Top.When.Unix() != 1767225600 {
			t.Fatalf("PeerVersion(http://a/, item-%d) = %+v, %v, %v", i, v, ok, err)
		}
		v, ok, err = tx.PeerVersion(ctx, "phone", fmt.Sprintf("item-%d", i))
		if err != nil || ok != (i%3 == 0) || (ok && (v.Top.By != "phone" || v.Conflicts != fmt.Sprintf("c%d", i) || !v.Top.When.IsZero())) {
			t.Fatalf("PeerVersion(phone, item-%d) = %+v, %v, %v", i, v, ok, err)
		}
	}
	// A new peer gets a number; forgetting one peer leaves the other.
	if err := tx.SetPeerVersion(ctx, "tablet", "item-1", store.Version{Top: feedsync.History{By: "tablet", Sequence: 2}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.ForgetPeer(ctx, "phone"); err != nil {
		t.Fatal(err)
	}
	for peer, want := range map[string]bool{"http://a/": true, "phone": false, "tablet": true} {
		if _, ok, err := tx.PeerVersion(ctx, peer, "item-1"); err != nil || ok != want {
			t.Errorf("PeerVersion(%s, item-1) after ForgetPeer(phone): %v, %v; want %v", peer, ok, err, want)
		}
	}
	if _, ok, err := tx.PeerVersion(ctx, "phone", "item-0"); err != nil || ok {
		t.Errorf("PeerVersion(phone, item-0) after ForgetPeer(phone): %v, %v", ok, err)
	}
}

// A new database file gets pages of pageSize bytes, set before WAL mode
// fixes them.
func TestPageSize(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "store.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var size int
	var mode string
	if err := s.db.QueryRowContext(t.Context(), `PRAGMA page_size`).Scan(&size); err != nil || size != pageSize {
		t.Errorf("page_size = %d, %v; want %d", size, err, pageSize)
	}
	if err := s.db.QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
}

// Remove finds an item's peer versions through the primary key, one seek
// per peer name, not by scanning every peer's versions (migration 6
// dropped the index by id).
func TestRemovePeerVersionsPlan(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "store.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.db.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+dialect.RemovePeerVersions, "x")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	found := false
	for _, d := range plan {
		if strings.Contains(d, "SCAN peer_versions") {
			t.Errorf("plan of %q scans peer_versions: %q", dialect.RemovePeerVersions, plan)
		}
		found = found || strings.Contains(d, "SEARCH peer_versions USING PRIMARY KEY (peer=? AND id=?)")
	}
	if !found {
		t.Errorf("plan of %q: %q, want a search of peer_versions by its primary key", dialect.RemovePeerVersions, plan)
	}
}

// Puts and peer versions wait to be written in batches (batch.go): every
// other call of the Tx sees them, at any count below, at and past a
// batch, and Rollback drops them.
func TestBatchedWrites(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "store.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mk := func(i int) *feedsync.Item {
		e := etree.NewElement("item")
		e.CreateElement("title").SetText(fmt.Sprintf("Task %d", i))
		it, err := feedsync.Create(feedsync.RSS, e, fmt.Sprintf("item-%d", i), feedsync.Stamp{By: "laptop"}, false)
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	for _, n := range []int{1, putBatch - 1, putBatch, versionBatch + 5} {
		tx, err := s.Begin(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if _, err := tx.Put(ctx, mk(i)); err != nil {
				t.Fatal(err)
			}
			if err := tx.SetPeerVersion(ctx, "server", fmt.Sprintf("item-%d", i), store.Version{Top: feedsync.History{By: "laptop", Sequence: int64(i + 1)}}); err != nil {
				t.Fatal(err)
			}
		}
		if it, err := tx.Get(ctx, fmt.Sprintf("item-%d", n-1)); err != nil || it == nil {
			t.Fatalf("n=%d: Get(item-%d) in the Tx = %v, %v", n, n-1, it, err)
		}
		if v, ok, err := tx.PeerVersion(ctx, "server", fmt.Sprintf("item-%d", n-1)); err != nil || !ok || v.Top.Sequence != int64(n) {
			t.Fatalf("n=%d: PeerVersion(item-%d) in the Tx = %+v, %v, %v", n, n-1, v, ok, err)
		}
		if c, err := tx.Count(ctx); err != nil || c != n {
			t.Fatalf("n=%d: Count in the Tx = %d, %v", n, c, err)
		}
		// More pending writes, dropped by the rollback.
		if _, err := tx.Put(ctx, mk(n+1000)); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		tx, err = s.Begin(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := tx.Count(ctx); err != nil || c != 0 {
			t.Fatalf("n=%d: Count after Rollback = %d, %v", n, c, err)
		}
		for i := range n {
			if _, err := tx.Put(ctx, mk(i)); err != nil {
				t.Fatal(err)
			}
		}
		// Commit writes what is pending.
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		rtx, err := s.Begin(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		c, err := rtx.Count(ctx)
		rtx.Rollback()
		if err != nil || c != n {
			t.Fatalf("n=%d: Count after Commit = %d, %v", n, c, err)
		}
		// Start the next round from an empty store.
		tx, err = s.Begin(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if _, err := tx.Remove(ctx, fmt.Sprintf("item-%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

// Full batches of peer versions go in one statement: of one peer, naming
// it once (qVersionsOnePeer), of several, naming it in every row; either
// inserts new versions and replaces older ones, every field kept.
func TestBatchedPeerVersions(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "store.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	when := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	version := func(round, i int) store.Version {
		v := store.Version{Top: feedsync.History{By: fmt.Sprintf("by-%d", round), Sequence: int64(100*round + i)}}
		if i%3 == 0 {
			v.Top.When = when.Add(time.Duration(i) * time.Minute)
		}
		if i%4 == 0 {
			v.Conflicts = fmt.Sprintf("conflicts-%d-%d", round, i)
		}
		return v
	}
	// peerOf gives round 0 one peer (one-peer batches), round 1 two
	// (mixed batches), updating half of round 0's versions.
	peerOf := func(round, i int) string {
		if round == 1 && i%2 == 1 {
			return "phone"
		}
		return "server"
	}
	want := map[[2]string]store.Version{}
	for round := range 2 {
		tx, err := s.Begin(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2*versionBatch + 3 {
			peer, id := peerOf(round, i), fmt.Sprintf("item-%d", i)
			v := version(round, i)
			if err := tx.SetPeerVersion(ctx, peer, id, v); err != nil {
				t.Fatal(err)
			}
			want[[2]string{peer, id}] = v
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := s.Begin(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for k, v := range want {
		got, ok, err := tx.PeerVersion(ctx, k[0], k[1])
		if err != nil || !ok {
			t.Fatalf("PeerVersion(%q, %q) = %v, %v", k[0], k[1], ok, err)
		}
		if !got.Top.When.Equal(v.Top.When) || got.Top.By != v.Top.By || got.Top.Sequence != v.Top.Sequence || got.Conflicts != v.Conflicts {
			t.Errorf("PeerVersion(%q, %q) = %+v, want %+v", k[0], k[1], got, v)
		}
	}
}
