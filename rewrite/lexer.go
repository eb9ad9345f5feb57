package rewrite

import "unicode/utf8"

// The dialect-tolerant lexer of SPEC §5.3. It reads Snowflake SQL and any statement pg_query cannot parse, in a
// single pass over the text without building a tree: a tokenizer (lexer_scan.go) that knows each dialect's strings,
// comments and quoted identifiers, and a small state machine over the tokens that knows where relation names stand
// (after FROM, JOIN, USING, in comma-separated FROM lists, inside parenthesised selects, and after the keywords that
// create, change or drop a relation). It is deliberately conservative: a name it cannot place with certainty is
// left out, because a missing reference only costs a deferral while a wrong one would corrupt a statement.
//
// Read references are reported only for qualified (2- or 3-part) names: an unqualified read may name a CTE, a temp
// table or anything on the search path, which a lexer cannot tell apart. Write targets are reported with any number
// of parts up to three, because the write guard (SPEC §6) must see them all. Column references whose relation part
// is schema-qualified (s.t.col, db.s.t.*) are reported as Statement.Qualifiers, as Analyze does, so a rewrite that
// defers s.t can rename them with it.

// maxLevels bounds the nesting the lexer tracks; deeper text is scanned but its names are left alone.
const maxLevels = 64

// level is the state of one parenthesis (or bracket, or brace) nesting level.
type level struct {
	// query: a SELECT (or UPDATE) stands at this level, so FROM begins a relation list.
	query bool
	// fromList: inside a FROM/USING list or a join tree, so a comma begins another relation.
	fromList bool
	// with: a WITH clause stands at this level, so the ')' that ends a CTE body may precede the main statement.
	with bool
	// using: a DELETE or MERGE stands at this level, so its first USING names a relation.
	using bool
	// setList: in the SET list of an UPDATE (or MERGE's UPDATE SET, ON CONFLICT DO UPDATE SET), where the name
	// after SET or ',' is an assignment target, not a column reference.
	setList bool
}

// expectation is what the next name token means.
type expectation uint8

const (
	expNone  expectation = iota
	expRead              // a relation that is read (only qualified names are reported)
	expWrite             // a write target
)

// namePart is one part of a dotted name: its span, quotes included.
type namePart struct {
	start, end int
	quoted     bool
}

// name is a dotted name as found in the text.
type name struct {
	parts [4]namePart
	n     int
	// unsure: more than four parts, whitespace or a comment around a dot, or a dot followed by neither a part nor
	// '*'. Such a name is never reported.
	unsure bool
	// star: the name ends in .* (s.t.* in a select list).
	star bool
	// call: the name is followed by '(' (a function call, a table function, IDENTIFIER(…), TABLE(…)).
	call bool
}

// relation reports whether the name can be a relation name: one to three parts, nothing doubtful.
func (n *name) relation() bool { return !n.unsure && !n.star && n.n <= 3 }

func (n *name) start() int { return n.parts[0].start }
func (n *name) end() int   { return n.parts[n.n-1].end }

// lexer is the state of one LexAnalyze call.
type lexer struct {
	s       scanner
	dialect Dialect
	// unqualifiedReads also reports 1-part read names; only the differential test uses it, to check the lexer's
	// read positions against every RangeVar of the corpus, not just the few qualified ones.
	unqualifiedReads bool

	stmts []Statement
	refs  []Reference
	quals []Reference // column qualifiers (Statement.Qualifiers)
	schms []Reference // schemas dropped, renamed, re-owned or granted on (Statement.Schemas)
	ident []Reference // Snowflake names given to IDENTIFIER('…') (Statement.Identified)
	// strs and flags are arenas the references' Parts, Normalized and Quoted slices are cut from.
	strs  []string
	flags []bool

	// Statement state.
	stmtStart  int  // byte offset where the current statement began
	refStart   int  // index in refs of the current statement's first reference
	qualStart  int  // index in quals of the current statement's first qualifier
	schmStart  int  // index in schms of the current statement's first schema
	identStart int  // index in ident of the current statement's first IDENTIFIER name
	use        *Use // a Snowflake USE statement's effect
	hasTokens  bool
	kind       string
	ddl        bool
	catalog    bool
	sawSelect  bool
	atomic     int // BEGIN ATOMIC … END nesting of a SQL-standard function body (';' does not end the statement)

	levels [maxLevels]level
	depth  int // index into levels; levels deeper than maxLevels are counted in overflow
	over   int

	expect expectation
	// canStart: the next token may begin a (nested) statement: the start of the text, after '(', after the CTE list,
	// after DO [INSTEAD|ALSO] in a rule, after EXPLAIN's options, after PREPARE … AS.
	canStart bool
	// prev and prev2 are the keywords of the two tokens before the current one (cur), kwNone for non-keywords;
	// prevTok is the token before the current one.
	prev, prev2, cur kw
	prevTok          token
}

// LexAnalyze analyses sql with the dialect-tolerant lexer: one Statement per ';'-separated statement, each with
// the relation names the lexer could place with certainty. The result has Parsed false. It never fails: text it
// cannot read yields fewer references, never a wrong one.
func LexAnalyze(sql string, d Dialect) *Analysis {
	return lexAnalyze(sql, d, false)
}

