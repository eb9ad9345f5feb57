package e2e

import (
	"os"
	"testing"
)

// TestMain stops the package's private PostgreSQL cluster (started on first use by newRig) after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	stopCluster()
	os.Exit(code)
}
