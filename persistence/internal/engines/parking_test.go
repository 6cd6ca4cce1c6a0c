package engines

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// closedSet records what a Parking closed.
type closedSet struct {
	mu sync.Mutex
	vs []int
}

func (c *closedSet) close(v int) {
	c.mu.Lock()
	c.vs = append(c.vs, v)
	c.mu.Unlock()
}

func (c *closedSet) get() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Sorted(slices.Values(c.vs))
}

func TestParking(t *testing.T) {
	var c closedSet
	p := &Parking[string, int]{Idle: time.Hour, Max: 2, Close: c.close}
	if _, ok := p.Take("a"); ok {
		t.Fatal("Take on an empty Parking found a value")
	}
	p.Park("a", 1)
	p.Park("a", 2) // replaces 1, which is closed
	p.Park("b", 3)
	p.Park("c", 4) // Max parked already: closed at once
	if got := c.get(); !slices.Equal(got, []int{1, 4}) {
		t.Fatalf("closed %v, want [1 4]", got)
	}
	if v, ok := p.Take("a"); !ok || v != 2 {
		t.Fatalf("Take(a) = %d, %v; want 2, true", v, ok)
	}
	if _, ok := p.Take("a"); ok {
		t.Fatal("a value was taken twice")
	}
	if p.Len() != 1 {
		t.Fatalf("Len = %d, want 1", p.Len())
	}
	if got := p.Clear(false); !slices.Equal(got, []int{3}) {
		t.Fatalf("Clear = %v, want [3]", got)
	}
	p.Park("d", 5) // parks again after Clear(false)
	if got := p.Clear(true); !slices.Equal(got, []int{5}) {
		t.Fatalf("Clear(true) = %v, want [5]", got)
	}
	p.Park("e", 6) // closed at once after Clear(true)
	if got := c.get(); !slices.Equal(got, []int{1, 4, 6}) || p.Len() != 0 {
		t.Fatalf("closed %v with %d parked, want [1 4 6] and none", got, p.Len())
	}
}

func TestParkingIdle(t *testing.T) {
	var c closedSet
	p := &Parking[string, int]{Idle: 20 * time.Millisecond, Max: 8, Close: c.close}
	p.Park("a", 1)
	p.Park("b", 2)
	if v, ok := p.Take("b"); !ok || v != 2 {
		t.Fatalf("Take(b) = %d, %v", v, ok)
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.Len() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // b's timer, stopped, must not fire
	if got := c.get(); !slices.Equal(got, []int{1}) || p.Len() != 0 {
		t.Fatalf("closed %v with %d parked; want [1] closed after Idle, none parked", got, p.Len())
	}
}
