package table

import (
	"context"
	"fmt"
	"strings"

	"github.com/feedsync/go-feedsync/store"
)

// dialect holds what differs between SQLite and PostgreSQL: placeholders,
// casts to and from text, the triggers, the lock and the mute switch.
type dialect struct {
	postgres bool
	table    string // the tracked table, quoted
	tableRaw string // as configured
	log      string // the change log table, quoted (qualified in PostgreSQL)
	logName  string // its bare name
	schema   string // PostgreSQL: the store's schema, which holds the log
	key      column

	qLog, qTrim, qRow, qDelete, qPending string
}

func newDialect(ctx context.Context, tx store.SQLTx, table string) (dialect, error) {
	d := dialect{table: quote(table), tableRaw: table, logName: "feedsync_log_" + plainName(table)}
	switch tx.SQLDialect() {
	case "sqlite":
		if strings.Contains(table, ".") {
			return d, fmt.Errorf("%w: SQLite tables are tracked in the main database: give the table's bare name", ErrConfig)
		}
		d.log = quote(d.logName)
	case "postgres":
		d.postgres = true
		err := tx.QuerySQL(ctx, `SELECT current_schema()`, nil, func(scan func(...any) error) error {
			return scan(&d.schema)
		})
		if err != nil {
			return d, err
		}
		d.log = quote(d.schema) + "." + quote(d.logName)
	default:
		return d, fmt.Errorf("%w: unknown SQL dialect %q", ErrConfig, tx.SQLDialect())
	}
	d.qLog = `SELECT n, key FROM ` + d.log + ` ORDER BY n LIMIT ` + d.ph(1)
	d.qTrim = `DELETE FROM ` + d.log + ` WHERE n <= ` + d.ph(1)
	d.qPending = `SELECT EXISTS (SELECT 1 FROM ` + d.log + `)`
	return d, nil
}

// ph is the i-th placeholder, from 1.
func (d dialect) ph(i int) string {
	if d.postgres {
		return fmt.Sprintf("$%d", i)
	}
	return "?"
}

// read is the expression that reads column c as text.
func (d dialect) read(c column) string {
	if d.postgres {
		return quote(c.name) + "::text"
	}
	return "CAST(" + quote(c.name) + " AS TEXT)"
}

// write is the expression that gives column c the text of placeholder i:
// PostgreSQL casts it to the column's type; SQLite's column affinity
// converts it.
func (d dialect) write(i int, c column) string {
	if d.postgres {
		return "CAST(" + d.ph(i) + "::text AS " + c.typ + ")"
	}
	return d.ph(i)
}

// prepare makes the statements that depend on the columns.
func (d *dialect) prepare(key column, cols []column) {
	d.key = key
	reads := make([]string, len(cols))
	for i, c := range cols {
		reads[i] = d.read(c)
	}
	sel := strings.Join(reads, ", ")
	if sel == "" {
		sel = "1"
	}
	d.qRow = `SELECT ` + sel + ` FROM ` + d.table + ` WHERE ` + quote(key.name) + ` = ` + d.write(1, key)
	d.qDelete = `DELETE FROM ` + d.table + ` WHERE ` + quote(key.name) + ` = ` + d.write(1, key)
}

// update returns the statement that sets cols of the row whose key is the
// placeholder after theirs.
func (d dialect) update(cols []column) string {
	sets := make([]string, 0, len(cols))
	for i, c := range cols {
		sets = append(sets, quote(c.name)+" = "+d.write(i+1, c))
	}
	if len(sets) == 0 {
		sets = append(sets, quote(d.key.name)+" = "+quote(d.key.name)) // just count the row
	}
	return `UPDATE ` + d.table + ` SET ` + strings.Join(sets, ", ") + ` WHERE ` + quote(d.key.name) + ` = ` + d.write(len(cols)+1, d.key)
}

