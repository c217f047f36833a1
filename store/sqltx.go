package store

import "context"

// SQLTx is implemented by the transactions of the database stores
// (store/sqlite, store/postgres). It runs other statements in the same
// database transaction, so that a package that keeps tables of its own
// beside the store's (store/table tracks an application's table) changes
// them atomically with the items: both are committed or neither.
//
// Errors fail the Tx as the errors of its other methods do.
type SQLTx interface {
	Tx
	// SQLDialect names the database: "sqlite" or "postgres". Statements
	// use its placeholders (? or $1).
	SQLDialect() string
	// ExecSQL runs a statement and returns the number of rows it changed.
	// It is a write: store.ErrReadOnly in a read-only Tx.
	ExecSQL(ctx context.Context, query string, args ...any) (int64, error)
	// QuerySQL runs a query and calls row for each result row; scan reads
	// the row's columns as database/sql's Rows.Scan does. row must not use
	// the Tx: the connection runs one query at a time.
	QuerySQL(ctx context.Context, query string, args []any, row func(scan func(dest ...any) error) error) error
}