func lexAnalyze(sql string, d Dialect, unqualifiedReads bool) *Analysis {
	return lexAnalyzeReading(sql, d, unqualifiedReads, false)
}

func lexAnalyzeReading(sql string, d Dialect, unqualifiedReads, backslash bool) *Analysis {
	l := lexer{s: scanner{src: sql, dialect: d, backslash: backslash}, dialect: d, unqualifiedReads: unqualifiedReads}
	l.run()
	return &Analysis{Statements: l.stmts, Dialect: d}
}

// inQuery reports whether a query (SELECT, UPDATE) stands at the current level or around it.
func (l *lexer) inQuery() bool {
	if l.over > 0 {
		return false
	}
	for i := l.depth; i >= 0; i-- {
		if l.levels[i].query {
			return true
		}
	}
	return false
}

func (l *lexer) top() *level {
	if l.over > 0 {
		// Too deep to track: a fresh level every time, so nothing is recognised there.
		l.levels[maxLevels-1] = level{}
	}
	return &l.levels[l.depth]
}

func (l *lexer) push() {
	if l.depth == maxLevels-1 || l.over > 0 {
		l.over++
		return
	}
	l.depth++
	l.levels[l.depth] = level{}
}

func (l *lexer) pop() {
	switch {
	case l.over > 0:
		l.over--
	case l.depth > 0:
		l.depth--
	}
}

func (l *lexer) text(t token) string { return l.s.src[t.start:t.end] }

// kwOf classifies a token: the keyword of an unquoted word, kwNone for anything else.
func (l *lexer) kwOf(t token) kw {
	if t.kind != tkWord {
		return kwNone
	}
	return keywordOf(l.s.src[t.start:t.end])
}

func (l *lexer) isPunct(t token, c byte) bool {
	return t.kind == tkPunct && l.s.src[t.start] == c
}

// peek returns the next token without consuming it.
func (l *lexer) peek() token {
	pos, gap := l.s.pos, l.s.gap
	t := l.s.next()
	l.s.pos, l.s.gap = pos, gap
	return t
}

// accept consumes the next token if it is the keyword k.
func (l *lexer) accept(k kw) bool {
	pos, gap := l.s.pos, l.s.gap
	t := l.s.next()
	if l.kwOf(t) == k {
		return true
	}
	l.s.pos, l.s.gap = pos, gap
	return false
}

func (l *lexer) setKind(k string) {
	if l.kind == "" && l.depth == 0 { // a data-modifying CTE does not make the statement's kind
		l.kind = k
	}
}

func (l *lexer) run() {
	l.canStart = true
	for {
		t := l.s.next()
		if t.kind == tkEOF {
			l.endStatement(len(l.s.src))
			return
		}
		if l.isPunct(t, ';') && l.atomic == 0 {
			l.endStatement(t.start)
			l.beginStatement(t.end)
			continue
		}
		first := !l.hasTokens
		l.hasTokens = true
		l.token(t, first)
		l.prev2, l.prev = l.prev, l.cur
		l.prevTok = t
	}
}

func (l *lexer) beginStatement(at int) {
	l.stmtStart = at
	l.refStart = len(l.refs)
	l.qualStart = len(l.quals)
	l.schmStart = len(l.schms)
	l.identStart = len(l.ident)
	l.use = nil
	l.prevTok = token{}
	l.hasTokens = false
	l.kind = ""
	l.ddl, l.catalog, l.sawSelect = false, false, false
	l.atomic = 0
	l.depth, l.over = 0, 0
	l.levels[0] = level{}
	l.expect = expNone
	l.canStart = true
	l.prev, l.prev2 = kwNone, kwNone
}

func (l *lexer) endStatement(at int) {
	if !l.hasTokens {
		return
	}
	kind := l.kind
	if kind == "" {
		kind = "OTHER"
		if l.sawSelect {
			kind = "SELECT"
		}
	}
	refs := l.refs[l.refStart:len(l.refs):len(l.refs)]
	if len(refs) == 0 {
		refs = nil
	}
	quals := l.quals[l.qualStart:len(l.quals):len(l.quals)]
	if len(quals) == 0 {
		quals = nil
	}
	schms := l.schms[l.schmStart:len(l.schms):len(l.schms)]
	if len(schms) == 0 {
		schms = nil
	}
	var idents []Reference
	if len(l.ident) > l.identStart {
		idents = l.ident[l.identStart:len(l.ident):len(l.ident)]
	}
	l.stmts = append(l.stmts, Statement{
		Start: l.stmtStart, End: at, Kind: kind, CatalogQuery: l.catalog, DDL: l.ddl, References: refs,
		Qualifiers: quals, Schemas: schms, Identified: idents, Use: l.use,
	})
}

