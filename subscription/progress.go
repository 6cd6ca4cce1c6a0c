package subscription

import "time"

// Progress is what a subscription has done and how far it is behind.
type Progress struct {
	// Position is the checkpoint of the last commit the handler finished
	// (or went past: a commit of another bucket, a skipped corrupt one).
	// A new run started from it misses nothing.
	Position int64
	// Head is the greatest checkpoint of the store as last read
	// (persistence.Engine.Head), or Position if that is greater. An engine
	// without the Head capability is not asked (it would have to read every
	// commit): Head is then Position, and the lag is unknown (zero).
	Head int64
	// Behind is Head - Position: how many checkpoints are left to handle,
	// an upper bound on the number of commits (checkpoints need not be
	// dense). Zero when CaughtUp.
	Behind int64
	// Delay is how old the last finished commit is while the subscription
	// is behind (now minus its commit stamp); zero when CaughtUp.
	Delay time.Duration
	// Stamp is the commit stamp of the last commit the handler finished.
	Stamp time.Time
	// CaughtUp reports that the subscription had read every commit visible
	// when it last looked.
	CaughtUp bool
}
