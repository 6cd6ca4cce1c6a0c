package eventstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/goeventstore/eventstore"
)

// Goroutines racing on the same streams: whatever order their CommitChanges
// calls come back in, each stream's commits reach the dispatcher in commit
// sequence order, each once.
func TestDispatchOrderPerStreamUnderRaces(t *testing.T) {
	// "async-full" keeps the queue full, so that commits handed over
	// without blocking (TrySchedule) and those that wait mix.
	for _, mode := range []string{"sync", "async", "async-full"} {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			var mu sync.Mutex
			last := map[string]int{}
			var bad []string
			w := eventstore.Wireup().DispatchTo(func(ctx context.Context, c eventstore.Commit) error {
				mu.Lock()
				defer mu.Unlock()
				if c.CommitSequence != last[c.StreamID]+1 {
					bad = append(bad, c.StreamID)
				}
				last[c.StreamID] = c.CommitSequence
				return nil
			})
			switch mode {
			case "async":
				w = w.UsingAsyncDispatch().DispatchWorkers(3)
			case "async-full":
				w = w.UsingAsyncDispatch().DispatchWorkers(2).DispatchQueueSize(2)
			default:
				w = w.UsingSyncDispatch()
			}
			s, err := w.Build(ctx)
			if err != nil {
				t.Fatal(err)
			}
			const writers, each = 6, 150
			streams := []string{"a", "b"}
			var wg sync.WaitGroup
			for i := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					st, _ := s.OpenStream(ctx, streams[i%len(streams)], 0, 0)
					for range each {
						st.Add(eventstore.EventMessage{Body: "x"})
						for {
							_, err := st.CommitChanges(ctx, eventstore.NewCommitID())
							if err == nil {
								break
							}
							if !errors.Is(err, eventstore.ErrConcurrency) {
								t.Error(err)
								return
							}
						}
					}
				}()
			}
			wg.Wait()
			if err := s.Close(ctx); err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, n := range last {
				total += n
			}
			if len(bad) > 0 || total != writers*each {
				t.Fatalf("%d commits dispatched out of order (%v); %d dispatched of %d", len(bad), bad[:min(len(bad), 5)], total, writers*each)
			}
		})
	}
}