// token handles one token of a statement.
func (l *lexer) token(t token, first bool) {
	canStart := l.canStart
	l.canStart = false
	k := l.kwOf(t)
	l.cur = k

	switch t.kind {
	case tkPunct:
		l.punct(t)
		return
	case tkWord, tkQuoted:
		if l.expect != expNone {
			exp := l.expect
			if exp == expRead && (k == kwOnly || k == kwLateral) {
				l.expect = exp
				return // FROM ONLY t, JOIN LATERAL (…): still expecting
			}
			if exp == expRead && k == kwRows && l.accept(kwFrom) {
				return // ROWS FROM (f(…), g(…)): functions, not a join tree
			}
			l.expect = expNone
			if n, ok := l.name(t, k); ok {
				l.place(&n, exp)
				return
			}
		}
		if t.end < len(l.s.src) && l.s.src[t.end] == '.' {
			l.columnRef(t)
			return
		}
		if canStart && l.statement(k, first) {
			return
		}
		l.keyword(t, k)
	default:
		l.expect = expNone
	}
}

// columnRef reads a dotted name in an expression. A column reference whose relation part is schema-qualified
// (s.t.col, db.s.t.col, s.t.*, db.s.t.*) is recorded as a qualifier (Statement.Qualifiers), so that a rewrite
// that defers s.t can rename the qualifier with it. A name right after '.', ':' or '::' (a field or a path, a type)
// or after AS (a type in CAST) is left alone, as is a function call.
func (l *lexer) columnRef(t token) {
	after := l.prevTok
	n, _ := l.name(t, kwNone)
	if n.unsure || n.call || l.prev == kwAs {
		return
	}
	if after.kind == tkPunct && l.s.src[after.start] == '.' {
		return
	}
	if after.kind == tkOp || after.kind == tkParam {
		switch l.s.src[after.end-1] {
		case ':', '%':
			return
		}
	}
	if !l.inQuery() || l.s.pos < len(l.s.src) && l.s.src[l.s.pos] == '%' { // %TYPE, %ROWTYPE
		return
	}
	if l.peek().kind == tkString { // a typed literal: s.t.typ 'text' names a type, not a column
		return
	}
	if l.over == 0 && l.top().setList && (l.prev == kwSet || after.kind == tkPunct && l.s.src[after.start] == ',') {
		return
	}
	m := n.n - 1
	if n.star {
		m = n.n
	}
	if m < 2 || m > 3 {
		return
	}
	q := n
	q.n, q.star = m, false
	l.quals = l.appendRef(l.quals, &q, Read)
}

func (l *lexer) punct(t token) {
	c := l.s.src[t.start]
	switch c {
	case '(', '[', '{':
		fromParen := c == '(' && l.expect == expRead
		l.expect = expNone
		l.push()
		if fromParen && l.over == 0 {
			// FROM (a.b JOIN c.d ON …) or FROM (SELECT …): a join tree or a subquery; SELECT ends the list.
			l.top().fromList = true
			l.expect = expRead
		}
		l.canStart = c == '('
	case ')', ']', '}':
		l.expect = expNone
		l.pop()
		if l.over == 0 && l.top().with && c == ')' {
			l.canStart = true // the end of a CTE body: the main statement may follow
		}
	case ';':
		// Only inside BEGIN ATOMIC … END: the next statement of the function body.
		l.expect = expNone
		l.canStart = true
	case ',':
		l.expect = expNone
		if l.over == 0 && l.top().fromList {
			l.expect = expRead
		}
	default:
		l.expect = expNone
	}
}

// keyword handles a word that is not a name in an expected position and does not begin a statement.
func (l *lexer) keyword(t token, k kw) {
	c := l.top()
	switch k {
	case kwSelect:
		if l.prev == kwOn || (l.depth == 0 && (l.kind == "GRANT" || l.kind == "REVOKE" || l.kind == "ALTER")) {
			return // a privilege (GRANT SELECT ON …, ALTER DEFAULT PRIVILEGES) or a rule's event (ON SELECT TO …)
		}
		c.query, c.fromList = true, false
		if l.depth == 0 {
			l.setKind("SELECT")
		}
		l.sawSelect = true
	case kwValues, kwWith:
		c.fromList = false
		if k == kwWith {
			c.with = true
		} else if l.depth == 0 {
			l.setKind("SELECT") // a VALUES list is a query
		}
	case kwFrom:
		c.setList = false
		if l.prev == kwDistinct && (l.prev2 == kwIs || l.prev2 == kwNot) {
			return // IS [NOT] DISTINCT FROM
		}
		if c.query && l.over == 0 {
			c.fromList = true
			l.expect = expRead
		}
	case kwJoin:
		if l.over == 0 && (c.query || c.fromList) { // not CREATE OPERATOR's JOIN = proc
			c.fromList = true
			l.expect = expRead
		}
	case kwUsing:
		if c.using && l.over == 0 {
			c.using = false
			c.fromList = true
			l.expect = expRead
		}
	case kwWhere, kwGroup, kwHaving, kwWindow, kwOrder, kwLimit, kwOffset, kwFetch, kwFor, kwUnion, kwIntersect,
		kwExcept, kwMinus, kwQualify, kwReturning, kwSet, kwWhen, kwThen, kwConnect, kwStart, kwOn:
		if k != kwOn {
			c.fromList = false
		}
		c.setList = k == kwSet
		l.clause(k)
	case kwInto:
		c.fromList = false
		if l.depth == 0 && l.over == 0 {
			switch l.kind {
			case "INSERT": // Snowflake's multi-table INSERT ALL|FIRST … INTO t1 … INTO t2
				l.expect = expWrite
			case "SELECT":
				// PostgreSQL's SELECT … INTO [TEMP] [TABLE] new_table. In Snowflake, SELECT … INTO names scripting
				// variables, never a table.
				if c.query && l.dialect == Postgres {
					for l.accept(kwTemp) || l.accept(kwTemporary) || l.accept(kwUnlogged) || l.accept(kwTable) {
					}
					l.kind = "SELECT INTO"
					l.ddl = true
					l.expect = expWrite
				}
			}
		}
	case kwAs:
		if l.depth == 0 && l.kind == "CREATE TABLE" {
			l.kind = "CREATE TABLE AS"
		}
	case kwDo, kwInstead, kwAlso:
		// A rule's action: CREATE RULE … DO [INSTEAD|ALSO] <statement>. (ON CONFLICT … DO UPDATE SET is told apart
		// by the UPDATE check.)
		l.canStart = true
	case kwBegin:
		if l.kind == "CREATE FUNCTION" && l.accept(kwAtomic) {
			l.atomic++
			l.canStart = true
		}
	case kwCase:
		if l.atomic > 0 {
			l.atomic++
		}
	case kwEnd:
		if l.atomic > 0 {
			l.atomic--
		}
	}
}

