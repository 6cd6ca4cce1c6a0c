package eventstore

import (
	"errors"
	"testing"

	"github.com/goeventstore/eventstore/persistence"
)

func TestRecycledBatchesHoldNothing(t *testing.T) {
	b := newBatch()
	b.pcs = append(b.pcs, persistence.Commit{Checkpoint: 1, CommitAttempt: persistence.CommitAttempt{Payload: []byte("x")}})
	b.cs = append(b.cs, Commit{Checkpoint: 1, CommitAttempt: CommitAttempt{Events: []EventMessage{{Body: "x"}}}})
	b.bad, b.err, b.readErr, b.done = 0, errors.New("bad"), errors.New("read"), make(chan struct{})
	pcs, cs := b.pcs[:1], b.cs[:1]
	b.reset()
	if len(b.pcs) != 0 || len(b.cs) != 0 || b.bad != -1 || b.err != nil || b.readErr != nil || b.done != nil {
		t.Errorf("reset left %+v", b)
	}
	if pcs[0].Payload != nil || pcs[0].Checkpoint != 0 || cs[0].Events != nil {
		t.Errorf("reset left the commits it carried: %+v %+v", pcs[0], cs[0])
	}
	b.free()
	if nb := newBatch(); nb.bad != -1 || len(nb.pcs) != 0 || len(nb.cs) != 0 {
		t.Errorf("newBatch returned %+v", nb)
	}
}
