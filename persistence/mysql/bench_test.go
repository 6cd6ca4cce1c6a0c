package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// The benchmarks compare the engine with the plain driver doing the same
// work against the same server in the same run, so ratios can be read off:
//
//	BenchmarkCommit        vs BenchmarkPlainInsert    (commits/s, one writer)
//	BenchmarkCommit16      vs BenchmarkPlainInsert16  (commits/s, 16 writers)
//	BenchmarkReadStream10k vs BenchmarkPlainSelect10k (events/s)
//
// A commit carries one event with a 512-byte payload; the plain INSERT
// writes a row of the same size (payload plus the bytes of the commit's
// other columns) into a table with an AUTO_INCREMENT key, through a
// prepared statement reused across calls: one round trip, like Commit.

const benchPayload = 512

// benchEnv is the engine and plain table shared by the benchmarks of one
// server.
type benchEnv struct {
	once  sync.Once
	err   error
	e     *persistence.Engine
	db    *sql.DB   // the engine's pool
	plain *sql.Stmt // INSERT INTO plain (data) VALUES (?)
	row   []byte    // the plain row's bytes

	readOnce sync.Once
	stream   string // the 10,000-commit stream
}

// benchEnvs holds the benchEnv of each server, by database URL.
var benchEnvs struct {
	sync.Mutex
	m map[string]*benchEnv
}

// BenchmarkMySQL runs the engine and plain-driver benchmarks side by side
// on one server and one database, for each server kind:
// BenchmarkMySQL/MySQL/... and BenchmarkMySQL/MariaDB/....
func BenchmarkMySQL(b *testing.B) {
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) { benchServer(b, isolatedURL(b, s.kind)) })
	}
}

func benchServer(b *testing.B, url string) {
	b.Run("Commit", func(b *testing.B) { benchCommit(b, url) })
	b.Run("PlainInsert", func(b *testing.B) { benchPlainInsert(b, url) })
	b.Run("Commit16", func(b *testing.B) { benchCommit16(b, url) })
	b.Run("PlainInsert16", func(b *testing.B) { benchPlainInsert16(b, url) })
	b.Run("ReadStream10k", func(b *testing.B) { benchReadStream10k(b, url) })
	b.Run("PlainSelect10k", func(b *testing.B) { benchPlainSelect10k(b, url) })
	b.Run("Paired1", func(b *testing.B) { benchPaired1(b, url) })
	b.Run("Paired16", func(b *testing.B) { benchPaired16(b, url) })
	b.Run("PairedRead10k", func(b *testing.B) { benchPairedRead(b, url) })
}

func getBench(b *testing.B, url string) *benchEnv {
	b.Helper()
	benchEnvs.Lock()
	if benchEnvs.m == nil {
		benchEnvs.m = map[string]*benchEnv{}
	}
	env := benchEnvs.m[url]
	if env == nil {
		env = new(benchEnv)
		benchEnvs.m[url] = env
	}
	benchEnvs.Unlock()
	env.once.Do(func() {
		ctx := context.Background()
		e, err := Open(ctx, url)
		if err != nil {
			env.err = err
			return
		}
		if env.err = e.Initialize(ctx); env.err != nil {
			return
		}
		db := poolOf(b, e)
		if _, env.err = db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS plain (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, data MEDIUMBLOB NOT NULL) ENGINE=InnoDB"); env.err != nil {
			return
		}
		st, err := db.PrepareContext(ctx, "INSERT INTO plain (data) VALUES (?)")
		if err != nil {
			env.err = err
			return
		}
		// 20+20 (keys) + 4+16+4+4+8+1 (sequence, ID, revision, items, stamp, flag) + IDs + payload.
		env.e, env.db, env.plain = e, db, st
		env.row = make([]byte, 77+len("bench")+len("stream-000000")+benchPayload)
		// Warm both paths up (a fresh server allocates its files and
		// buffer pool on first use), so that the first benchmark to run
		// does not pay for it alone.
		for range 300 {
			if _, env.err = st.ExecContext(ctx, env.row); env.err != nil {
				return
			}
		}
		commitN(b, e, 300)
	})
	if env.err != nil {
		b.Fatal(env.err)
	}
	return env
}

var streamNo struct {
	sync.Mutex
	n int
}

func newStreamID() string {
	streamNo.Lock()
	defer streamNo.Unlock()
	streamNo.n++
	return fmt.Sprintf("stream-%06d", streamNo.n)
}

// commitN commits n one-event commits to a new stream.
func commitN(b *testing.B, e *persistence.Engine, n int) {
	ctx := context.Background()
	stream := newStreamID()
	payload := make([]byte, benchPayload)
	for i := 1; i <= n; i++ {
		a := &persistence.CommitAttempt{BucketID: "bench", StreamID: stream, StreamRevision: i, CommitID: persistence.NewUUID(),
			CommitSequence: i, CommitStamp: time.Now().UTC(), EventCount: 1, Payload: payload}
		if _, err := e.Commit(ctx, a); err != nil {
			b.Error(err)
			return
		}
	}
}