// clause handles the statement-specific meaning of a clause keyword at the statement level.
func (l *lexer) clause(k kw) {
	if l.depth != 0 || l.over > 0 {
		return
	}
	switch k {
	case kwOn:
		switch l.kind {
		case "CREATE INDEX":
			l.accept(kwOnly)
			l.expect = expWrite
		case "GRANT", "REVOKE":
			l.grantOn()
		}
	}
}

// statement recognises a keyword that begins a statement (or a nested data-modifying statement) and reads its
// write target. It reports whether k began one.
func (l *lexer) statement(k kw, first bool) bool {
	top := first
	switch k {
	case kwInsert:
		pos, gap := l.s.pos, l.s.gap
		overwrite := l.accept(kwOverwrite)
		if l.accept(kwAll) || l.accept(kwFirst) {
			l.setKind("INSERT") // Snowflake's multi-table insert: each INTO is read as it comes
			return true
		}
		if !l.accept(kwInto) && !(overwrite && l.accept(kwTable)) {
			l.s.pos, l.s.gap = pos, gap
			return false
		}
		l.setKind("INSERT")
		l.writeTarget(false)
		return true
	case kwUpdate:
		if !l.updateAhead() {
			return false
		}
		l.setKind("UPDATE")
		l.top().query = true
		l.accept(kwOnly)
		l.writeTarget(false)
		return true
	case kwDelete:
		if !l.accept(kwFrom) {
			return false
		}
		l.setKind("DELETE")
		l.top().using = true
		l.accept(kwOnly)
		l.writeTarget(false)
		return true
	case kwMerge:
		if !l.accept(kwInto) {
			return false
		}
		l.setKind("MERGE")
		l.top().using = true
		l.writeTarget(false)
		return true
	}
	if !top {
		return false
	}
	switch k {
	case kwCreate:
		l.create()
	case kwAlter:
		l.alter()
	case kwDrop:
		l.drop()
	case kwTruncate:
		l.kind = "TRUNCATE"
		l.accept(kwTable)
		l.ifExists()
		l.accept(kwOnly)
		l.writeTarget(true)
	case kwCopy:
		l.copyStmt()
	case kwLock:
		l.kind = "LOCK"
		l.accept(kwTable)
		l.accept(kwOnly)
		l.writeTarget(true)
	case kwRefresh:
		l.kind = "REFRESH MATERIALIZED VIEW"
		if l.accept(kwMaterialized) && l.accept(kwView) {
			l.accept(kwConcurrently)
			l.writeTarget(false)
		}
	case kwComment:
		l.kind = "COMMENT"
		if l.accept(kwOn) {
			if l.relationObject() {
				l.writeTarget(false)
			}
		}
	case kwExplain:
		l.kind = "EXPLAIN"
		for l.accept(kwAnalyze) || l.accept(kwVerbose) {
		}
		if l.isPunct(l.peek(), '(') {
			l.s.next()
			l.skipParens()
		}
		l.canStart = true
	case kwPrepare:
		l.kind = "PREPARE"
		if t := l.s.next(); t.kind == tkWord || t.kind == tkQuoted {
			if l.isPunct(l.peek(), '(') {
				l.s.next()
				l.skipParens()
			}
			if l.accept(kwAs) {
				l.canStart = true
			}
		}
	case kwWith:
		l.top().with = true
	case kwSelect, kwValues:
		return false // the general keyword handling sets the kind
	case kwGrant:
		l.kind = "GRANT"
	case kwRevoke:
		l.kind = "REVOKE"
	case kwSet, kwReset:
		l.kind = "SET"
	case kwShow:
		l.kind = "SHOW"
		if l.dialect == Snowflake {
			l.showColumns()
		}
	case kwBegin, kwStart:
		l.kind = "BEGIN"
	case kwCommit, kwEnd:
		l.kind = "COMMIT"
	case kwRollback, kwAbort:
		l.kind = "ROLLBACK"
	case kwExecute:
		l.kind = "EXECUTE"
	case kwDeallocate:
		l.kind = "DEALLOCATE"
	case kwVacuum:
		l.kind = "VACUUM"
	case kwAnalyze:
		l.kind = "ANALYZE"
	case kwUse:
		l.kind = "USE"
		if l.dialect == Snowflake {
			l.useStmt()
		}
	case kwDescribe:
		l.kind = "DESCRIBE"
		if l.dialect == Snowflake {
			l.describe()
		}
	case kwCall:
		l.kind = "CALL"
	case kwDeclare:
		l.kind = "DECLARE CURSOR"
	case kwDo:
		l.kind = "DO"
	case kwTable:
		l.kind = "SELECT" // TABLE name ≡ SELECT * FROM name
		l.expect = expRead
	default:
		l.kind = "OTHER"
	}
	return true
}

