package table

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/feedsync/go-feedsync/store/open"
)

// ParseDSN splits a table DSN into the DSN of the base store and the
// Config it names (without By):
//
//	sqlite:app.db?table=tasks&key=id
//	sqlite:app.db?table=tasks&key=id&columns=title,done
//	postgres://host/app?feedsync_schema=feedsync&table=public.tasks&key=id
//
// table and key are required; columns (comma-separated) defaults to every
// column but the key. The other query parameters of a PostgreSQL DSN stay
// with it.
func ParseDSN(dsn string) (base string, cfg Config, err error) {
	base, rawQuery, _ := strings.Cut(dsn, "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", Config{}, fmt.Errorf("table: DSN: %w", err)
	}
	cfg.Table, cfg.Key = q.Get("table"), q.Get("key")
	if c := q.Get("columns"); c != "" {
		cfg.Columns = strings.Split(c, ",")
	}
	if cfg.Table == "" || cfg.Key == "" {
		return "", Config{}, fmt.Errorf("%w: the DSN must name the table and its key column: add ?table=NAME&key=COLUMN", ErrConfig)
	}
	q.Del("table")
	q.Del("key")
	q.Del("columns")
	if len(q) > 0 {
		if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
			return "", Config{}, fmt.Errorf("%w: unknown DSN parameters %s (want table, key, columns)", ErrConfig, q.Encode())
		}
		base += "?" + q.Encode()
	}
	return base, cfg, nil
}

// OpenDSN opens the base store that dsn names (store/open) and a Store over
// it, for the table dsn names (ParseDSN), with by as the endpoint's
// identifier.
func OpenDSN(ctx context.Context, dsn, by string) (*Store, error) {
	base, cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	cfg.By = by
	st, err := open.Open(ctx, base)
	if err != nil {
		return nil, err
	}
	s, err := Open(ctx, st, cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	return s, nil
}
