package mysql

import (
	"context"
	"database/sql"
	"testing"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/persistence"
)

// BenchmarkScale grows a store through sizes and measures how each cost
// grows (acceptance.Scale), on each server, against plain INSERTs into a
// table grown alike (the row BenchmarkMySQL's PlainInsert writes). Bytes
// per commit are the engine's tables' data and index lengths as the server
// reports them (InnoDB's estimate). Run it with
//
//	EVENTSTORE_SCALE_SIZES=10000,100000,1000000 go test -run '^$' -bench BenchmarkScale -benchtime 1x -timeout 4h ./persistence/mysql
func BenchmarkScale(b *testing.B) {
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) {
			url := isolatedURL(b, s.kind)
			acceptance.Scale(b, acceptance.ScaleHarness{
				New: func(ctx context.Context, b *testing.B, opts ...persistence.Option) (*persistence.Engine, error) {
					return Open(ctx, url, opts...)
				},
				Baseline: func(ctx context.Context, b *testing.B, e *persistence.Engine) (*acceptance.Baseline, error) {
					db := poolOf(b, e)
					if _, err := db.ExecContext(ctx, "CREATE TABLE plain (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, data MEDIUMBLOB NOT NULL) ENGINE=InnoDB"); err != nil {
						return nil, err
					}
					st, err := db.PrepareContext(ctx, "INSERT INTO plain (data) VALUES (?)")
					if err != nil {
						return nil, err
					}
					row := make([]byte, 77+len("bench")+len("stream-000000")+benchPayload)
					return &acceptance.Baseline{
						Insert: func(ctx context.Context, _ string, _ int, _ []byte) error {
							_, err := st.ExecContext(ctx, row)
							return err
						},
						Close: func() { st.Close() },
					}, nil
				},
				Bytes: func(ctx context.Context, e *persistence.Engine) (int64, error) {
					db := poolOf(b, e)
					// Fresh statistics: InnoDB updates them lazily.
					tables := []string{DefaultTablePrefix + "commits", DefaultTablePrefix + "snapshots"}
					for _, t := range tables {
						rows, err := db.QueryContext(ctx, "ANALYZE TABLE "+t)
						if err != nil {
							return 0, err
						}
						rows.Close()
					}
					var n sql.NullInt64
					err := db.QueryRowContext(ctx, `SELECT SUM(data_length + index_length) FROM information_schema.tables
						WHERE table_schema = DATABASE() AND table_name IN (?, ?)`, tables[0], tables[1]).Scan(&n)
					return n.Int64, err
				},
			})
		})
	}
}