// updateAhead reports whether the tokens after UPDATE read `[ONLY] name [*] [[AS] alias] SET`, which tells a
// statement apart from FOR UPDATE, ON UPDATE CASCADE, DO UPDATE SET, GRANT UPDATE and a column named update.
func (l *lexer) updateAhead() bool {
	pos, gap := l.s.pos, l.s.gap
	defer func() { l.s.pos, l.s.gap = pos, gap }()
	t := l.s.next()
	if l.kwOf(t) == kwOnly {
		t = l.s.next()
	}
	if t.kind != tkWord && t.kind != tkQuoted || l.kwOf(t) == kwSet {
		return false
	}
	n, ok := l.name(t, reservedOnly(l.kwOf(t)))
	if !ok || n.call {
		return false
	}
	t = l.s.next()
	if t.kind == tkOp && l.text(t) == "*" {
		t = l.s.next()
	}
	for i := 0; i < 2 && l.kwOf(t) != kwSet; i++ {
		if t.kind != tkWord && t.kind != tkQuoted {
			return false
		}
		t = l.s.next()
	}
	return l.kwOf(t) == kwSet
}

// create reads CREATE [OR REPLACE] [modifiers] TABLE|VIEW|MATERIALIZED VIEW [IF NOT EXISTS] name, and the kinds
// of the other CREATE statements.
func (l *lexer) create() {
	l.kind = "CREATE"
	materialized, foreign := false, false
	for {
		pos, gap := l.s.pos, l.s.gap
		t := l.s.next()
		switch l.kwOf(t) {
		case kwOr, kwReplace, kwGlobal, kwLocal, kwTemp, kwTemporary, kwTransient, kwVolatile, kwUnlogged, kwSecure,
			kwRecursive, kwExternal, kwDynamic, kwIceberg, kwHybrid, kwUnique:
			continue
		case kwForeign:
			foreign = true
			continue
		case kwMaterialized:
			materialized = true
			continue
		case kwTable:
			l.kind, l.ddl = "CREATE TABLE", true
			if foreign {
				l.kind = "CREATE FOREIGN TABLE"
			}
		case kwView:
			l.kind, l.ddl = "CREATE VIEW", true
			if materialized {
				l.kind = "CREATE MATERIALIZED VIEW"
			}
		case kwIndex:
			l.kind, l.ddl = "CREATE INDEX", true
			return
		case kwSequence:
			l.kind, l.ddl = "CREATE SEQUENCE", true
		case kwTrigger:
			l.kind = "CREATE TRIGGER"
			return
		case kwSchema:
			l.kind, l.ddl = "CREATE SCHEMA", true
			return
		case kwFunction, kwProcedure:
			l.kind = "CREATE FUNCTION"
			return
		default:
			l.s.pos, l.s.gap = pos, gap
			return
		}
		break
	}
	if l.accept(kwIf) {
		if !l.accept(kwNot) || !l.accept(kwExists) {
			return
		}
	}
	l.writeTarget(false)
}

// relationObject reads TABLE, VIEW, MATERIALIZED VIEW, FOREIGN TABLE and Snowflake's [DYNAMIC|EXTERNAL|…] TABLE
// and reports whether one was there; it also names the kind suffix.
func (l *lexer) relationObject() bool {
	for {
		switch {
		case l.accept(kwTable):
			return true
		case l.accept(kwView):
			return true
		case l.accept(kwMaterialized), l.accept(kwForeign), l.accept(kwDynamic), l.accept(kwExternal),
			l.accept(kwIceberg), l.accept(kwHybrid), l.accept(kwTransient), l.accept(kwSecure):
			continue
		default:
			return false
		}
	}
}

func (l *lexer) ifExists() bool {
	if l.accept(kwIf) {
		return l.accept(kwExists)
	}
	return true
}

// drop reads DROP <relation kind> [IF EXISTS] name [, …]. Every name is a write target.
func (l *lexer) drop() {
	l.kind, l.ddl = "DROP", true
	if l.accept(kwSchema) {
		if l.ifExists() {
			l.schemaNames(true)
		}
		return
	}
	if !l.relationObject() {
		return
	}
	if l.ifExists() {
		l.writeTarget(true)
	}
}

