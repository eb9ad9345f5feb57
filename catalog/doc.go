// Package catalog holds the two worlds deferproxy stands between — the production manifest and the developer's dev
// target — and the decision that joins them (SPEC §1–§4, §6, §9).
//
// The parts, one per file:
//   - manifest.go: streaming load of a dbt manifest.json (schema v9–v12) into an immutable *Manifest with indexes.
//   - source.go: ManifestStore, a watched file source that swaps snapshots atomically and keeps the last good one.
//   - devmap.go: DevMap, the index dev relation → node (dev manifest, schema map, or derivation; SPEC §3).
//   - devcatalog.go: DevCatalog, which relations exist in the dev schemas (pgxpool, TTL cache, singleflight).
//   - querycomment.go: dbt's query comment → node_id, invocation_id.
//   - policy.go: Decide (keep or defer one read reference) and ProdWriteGuard (SPEC §4, §6).
//
// Names are compared as the warehouse compares them: every Relation holds parts that are already folded the
// warehouse's way (PostgreSQL: unquoted lower case, quoted exact), the same form as rewrite.Reference.Normalized.
package catalog
