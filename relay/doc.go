// Package relay publishes a store's commits to a message broker: every
// commit (or those of some buckets), in checkpoint order, at least once,
// advancing only past commits the broker has durably acknowledged.
//
//	pub := natsjs.New(js, "EVENTS", natsjs.Options{}) // or kafka.New(kgoClient), watermill.New(p)
//	r, err := relay.New(store, pub, relay.Options{
//		Topic: relay.ByBucket("eventstore"), // subject/topic per bucket; default "eventstore.commits"
//	})
//	if err != nil {
//		return err
//	}
//	err = r.Run(ctx) // until ctx is done; outages of the store or the broker are waited out
//
// The relay reads with a catch-up subscription (package subscription):
// Store.Commits in pages, so late commits are never skipped, woken at once
// by commits of its own process and polling for the others. Each page goes
// to the Publisher as one call; the relay moves its position past the
// messages the broker acknowledged, and only those.
//
// # Guarantees
//
//   - Nothing lost: a commit is behind the relay's position only once the
//     broker acknowledged it. A commit the broker refuses stops the relay's
//     progress (it retries with backoff, forever); it is never skipped.
//     A commit that cannot be encoded (*EncodeError) or decoded (ErrCorrupt)
//     stops Run with an error naming it.
//   - Order: messages are published in checkpoint order, and a publisher
//     never lets the broker store a message after one that failed (per
//     partition at least): per stream, consumers see commits in order.
//   - At least once: after a crash, a lost acknowledgement or a retry, a
//     commit may be published again. Brokers that deduplicate by message ID
//     drop the copy (NATS JetStream, within its duplicate window); otherwise
//     consumers must: every message carries the commit ID (Message.ID,
//     HeaderCommitID), and per stream the commit sequence
//     (HeaderCommitSequence) only grows, so "ignore a commit whose sequence
//     is not above the last one applied for its stream" is a complete
//     dedupe.
//
// # Where a relay resumes
//
// From the broker itself when the publisher is a Resumer (natsjs reads the
// checkpoint header of the stream's last message), and from
// Options.Checkpoints otherwise (required then): File for one relay per
// file, StoreCheckpoints to keep it in the event store with a lease. With
// both, from the greater. The position is saved every Options.SaveEvery
// while the relay publishes, and when it stops.
//
// # Two relays started by mistake
//
//   - natsjs: each message expects the previous commit's message to be the
//     stream's last (Nats-Expected-Last-Msg-Id), and repeats are dropped
//     (Nats-Msg-Id). The second relay's copies are acknowledged as
//     duplicates or refused; a refused relay resumes from the broker. The
//     stream holds every commit once, in checkpoint order. Both keep running.
//   - kafka (and any publisher without such a fence): both publish until one
//     of them saves its checkpoint; with StoreCheckpoints the other then
//     fails with ErrLeaseLost and stops. Meanwhile consumers see copies,
//     never a gap, and per partition the first copy of each commit in
//     checkpoint order.
//
// # Message shape
//
// One message per commit by default; with Options.PerEvent one per event
// (EncodeEvents: ID = commit ID + "/" + the event's place from 1, plus the
// Eventstore-Event-Index and -Event-Count headers; the relay still
// advances per commit, and a commit published in part is published again
// whole after a crash, its first events being copies). ID = the commit ID; Key (partition/ordering key)
// = bucket + "/" + stream; Topic from Options.Topic; headers
// Eventstore-Commit-Id, -Bucket, -Stream, -Commit-Sequence,
// -Stream-Revision, -Checkpoint, -Commit-Stamp (RFC 3339, microseconds,
// UTC), -Event-Types (comma-separated) and Content-Type application/json;
// with Options.CloudEvents the CloudEvents attributes too (binary mode:
// ce-specversion, ce-id, ce-source, ce-type "eventstore.commit",
// ce-subject = stream, ce-time). The body is the JSON document Body
// describes: the decoded commit with its events ({"type", "headers",
// "body"}), never the store's stored bytes (which may be gob, compressed or
// encrypted). Event type names come from Options.TypeName (default: the Go
// type's name; register your event types with the store, or bodies come
// back as generic JSON values, named "object").
//
// # Per-process dispatch
//
// Dispatcher adapts a Publisher to the store's dispatcher (Wireup's
// DispatchWith): each process publishes its own commits as it stores them,
// at least once and in order per stream, with the lowest latency, but with
// no order across processes. The Relay is the total-order option.
package relay
