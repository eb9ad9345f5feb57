package deferral

// txSetting is a session setting the proxy keeps itself (deferproxy.mode, deferproxy.catalog_view) with
// PostgreSQL's rules for settings: SET inside a transaction block is undone by its rollback, SET LOCAL lasts until
// the transaction ends and means nothing outside one, RESET returns to the connect-time value. The session's mu
// guards it.
type txSetting[T comparable] struct {
	val   T // committed value
	start T // the connect-time value (configuration default or startup option): what RESET returns to
	tx    *txValue[T]
}

// txValue is a setting's state within one transaction.
type txValue[T comparable] struct {
	current    T // in effect now
	sessionVal T // what COMMIT keeps (the last plain SET)
	hasSession bool
}

// init sets the connect-time value.
func (x *txSetting[T]) init(v T) { x.val, x.start, x.tx = v, v, nil }

// current is the value in effect.
func (x *txSetting[T]) current() T {
	if x.tx != nil {
		return x.tx.current
	}
	return x.val
}

// set applies SET [LOCAL]; inTx says a transaction block is open (or a BEGIN was sent ahead of it).
func (x *txSetting[T]) set(v T, local, inTx bool) {
	if !inTx {
		if !local { // PostgreSQL: SET LOCAL outside a transaction block has no effect
			x.val = v
		}
		return
	}
	if x.tx == nil {
		x.tx = &txValue[T]{current: x.val}
	}
	x.tx.current = v
	if !local {
		x.tx.sessionVal, x.tx.hasSession = v, true
	}
}

// end closes the transaction: a commit keeps the last plain SET, a rollback keeps nothing of it.
func (x *txSetting[T]) end(rolledBack bool) {
	if x.tx == nil {
		return
	}
	if !rolledBack && x.tx.hasSession {
		x.val = x.tx.sessionVal
	}
	x.tx = nil
}

// clone is a copy that shares nothing with x (for undoing a string's settings when the string is refused).
func (x txSetting[T]) clone() txSetting[T] {
	if x.tx != nil {
		tx := *x.tx
		x.tx = &tx
	}
	return x
}
