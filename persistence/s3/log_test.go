package s3

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// loseFirstSlotAnswer is a transport that lets the first PUT of a log slot
// reach the server and loses its answer (a connection reset), so that the
// SDK sends it again and gets 412 on the writer's own slot.
type loseFirstSlotAnswer struct {
	base http.RoundTripper
	lost atomic.Bool
}

func (l *loseFirstSlotAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.base.RoundTrip(r)
	if err == nil && r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/log/") && l.lost.CompareAndSwap(false, true) {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	return resp, err
}

// A slot create whose answer was lost and which the SDK retried is the
// writer's own slot: the commit is stored at it, and the intent is not
// written to a second slot (which a fast reader could have decided first,
// turning the writer's success into ErrDuplicateCommit).
func TestLostSlotAnswer(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		rawURL := isolatedURL(t, kind)
		openIsolated(t, rawURL) // creates the bucket
		tr := &loseFirstSlotAnswer{base: newTransport()}
		e := faultyEngine(t, rawURL, tr, true)
		c, err := e.Commit(context.Background(), attempt("b", "s", 1))
		if err != nil {
			t.Fatalf("Commit: %v", err)
		}
		if !tr.lost.Load() {
			t.Fatal("no slot answer was lost")
		}
		if want := checkpointOf(1, 0); c.Checkpoint != want {
			t.Errorf("checkpoint %d, want %d (slot 1, the writer's own)", c.Checkpoint, want)
		}
		_, slots := logSlots(t, rawURL)
		if len(slots) != 1 {
			t.Errorf("the log holds %v, want the one slot", slots)
		}
	})
}

// logSlots lists the keys of the log's slots in the bucket rawURL names,
// through a client of its own, which it returns too.
func logSlots(t *testing.T, rawURL string) (*objects, []string) {
	t.Helper()
	client, bucket := testClient(t, rawURL, nil, true)
	o := &objects{c: client, bucket: bucket}
	var slots []string
	if err := o.listAll(context.Background(), keys{}.logPrefix(), "", func(ks []string) error {
		slots = append(slots, ks...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return o, slots
}
