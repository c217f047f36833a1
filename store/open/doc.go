// Package open opens a store.Store named by a DSN, for programs that let
// their users choose the store (a command-line flag, a config file).
//
// It imports every implementation, and with them modernc.org/sqlite and
// pgx; a program that needs only one store imports that package instead.
//
// # Usage
//
//	s, err := open.Open(ctx, "sqlite:feeds.db")
//
// DSNs:
//
//   - "memory:": a new, empty store.Memory.
//   - "sqlite:PATH", or a bare PATH: the SQLite database file PATH
//     (store/sqlite), created if missing.
//   - "postgres://…" or "postgresql://…": a PostgreSQL database
//     (store/postgres). The query parameter feedsync_schema=NAME puts the
//     store's tables in schema NAME (created if missing); every other
//     parameter goes to pgx as usual.
package open
