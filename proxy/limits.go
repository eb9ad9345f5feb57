package proxy

import (
	"errors"
	"syscall"
)

// isTemporaryAccept reports accept errors that go away on their own: too many open files, aborted connections.
func isTemporaryAccept(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}
