// Package arrows holds the test that keeps deferproxy's import arrows pointing one way (docs/ARCHITECTURE.md):
//
//	cmd/deferproxy → proxy, snowflake, admin, deferral, catalog, rewrite, engine
//	proxy, snowflake (front ends) → engine      deferral (the engine) → engine, catalog, rewrite
//	catalog → rewrite                           rewrite, engine, secret → nothing of ours; admin → secret
//	(secret, the one redaction, may be imported by every package)
//
// Only rewrite reads SQL (imports pg_query), and the binary does not link the test harness.
package arrows
