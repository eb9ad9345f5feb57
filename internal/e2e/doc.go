// Package e2e proves deferproxy with real dbt: it builds production with dbt-postgres directly, then runs the same
// dev invocations natively (`--defer --state prod`) and through the proxy (no --defer) and compares what each built and
// which relations each read. Everything lives in _test.go files; this file only names the package.
//
// The projects are the dbt corpus at ../shared/corpus/dbt (relative to the repository root) and our own
// testdata/deferproj, always copied to a temporary directory first: the corpus is read-only in CI.
package e2e
