package sqltx

import (
	"context"
	"fmt"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/internal/itemrow"
)

// Rewrite runs at once, not pending: whether a row had the version is its
// answer.
func (t *Tx) Rewrite(ctx context.Context, it *feedsync.Item) error {
	id := ""
	if it != nil {
		id = it.ID()
	}
	if err := t.enter(ctx, true); err != nil {
		return fmt.Errorf("%s: rewrite item %q: %w", t.q.Name, id, err)
	}
	r, err := itemrow.FromItem(it)
	if err != nil {
		return fmt.Errorf("%s: rewrite item %q: %w", t.q.Name, id, t.Fail(err))
	}
	v := r.Version
	n, err := t.d.Exec(ctx, t.q.Rewrite, r.Updates, r.Deleted, r.Digest[:], r.Conflicts, r.Data,
		r.ID, v.Top.By, v.Top.Sequence, t.timeArg(v.Top.When), v.Conflicts)
	if err != nil {
		return fmt.Errorf("%s: rewrite item %q: %w", t.q.Name, id, t.Fail(err))
	}
	if n != 1 {
		return fmt.Errorf("%s: rewrite item %q: %w", t.q.Name, id, t.Fail(store.ErrNotSameVersion))
	}
	return nil
}

func (t *Tx) Remove(ctx context.Context, id string) (int64, error) {
	what := fmt.Sprintf("remove item %q", id)
	if err := t.write(ctx, what, id, t.q.Remove, id); err != nil {
		return 0, err
	}
	if err := t.d.Write(ctx, what+": peer versions", "", t.q.RemovePeerVersions, id); err != nil {
		return 0, err
	}
	return t.Next(), nil
}

func (t *Tx) Retention(ctx context.Context) (store.Retention, error) {
	if err := t.enter(ctx, false); err != nil {
		return store.Retention{}, fmt.Errorf("%s: retention: %w", t.q.Name, err)
	}
	var r store.Retention
	var marks string
	found, err := t.queryRow(ctx, t.q.Retention, nil, &r.Horizon, &r.Compacted, &r.Swept, &marks)
	if found {
		r.Marks, err = itemrow.DecodeMarks(marks)
	}
	if err != nil {
		return store.Retention{}, fmt.Errorf("%s: retention: %w", t.q.Name, t.Fail(err))
	}
	return r, nil
}

func (t *Tx) SetRetention(ctx context.Context, r store.Retention) error {
	if err := t.Check(ctx, true); err != nil {
		return fmt.Errorf("%s: set retention: %w", t.q.Name, err)
	}
	marks, err := itemrow.EncodeMarks(r.Marks)
	if err != nil {
		return fmt.Errorf("%s: set retention: %w", t.q.Name, t.Fail(err))
	}
	return t.d.Write(ctx, "set retention", "", t.q.SetRetention, r.Horizon, r.Compacted, r.Swept, marks)
}
