// Command eventstore is the operator's command line of the event store: it
// inspects, follows, repairs and moves stores of any engine linked into it,
// named by URL.
//
//	go install github.com/goeventstore/eventstore/cmd/eventstore@latest
//	export EVENTSTORE_URL=mysql://root@127.0.0.1:3306/events
//	eventstore stats
//	eventstore tail --follow
//	eventstore copy --from mysql://root@127.0.0.1:3306/events --to mongodb://127.0.0.1:27017/events --verify
//
// Run "eventstore --help" and "eventstore help COMMAND" for every command,
// each with an example. Exit status: 0 done, 1 failed (the message says what
// to do), 2 the command line was wrong.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first Ctrl-C stops the command at a safe point; a second
		// one kills it at once.
		<-ctx.Done()
		stop()
	}()
	code := newApp(os.Stdin, os.Stdout, os.Stderr).run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
