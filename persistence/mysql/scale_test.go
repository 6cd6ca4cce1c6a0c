package mysql

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/driver"
)

// seedStreams writes streams streams of perStream undispatched commits each
// into bucket, straight into the commits table with multi-row INSERTs (the
// engine's Commit would take minutes for this many rows), then runs ANALYZE
// TABLE so that the planner sees the table's real size. Stream i is named
// fmt.Sprintf("s%07d", i); its commits have sequences and revisions
// 1..perStream.
func seedStreams(t testing.TB, db *sql.DB, bucket string, streams, perStream int) {
	t.Helper()
	ctx := context.Background()
	const rowsPerInsert = 1000
	const cols = "INSERT INTO `" + DefaultTablePrefix + "commits` (bucket_key, stream_key, commit_sequence, commit_id, stream_revision, items, commit_stamp, undispatched, bucket_id, stream_id, payload) VALUES "
	var sb strings.Builder
	args := make([]any, 0, rowsPerInsert*10)
	n := 0
	flush := func() {
		if n == 0 {
			return
		}
		if _, err := db.ExecContext(ctx, sb.String(), args...); err != nil {
			t.Fatal(err)
		}
		sb.Reset()
		args, n = args[:0], 0
	}
	bk := idKey(bucket)
	for i := range streams {
		stream := fmt.Sprintf("s%07d", i)
		sk := idKey(stream)
		for seq := 1; seq <= perStream; seq++ {
			if n == 0 {
				sb.WriteString(cols)
			} else {
				sb.WriteByte(',')
			}
			sb.WriteString("(?,?,?,?,?,1,0,1,?,?,?)")
			id := persistence.NewUUID()
			args = append(args, bk, sk, seq, id[:], seq, bucket, stream, []byte("p"))
			if n++; n == rowsPerInsert {
				flush()
			}
		}
	}
	flush()
	if _, err := db.ExecContext(ctx, "ANALYZE TABLE `"+DefaultTablePrefix+"commits`"); err != nil {
		t.Fatal(err)
	}
}

