package sqltx

import (
	"context"

	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/internal/itemrow"
)

// Dialect is the SQL of one database: its statements, with its
// placeholders (? or $1), table names and upserts, and how it keeps times.
// A store has one Dialect for all its transactions.
//
// Each statement's arguments and result columns are listed beside it; the
// ones that name a peer take the peer's name (a store that numbers its
// peers looks the number up in the statement).
type Dialect struct {
	// Name names the database in errors ("sqlite: …") and in
	// store.SQLTx.SQLDialect.
	Name string
	// UnixTime says that times are kept as Unix seconds in integer
	// columns (SQLite), not as timestamps (PostgreSQL's timestamptz).
	// Either way a time column may be NULL, for the zero time.
	UnixTime bool

	// Get (id) returns the stored item xml.
	Get string
	// Changes (after, limit) returns seq, id, xml of the rows changed
	// after seq after, ascending.
	Changes string
	// Stat (id) returns the StatCols of item id; Stats (after, limit)
	// those of the rows changed after after, ascending, and StatsXML the
	// same with xml after them.
	Stat, Stats, StatsXML string
	// StatMany returns the StatCols of the items whose ids IDArgs lists.
	StatMany string
	// Put (seq, id, updates, deleted, top_by, top_seq, top_when, digest,
	// conflicts, conflicts_digest, xml) upserts an item row.
	Put string
	// Rewrite (updates, deleted, digest, conflicts, xml, id, top_by,
	// top_seq, top_when, conflicts_digest) replaces the row of item id if
	// it has that version.
	Rewrite string
	// Remove (id) deletes the row of item id, RemovePeerVersions (id) what
	// any peer holds of it.
	Remove, RemovePeerVersions string
	// LastSeq returns the counter; Count the number of item rows.
	LastSeq, Count string
	// PeerVersion (peer, id) returns top_by, top_seq, top_when,
	// conflicts; SetPeerVersion (peer, id, top_by, top_seq, top_when,
	// conflicts) upserts them.
	PeerVersion, SetPeerVersion string
	// PeerVersions (peer key, then IDArgs) returns id, top_by, top_seq,
	// top_when, conflicts of the ids listed that the peer holds.
	PeerVersions string
	// PeerSeq (peer) returns sent_seq; SetPeerSeq (peer, seq) upserts it.
	PeerSeq, SetPeerSeq string
	// PeerState (peer) returns received, sent, resume; SetPeerState
	// (peer, received, sent, resume) upserts them and DelPeerState (peer)
	// deletes them.
	PeerState, SetPeerState, DelPeerState string
	// DelPeerVersions (peer) deletes every version peer holds.
	DelPeerVersions string
	// HistoryMark (seq) returns the mark of the first commit at or after
	// seq; AddHistory (seq, mark) records one.
	HistoryMark, AddHistory string
	// FeedInfo returns format, title, link, description, atom_id,
	// updated; SetFeedInfo takes them in that order.
	FeedInfo, SetFeedInfo string
	// Retention returns horizon, compacted, swept, marks; SetRetention
	// takes them in that order.
	Retention, SetRetention string

	// BatchIDs is how many ids one StatMany or PeerVersions query names
	// at most.
	BatchIDs int
	// IDArgs appends ids, at most BatchIDs of them, to args as the
	// arguments of StatMany or PeerVersions that list them.
	IDArgs func(args []any, ids []string) []any
	// SetPeerVersions returns the upsert of the versions vs of items ids
	// held by the peer that key names (Driver.Peer): n is how many of them
	// it writes, from the first, and args its arguments, which the Tx
	// gives to Driver.Write: they may wait there to be sent.
	SetPeerVersions func(key any, ids []string, vs []store.Version) (n int, q string, args []any)
}

// StatCols are the columns, in order, that the Stat statements return.
const StatCols = `seq, id, updates, deleted, top_by, top_seq, top_when, digest, conflicts, conflicts_digest`

// Rows are the rows of a query: database/sql's *sql.Rows is; pgx.Rows is
// but for Close, which reports nothing there (its Err does).
type Rows interface {
	itemrow.Rows
	// Close ends the query and returns its error, if any.
	Close() error
}

// Driver is one transaction on its database connection, as its store
// runs it. The Tx checks its state before it calls any of these, and
// fails itself on their errors, except where said.
//
// A query that finds no row returns an error that wraps sql.ErrNoRows
// (pgx.ErrNoRows does).
type Driver interface {
	// Exec runs a statement now and returns how many rows it changed.
	Exec(ctx context.Context, q string, args ...any) (int64, error)
	// QueryRow runs a query now and scans its first row into dest.
	QueryRow(ctx context.Context, q string, args []any, dest ...any) error
	// Query runs a query now; the caller closes the rows.
	Query(ctx context.Context, q string, args ...any) (Rows, error)

	// Write makes a write whose outcome the caller does not need: at
	// once, or queued to be sent with others before the next read that
	// could see it (Flush). what says what it is, for an error; item is
	// the id of the item whose row it changes, or "" (Pending). Writes
	// reach the database in the order they are made.
	//
	// The errors of Write and Flush are whole: prefixed with the
	// Dialect's Name, they say which write failed, and they have failed
	// the Tx already.
	Write(ctx context.Context, what, item, q string, args ...any) error
	// Flush makes the writes still pending.
	Flush(ctx context.Context) error
	// Pending reports whether a write still pending may change the row of
	// item id: Get and Stat flush only then.
	Pending(id string) bool

	// Peer returns the argument by which the statements that take a peer
	// key (Dialect.PeerVersions, SetPeerVersions) name peer, and false if
	// peer holds nothing. create gives the peer a key if it has none.
	Peer(ctx context.Context, peer string, create bool) (key any, ok bool, err error)

	// SaveSeq writes the counter back at Commit, seq the last sequence
	// number taken.
	SaveSeq(ctx context.Context, seq int64) error
	// Commit commits the transaction and, if it succeeds, ends it (gives
	// back what it holds). On an error the Tx calls Rollback.
	Commit(ctx context.Context) error
	// Rollback rolls the transaction back and ends it, whatever it
	// returns. It runs without the caller's ctx, which may be the reason
	// the transaction failed.
	Rollback() error
}

// RowBatcher is implemented by a Driver that keeps the rows of Put and
// SetPeerVersion pending, to write them many to a statement (SQLite, where
// the work of a statement is about that of a row). Without it the Tx makes
// them with Write, one statement each (which PostgreSQL sends many to a
// round trip). The errors are whole, as Write's are.
type RowBatcher interface {
	// Put writes the row of an item, which takes sequence number seq.
	Put(ctx context.Context, seq int64, r itemrow.Row) error
	// SetPeerVersion records that peer holds version v of item id.
	SetPeerVersion(ctx context.Context, peer, id string, v store.Version) error
}
