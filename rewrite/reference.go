package rewrite

// Role says what a statement does with a relation.
type Role uint8

const (
	// Read: the relation is read (FROM, JOIN, subqueries, USING, the query of CTAS/INSERT…SELECT/COPY (…) TO, …).
	Read Role = iota
	// Write: the relation is created, replaced, altered, renamed, dropped, truncated, inserted into, updated,
	// deleted from, merged into, commented on, granted on, locked, indexed, refreshed or copied into (SPEC §5.2).
	Write
	// Pin: the statement makes the relation depend on it without writing its rows — a foreign key that REFERENCES
	// it (PostgreSQL adds triggers to the referenced table) or a row lock (SELECT … FOR UPDATE/NO KEY UPDATE/SHARE/
	// KEY SHARE, which marks its rows and blocks its writers). A pinned relation is never rewritten, and the write
	// guard refuses a production one as it refuses a write target (SPEC §5.2, §6).
	Pin
)

func (r Role) String() string {
	switch r {
	case Write:
		return "write"
	case Pin:
		return "pin"
	}
	return "read"
}

// Dialect selects the identifier rules: how unquoted names fold and which comment forms exist.
type Dialect uint8

const (
	// Postgres folds unquoted identifiers to lower case.
	Postgres Dialect = iota
	// Snowflake folds unquoted identifiers to upper case and also knows // comments.
	Snowflake
)

// Reference is one relation name as it stands in the SQL text.
type Reference struct {
	// Parts are the name's parts as written, quotes removed and "" unescaped: [db, schema, name], [schema, name] or [name].
	Parts []string
	// Quoted tells, per part, whether it was written as a quoted identifier.
	Quoted []bool
	// Normalized are the parts folded the warehouse's way (unquoted parts folded, quoted parts exact).
	Normalized []string
	// Start and End are the byte offsets of the whole name (all parts, dots and quotes) in the SQL text: sql[Start:End].
	Start, End int
	// Role is Read or Write.
	Role Role
	// Temp is true for a write target of a CREATE statement whose text before the name says TEMP or TEMPORARY: the
	// relation lives in the session's pg_temp schema, whatever the name's parts say.
	Temp bool
	// Statement is the index of the statement (in a multi-statement string) this reference belongs to.
	Statement int
	// Aliased says the name is followed by an alias (FROM pg_class c); Only says ONLY was written before it. Both
	// are known only for names the parser gave as a relation (RangeVar).
	Aliased, Only bool
}

// Statement is one statement of a (possibly multi-statement) SQL string.
type Statement struct {
	// Start and End are the statement's byte span in the SQL text (without the separating semicolon).
	Start, End int
	// Kind is a short upper-case tag such as "SELECT", "CREATE TABLE AS", "CREATE VIEW", "INSERT", "MERGE",
	// "DROP", "ALTER TABLE", "COPY", "EXPLAIN", "SET", "SHOW", "OTHER".
	Kind string
	// CatalogQuery is true when the statement reads information_schema or pg_catalog relations (SPEC §5.5).
	CatalogQuery bool
	// DDL is true for statements that create, drop, rename or replace relations (dev catalog invalidation).
	DDL bool
	// References are the relation names of this statement, in text order.
	References []Reference
	// Qualifiers are relation names written as column qualifiers (s.t.col, db.s.t.*), in text order, each with the
	// span of its relation part and Role Read. They name a FROM item, not a relation to read, so they are never
	// offered to a Resolver; Rewrite swaps one together with a deferred reference to the same schema-qualified
	// relation, so the column still finds its FROM item.
	Qualifiers []Reference
	// Schemas are the schemas the statement drops, renames, changes the owner of, grants/revokes privileges on or
	// creates objects in (DROP SCHEMA, ALTER SCHEMA … RENAME TO (both names) / OWNER TO, GRANT|REVOKE … ON SCHEMA,
	// … ON ALL TABLES|SEQUENCES|FUNCTIONS IN SCHEMA, ALTER DEFAULT PRIVILEGES IN SCHEMA, CREATE SCHEMA (but IF NOT
	// EXISTS without elements), CREATE EXTENSION … SCHEMA, ALTER <object> … SET SCHEMA), each with Parts [schema] and Role Write. A production schema here is
	// a write into production for the write guard (SPEC §6), like a production write target.
	Schemas []Reference
	// Objects are the schema-qualifiable objects other than relations (functions, procedures, types, domains,
	// operators, collations, …) the statement creates, alters, renames, moves, drops, comments on or grants/revokes
	// privileges on, each with Normalized the name's parts as the parser gives them ([schema, name] or [name]) and
	// Role Write. A production schema here is a write into production for the write guard (SPEC §6); an unqualified
	// name lands (CREATE) or is looked up (the rest) through the search_path.
	Objects []Reference
	// Body is what the proxy can read of the code a DO block runs or a CREATE FUNCTION/PROCEDURE stores; nil for
	// other statements.
	Body *Body
	// Settings are the run-time settings the statement changes (SET/RESET, set_config calls), in text order.
	Settings []Setting
	// Show is the lower-cased name of the setting a SHOW statement asks for ("" for other statements).
	Show string
	// Literals are, for a catalog query, the string literals it compares with catalog columns that hold relation
	// name parts (SPEC §5.5), in text order.
	Literals []Literal
	// Identified are, in Snowflake SQL, the relation names given as a string literal to IDENTIFIER('…') or
	// TABLE('…'), in text order: Start and End span the literal (quotes included), Parts are read from inside it,
	// Role is that of the position. They are never rewritten (the server resolves them), but a write target among
	// them is checked by the write guard (SPEC §6, §11).
	Identified []Reference
	// Use is what a Snowflake USE statement makes current; nil for every other statement (SPEC §11).
	Use *Use
}