// explain returns every row of the server's tabular plan for query.
func explain(t testing.TB, e *persistence.Engine, query string, args ...any) []map[string]string {
	t.Helper()
	prefix := "EXPLAIN FORMAT=TRADITIONAL "
	if isMariaDB(t, e) {
		prefix = "EXPLAIN "
	}
	rows, err := poolOf(t, e).Query(prefix+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []map[string]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := map[string]string{}
		for i, c := range cols {
			row[strings.ToLower(c)] = vals[i].String
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// handlerReads returns how many index and table entries the server read to
// run query and fetch all its rows (the session's Handler_read_* counters,
// less what reading them costs), on one connection of db.
func handlerReads(t testing.TB, db *sql.DB, query string, args ...any) int64 {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	counters := func() int64 {
		rows, err := conn.QueryContext(ctx, "SHOW SESSION STATUS LIKE 'Handler_read%'")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var sum int64
		for rows.Next() {
			var name string
			var n int64
			if err := rows.Scan(&name, &n); err != nil {
				t.Fatal(err)
			}
			sum += n
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return sum
	}
	run := func(query string, args ...any) int64 {
		before := counters()
		rows, err := conn.QueryContext(ctx, query, args...)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		return counters() - before
	}
	overhead := run("SELECT 1")
	return run(query, args...) - overhead
}

// seededKeys returns the stream keys of seedStreams(..., streams, ...), in
// index order.
func seededKeys(streams int) [][]byte {
	keys := make([][]byte, streams)
	for i := range keys {
		keys[i] = idKey(fmt.Sprintf("s%07d", i))
	}
	slices.SortFunc(keys, bytes.Compare)
	return keys
}

// scaleStreams is the size at which the quadratic plans showed: at e08812a
// MariaDB read the ix_undispatched flag by ref and filtered the checkpoint
// row by row, and grouped every stream after the cursor in a temporary
// table to keep a page of stream heads.
const scaleStreams = 100_000

// At 100,000 undispatched commits in 100,000 streams, a page of
// Undispatched and a page of stream heads each read about a page of index
// entries, near the start as near the end: the plans are ranges on the
// whole index prefix with nothing collected or sorted, and the server's
// read counters say so.
func TestPlansAtScale(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		e := openIsolated(t, isolatedURL(t, kind))
		db := poolOf(t, e)
		seedStreams(t, db, "b", scaleStreams, 1)
		const limit = 100
		// A page reads its entries, the one that ends it, and the few
		// lookups per head; the bad plans read every entry before the
		// position, hundreds of times more.
		const maxReads = 10 * limit

		var top int64
		if err := db.QueryRow(sqlOf(sqlTop)).Scan(&top); err != nil {
			t.Fatal(err)
		}
		for _, after := range []int64{0, top - limit} {
			rows := explain(t, e, sqlOf(sqlUndispatched), after, limit)
			if len(rows) != 1 {
				t.Fatalf("Undispatched plan has %d rows: %v", len(rows), rows)
			}
			// key_len 10: the flag (TINYINT NULL, 2 bytes) and the
			// checkpoint (BIGINT, 8), the index's implicit last column.
			if r := rows[0]; r["type"] != "range" || r["key"] != "ix_undispatched" || r["key_len"] != "10" {
				t.Errorf("Undispatched after %d: %s on %q, key_len %s, want a range on ix_undispatched, key_len 10: %v", after, r["type"], r["key"], r["key_len"], r)
			}
			if n := handlerReads(t, db, sqlOf(sqlUndispatched), after, limit); n > maxReads {
				t.Errorf("Undispatched after %d read %d entries for a page of %d", after, n, limit)
			}
		}
		d, err := newEngine(db, mustSettings(t))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close(ctx)
		page, err := d.Undispatched(ctx, top-limit, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != limit || page[0].Checkpoint != top-limit+1 || page[limit-1].Checkpoint != top {
			t.Fatalf("last Undispatched page: %d commits", len(page))
		}

		keys := seededKeys(scaleStreams)
		bk := idKey("b")
		nearEnd := keys[len(keys)-limit-1]
		for _, after := range [][]byte{{}, nearEnd} {
			rows := explain(t, e, sqlOf(sqlStreamHeads), bk, after, limit, bk)
			var derived bool
			for _, r := range rows {
				if strings.Contains(r["extra"], "Using temporary") || strings.Contains(r["extra"], "Using filesort") {
					t.Errorf("stream heads after %x: %s: %v", after, r["extra"], r)
				}
				if r["select_type"] == "DERIVED" {
					derived = true
					if r["type"] != "range" || r["key"] != keySequence {
						t.Errorf("stream heads after %x: page of streams by %s on %q, want a range on %s: %v", after, r["type"], r["key"], keySequence, r)
					}
				}
			}
			if !derived {
				t.Errorf("stream heads plan has no derived table: %v", rows)
			}
			if n := handlerReads(t, db, sqlOf(sqlStreamHeads), bk, after, limit, bk); n > maxReads {
				t.Errorf("stream heads after %x read %d entries for a page of %d", after, n, limit)
			}
		}
		heads, cursor, err := d.StreamsToSnapshot(ctx, driver.HeadQuery{BucketID: "b", Threshold: 1, Cursor: hex.EncodeToString(nearEnd), Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(heads) != limit || cursor != hex.EncodeToString(keys[len(keys)-1]) {
			t.Fatalf("last page of stream heads: %d heads, cursor %s", len(heads), cursor)
		}
		for i, h := range heads {
			if !bytes.Equal(idKey(h.StreamID), keys[len(keys)-limit+i]) || h.HeadRevision != 1 || h.BucketID != "b" {
				t.Fatalf("head %d of the last page: %+v", i, h)
			}
		}
		if heads, cursor, err := d.StreamsToSnapshot(ctx, driver.HeadQuery{BucketID: "b", Threshold: 1, Cursor: cursor, Limit: limit}); err != nil || len(heads) != 0 || cursor != "" {
			t.Fatalf("after the last page: %d heads, cursor %q, %v", len(heads), cursor, err)
		}
	})
}

func mustSettings(t testing.TB) *persistence.Settings {
	t.Helper()
	s, err := persistence.NewSettings()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
