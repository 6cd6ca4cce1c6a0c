// Package persistence is the portable layer between the event store and its
// storage engines, as database/sql is for SQL drivers: one concrete type,
// [Engine], over any engine's driver (package driver).
//
// Application code rarely needs it: package eventstore opens and holds the
// engine. Tools and tests use it to open an engine by URL and work at the
// level of stored commits (payloads as bytes, no serializer, no hooks):
//
//	import _ "github.com/goeventstore/eventstore/persistence/mysql" // registers "mysql"
//
//	e, err := persistence.OpenURL(ctx, "mysql://root@127.0.0.1:3306/events?page_size=1000")
//	if err != nil { ... }
//	defer e.Close(ctx)
//	if err := e.Initialize(ctx); err != nil { ... }
//	for c, err := range e.ReadAll(ctx, 0) { ... }
//
// # What the portable layer does for every engine
//
//   - Validation: IDs, revisions, commit IDs, stamps and payload sizes are
//     checked before an engine sees them; bad input gives a *ValidationError
//     (matching ErrInvalid) naming the field, and nothing is written.
//   - Time: each call to the engine is bounded by Settings.Timeout (default
//     5 s; Settings.AdminTimeout, default 1 min, for Initialize, DeleteStream,
//     Purge, PurgeBucket and Drop). A storage that does not answer in time
//     gives ErrStorageUnavailable; the caller's own context is honoured too.
//   - Close: calls in progress finish first; later calls fail with
//     ErrClosed; closing again returns nil.
//   - Reads come as iterators that fetch one page per engine call, so the
//     body of a loop may call the engine again.
//   - Errors: operations on a stream return a *StreamError naming the
//     operation, bucket and stream. Every failure of the storage matches
//     exactly one class: [ErrStorageUnavailable] (transient: retry with the
//     same Engine once the storage is back), [ErrPermissionDenied],
//     [ErrNotInitialized], [ErrMisconfigured], or [ErrStorage]; the driver's
//     own error is wrapped too, for errors.As.
//   - Optional capabilities: an engine that lacks one (see
//     [Engine.Supports]) answers its methods with [ErrUnsupported].
//
// # Settings, in code and in URLs
//
// Every engine takes the same options, spelled the same way as Option
// functions and as URL query parameters: page_size ([WithPageSize]),
// op_timeout ([WithTimeout]) and admin_timeout ([WithAdminTimeout]). Engine
// packages add typed options of their own (mysql.WithTablePrefix, say),
// whose URL parameters have the same snake_case names. Options given in
// code win over the URL.
//
// # Writing an engine
//
// An engine implements the small contract of package driver (three
// methods, plus optional capabilities), wraps it with [NewEngine] in its
// Open and New functions, registers Open with [Register] from an init
// function, and runs the shared suite of package acceptance. The package
// documentation of package driver says everything an author needs to know.
package persistence