// Use is the database and schema a Snowflake USE [DATABASE|SCHEMA] statement makes current, normalised (unquoted
// parts folded to upper case).
type Use struct {
	// Database is the database made current; "" when the statement keeps the current one (USE SCHEMA s).
	Database string
	// Schema is the schema made current; "" for USE DATABASE, after which Snowflake's current schema is PUBLIC
	// when the database has one.
	Schema string
}

// Analysis is the result of analysing a SQL string. It is immutable and may be shared (the cache hands out one
// Analysis to many callers).
type Analysis struct {
	Statements []Statement
	// Parsed is true when pg_query parsed the text; false when the lexer fallback produced the references (SPEC §5.3).
	Parsed bool
	// Dialect is the SQL dialect the text was read in; Rewrite writes names with its quoting rules.
	Dialect Dialect
	// ParseError is pg_query's error when Parsed is false (empty otherwise).
	ParseError string
}

// Resolver decides, for each read reference, whether it is swapped and for which name.
type Resolver interface {
	// Resolve returns the replacement name parts (unquoted, as the warehouse stores them; rewrite quotes a part only
	// when needed) and true to swap, or false to keep the reference. The number of parts returned is the number
	// written (the resolver keeps 2-part names 2-part when it can, SPEC §5.4).
	Resolve(ref Reference) (replacement []string, ok bool)
}

// Deferral reports one swapped reference.
type Deferral struct {
	Ref Reference
	// From is the name as written; To is the replacement text written in its place (with a separating space
	// before or after it only when a quoted replacement would otherwise touch a double quote of the text).
	From, To string
}

// Result is the outcome of Rewrite.
type Result struct {
	// SQL is the rewritten text; it is the input string itself when nothing was swapped.
	SQL string
	// Deferrals lists each swapped reference in text order.
	Deferrals []Deferral
	// Analysis is the analysis the rewrite was based on (write targets are in it, never swapped).
	Analysis *Analysis
	// Requalified lists the column qualifiers (Statement.Qualifiers) rewritten along with the deferrals, in text
	// order. They are not deferrals of their own.
	Requalified []Deferral
}

// Body is what the proxy can read of a code body: a DO block (which runs now) or the body of a CREATE FUNCTION/
// PROCEDURE (stored, run when called). LANGUAGE sql bodies (quoted or BEGIN ATOMIC) are analysed as SQL; plpgsql
// bodies are parsed (pg_query's plpgsql parser) and each SQL statement and expression in them is analysed, as is
// the string of an EXECUTE that is a constant.
type Body struct {
	// Runs is true for a DO block: the body runs when the statement does.
	Runs bool
	// Parts are the SQL texts found in the body, each with its analysis (spans are offsets in Part.SQL).
	Parts []BodyPart
	// Dynamic is true when the body EXECUTEs a string built at run time: what that runs cannot be read.
	Dynamic bool
	// Opaque, when not empty, says why (part of) the body could not be read: another language, a body or a
	// fragment that does not parse.
	Opaque string
}

// BodyPart is one SQL text of a code body and its analysis.
type BodyPart struct {
	SQL      string
	Analysis *Analysis
}
