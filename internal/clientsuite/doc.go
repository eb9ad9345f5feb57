// Package clientsuite proves deferproxy transparent with client libraries' own test suites: a suite runs directly
// against a throwaway PostgreSQL and again through deferproxy with the defer engine on, and the per-test results
// are compared, so failures of the environment cancel out and what remains is the proxy's.
//
// pgx's suite (the version go.mod requires; its module zip holds its tests) runs in `make test`:
//
//	go test -v -count=1 -run TestPgxSuite ./internal/clientsuite
//
// A test that passes directly and fails (or skips) through the proxy fails the build; so does a proxied run that
// passes fewer tests. Everything lives in _test.go files; this file only names the package.
package clientsuite
