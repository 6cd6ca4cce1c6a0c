package dispatcher_test

import (
	"context"
	"fmt"

	"github.com/goeventstore/eventstore/dispatcher"
)

type commit struct {
	Stream   string
	Revision int
}

func ExampleNewAsync() {
	ctx := context.Background()
	publish := dispatcher.Func[commit](func(ctx context.Context, c commit) error {
		fmt.Printf("published %s@%d\n", c.Stream, c.Revision)
		return nil
	})
	s := dispatcher.NewAsync(publish, dispatcher.Options[commit]{
		Key: func(c commit) string { return c.Stream }, // order per stream
		MarkDispatched: func(ctx context.Context, c commit) error {
			return nil // the store records c as dispatched here
		},
		DeadLetter: func(ctx context.Context, c commit, err error) {
			fmt.Printf("gave up on %s@%d: %v\n", c.Stream, c.Revision, err)
		},
	})
	for rev := 1; rev <= 3; rev++ {
		if err := s.Schedule(ctx, commit{"order-42", rev}); err != nil {
			fmt.Println(err)
		}
	}
	if err := s.Close(ctx); err != nil { // waits for the queue to drain
		fmt.Println(err)
	}
	// Output:
	// published order-42@1
	// published order-42@2
	// published order-42@3
}

func ExampleNewSync() {
	ctx := context.Background()
	attempts := 0
	flaky := dispatcher.Func[commit](func(ctx context.Context, c commit) error {
		attempts++
		if attempts < 3 {
			return fmt.Errorf("bus unavailable")
		}
		fmt.Printf("published %s@%d after %d attempts\n", c.Stream, c.Revision, attempts)
		return nil
	})
	s := dispatcher.NewSync(flaky, dispatcher.Options[commit]{})
	defer s.Close(ctx)
	if err := s.Schedule(ctx, commit{"order-42", 1}); err != nil { // retries, then returns
		fmt.Println(err)
	}
	fmt.Println("Schedule returned")
	// Output:
	// published order-42@1 after 3 attempts
	// Schedule returned
}
