package dispatcher

import (
	"context"
	"strconv"
	"sync"
	"testing"
)

// benchCommit has roughly the shape and size of a stored commit.
type benchCommit struct {
	BucketID, StreamID string
	CommitID           [16]byte
	Sequence, Revision int
	Payload            []byte
	Checkpoint         int64
}

func benchKey(c benchCommit) string { return c.StreamID }

func nopMark(context.Context, benchCommit) error { return nil }

var streamIDs = func() []string {
	s := make([]string, 1024)
	for i := range s {
		s[i] = "stream-" + strconv.Itoa(i)
	}
	return s
}()

func reportItems(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkAsyncSchedule measures items per second through Async.Schedule
// with a no-op dispatcher, the drain at Close included.
func BenchmarkAsyncSchedule(b *testing.B) {
	for _, bc := range []struct {
		name     string
		workers  int
		parallel bool
	}{
		{"workers=1/serial", 1, false},
		{"workers=1/parallel", 1, true},
		{"workers=2/parallel", 2, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			a := NewAsync(Nop[benchCommit]{}, Options[benchCommit]{
				Key: benchKey, MarkDispatched: nopMark, Workers: bc.workers,
			})
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			if bc.parallel {
				b.RunParallel(func(pb *testing.PB) {
					c := benchCommit{BucketID: "default", Payload: make([]byte, 200)}
					for i := 0; pb.Next(); i++ {
						c.StreamID, c.Revision = streamIDs[i%len(streamIDs)], i
						if err := a.Schedule(ctx, c); err != nil {
							b.Fatal(err)
						}
					}
				})
			} else {
				c := benchCommit{BucketID: "default", Payload: make([]byte, 200)}
				for i := 0; i < b.N; i++ {
					c.StreamID, c.Revision = streamIDs[i%len(streamIDs)], i
					if err := a.Schedule(ctx, c); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := a.Close(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			reportItems(b)
		})
	}
}

// BenchmarkSyncSchedule measures items per second through Sync.Schedule
// with a no-op dispatcher, from one goroutine and from GOMAXPROCS.
func BenchmarkSyncSchedule(b *testing.B) {
	run := func(b *testing.B, s *Sync[benchCommit], n int) {
		c := benchCommit{BucketID: "default", Payload: make([]byte, 200)}
		for i := 0; i < n; i++ {
			c.StreamID, c.Revision = streamIDs[i%len(streamIDs)], i
			if err := s.Schedule(context.Background(), c); err != nil {
				b.Error(err)
				return
			}
		}
	}
	b.Run("serial", func(b *testing.B) {
		s := NewSync(Nop[benchCommit]{}, Options[benchCommit]{Key: benchKey, MarkDispatched: nopMark})
		b.ReportAllocs()
		run(b, s, b.N)
		reportItems(b)
	})
	b.Run("parallel", func(b *testing.B) {
		s := NewSync(Nop[benchCommit]{}, Options[benchCommit]{Key: benchKey, MarkDispatched: nopMark})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			c := benchCommit{BucketID: "default", Payload: make([]byte, 200)}
			for i := 0; pb.Next(); i++ {
				c.StreamID, c.Revision = streamIDs[i%len(streamIDs)], i
				if err := s.Schedule(context.Background(), c); err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportItems(b)
	})
}

// fakeStore is a stand-in for the in-memory engine: a mutex, an optimistic
// concurrency check per stream and an append to the global log.
type fakeStore struct {
	mu    sync.Mutex
	heads map[string]int
	log   []benchCommit
}

func (s *fakeStore) commit(c benchCommit) (benchCommit, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := c.BucketID + "\x00" + c.StreamID
	s.heads[key]++
	c.Sequence = s.heads[key]
	c.Payload = append([]byte(nil), c.Payload...)
	c.Checkpoint = int64(len(s.log) + 1)
	if len(s.log) == 1<<16 {
		s.log = s.log[:0] // bounded memory
	}
	s.log = append(s.log, c)
	return c, nil
}

// BenchmarkStoreOverhead compares commits per second of a fake in-memory
// store alone ("store") and with every commit scheduled on an Async
// scheduler ("store+async"), in the same run: the ratio is the dispatch cost.
func BenchmarkStoreOverhead(b *testing.B) {
	for _, withAsync := range []bool{false, true} {
		name := "store"
		if withAsync {
			name = "store+async"
		}
		b.Run(name, func(b *testing.B) {
			st := &fakeStore{heads: map[string]int{}}
			var a *Async[benchCommit]
			if withAsync {
				a = NewAsync(Nop[benchCommit]{}, Options[benchCommit]{Key: benchKey, MarkDispatched: nopMark})
			}
			ctx := context.Background()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				c := benchCommit{BucketID: "default", Payload: make([]byte, 200)}
				for i := 0; pb.Next(); i++ {
					c.StreamID = streamIDs[i%len(streamIDs)]
					stored, err := st.commit(c)
					if err != nil {
						b.Fatal(err)
					}
					if a != nil {
						if err := a.Schedule(ctx, stored); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
			if a != nil {
				if err := a.Close(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reportItems(b)
		})
	}
}
