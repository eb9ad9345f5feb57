package e2e

import (
	"os"
	"testing"
)

// TestMain stops the package's private PostgreSQL clusters (one per project, started on first use) and removes the project copies
// after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	stopClusters()
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
	os.Exit(code)
}
