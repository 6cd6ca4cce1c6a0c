// Package engines holds what the engines of this repository share beyond
// the portable layer: the sets of driver capabilities they promise, checked
// at compile time, the cursor helpers of their snapshot scans, and the
// parking of idle resources between calls (Parking).
package engines

import "github.com/goeventstore/eventstore/persistence/driver"

// Storing is every capability of package driver that an engine storing
// commits implements: an engine asserts it with
//
//	var _ engines.Storing = (*engine)(nil)
//
// so that a method whose signature drifts from the contract fails to
// compile rather than silently dropping a capability.
type Storing interface {
	driver.Engine
	driver.Initializer
	driver.Closer
	driver.Snapshotter
	driver.DispatchTracker
	driver.StreamDeleter
	driver.Purger
	driver.Dropper
	driver.HeadReader
}

// Client is Storing for an engine over a storage client: it also classifies
// the client's errors (driver.ErrorClassifier) and exposes the client
// (driver.Aser).
type Client interface {
	Storing
	driver.ErrorClassifier
	driver.Aser
}