// alter reads ALTER TABLE|VIEW|MATERIALIZED VIEW|… [IF EXISTS] [ONLY] name; RENAME TO and SWAP WITH are handled
// as they come (alterTail).
func (l *lexer) alter() {
	l.kind = "ALTER"
	if l.accept(kwSchema) {
		l.kind, l.ddl = "ALTER SCHEMA", true
		l.alterSchema()
		return
	}
	pos, gap := l.s.pos, l.s.gap
	t := l.s.next()
	switch l.kwOf(t) {
	case kwTable:
		l.kind = "ALTER TABLE"
	case kwView:
		l.kind = "ALTER VIEW"
	case kwIndex:
		l.kind = "ALTER INDEX"
	case kwSequence:
		l.kind = "ALTER SEQUENCE"
	case kwMaterialized:
		if !l.accept(kwView) {
			return
		}
		l.kind = "ALTER MATERIALIZED VIEW"
	case kwForeign:
		if !l.accept(kwTable) {
			return
		}
		l.kind = "ALTER FOREIGN TABLE"
	case kwDynamic, kwExternal, kwIceberg, kwHybrid:
		if !l.accept(kwTable) {
			return
		}
		l.kind = "ALTER TABLE"
	default:
		l.s.pos, l.s.gap = pos, gap
		return
	}
	// Any change to a relation counts as DDL (as Analyze counts it): the dev catalog cache forgets what it knew.
	l.ddl = true
	if !l.ifExists() {
		return
	}
	l.accept(kwOnly)
	l.writeTarget(false)
	l.alterTail()
}

// alterTail scans the rest of an ALTER TABLE statement at the statement level for RENAME TO and SWAP WITH.
func (l *lexer) alterTail() {
	for {
		pos, gap := l.s.pos, l.s.gap
		t := l.s.next()
		switch {
		case t.kind == tkEOF || l.isPunct(t, ';'):
			l.s.pos, l.s.gap = pos, gap
			return
		case l.isPunct(t, '('):
			l.skipParens()
		default:
			switch l.kwOf(t) {
			case kwRename:
				if l.accept(kwTo) {
					l.ddl = true
					l.writeTarget(false)
				}
			case kwSwap:
				if l.accept(kwWith) {
					l.ddl = true
					l.writeTarget(false)
				}
			case kwSet:
				if l.accept(kwSchema) {
					l.ddl = true
				}
			}
		}
	}
}

// copyStmt reads COPY INTO name (Snowflake: a write), COPY name [(cols)] FROM (a write) and COPY name [(cols)] TO
// (a read). COPY (query) TO is read by the general rules.
func (l *lexer) copyStmt() {
	l.kind = "COPY"
	if l.accept(kwInto) {
		l.writeTarget(false)
		return
	}
	pos, gap := l.s.pos, l.s.gap
	t := l.s.next()
	if t.kind != tkWord && t.kind != tkQuoted {
		l.s.pos, l.s.gap = pos, gap
		return
	}
	n, ok := l.name(t, l.kwOf(t))
	if !ok || n.unsure {
		return
	}
	if l.isPunct(l.peek(), '(') {
		l.s.next()
		l.skipParens()
	}
	switch {
	case l.accept(kwFrom):
		l.place(&n, expWrite)
	case l.accept(kwTo):
		l.place(&n, expRead)
	}
}

// grantOn reads the object list of GRANT … ON / REVOKE … ON. With TABLE or VIEW every name is a relation; with no
// object type (PostgreSQL's default is TABLE) a name counts only when a ',' , TO or FROM follows it, so SCHEMA s,
// FUNCTION f(…), ALL TABLES IN SCHEMA s and the like are left alone.
func (l *lexer) grantOn() {
	if l.accept(kwSchema) {
		l.schemaNames(true)
		return
	}
	if l.accept(kwAll) || l.accept(kwFuture) {
		// ALL TABLES IN SCHEMA s, FUTURE VIEWS IN SCHEMA db.s: the privilege lands on the schema's objects.
		t := l.s.next()
		if t.kind == tkWord && l.accept(kwIn) && l.accept(kwSchema) {
			l.schemaNames(true)
		}
		return
	}
	if l.relationObject() {
		l.writeTarget(true)
		return
	}
	for {
		pos, gap := l.s.pos, l.s.gap
		t := l.s.next()
		if t.kind != tkWord && t.kind != tkQuoted {
			l.s.pos, l.s.gap = pos, gap
			return
		}
		k := l.kwOf(t)
		n, ok := l.name(t, reservedOnly(k))
		if !ok || n.unsure || n.call {
			l.s.pos, l.s.gap = pos, gap
			return
		}
		next := l.peek()
		switch {
		case l.isPunct(next, ','):
			l.place(&n, expWrite)
			l.s.next()
			continue
		case l.kwOf(next) == kwTo || l.kwOf(next) == kwFrom:
			l.place(&n, expWrite)
		}
		return
	}
}

