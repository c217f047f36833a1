// Package sqlite is a store.Store in one SQLite database file, through the
// pure-Go driver modernc.org/sqlite (no cgo).
//
// # Usage
//
//  1. s, err := sqlite.Open(ctx, "feeds.db", sqlite.Options{}) creates the
//     file if needed and migrates its schema (a schema_version table and
//     numbered migrations, see schema.go).
//  2. Use s as a store.Store: Begin, then Get/Put/Changes/…, then Commit.
//  3. Close it.
//
// # Design
//
//   - WAL mode: readers see a snapshot and never wait for the writer.
//   - A writable transaction starts with BEGIN IMMEDIATE, taking the write
//     lock at once, so concurrent writers (of this process or others)
//     serialise at Begin instead of failing with SQLITE_BUSY in mid-work;
//     within a process they queue in Go, honouring ctx, and other processes
//     wait up to Options.BusyTimeout.
//   - The change sequence is a counter row read at Begin under that lock and
//     written back at Commit. Items are keyed by seq (the rowid), so "changes
//     after N" is a range scan of the table in seq order; a unique index on
//     the sync id serves Get.
//   - Each transaction has its own connection and prepares its statements
//     on first use, so a bulk of Puts parses the upsert once.
//   - Items are kept as feedsync.MarshalItem's standalone XML, DEFLATE
//     compressed (about half the size; the XML is most of a store), in a
//     BLOB; items of many MB work (the limit is feedsync's reader limit,
//     feedsync.DefaultMaxItemBytes, when they are read back).
//
// This package is the only one in the module that imports modernc.org/sqlite.
package sqlite
