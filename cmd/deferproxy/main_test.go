package main

import (
	"testing"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// TestMain stops the shared PostgreSQL cluster (if a test started one) after the tests.
func TestMain(m *testing.M) { pgtest.Main(m) }