// alterSchema reads ALTER SCHEMA [IF EXISTS] name RENAME TO new | OWNER TO role | SWAP WITH other (Snowflake).
func (l *lexer) alterSchema() {
	if !l.ifExists() {
		return
	}
	pos, gap := l.s.pos, l.s.gap
	t := l.s.next()
	n, ok := l.schemaName(t)
	if !ok {
		l.s.pos, l.s.gap = pos, gap
		return
	}
	switch {
	case l.accept(kwRename):
		if l.accept(kwTo) {
			l.schms = l.appendRef(l.schms, &n, Write)
			l.schemaNames(false)
		}
	case l.accept(kwSwap):
		if l.accept(kwWith) {
			l.schms = l.appendRef(l.schms, &n, Write)
			l.schemaNames(false)
		}
	case l.accept(kwOwner):
		if l.accept(kwTo) {
			l.schms = l.appendRef(l.schms, &n, Write)
		}
	}
}

// schemaName reads a schema name starting at t: one part, or in Snowflake also database.schema.
func (l *lexer) schemaName(t token) (name, bool) {
	if t.kind != tkWord && t.kind != tkQuoted {
		return name{}, false
	}
	n, ok := l.name(t, reservedOnly(l.kwOf(t)))
	maxParts := 1
	if l.dialect == Snowflake {
		maxParts = 2
	}
	if !ok || !n.relation() || n.call || n.n > maxParts {
		return name{}, false
	}
	return n, true
}

// schemaNames reads one schema name (list: a comma-separated list of them) into the statement's Schemas.
func (l *lexer) schemaNames(list bool) {
	for {
		pos, gap := l.s.pos, l.s.gap
		n, ok := l.schemaName(l.s.next())
		if !ok {
			l.s.pos, l.s.gap = pos, gap
			return
		}
		l.schms = l.appendRef(l.schms, &n, Write)
		if !list || !l.isPunct(l.peek(), ',') {
			return
		}
		l.s.next()
	}
}

// writeTarget reads one write-target name (list: a comma-separated list of them).
func (l *lexer) writeTarget(list bool) {
	for {
		pos, gap := l.s.pos, l.s.gap
		t := l.s.next()
		if t.kind != tkWord && t.kind != tkQuoted {
			l.s.pos, l.s.gap = pos, gap
			return
		}
		n, ok := l.name(t, reservedOnly(l.kwOf(t)))
		if !ok {
			l.s.pos, l.s.gap = pos, gap
			return
		}
		l.place(&n, expWrite)
		if !list {
			return
		}
		if l.isPunct(l.peek(), '*') { // TRUNCATE t * (inheritance)
			l.s.next()
		}
		if !l.isPunct(l.peek(), ',') {
			return
		}
		l.s.next()
	}
}

// skipParens skips to the ')' that closes a '(' just consumed.
func (l *lexer) skipParens() {
	depth := 1
	for {
		t := l.s.next()
		switch {
		case t.kind == tkEOF:
			return
		case l.isPunct(t, '('):
			depth++
		case l.isPunct(t, ')'):
			depth--
			if depth == 0 {
				return
			}
		}
	}
}

// name reads a dotted name whose first token is t. A keyword (k != kwNone) that is not followed by a dot is not a
// name: ok is false and nothing is consumed past t.
func (l *lexer) name(t token, k kw) (n name, ok bool) {
	n.parts[0] = namePart{start: t.start, end: t.end, quoted: t.kind == tkQuoted}
	n.n = 1
	for {
		pos, gap := l.s.pos, l.s.gap
		d := l.s.next()
		if !l.isPunct(d, '.') {
			l.s.pos, l.s.gap = pos, gap
			break
		}
		dotGap := l.s.gap
		p := l.s.next()
		if l.dialect == Snowflake && n.n == 1 && !dotGap && !l.s.gap && l.isPunct(p, '.') {
			// db..t: Snowflake's PUBLIC schema, an empty part between the dots.
			if q := l.s.next(); (q.kind == tkWord || q.kind == tkQuoted) && !l.s.gap {
				n.parts[1] = namePart{start: p.start, end: p.start}
				n.parts[2] = namePart{start: q.start, end: q.end, quoted: q.kind == tkQuoted}
				n.n = 3
				continue
			}
			l.s.pos, l.s.gap = pos, gap
			n.unsure = true
			return n, true
		}
		if p.kind != tkWord && p.kind != tkQuoted {
			if p.kind == tkOp && p.end == p.start+1 && l.s.src[p.start] == '*' && !dotGap && !l.s.gap {
				n.star = true // s.t.*: consumed
				return n, true
			}
			// a.(…) or a dangling dot: give the tokens back for the main loop.
			l.s.pos, l.s.gap = pos, gap
			n.unsure = true
			return n, true
		}
		if dotGap || l.s.gap {
			n.unsure = true
		}
		if n.n == len(n.parts) {
			n.unsure = true
			continue
		}
		n.parts[n.n] = namePart{start: p.start, end: p.end, quoted: p.kind == tkQuoted}
		n.n++
	}
	for i := 0; i < n.n; i++ {
		if !utf8.ValidString(l.s.src[n.parts[i].start:n.parts[i].end]) {
			n.unsure = true // not text the server accepts (it rejects invalid UTF-8), nor a name we could fold
		}
	}
	if n.n == 1 && k != kwNone {
		return n, false
	}
	n.call = l.isPunct(l.peek(), '(')
	return n, true
}

