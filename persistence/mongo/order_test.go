package mongo

import (
	"context"
	"testing"
)

// TestStreamOrderAcrossEngines: a stream's commits get increasing
// checkpoints also when they come from engines in different processes
// whose checkpoint hints disagree. Engine b's hint is stale (it last
// loaded it before a's commits), so its commit collides and moves to a
// block above a's numbers; the stream's next commit then goes through a,
// whose own hint is still below b's block. Engine a knows the stream's last commit
// from reading the stream first (as Stream does before it appends), or
// looks it up.
func TestStreamOrderAcrossEngines(t *testing.T) {
	eachServer(t, func(t *testing.T) {
		for _, readFirst := range []bool{false, true} {
			name := "LookedUp"
			if readFirst {
				name = "ReadFirst"
			}
			t.Run(name, func(t *testing.T) { streamOrderAcrossEngines(t, readFirst) })
		}
	})
}

func streamOrderAcrossEngines(t *testing.T, readFirst bool) {
	url := isolatedURL(t)
	ctx := context.Background()
	ea, da := openEngine(t, url)
	eb, _ := openEngine(t, url)
	if _, err := eb.Commit(ctx, attempt("b", "b-first", 1)); err != nil { // b loads its hint
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ { // a takes the numbers after it
		if _, err := ea.Commit(ctx, attempt("b", "a-own", i)); err != nil {
			t.Fatal(err)
		}
	}
	first, err := eb.Commit(ctx, attempt("b", "s", 1))
	if err != nil {
		t.Fatal(err)
	}
	if readFirst {
		for _, err := range ea.ReadStream(ctx, "b", "s", 0, 0) {
			if err != nil {
				t.Fatal(err)
			}
		}
		if cp, ok := da.heads.get(streamKey("b", "s"), 1); !ok || cp != first.Checkpoint {
			t.Errorf("after reading stream s, a caches (%d, %v), want checkpoint %d", cp, ok, first.Checkpoint)
		}
	}
	second, err := ea.Commit(ctx, attempt("b", "s", 2))
	if err != nil {
		t.Fatal(err)
	}
	if second.Checkpoint <= first.Checkpoint {
		t.Errorf("stream s: commit 2 got checkpoint %d, below commit 1's %d", second.Checkpoint, first.Checkpoint)
	}
	var seqs []int
	for c, err := range ea.ReadAll(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if c.StreamID == "s" {
			seqs = append(seqs, c.CommitSequence)
		}
	}
	if len(seqs) != 2 || seqs[0] != 1 || seqs[1] != 2 {
		t.Errorf("ReadAll yields stream s's commits in the order %v, want [1 2]", seqs)
	}
}
