package memory_test

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/memory"
)

// The acceptance test is in package memory_test: package acceptance imports
// the root package, which imports this one.

// TestAcceptance runs the shared engine suite (with the small page size it
// passes, so that every multi-commit read crosses pages), with values kept
// and, as engines that store bytes do, without.
func TestAcceptance(t *testing.T) {
	for _, keep := range []bool{true, false} {
		features := acceptance.AllFeatures
		if keep {
			features = slices.Concat(features, []persistence.Capability{persistence.InProcessValue})
		}
		t.Run("keep_values="+strconv.FormatBool(keep), func(t *testing.T) {
			acceptance.Run(t, acceptance.Harness{
				New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
					return memory.Open(ctx, "memory://?keep_values="+strconv.FormatBool(keep), opts...)
				},
				PageSize: 3,
				Features: features,
			})
		})
	}
}
