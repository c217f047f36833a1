// Package postgres is a store.Store in a PostgreSQL database, through
// pgx (github.com/jackc/pgx/v5 and its pgxpool). Many servers may share one
// database.
//
// # Usage
//
//  1. s, err := postgres.Open(ctx, "postgres://user@host/db", postgres.Options{Schema: "feeds"})
//     connects and migrates the schema (feedsync_schema_version and
//     numbered migrations, see schema.go; tables are prefixed feedsync_).
//  2. Use s as a store.Store: Begin, then Get/Put/Changes/…, then Commit.
//  3. Close it.
//
// # Sequence numbers and concurrent writers
//
// An incremental feed polls "changes after N". That is only correct if no
// change can ever commit with a sequence number below one a reader has
// already seen. A plain PostgreSQL sequence (nextval) does not give this:
// transaction A takes 10, B takes 11, B commits, a reader sees 11 and moves
// its mark past 10, then A commits 10 and the reader never sees it.
//
// This store uses the simple correct choice: one counter row,
// feedsync_counter. Every writable transaction locks it at Begin (SELECT
// … FOR UPDATE, at READ COMMITTED), hands out numbers from it and writes it
// back at Commit. Writers therefore run one at a time across all servers,
// and commit in the order of their numbers: by the time B can take a
// number, A has committed or rolled back. The same lock makes
// read-modify-write cycles safe: two writers that Get, change and Put the
// same item cannot lose an update. The cost is that writers do not run in
// parallel, which matches the unit of work (a whole incoming feed per
// transaction) and the other stores. SERIALIZABLE with retries would let
// unrelated writers overlap but still needs a commit-ordered sequence for
// the readers, and every caller would need a retry loop; we chose the lock.
// storetest's PollingReader and HandlesPollingReader race two writers on
// separate pools against a polling reader and check that nothing is lost
// or skipped.
//
// Writes (Put, SetPeerVersion, SetPeerSeq, SetFeedInfo) are queued and sent
// in batches, one round trip per 256; a read that may depend on them sends
// them first, and a Get sends them only when one of them puts the id asked.
// Merging a feed into the store then costs about one round trip per item,
// its Get. The server's error for a queued write surfaces from the next
// call or from Commit, and says which write it was.
//
// A Tx is a store.BatchReader and store.BatchWriter: StatMany and
// PeerVersions read 256 ids per query (id = ANY($1)), and SetPeerVersions
// queues one upsert of up to 128 rows (unnest of arrays) among the writes
// above, so comparing a peer's summary with the store costs a round trip
// per batch, not per item.
//
// Readers run at READ COMMITTED and never wait for the writer. Iterators
// read in batches (keyset pagination on the unique index on seq), so the
// loop body may use the same Tx although a pgx connection runs one query at
// a time.
//
// This package is the only one in the module that imports pgx.
package postgres
