package table_test

import (
	"fmt"
	"testing"
)

// BenchmarkAppWrite measures what tracking costs the application: the same
// plain SQL writes (an INSERT, then an UPDATE of the row; 100 rows to a
// transaction, so that the disk's commit latency, the same in both cases,
// does not hide the difference) on a table without triggers and on a
// tracked one, whose triggers log each write. Compare the two with
// benchstat; run with -count so that the cases alternate on a noisy
// machine.
func BenchmarkAppWrite(b *testing.B) {
	for _, d := range []string{"sqlite", "postgres"} {
		for _, tracked := range []bool{false, true} {
			name := d + "/plain"
			if tracked {
				name = d + "/tracked"
			}
			b.Run(name, func(b *testing.B) {
				a := newApp(b, d)
				if tracked {
					a.open("app")
				}
				ins := a.sqlFor(`INSERT INTO ` + a.tasks + ` (id, title) VALUES (?, ?)`)
				upd := a.sqlFor(`UPDATE ` + a.tasks + ` SET done = ? WHERE id = ?`)
				b.ResetTimer()
				for i := 0; i < b.N; {
					tx, err := a.db.Begin()
					if err != nil {
						b.Fatal(err)
					}
					for end := min(i+100, b.N); i < end; i++ {
						if _, err := tx.Exec(ins, i, fmt.Sprint("task ", i)); err != nil {
							b.Fatal(err)
						}
						if _, err := tx.Exec(upd, true, i); err != nil {
							b.Fatal(err)
						}
					}
					if err := tx.Commit(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkPublish measures the other half: turning logged rows into
// items, per row, as the next transaction of the store does.
func BenchmarkPublish(b *testing.B) {
	for _, d := range []string{"sqlite", "postgres"} {
		b.Run(d, func(b *testing.B) {
			a := newApp(b, d)
			st := a.open("app")
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				a.exec(`INSERT INTO TASKS (id, title) VALUES (?, ?)`, i, fmt.Sprint("task ", i))
				b.StartTimer()
				if _, err := st.Publish(b.Context()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
