// Package rewrite finds the relations a SQL statement reads and writes and swaps the names of the ones a Resolver
// asks for, changing nothing else. It is pure: SQL text and a Resolver in, rewritten SQL and a report out; no I/O,
// no globals. See SPEC §5.
package rewrite
