package e2e

import (
	"testing"
)

// proxyHandle is one running in-process deferproxy (proxy.Server with the deferral.Engine as its Hook).
type proxyHandle struct {
	Port   int
	status func() any // the engine's Status(), for logs
	stop   func()
}

// startProxy starts deferproxy in-process on 127.0.0.1:0 in front of upstream (a postgres:// URL of the project
// database) with the production manifest at manifest, dev schema dbt_dev and the given default mode. It is stopped in
// t.Cleanup and by stop.
//
// Until proxy.New and deferral.New exist this fails the test with a clear message, so that the native half of the
// suite can be built and run first.
func startProxy(t testing.TB, upstream, manifest, mode string) *proxyHandle {
	t.Helper()
	t.Fatalf("deferproxy's proxy (proxy.New) and defer engine (deferral.New) are not wired into internal/e2e yet; " +
		"the native half of the e2e suite runs, the proxy half cannot")
	return nil
}
