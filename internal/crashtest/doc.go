// Package crashtest holds the crash tests of the whole store (its tests are
// all there is): several writer processes sharing one database, SIGKILLed
// mid-run and restarted, a poller process reading from its checkpoint, and
// asynchronous dispatch killed with commits queued and restarted; and the
// re-dispatch of a large backlog at start on a real server.
//
// The processes are the test binary itself, re-executed with
// EVENTSTORE_CRASH_ROLE set (TestMain runs the role instead of the tests).
// Every engine in the engines list of crash_test.go is run; adding an
// engine is one line there (and a blank import of its package). See
// docs/testing.md.
package crashtest
