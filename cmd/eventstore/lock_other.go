//go:build !unix

package main

import "os"

// lockFile does nothing where flock is not available.
func lockFile(*os.File) (busy bool, err error) { return false, nil }
