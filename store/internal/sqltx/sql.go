package sqltx

import (
	"context"
	"fmt"
)

// SQLDialect returns the Dialect's Name (store.SQLTx).
func (t *Tx) SQLDialect() string { return t.q.Name }

// ExecSQL runs a statement in the transaction (store.SQLTx), after the
// writes pending.
func (t *Tx) ExecSQL(ctx context.Context, q string, args ...any) (int64, error) {
	if err := t.enter(ctx, true); err != nil {
		return 0, fmt.Errorf("%s: exec: %w", t.q.Name, err)
	}
	n, err := t.d.Exec(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: exec: %w", t.q.Name, t.Fail(err))
	}
	return n, nil
}

// QuerySQL runs a query in the transaction and calls row for each result
// row (store.SQLTx), after the writes pending. An error of row fails the
// Tx, as it is.
func (t *Tx) QuerySQL(ctx context.Context, q string, args []any, row func(scan func(dest ...any) error) error) error {
	if err := t.enter(ctx, false); err != nil {
		return fmt.Errorf("%s: query: %w", t.q.Name, err)
	}
	rows, err := t.d.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("%s: query: %w", t.q.Name, t.Fail(err))
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return t.Fail(err)
		}
	}
	if err := closeRows(rows, rows.Err()); err != nil {
		return fmt.Errorf("%s: query: %w", t.q.Name, t.Fail(err))
	}
	return nil
}
