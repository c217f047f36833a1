// Package txstate is the life of a store transaction, shared by every store
// (the memory store, SQLite and PostgreSQL): open until Commit or Rollback
// ends it; failed from its first failure on, after which every method
// reports that failure and Commit rolls back; read-only or writable; and
// the sequence numbers and history mark a writable transaction hands out.
// The stores keep only what differs between them: their statements and
// how a write reaches the database.
//
// It also holds the errors of that life (store re-exports them as
// store.ErrClosed, store.ErrTxDone, store.ErrReadOnly and
// store.ErrTxFailed), so that package store can use it too.
package txstate
