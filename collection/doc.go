// Package collection is a typed collection over a store: an application
// puts, gets, deletes and lists its own values by its own keys, lists the
// conflicts merges left and resolves them, one call each, while the spec's
// rules (create or update, undelete, unchanged data, stamps, resolution)
// are applied underneath.
//
// # Usage
//
//  1. Open a store (store.NewMemory, store/sqlite, store/postgres, or
//     store/table for the application's own SQL table).
//  2. Make a Collection over it with an item converter (converter.Struct,
//     converter.Map, …), an id converter (converter.IDs) and the endpoint's
//     by value.
//  3. Put, Get, Delete and range over All as with any key-value store;
//     merge peers' feeds into the same store (consumer, httpfeed); list
//     Conflicts and Resolve each with the value to keep.
//
// The rules each method applies are on its documentation: Put is FS-CREATE
// or FS-UPDATE (FS-UPDATE-5 for a tombstone, FS-UPDATE-6 for unchanged
// data), Delete is FS-DELETE, Resolve is FS-RESOLVE.
package collection
