package postgres

import (
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
)

// batchIDs is how many ids one query of StatMany or PeerVersions names
// (as one array parameter, id = ANY($1)).
const batchIDs = 256

// batchRows is how many peer versions one upsert of SetPeerVersions
// writes at most (as arrays, unnest).
const batchRows = 128

// qSetPeerVersions upserts the rows of arrays of the same length; an id
// appears in them at most once (ON CONFLICT DO UPDATE may not touch a row
// twice in one statement).
const qSetPeerVersions = `INSERT INTO feedsync_peer_versions (peer, id, top_by, top_seq, top_when, conflicts)
SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::timestamptz[], $6::text[])
ON CONFLICT (peer, id) DO UPDATE SET top_by = excluded.top_by, top_seq = excluded.top_seq,
	top_when = excluded.top_when, conflicts = excluded.conflicts`

// idArgs appends ids as the one array argument that lists them.
func idArgs(args []any, ids []string) []any { return append(args, ids) }

// setPeerVersions returns the upsert of up to batchRows of the versions,
// as arrays (sqltx.Dialect.SetPeerVersions). A batch ends before an id it
// holds already: a statement may upsert a row once, and the later version
// must win.
func setPeerVersions(peer any, ids []string, vs []store.Version) (int, string, []any) {
	n, seen := 0, make(map[string]bool, batchRows)
	for n < len(ids) && n < batchRows && !seen[ids[n]] {
		seen[ids[n]] = true
		n++
	}
	bids, bys, seqs := make([]string, n), make([]string, n), make([]int64, n)
	whens, conflicts := make([]*time.Time, n), make([]string, n)
	for i, v := range vs[:n] {
		bids[i], bys[i], seqs[i], conflicts[i] = ids[i], v.Top.By, v.Top.Sequence, v.Conflicts
		if !v.Top.When.IsZero() {
			when := feedsync.Normalize(v.Top.When)
			whens[i] = &when
		}
	}
	return n, qSetPeerVersions, []any{peer, bids, bys, seqs, whens, conflicts}
}
