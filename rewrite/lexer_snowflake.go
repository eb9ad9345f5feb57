package rewrite

// The Snowflake-only statements of the lexer (SPEC §11): USE, the introspection of one relation (DESCRIBE,
// SHOW COLUMNS IN), and the names given as string literals to IDENTIFIER('…'). dbt-snowflake's own listings
// (SHOW OBJECTS IN db.s, SHOW TERSE SCHEMAS, SHOW TERSE OBJECTS) name schemas, never a relation, and report
// nothing: dbt decides from what they list.

// useStmt reads USE [DATABASE|SCHEMA] name; USE ROLE, WAREHOUSE and SECONDARY ROLES change no name resolution.
func (l *lexer) useStmt() {
	what := "DATABASE" // USE name ≡ USE DATABASE name
	pos, gap := l.s.pos, l.s.gap
	t := l.s.next()
	if t.kind == tkWord {
		switch w := l.text(t); {
		case equalFoldASCII(w, "database"), equalFoldASCII(w, "schema"):
			what = asciiUpper(w)
		case equalFoldASCII(w, "role"), equalFoldASCII(w, "warehouse"), equalFoldASCII(w, "secondary"):
			return
		default:
			l.s.pos, l.s.gap = pos, gap
		}
	} else {
		l.s.pos, l.s.gap = pos, gap
	}
	t = l.s.next()
	if t.kind != tkWord && t.kind != tkQuoted {
		return
	}
	n, ok := l.name(t, kwNone)
	if !ok || !n.relation() || n.call {
		return
	}
	if next := l.peek(); next.kind != tkEOF && !l.isPunct(next, ';') {
		return // more than a name: not a statement this lexer knows the effect of
	}
	part := func(i int) string {
		p := n.parts[i]
		v := l.s.src[p.start:p.end]
		if p.quoted {
			return unquoteIdent(v)
		}
		return foldIdent(v, Snowflake)
	}
	switch {
	case what == "DATABASE" && n.n == 1:
		l.use = &Use{Database: part(0)}
	case what == "SCHEMA" && n.n == 1:
		l.use = &Use{Schema: part(0)}
	case what == "SCHEMA" && n.n == 2:
		l.use = &Use{Database: part(0), Schema: part(1)}
	}
}

// describe reads DESC[RIBE] TABLE|VIEW|… name: the relation is read (introspected, SPEC §5.5), so a deferred one is
// described in production, as dbt's get_columns_in_relation would with native defer.
func (l *lexer) describe() {
	pos, gap := l.s.pos, l.s.gap
	if !l.relationObject() {
		return // DESCRIBE SCHEMA, FUNCTION, STAGE, RESULT …: no relation
	}
	t := l.s.next()
	if t.kind != tkWord && t.kind != tkQuoted {
		l.s.pos, l.s.gap = pos, gap // give a ';' back to the main loop
		return
	}
	if n, ok := l.name(t, reservedOnly(l.kwOf(t))); ok {
		l.place(&n, expRead)
	}
}

// showColumns reads SHOW COLUMNS [LIKE '…'] IN [TABLE|VIEW] name, which introspects one relation like DESCRIBE.
// Every other SHOW (objects, schemas, tables in a schema) is left alone.
func (l *lexer) showColumns() {
	pos, gap := l.s.pos, l.s.gap
	fail := func() { l.s.pos, l.s.gap = pos, gap } // the main loop reads on (and sees a ';' taken here)
	t := l.s.next()
	if t.kind != tkWord || !equalFoldASCII(l.text(t), "columns") {
		fail()
		return
	}
	if t = l.s.next(); t.kind == tkWord && equalFoldASCII(l.text(t), "like") {
		if l.s.next().kind != tkString {
			fail()
			return
		}
		t = l.s.next()
	}
	if l.kwOf(t) != kwIn {
		fail()
		return
	}
	l.relationObject()
	t = l.s.next()
	if t.kind != tkWord && t.kind != tkQuoted {
		fail()
		return
	}
	if w := l.text(t); equalFoldASCII(w, "account") || equalFoldASCII(w, "database") || l.kwOf(t) == kwSchema {
		fail()
		return
	}
	if n, ok := l.name(t, reservedOnly(l.kwOf(t))); ok {
		l.place(&n, expRead)
	}
}

// identified records the name inside IDENTIFIER('…') or TABLE('…') when n is such a call followed by one string
// literal (Statement.Identified). A name behind a variable or a bind ($v, ?, :v) cannot be known and is not
// recorded.
func (l *lexer) identified(n *name, role Role) {
	if l.dialect != Snowflake || n.n != 1 || n.parts[0].quoted {
		return
	}
	switch keywordOf(l.s.src[n.parts[0].start:n.parts[0].end]) {
	case kwIdentifier, kwTable:
	default:
		return
	}
	pos, gap := l.s.pos, l.s.gap
	defer func() { l.s.pos, l.s.gap = pos, gap }() // the main loop reads the call as it always did
	if !l.isPunct(l.s.next(), '(') {
		return
	}
	lit := l.s.next()
	if lit.kind != tkString || l.s.src[lit.start] != '\'' || lit.end-lit.start < 2 || l.s.src[lit.end-1] != '\'' ||
		!l.isPunct(l.s.next(), ')') {
		return
	}
	body := l.s.src[lit.start+1 : lit.end-1]
	parts, quoted, ok := splitIdentifierLiteral(body)
	if !ok || l.atomic > 0 {
		return
	}
	norm := make([]string, len(parts))
	for i, p := range parts {
		norm[i] = p
		if !quoted[i] {
			norm[i] = foldIdent(p, Snowflake)
		}
	}
	l.ident = append(l.ident, Reference{
		Parts: parts, Quoted: quoted, Normalized: norm, Start: lit.start, End: lit.end, Role: role,
		Statement: len(l.stmts),
	})
}

// splitIdentifierLiteral reads the body of IDENTIFIER's string literal as a 1- to 3-part name: unquoted parts
// [A-Za-z_][A-Za-z0-9_$]*, quoted parts "…" with "" for a quote. A body with escapes (” or backslashes), spaces
// or anything else is not read (ok false).
func splitIdentifierLiteral(body string) (parts []string, quoted []bool, ok bool) {
	i := 0
	for {
		if len(parts) == 3 || i >= len(body) {
			return nil, nil, false
		}
		if body[i] == '"' {
			j := i + 1
			var b []byte
			for {
				if j >= len(body) {
					return nil, nil, false
				}
				if body[j] == '"' {
					if j+1 < len(body) && body[j+1] == '"' {
						b = append(b, '"')
						j += 2
						continue
					}
					break
				}
				if body[j] == '\\' || body[j] == '\'' {
					return nil, nil, false
				}
				b = append(b, body[j])
				j++
			}
			if len(b) == 0 {
				return nil, nil, false
			}
			parts, quoted = append(parts, string(b)), append(quoted, true)
			i = j + 1
		} else {
			j := i
			for j < len(body) && body[j] < 0x80 && isIdentCont(body[j]) {
				j++
			}
			if j == i || !isIdentStart(body[i]) {
				return nil, nil, false
			}
			parts, quoted = append(parts, body[i:j]), append(quoted, false)
			i = j
		}
		if i == len(body) {
			return parts, quoted, true
		}
		if body[i] != '.' {
			return nil, nil, false
		}
		i++
	}
}
