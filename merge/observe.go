package merge

import (
	"context"
	"fmt"

	"github.com/feedsync/go-feedsync/feedsync"
)

// Observer is an optional interface of a Local that wants to see every
// incoming item, not only the results Put receives. Run calls Observe once
// for each incoming item that has valid sync metadata, in document order,
// before it merges the item; items without sx:sync (FS-FEED-7) and rejected
// ones (FS-ROBUST-1) are not observed.
//
// Package consumer uses it to record, for echo suppression, the version each
// item has at the sending endpoint: the incoming version as it arrived,
// whatever the merge makes of it. An unchanged item is never Put, so Put
// alone cannot tell.
type Observer interface {
	// Observe is called with the incoming item, which it must not modify.
	// An error stops Run.
	Observe(ctx context.Context, incoming *feedsync.Item) error
}

// observe calls local's Observe, if it has one, for the incoming item in.
func observe(ctx context.Context, local Local, in *feedsync.Item) error {
	o, ok := local.(Observer)
	if !ok {
		return nil
	}
	if err := o.Observe(ctx, in); err != nil {
		return fmt.Errorf("merge: observe item %q (line %d): %w", in.ID(), in.Line(), err)
	}
	return nil
}
