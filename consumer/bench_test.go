package consumer_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/feedsync/go-feedsync/consumer"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/postgres"
	"github.com/feedsync/go-feedsync/store/sqlite"
)

// BenchmarkConsume merges an incoming feed of 100k items into an empty
// store ("consume", and "consume+peer" which also records the sender's
// versions for echo suppression) and compares it with a plain bulk insert of
// the same rows into a table of the same shape in the same database
// ("bulk": one prepared INSERT per row in one transaction, rows computed
// beforehand, as store/sqlite's BenchmarkPut does). Compare the items/s
// metrics; the target is consume at half the bulk rate or better.
//
// The PostgreSQL half needs FEEDSYNC_TEST_POSTGRES.
//
// Run: go test -run '^$' -bench Consume -benchmem -count 5 ./consumer/
func BenchmarkConsume(b *testing.B) {
	feed, rows := benchFeed(b)
	for _, db := range []struct {
		name string
		open func(b *testing.B) (store.Store, bulkTarget)
	}{
		{"sqlite", openSQLiteBench},
		{"postgres", openPostgresBench},
	} {
		b.Run(db.name, func(b *testing.B) {
			for _, peer := range []string{"", "peer"} {
				name := "consume"
				if peer != "" {
					name = "consume+peer"
				}
				b.Run(name, func(b *testing.B) {
					ctx := context.Background()
					for b.Loop() {
						b.StopTimer()
						st, _ := db.open(b)
						b.StartTimer()
						sum, err := consumer.Consume(ctx, st, bytes.NewReader(feed), consumer.Options{Peer: peer})
						if err != nil {
							b.Fatal(err)
						}
						if sum.Added != benchN {
							b.Fatalf("added %d items, want %d", sum.Added, benchN)
						}
					}
					b.ReportMetric(float64(benchN*b.N)/b.Elapsed().Seconds(), "items/s")
				})
			}
			b.Run("bulk", func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					_, bulk := db.open(b)
					b.StartTimer()
					if err := bulk(rows); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(benchN*b.N)/b.Elapsed().Seconds(), "items/s")
			})
		})
	}
}

const benchN = 100_000

// row is one item as the stores keep it: the columns of their items table.
type row struct {
	id        string
	updates   int64
	deleted   bool
	topBy     string
	topSeq    int64
	topWhen   time.Time
	digest    []byte
	conflicts int
	xml       []byte
}

// bulkTarget inserts rows into a fresh table shaped like a store's items
// table, in the store's database.
type bulkTarget func(rows []row) error

var (
	benchOnce sync.Once
	benchData []byte
	benchRows []row
	benchErr  error
)

