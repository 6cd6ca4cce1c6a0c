// Package cputime reads the process's CPU time, so that benchmarks can
// report rates per CPU-second beside rates per wall-clock second: on a busy
// machine the first moves much less than the second.
package cputime