// insert returns the statement that inserts a row with the key and cols.
func (d dialect) insert(cols []column) string {
	names := []string{quote(d.key.name)}
	vals := []string{d.write(1, d.key)}
	for i, c := range cols {
		names = append(names, quote(c.name))
		vals = append(vals, d.write(i+2, c))
	}
	return `INSERT INTO ` + d.table + ` (` + strings.Join(names, ", ") + `) VALUES (` + strings.Join(vals, ", ") + `)`
}

// value is the argument a column gets for v.
func (d dialect) value(v any) (any, error) {
	return valueText(v, func(b bool) string {
		switch {
		case d.postgres:
			return fmt.Sprint(b)
		case b:
			return "1" // SQLite has no booleans: 1 and 0, as it reads them back
		}
		return "0"
	})
}

// columns lists the table's columns with their declared types; none when
// there is no such table.
func (d dialect) columns(ctx context.Context, tx store.SQLTx) ([]column, error) {
	q := `SELECT name, type FROM pragma_table_info(?) ORDER BY cid`
	arg := d.tableRaw
	if d.postgres {
		q = `SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`
		arg = d.table
	}
	var out []column
	err := tx.QuerySQL(ctx, q, []any{arg}, func(scan func(...any) error) error {
		var c column
		if err := scan(&c.name, &c.typ); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// install creates the change log and the triggers that fill it, replacing
// triggers of an earlier configuration. When the log is new, every row
// already in the table is logged, so that it is published.
func (d dialect) install(ctx context.Context, tx store.SQLTx) error {
	exists, err := d.logExists(ctx, tx)
	if err != nil {
		return err
	}
	var stmts []string
	key := quote(d.key.name)
	if d.postgres {
		fn := quote(d.schema) + "." + quote(d.logName)
		stmts = []string{
			`CREATE TABLE IF NOT EXISTS ` + d.log + ` (n bigserial PRIMARY KEY, key text NOT NULL)`,
			// The function runs in the application's sessions, whose
			// search_path need not include the store's schema: every name
			// is qualified. feedsync.mute is set (for its transaction
			// only) while the store writes merged items back.
			`CREATE OR REPLACE FUNCTION ` + fn + `() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
	IF coalesce(current_setting('feedsync.mute', true), '') = 'on' THEN
		RETURN NULL;
	END IF;
	IF TG_OP = 'INSERT' THEN
		INSERT INTO ` + d.log + ` (key) VALUES (NEW.` + key + `::text);
	ELSIF TG_OP = 'DELETE' THEN
		INSERT INTO ` + d.log + ` (key) VALUES (OLD.` + key + `::text);
	ELSE
		INSERT INTO ` + d.log + ` (key) VALUES (OLD.` + key + `::text);
		IF NEW.` + key + ` IS DISTINCT FROM OLD.` + key + ` THEN
			INSERT INTO ` + d.log + ` (key) VALUES (NEW.` + key + `::text);
		END IF;
	END IF;
	RETURN NULL;
END
$f$`,
			`DROP TRIGGER IF EXISTS feedsync_log ON ` + d.table,
			`CREATE TRIGGER feedsync_log AFTER INSERT OR UPDATE OR DELETE ON ` + d.table + ` FOR EACH ROW EXECUTE FUNCTION ` + fn + `()`,
		}
	} else {
		when := ` WHEN (SELECT muted FROM feedsync_mute WHERE k = 1) = 0`
		logNew := `INSERT INTO ` + d.log + ` (key) SELECT CAST(NEW.` + key + ` AS TEXT) WHERE NEW.` + key + ` IS NOT NULL;`
		logOld := `INSERT INTO ` + d.log + ` (key) SELECT CAST(OLD.` + key + ` AS TEXT) WHERE OLD.` + key + ` IS NOT NULL;`
		trig := func(suffix string) string { return quote("feedsync_" + plainName(d.tableRaw) + "_" + suffix) }
		stmts = []string{
			`CREATE TABLE IF NOT EXISTS feedsync_mute (k INTEGER PRIMARY KEY CHECK (k = 1), muted INTEGER NOT NULL)`,
			`INSERT OR IGNORE INTO feedsync_mute (k, muted) VALUES (1, 0)`,
			// No AUTOINCREMENT: numbers may be reused once the log is
			// trimmed empty, which is harmless (the log is read and
			// trimmed in one transaction that holds the write lock), and
			// each logged write is cheaper without it.
			`CREATE TABLE IF NOT EXISTS ` + d.log + ` (n INTEGER PRIMARY KEY, key TEXT NOT NULL)`,
			`DROP TRIGGER IF EXISTS ` + trig("insert"),
			`DROP TRIGGER IF EXISTS ` + trig("update"),
			`DROP TRIGGER IF EXISTS ` + trig("delete"),
			`CREATE TRIGGER ` + trig("insert") + ` AFTER INSERT ON ` + d.table + when + ` BEGIN ` + logNew + ` END`,
			`CREATE TRIGGER ` + trig("update") + ` AFTER UPDATE ON ` + d.table + when + ` BEGIN ` + logOld +
				` INSERT INTO ` + d.log + ` (key) SELECT CAST(NEW.` + key + ` AS TEXT) WHERE NEW.` + key + ` IS NOT NULL AND NEW.` + key + ` IS NOT OLD.` + key + `; END`,
			`CREATE TRIGGER ` + trig("delete") + ` AFTER DELETE ON ` + d.table + when + ` BEGIN ` + logOld + ` END`,
		}
	}
	if !exists {
		stmts = append(stmts, `INSERT INTO `+d.log+` (key) SELECT `+d.read(d.key)+` FROM `+d.table+` WHERE `+key+` IS NOT NULL`)
	}
	for _, q := range stmts {
		if _, err := tx.ExecSQL(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

func (d dialect) logExists(ctx context.Context, tx store.SQLTx) (bool, error) {
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	arg := d.logName
	if d.postgres {
		q = `SELECT COUNT(*) FROM pg_tables WHERE schemaname = $1 AND tablename = $2`
	}
	args := []any{arg}
	if d.postgres {
		args = []any{d.schema, d.logName}
	}
	var n int64
	err := tx.QuerySQL(ctx, q, args, func(scan func(...any) error) error { return scan(&n) })
	return n > 0, err
}

// lock keeps the application's writers out of the table until the
// transaction ends, so that a merge writing rows back cannot overwrite a
// change it has not published. SQLite needs nothing: a writable
// transaction of the store holds the database's write lock already.
func (d dialect) lock(ctx context.Context, tx store.SQLTx) error {
	if !d.postgres {
		return nil
	}
	_, err := tx.ExecSQL(ctx, `LOCK TABLE `+d.table+` IN SHARE ROW EXCLUSIVE MODE`)
	return err
}

// pending reports whether the log holds changes not yet published.
func (d dialect) pending(ctx context.Context, tx store.SQLTx) (bool, error) {
	var b bool
	err := tx.QuerySQL(ctx, d.qPending, nil, func(scan func(...any) error) error { return scan(&b) })
	return b, err
}

// mute turns the triggers off (on true) or on for the rest of the
// transaction: the rows the store writes back are not the application's
// changes. In SQLite the switch is a row, which no other connection can
// see while the store's transaction holds the write lock; in PostgreSQL a
// setting local to the transaction.
func (d dialect) mute(ctx context.Context, tx store.SQLTx, on bool) error {
	var err error
	if d.postgres {
		v := "off"
		if on {
			v = "on"
		}
		_, err = tx.ExecSQL(ctx, `SELECT set_config('feedsync.mute', $1, true)`, v)
	} else {
		v := 0
		if on {
			v = 1
		}
		_, err = tx.ExecSQL(ctx, `UPDATE feedsync_mute SET muted = ? WHERE k = 1`, v)
	}
	return err
}
