package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/contrib/sqlite"
	"github.com/goeventstore/eventstore/persistence"
)

// BenchmarkShared runs the shared paired benchmarks (acceptance.Bench:
// Commit, Commit16, ReadStream, each alternating with its baseline in one
// run and reporting the ratio) on a database file of its own, against plain
// database/sql on the same pool (so the same pragmas: WAL,
// synchronous=FULL, the busy timeout):
//
//	Commit, Commit16  one INSERT per call into plain_commits, a table with
//	                  the columns of eventstore_commits but only its rowid
//	                  as key (no AUTOINCREMENT, no unique or secondary
//	                  index)
//	ReadStream        one SELECT of the stream's rows from
//	                  eventstore_commits, in sequence order, scanning the
//	                  columns the engine scans
//
// Run it with
//
//	go test -run '^$' -bench BenchmarkShared -benchtime 3s -count 3 .
func BenchmarkShared(b *testing.B) {
	acceptance.Bench(b, acceptance.BenchHarness{
		New: func(ctx context.Context, b *testing.B, opts ...persistence.Option) (*persistence.Engine, error) {
			return sqlite.Open(ctx, "sqlite://"+filepath.Join(b.TempDir(), "bench.db"), opts...)
		},
		Baseline: sqlBaseline,
	})
}

const plainTable = `CREATE TABLE plain_commits (
	checkpoint INTEGER PRIMARY KEY,
	bucket     TEXT    NOT NULL,
	stream     TEXT    NOT NULL,
	sequence   INTEGER NOT NULL,
	commit_id  BLOB    NOT NULL,
	revision   INTEGER NOT NULL,
	items      INTEGER NOT NULL,
	stamp      INTEGER NOT NULL,
	dispatched INTEGER NOT NULL DEFAULT 0,
	payload    BLOB
)`

// sqlBaseline is plain database/sql on the engine's pool.
func sqlBaseline(ctx context.Context, b *testing.B, e *persistence.Engine) (*acceptance.Baseline, error) {
	var db *sql.DB
	if !e.As(&db) {
		return nil, errors.New("the engine gives no *sql.DB")
	}
	if _, err := db.ExecContext(ctx, plainTable); err != nil {
		return nil, err
	}
	return &acceptance.Baseline{
		Insert: func(ctx context.Context, stream string, seq int, payload []byte) error {
			id := persistence.NewUUID()
			_, err := db.ExecContext(ctx, `INSERT INTO plain_commits
				(bucket, stream, sequence, commit_id, revision, items, stamp, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				"bench", stream, seq, id[:], seq, 1, time.Now().UnixMicro(), payload)
			return err
		},
		Read: func(ctx context.Context, bucketID, streamID string) (int, error) {
			rows, err := db.QueryContext(ctx, `SELECT checkpoint, bucket, stream, sequence, commit_id, revision, items, stamp, payload
				FROM eventstore_commits WHERE bucket = ? AND stream = ? ORDER BY sequence`, bucketID, streamID)
			if err != nil {
				return 0, err
			}
			defer rows.Close()
			events := 0
			for rows.Next() {
				var (
					checkpoint, sequence, revision, items, stamp int64
					bucket, stream                               string
					id, payload                                  []byte
				)
				if err := rows.Scan(&checkpoint, &bucket, &stream, &sequence, &id, &revision, &items, &stamp, &payload); err != nil {
					return 0, err
				}
				events += int(items)
			}
			return events, rows.Err()
		},
		// Seed inserts the rows Commit would, in one transaction.
		Seed: func(ctx context.Context, bucketID, streamID string, n int, payload []byte) error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			st, err := tx.PrepareContext(ctx, `INSERT INTO eventstore_commits
				(bucket, stream, sequence, commit_id, revision, items, stamp, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
			if err != nil {
				return err
			}
			defer st.Close()
			for seq := 1; seq <= n; seq++ {
				id := persistence.NewUUID()
				if _, err := st.ExecContext(ctx, bucketID, streamID, seq, id[:], seq, 1, time.Now().UnixMicro(), payload); err != nil {
					return err
				}
			}
			return tx.Commit()
		},
	}, nil
}
