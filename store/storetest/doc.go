// Package storetest is the conformance suite for implementations of
// store.Store: every store in this module passes the same tests, and a
// store written elsewhere can run them too.
//
// # Usage
//
//  1. In the implementation's tests, call Run with a function that returns
//     a new, empty store for each subtest (register the removal of its
//     database with t.Cleanup).
//  2. For a store that keeps its data (a file, a server), also call
//     RunDurable with a function that makes a new database and returns a
//     function opening it: the suite reopens it, migrates it from empty,
//     opens it twice at once and races writers through separate handles.
//
// The suite builds its items with the rules of package feedsync (creations,
// updates, conflicts, resolutions, tombstones, anonymous histories, after
// docs/RULES.md §16) and also stores every valid item of the repository's
// testdata/feeds.
package storetest
