// Package table makes an application's own SQL table a store: the
// application keeps writing plain INSERT, UPDATE and DELETE statements,
// and its rows are published as FeedSync items; what peers send is merged
// and written back into the rows. This is the inline change tracking of
// the FeedSync model ("a trigger may be used to update a change tracking
// table immediately after a row is updated").
//
// # How it works
//
// Open installs, in the table's database, a trigger for each kind of write
// and a change log that the triggers fill with the keys of the rows
// written. The items themselves, with their sync metadata and conflict
// copies, are kept by the base store (store/sqlite or store/postgres) in
// the same database: its tables are the shadow of the application's.
//
// Every transaction of a Store first publishes the logged rows, in the
// same database transaction: a new row is a creation (FS-CREATE), a
// changed one an update stamped with Config.By (FS-UPDATE), a row that is
// gone a deletion (FS-DELETE). A row whose payload did not change publishes
// nothing (FS-UPDATE-6). Every item a transaction puts, a merged one or a
// collection's, is written back into its row with the triggers muted, so
// it does not come back as the application's change: a live item inserts
// or updates the row with its winning value, a tombstone deletes it. While
// a writable transaction runs, the application's writers wait (SQLite's
// write lock; a table lock in PostgreSQL), so no write falls between the
// publishing and the write-back and none is lost.
//
// # Usage
//
//  1. Open the base store on the application's database (sqlite.Open on
//     its file; postgres.Open on its database, with a schema of the
//     store's own) and Open a Store over it with the table, its key column
//     and the endpoint's by. OpenDSN does both from one string.
//  2. Serve it (httpfeed.Handler), sync it (httpfeed.Client), merge into it
//     (consumer) as any store.
//  3. Read conflicts and resolve them through a collection.Collection over
//     the Store with Items() and converter.IDs[string].
//
// Column values travel as text (NULL as null): the default converter,
// converter.Map, puts columns named title, link, description, content and
// published in the feed format's standard elements and the others in
// <f:NAME> elements.
package table
