// Package catalog holds the two worlds deferproxy stands between — the production manifest and the developer's dev
// target — and the decision that joins them (SPEC §1–§4, §6, §9).
//
// The parts, one per file:
//   - manifest.go: streaming load of a dbt manifest.json (schema v9–v12) into an immutable *Manifest with indexes.
//   - fetcher.go: Fetcher, the one small interface of a manifest source, and NewFetcher for a configured source;
//     fetch_file.go (a file or directory, watched), fetch_http.go, fetch_s3.go, fetch_dbtcloud.go, fetch_paradime.go.
//   - source.go: ManifestStore, which polls a Fetcher, validates a new manifest completely before it replaces the
//     current one, keeps the last good one (cache.go: on disk in state_dir) and reports the source's health.
//   - run.go: Run, the production run's identity (run id, job, finished time, URL) shown to users.
//   - devmap.go: DevMap, the index dev relation → node (dev manifest, schema map, or derivation; SPEC §3).
//   - devcatalog.go: DevCatalog, which relations exist in the dev schemas (pgxpool, TTL cache, singleflight).
//   - querycomment.go: dbt's query comment → node_id, invocation_id.
//   - policy.go: Decide (keep or defer one read reference) and ProdWriteGuard (SPEC §4, §6).
//
// Names are compared as the warehouse compares them: every Relation holds parts that are already folded the
// warehouse's way (PostgreSQL: unquoted lower case, quoted exact), the same form as rewrite.Reference.Normalized.
package catalog
