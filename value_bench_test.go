package eventstore

import "testing"

// BenchmarkCheckCommit measures the walk every commit goes through before
// it is encoded, beside the JSON encoding itself (compare the two in one
// run): a commit of 10 events with generic map bodies and a header.
func BenchmarkCheckCommit(b *testing.B) {
	events := make([]EventMessage, 10)
	for i := range events {
		events[i] = EventMessage{Body: map[string]any{"id": "order-1", "amount": 12.5, "lines": []any{
			map[string]any{"sku": "a", "qty": 1.0}, map[string]any{"sku": "b", "qty": 2.0}}}}
	}
	headers := map[string]any{"user": "ann"}
	ser := NewJSONSerializer(nil).(*jsonSerializer)
	b.Run("check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := checkCommit(headers, events, true); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("marshal", func(b *testing.B) { // includes the check
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := ser.marshalCommit(headers, events); err != nil {
				b.Fatal(err)
			}
		}
	})
}