// benchFeed returns an Atom feed of benchN items, each with two history
// entries (a creation and an update by another endpoint), and the rows a
// bulk insert of the same items writes.
func benchFeed(b *testing.B) ([]byte, []row) {
	benchOnce.Do(func() {
		when := time.Date(2009, 4, 2, 8, 0, 0, 0, time.UTC)
		items := make([]*feedsync.Item, benchN)
		benchRows = make([]row, benchN)
		for i := range items {
			e := entry(fmt.Sprintf("Task %d: buy stamps and postcards", i))
			e.CreateElement("id").SetText(fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", i))
			it, err := feedsync.Create(feedsync.Atom, e, fmt.Sprintf("bench-%07d", i), feedsync.Stamp{By: "laptop", When: when}, false)
			if err == nil {
				it, err = feedsync.Update(it, nil, feedsync.Stamp{By: "phone", When: when.Add(time.Hour)})
			}
			if err != nil {
				benchErr = err
				return
			}
			items[i] = it
			xml, err := feedsync.MarshalItem(it)
			if err != nil {
				benchErr = err
				return
			}
			d, err := it.Digest()
			if err != nil {
				benchErr = err
				return
			}
			top := it.Sync.Top()
			benchRows[i] = row{id: it.ID(), updates: it.Sync.Updates, topBy: top.By, topSeq: top.Sequence,
				topWhen: top.When, digest: d[:], xml: xml}
		}
		var buf bytes.Buffer
		h := feedsync.NewHeader(feedsync.Atom, feedsync.FeedInfo{Title: "bench", ID: "urn:feedsync:bench", Updated: when})
		benchErr = feedsync.WriteAll(&buf, h, items)
		benchData = buf.Bytes()
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchData, benchRows
}

// openSQLiteBench opens an empty SQLite store and returns it with a bulk
// insert into the same database file.
func openSQLiteBench(b *testing.B) (store.Store, bulkTarget) {
	path := filepath.Join(b.TempDir(), "bench.db")
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st, func(rows []row) error { return sqliteBulk(path, rows) }
}

// sqliteBulk creates a table shaped like store/sqlite's items table in the
// database at path (through the "sqlite" driver that package registers) and
// fills it with one prepared INSERT in one transaction.
func sqliteBulk(path string, rows []row) error {
	ctx := context.Background()
	// The pragmas store/sqlite sets on its connections (WAL,
	// synchronous=NORMAL), so that both sides write the same way.
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE bulk_items (
	seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, updates INTEGER NOT NULL, deleted INTEGER NOT NULL,
	top_by TEXT NOT NULL, top_seq INTEGER NOT NULL, top_when INTEGER, digest BLOB NOT NULL,
	conflicts INTEGER NOT NULL, xml BLOB NOT NULL)`); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `INSERT INTO bulk_items (seq, id, updates, deleted, top_by, top_seq, top_when, digest, conflicts, xml)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for i, r := range rows {
		if _, err := st.ExecContext(ctx, i+1, r.id, r.updates, r.deleted, r.topBy, r.topSeq, r.topWhen.Unix(),
			r.digest, r.conflicts, r.xml); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// openPostgresBench opens an empty PostgreSQL store in a schema of its own
// and returns it with a bulk insert into a table in that schema.
func openPostgresBench(b *testing.B) (store.Store, bulkTarget) {
	dsn := postgresDSN(b)
	schema := "feedsync_consumer_bench_" + strings.ReplaceAll(feedsync.NewID(), "-", "")
	b.Cleanup(func() { dropSchema(b, dsn, schema) })
	st, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st, func(rows []row) error { return postgresBulk(dsn, schema, rows) }
}

// postgresBulk creates a table shaped like store/postgres's items table in
// schema and fills it with one prepared INSERT in one transaction.
func postgresBulk(dsn, schema string, rows []row) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	table := pgx.Identifier{schema, "bulk_items"}.Sanitize()
	if _, err := conn.Exec(ctx, `CREATE TABLE `+table+` (
	id text PRIMARY KEY, seq bigint NOT NULL UNIQUE, updates bigint NOT NULL, deleted boolean NOT NULL,
	top_by text NOT NULL, top_seq bigint NOT NULL, top_when timestamptz, digest bytea NOT NULL,
	conflicts integer NOT NULL, xml bytea NOT NULL)`); err != nil {
		return err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Prepare(ctx, "bulk", `INSERT INTO `+table+` (seq, id, updates, deleted, top_by, top_seq, top_when, digest, conflicts, xml)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`); err != nil {
		return err
	}
	for i, r := range rows {
		if _, err := tx.Exec(ctx, "bulk", i+1, r.id, r.updates, r.deleted, r.topBy, r.topSeq, r.topWhen,
			r.digest, r.conflicts, r.xml); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// BenchmarkConsumeRatio measures the same as BenchmarkConsume with the
// three variants interleaved: each iteration runs consume, consume+peer and
// bulk one after the other on fresh databases, and reports their rates and
// the ratios consume/bulk and consume+peer/bulk over the whole run. On a
// machine whose load changes while the benchmark runs, this keeps the
// ratios fair where separate sub-benchmarks would not.
//
// Run: go test -run '^$' -bench ConsumeRatio -count 5 ./consumer/
func BenchmarkConsumeRatio(b *testing.B) {
	feed, rows := benchFeed(b)
	for _, db := range []struct {
		name string
		open func(b *testing.B) (store.Store, bulkTarget)
	}{
		{"sqlite", openSQLiteBench},
		{"postgres", openPostgresBench},
	} {
		b.Run(db.name, func(b *testing.B) {
			ctx := context.Background()
			var consume, peer, bulk time.Duration
			timed := func(f func() error) time.Duration {
				start := time.Now()
				if err := f(); err != nil {
					b.Fatal(err)
				}
				return time.Since(start)
			}
			for b.Loop() {
				for _, p := range []string{"", "peer"} {
					st, _ := db.open(b)
					d := timed(func() error {
						_, err := consumer.Consume(ctx, st, bytes.NewReader(feed), consumer.Options{Peer: p})
						return err
					})
					if p == "" {
						consume += d
					} else {
						peer += d
					}
				}
				_, insert := db.open(b)
				bulk += timed(func() error { return insert(rows) })
			}
			n := float64(benchN * b.N)
			b.ReportMetric(n/consume.Seconds(), "consume-items/s")
			b.ReportMetric(n/peer.Seconds(), "consume+peer-items/s")
			b.ReportMetric(n/bulk.Seconds(), "bulk-items/s")
			b.ReportMetric(bulk.Seconds()/consume.Seconds(), "consume/bulk")
			b.ReportMetric(bulk.Seconds()/peer.Seconds(), "consume+peer/bulk")
		})
	}
}
