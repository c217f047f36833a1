// Package itemrow turns feedsync items into the rows the database stores
// keep (standalone XML plus indexed columns) and back.
package itemrow
