// Package sqltx is the store.Tx of the SQL stores (store/sqlite and
// store/postgres), written once: every method of store.Tx and of the
// optional interfaces those stores implement (store.XMLReader,
// store.BatchReader, store.BatchWriter, store.SQLTx, store.RepairReader),
// with their error messages, the decoding of rows, the order in which a
// method checks the transaction, makes the writes left pending and runs
// its statements, and Commit's saving of the sequence counter and history
// mark.
//
// A store keeps what differs between the databases: its SQL text
// (Dialect), and how one transaction talks to its database (Driver): how a
// statement runs (database/sql with statements prepared per connection for
// SQLite, pgx for PostgreSQL), how a write reaches the database (at once,
// or queued with others: PostgreSQL sends writes in pgx.Batch round trips,
// SQLite writes the rows of Put and SetPeerVersion many to a statement,
// RowBatcher), how statements name a peer and a list of ids, and how a
// transaction commits, rolls back and gives back its connection. The life
// of the transaction (ended, failed, read-only, its sequence numbers) is
// txstate's.
package sqltx
