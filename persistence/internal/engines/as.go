package engines

// As sets *target to client if target is a *T, and reports whether it did:
// the step of a driver.Aser's As for each client it exposes, as in
//
//	return engines.As(target, e.client) || engines.As(target, e.db)
func As[T any](target any, client T) bool {
	t, ok := target.(*T)
	if ok {
		*t = client
	}
	return ok
}
