package table_test

import (
	"bytes"
	"context"
	"database/sql"
	"testing"

	"github.com/feedsync/go-feedsync/consumer"
	"github.com/feedsync/go-feedsync/internal/feedtest"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
)

// feedSync merges the complete feed of from into to, as peer.
func feedSync(ctx context.Context, from, to store.Store, peer string) error {
	var feed bytes.Buffer
	if _, err := producer.Produce(ctx, from, "", &feed, producer.Options{}); err != nil {
		return err
	}
	_, err := consumer.Consume(ctx, to, &feed, consumer.Options{Peer: peer})
	return err
}

// dropSchema drops a PostgreSQL schema with everything in it.
func dropSchema(t testing.TB, dsn, schema string) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Errorf("drop schema %s: %v", schema, err)
		return
	}
	defer db.Close()
	if _, err := db.Exec(`DROP SCHEMA IF EXISTS "` + schema + `" CASCADE`); err != nil {
		t.Errorf("drop schema %s: %v", schema, err)
	}
}

func manifestSum(t testing.TB, st store.Store) [32]byte {
	t.Helper()
	return feedtest.Manifest(t, st).Sum()
}
