package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress reports how far a long command is: a bar on a terminal (with
// rate and ETA), a plain line every few seconds otherwise, nothing with
// --quiet. Set moves it to an absolute position; Done ends it.
type progress interface {
	Set(n int64)
	Done()
}

// newProgress starts progress for a task of about total units (checkpoints
// to go through; 0 if unknown) named what.
func (a *app) newProgress(what string, total int64) progress {
	if a.quiet {
		return nopProgress{}
	}
	if a.tty {
		if total <= 0 {
			total = -1 // unknown: a spinner
		}
		bar := progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(a.stderr),
			progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("commits"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionFullWidth(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(a.stderr) }),
		)
		return &barProgress{bar: bar}
	}
	return &lineProgress{w: a.stderr, what: what, total: total, every: a.progressEv, start: time.Now(), last: time.Now()}
}

type nopProgress struct{}

func (nopProgress) Set(int64) {}
func (nopProgress) Done()     {}

type barProgress struct{ bar *progressbar.ProgressBar }

func (p *barProgress) Set(n int64) { _ = p.bar.Set64(n) }
func (p *barProgress) Done()       { _ = p.bar.Finish() }

// lineProgress writes "what: n of total (p%), rate, ETA" at most every
// every, and a last line at Done. Set costs a clock read.
type lineProgress struct {
	mu          sync.Mutex
	w           io.Writer
	what        string
	total, n    int64
	every       time.Duration
	start, last time.Time
}

func (p *lineProgress) Set(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n = n
	if now := time.Now(); now.Sub(p.last) >= p.every {
		p.last = now
		p.line(now, false)
	}
}

func (p *lineProgress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.line(time.Now(), true)
}

func (p *lineProgress) line(now time.Time, done bool) {
	el := now.Sub(p.start)
	s := fmt.Sprintf("%s: %d", p.what, p.n)
	if p.total > 0 {
		s += fmt.Sprintf(" of %d (%.0f%%)", p.total, 100*float64(p.n)/float64(p.total))
	}
	s += ", " + rate(p.n, el)
	if !done && p.total > p.n && p.n > 0 {
		eta := time.Duration(float64(el) / float64(p.n) * float64(p.total-p.n))
		s += ", ETA " + eta.Round(time.Second).String()
	}
	if done {
		s += ", done in " + el.Round(time.Millisecond).String()
	}
	fmt.Fprintln(p.w, s)
}
