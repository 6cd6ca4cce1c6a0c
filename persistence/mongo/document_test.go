package mongo

import "testing"

// Stream keys are stored: they must never change for the same IDs.
func TestStreamKeyStable(t *testing.T) {
	for _, tt := range []struct{ bucket, stream, want string }{
		{"", "", "6e340b9cffb37a989ca544e6bb780a2c"},
		{"b", "s", "fafc0205ba27dfaa808b780c9f75ba66"},
		{"bücket", "strëam/1", "b83778424e0408033b1603144034ae44"},
	} {
		if got := streamKey(tt.bucket, tt.stream); got != tt.want {
			t.Errorf("streamKey(%q, %q) = %s, want %s", tt.bucket, tt.stream, got, tt.want)
		}
	}
}