func plainN(b *testing.B, env *benchEnv, n int) {
	ctx := context.Background()
	for range n {
		if _, err := env.plain.ExecContext(ctx, env.row); err != nil {
			b.Error(err)
			return
		}
	}
}

// parallel runs f on 16 goroutines sharing b.N calls.
func parallel(b *testing.B, f func(n int)) {
	const writers = 16
	var wg sync.WaitGroup
	for w := range writers {
		n := b.N / writers
		if w < b.N%writers {
			n++
		}
		wg.Add(1)
		go func() { defer wg.Done(); f(n) }()
	}
	wg.Wait()
}

func rate(b *testing.B, unit string, perOp float64) {
	b.ReportMetric(float64(b.N)*perOp/b.Elapsed().Seconds(), unit)
}

func benchCommit(b *testing.B, url string) {
	env := getBench(b, url)
	b.ResetTimer()
	commitN(b, env.e, b.N)
	rate(b, "commits/s", 1)
}

func benchPlainInsert(b *testing.B, url string) {
	env := getBench(b, url)
	b.ResetTimer()
	plainN(b, env, b.N)
	rate(b, "commits/s", 1)
}

func benchCommit16(b *testing.B, url string) {
	env := getBench(b, url)
	b.ResetTimer()
	parallel(b, func(n int) { commitN(b, env.e, n) })
	rate(b, "commits/s", 1)
}

func benchPlainInsert16(b *testing.B, url string) {
	env := getBench(b, url)
	b.ResetTimer()
	parallel(b, func(n int) { plainN(b, env, n) })
	rate(b, "commits/s", 1)
}

const readEvents = 10000

// streamOf10k returns a stream of 10,000 one-event commits, written in one
// transaction with the engine's own INSERT (identical rows, set up fast).
func streamOf10k(b *testing.B, env *benchEnv) string {
	env.readOnce.Do(func() {
		ctx := context.Background()
		env.stream = newStreamID()
		tx, err := env.db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer tx.Rollback()
		payload := make([]byte, benchPayload)
		bk, sk := idKey("bench"), idKey(env.stream)
		for i := 1; i <= readEvents; i++ {
			id := persistence.NewUUID()
			if _, err := tx.ExecContext(ctx, sqlOf(sqlInsertCommit), bk, sk, i, id[:], i, 1, time.Now().UnixMicro(), "bench", env.stream, payload); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	})
	return env.stream
}

func benchReadStream10k(b *testing.B, url string) {
	env := getBench(b, url)
	stream := streamOf10k(b, env)
	b.ResetTimer()
	for range b.N {
		readAllOfStream(b, env.e, stream)
	}
	rate(b, "events/s", readEvents)
}

// readAllOfStream reads the 10,000-commit stream through the engine.
func readAllOfStream(b *testing.B, e *persistence.Engine, stream string) {
	n := 0
	for _, err := range e.ReadStream(context.Background(), "bench", stream, 0, 0) {
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
	if n != readEvents {
		b.Fatalf("read %d commits", n)
	}
}

// plainSelectSQL selects the stream's rows in one query, the columns
// ReadStream selects.
const plainSelectSQL = "SELECT checkpoint, stream_revision, items, commit_id, commit_sequence, commit_stamp, payload FROM " +
	DefaultTablePrefix + "commits WHERE bucket_key = ? AND stream_key = ? ORDER BY commit_sequence"

// plainSelect reads the same rows with one SELECT, scanning the same
// columns into the same fields.
func plainSelect(b *testing.B, st *sql.Stmt, stream string) {
	rows, err := st.QueryContext(context.Background(), idKey("bench"), idKey(stream))
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	n := 0
	var commitID []byte
	var stamp int64
	for rows.Next() {
		var c persistence.Commit
		if err := rows.Scan(&c.Checkpoint, &c.StreamRevision, &c.EventCount, &commitID, &c.CommitSequence, &stamp, &c.Payload); err != nil {
			b.Fatal(err)
		}
		c.CommitStamp = time.UnixMicro(stamp).UTC()
		copy(c.CommitID[:], commitID)
		n++
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	if n != readEvents {
		b.Fatalf("read %d rows", n)
	}
}

// benchPlainSelect10k reads the same rows with one SELECT.
func benchPlainSelect10k(b *testing.B, url string) {
	env := getBench(b, url)
	stream := streamOf10k(b, env)
	st, err := env.db.PrepareContext(context.Background(), plainSelectSQL)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	b.ResetTimer()
	for range b.N {
		plainSelect(b, st, stream)
	}
	rate(b, "events/s", readEvents)
}
