package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/internal/itemrow"
)

// Put and SetPeerVersion keep their rows pending and write them in
// statements of putBatch and versionBatch rows: a consumer makes both
// calls for every incoming item, and database/sql's work per statement
// was about as much as SQLite's per row. Every other method of the Tx,
// Commit included, first writes what is pending (enter), so nothing can
// tell the difference but the call that reports a failure: the one that
// wrote the batch.
const (
	putBatch     = 32
	versionBatch = 64
)

type pendingPut struct {
	seq int64
	row itemrow.Row
}

type pendingVersion struct {
	peer, id string
	v        store.Version
}

// manyRows returns an INSERT of n rows of the given column list and tail.
func manyRows(head string, cols, n int, tail string) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return head + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ") + tail
}

const (
	putHead  = `INSERT INTO items (seq, id, updates, deleted, top_by, top_seq, top_when, digest, conflicts, conflicts_digest, xml) VALUES `
	versHead = `INSERT INTO peer_versions (peer, id, top_by, top_seq, top_when, conflicts) VALUES `
	// A row of versions names its peer by number (peer_names).
	versRow  = `((SELECT num FROM peer_names WHERE name = ?), ?, ?, ?, ?, ?)`
	versTail = `
ON CONFLICT (peer, id) DO UPDATE SET top_by = excluded.top_by, top_seq = excluded.top_seq,
	top_when = excluded.top_when, conflicts = excluded.conflicts`
)

// qVersionsOnePeer writes a batch of versions all at one peer, the batch
// of a pull or a push (every item's version at the peer it came from): it
// finds the peer's number once, where qVersionsBatch binds the name and
// looks it up again in every row. The peer has a row in peer_names
// (SetPeerVersion makes it first); "WHERE true" tells SQLite's parser
// that ON CONFLICT starts the upsert, not a join's constraint.
const versOnePeerHead = `WITH p (num) AS (SELECT num FROM peer_names WHERE name = ?)
INSERT INTO peer_versions (peer, id, top_by, top_seq, top_when, conflicts)
SELECT p.num, v.column1, v.column2, v.column3, v.column4, v.column5 FROM p, (VALUES `

var (
	qPutBatch        = manyRows(putHead, 11, putBatch, qPut[len(qPutValues):])
	qVersionsBatch   = versHead + strings.TrimSuffix(strings.Repeat(versRow+", ", versionBatch), ", ") + versTail
	qVersionsOnePeer = manyRows(versOnePeerHead, 5, versionBatch, ") AS v WHERE true"+versTail)
)

// flush writes what Put and SetPeerVersion left pending.
func (t *tx) flush(ctx context.Context) error {
	if len(t.puts) > 0 {
		if err := t.flushPuts(ctx); err != nil {
			return err
		}
	}
	if len(t.versions) > 0 {
		return t.flushVersions(ctx)
	}
	return nil
}

// flushPuts writes the pending item rows: a full batch in one statement,
// fewer one by one.
func (t *tx) flushPuts(ctx context.Context) error {
	puts := t.puts
	t.puts = t.puts[:0]
	args := t.args[:0]
	for _, p := range puts {
		r, v := p.row, p.row.Version
		args = append(args, p.seq, r.ID, r.Updates, r.Deleted, v.Top.By, v.Top.Sequence, unixOrNil(v.Top.When),
			r.Digest[:], r.Conflicts, v.Conflicts, r.Data)
	}
	t.args = args[:0]
	var err error
	if len(puts) == putBatch {
		err = t.exec(ctx, qPutBatch, args...)
	} else {
		for i := range puts {
			if err = t.exec(ctx, qPut, args[i*11:(i+1)*11]...); err != nil {
				puts = puts[i : i+1]
				break
			}
		}
	}
	clear(args)
	if err != nil {
		if len(puts) == 1 {
			return fmt.Errorf("sqlite: put item %q: %w", puts[0].row.ID, t.Fail(err))
		}
		return fmt.Errorf("sqlite: put items %q to %q: %w", puts[0].row.ID, puts[len(puts)-1].row.ID, t.Fail(err))
	}
	return nil
}

// flushVersions writes the pending peer versions, as flushPuts does.
func (t *tx) flushVersions(ctx context.Context) error {
	vs := t.versions
	t.versions = t.versions[:0]
	onePeer := len(vs) == versionBatch
	for _, p := range vs {
		onePeer = onePeer && p.peer == vs[0].peer
	}
	args := t.args[:0]
	if onePeer {
		args = append(args, vs[0].peer)
		for _, p := range vs {
			args = append(args, p.id, p.v.Top.By, p.v.Top.Sequence, unixOrNil(p.v.Top.When), p.v.Conflicts)
		}
	} else {
		for _, p := range vs {
			args = append(args, p.peer, p.id, p.v.Top.By, p.v.Top.Sequence, unixOrNil(p.v.Top.When), p.v.Conflicts)
		}
	}
	t.args = args[:0]
	var err error
	switch {
	case onePeer:
		err = t.exec(ctx, qVersionsOnePeer, args...)
	case len(vs) == versionBatch:
		err = t.exec(ctx, qVersionsBatch, args...)
	default:
		for i := range vs {
			if err = t.exec(ctx, qSetPeerVersion, args[i*6:(i+1)*6]...); err != nil {
				vs = vs[i : i+1]
				break
			}
		}
	}
	clear(args)
	if err != nil {
		if len(vs) == 1 {
			return fmt.Errorf("sqlite: set version of item %q at peer %q: %w", vs[0].id, vs[0].peer, t.Fail(err))
		}
		return fmt.Errorf("sqlite: set versions of items %q to %q: %w", vs[0].id, vs[len(vs)-1].id, t.Fail(err))
	}
	return nil
}
