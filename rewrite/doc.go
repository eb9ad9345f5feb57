// Package rewrite finds the relations a SQL statement reads and writes and swaps the names of the ones a Resolver
// asks for, changing nothing else. It is pure: SQL text and a Resolver in, rewritten SQL and a report out; no I/O,
// no globals. See SPEC §5.
//
// The hot path of one statement:
//
//	if !prefilter.Match(sql) { forward }      // Prefilter: can the text name a schema that matters? no parse
//	a, err := cache.Analyze(sql)              // Cache of Analyze: pg_query parse + walk, once per distinct text
//	out, err := rewrite.Rewrite(sql, a, r)    // asks the Resolver r about each read reference, edits the bytes
//
// Analyze reads PostgreSQL with pg_query (libpg_query, PostgreSQL 16 grammar) and never deparses: a reference's span
// starts at the parser's byte location and its end is found by scanning the name's parts in the original text;
// names the tree holds without a location (DROP, COMMENT ON, RENAME TO, SET SCHEMA, schema statements) are found by
// scanning the statement's tokens. Text pg_query cannot parse goes to the dialect-tolerant lexer (LexAnalyze),
// which also reads Snowflake. Each reference has a role: Read (offered to the Resolver) or Write (never rewritten,
// reported for the production write guard). Names hidden by a CTE in scope are not references; unqualified names are
// reported as written, for the caller to resolve with search_path.
//
// Rewrite replaces only the bytes of the names it swaps (and of schema-qualified column qualifiers naming them),
// quoting a part only when PostgreSQL needs it (QuoteIdent, which matches quote_ident()).
package rewrite