// reservedOnly keeps k when it is a reserved keyword and drops it otherwise, so that name() accepts an
// unreserved keyword (rows, comment, …) as a one-part name where a relation name must follow.
func reservedOnly(k kw) kw {
	if reserved(k) {
		return k
	}
	return kwNone
}

// place records a name found where expectation exp said a relation stands, if it is certain enough.
func (l *lexer) place(n *name, exp expectation) {
	if !n.relation() {
		return
	}
	if exp == expRead {
		if n.call {
			l.identified(n, Read)
			return // a function: pg_input_error_info(…) is no catalog relation either
		}
		l.noteCatalog(n)
		if n.n < 2 && !l.unqualifiedReads {
			return
		}
		l.addRef(n, Read)
		// The name is followed by an alias, a join, a comma …: the FROM list goes on at this level.
		return
	}
	if n.call {
		// IDENTIFIER('…'), TABLE(…): resolved by the server, left alone. Any other name followed by '(' is a
		// table with a column list (INSERT INTO t (a, b), CREATE TABLE t (…)).
		if n.n == 1 && !n.parts[0].quoted {
			switch keywordOf(l.s.src[n.parts[0].start:n.parts[0].end]) {
			case kwIdentifier, kwTable:
				l.identified(n, Write)
				return
			}
		}
	}
	l.addRef(n, Write)
}

// noteCatalog marks the statement as a catalog query when a read names information_schema or pg_catalog, or an
// unqualified pg_* relation (pg_class, pg_tables, … resolve to pg_catalog).
func (l *lexer) noteCatalog(n *name) {
	if n.n >= 2 {
		s := n.parts[n.n-2]
		v := l.s.src[s.start:s.end]
		if s.quoted {
			v = v[1 : len(v)-1]
		}
		if equalFoldASCII(v, "information_schema") || equalFoldASCII(v, "pg_catalog") {
			l.catalog = true
		}
		return
	}
	p := n.parts[0]
	if !p.quoted && p.end-p.start > 3 && equalFoldASCII(l.s.src[p.start:p.start+3], "pg_") {
		l.catalog = true
	}
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// addRef appends a Reference for n to the statement's references.
func (l *lexer) addRef(n *name, role Role) {
	if l.refs == nil {
		l.refs = make([]Reference, 0, 3) // a typical dbt statement names a few relations; append grows it
	}
	l.refs = l.appendRef(l.refs, n, role)
}

// appendRef appends a Reference for n to refs, cutting its slices from the arenas.
func (l *lexer) appendRef(refs []Reference, n *name, role Role) []Reference {
	if l.atomic > 0 {
		return refs // a SQL-standard function body runs later, like a $$ body: left alone
	}
	if l.strs == nil {
		// Sized for a few 3-part names; append grows them for more.
		l.strs = make([]string, 0, 18)
		l.flags = make([]bool, 0, 9)
	}
	si, fi := len(l.strs), len(l.flags)
	for i := 0; i < n.n; i++ {
		p := n.parts[i]
		v := l.s.src[p.start:p.end]
		if p.quoted {
			v = unquoteIdent(v)
		}
		l.strs = append(l.strs, v)
		l.flags = append(l.flags, p.quoted)
	}
	for i := 0; i < n.n; i++ {
		v := l.strs[si+i]
		if !n.parts[i].quoted {
			v = foldIdent(v, l.dialect)
		}
		if n.parts[i].start == n.parts[i].end {
			v = "PUBLIC" // the empty schema of Snowflake's db..t
		}
		if l.dialect == Postgres && len(v) > pgMaxIdentLen {
			v = normalizePart(v, true, Postgres) // truncated as the server does (v is already folded)
		}
		l.strs = append(l.strs, v)
	}
	return append(refs, Reference{
		Parts:      l.strs[si : si+n.n : si+n.n],
		Quoted:     l.flags[fi : fi+n.n : fi+n.n],
		Normalized: l.strs[si+n.n : si+2*n.n : si+2*n.n],
		Start:      n.start(),
		End:        n.end(),
		Role:       role,
		Statement:  len(l.stmts),
	})
}

// unquoteIdent removes the quotes of a quoted identifier and turns "" into ". It allocates only when "" occurs.
func unquoteIdent(q string) string {
	body := q[1 : len(q)-1]
	for i := 0; i < len(body); i++ {
		if body[i] == '"' {
			b := make([]byte, 0, len(body))
			for j := 0; j < len(body); j++ {
				b = append(b, body[j])
				if body[j] == '"' {
					j++
				}
			}
			return string(b)
		}
	}
	return body
}

// foldIdent folds an unquoted identifier the dialect's way: PostgreSQL to lower case, Snowflake to upper case.
// Only ASCII letters fold (PostgreSQL's rule with a UTF-8 database; Snowflake's unquoted identifiers are ASCII).
// It allocates only when a letter changes.
func foldIdent(v string, d Dialect) string {
	lo, hi := byte('A'), byte('Z')
	if d == Snowflake {
		lo, hi = 'a', 'z'
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c >= lo && c <= hi {
			b := []byte(v)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= lo && c <= hi {
					b[j] = c ^ 0x20
				}
			}
			return string(b)
		}
	}
	return v
}
