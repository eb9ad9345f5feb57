package rewrite

import (
	"encoding/json"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v5"
)

// Code bodies (DO, CREATE FUNCTION/PROCEDURE) are strings to the SQL grammar. The write guard needs what they
// write (SPEC §6), so they are read here: LANGUAGE sql as SQL, plpgsql with pg_query's plpgsql parser, whose
// statements and expressions are SQL again. Nothing in a body is ever rewritten.

// doBody reads a DO block's body (it runs now).
func (w *walker) doBody(x *pg_query.DoStmt) {
	b := &Body{Runs: true}
	w.body = b
	lang, src, ok := "plpgsql", "", false
	for _, a := range x.Args {
		de := a.GetDefElem()
		if de == nil {
			continue
		}
		switch de.Defname {
		case "as":
			if s := de.Arg.GetString_(); s != nil {
				src, ok = s.Sval, true
			}
		case "language":
			if s := de.Arg.GetString_(); s != nil {
				lang = s.Sval
			}
		}
	}
	if !ok {
		b.Opaque = "the DO block has no body"
		return
	}
	readBody(b, lang, src, "")
}

// functionBody reads the body a CREATE FUNCTION/PROCEDURE stores.
func (w *walker) functionBody(x *pg_query.CreateFunctionStmt) {
	b := &Body{}
	w.body = b
	if x.SqlBody != nil { // BEGIN ATOMIC … END / RETURN expr: already parsed, in the statement's own text
		sub := walker{sql: w.sql, stmt: w.stmt, stmtStart: w.stmtStart, stmtEnd: w.stmtEnd}
		sub.node(x.SqlBody)
		st := Statement{Start: w.stmtStart, End: w.stmtEnd, Kind: "BEGIN ATOMIC", References: sortRefs(sub.refs),
			Schemas: sub.schemas, Objects: sub.objects}
		b.Parts = append(b.Parts, BodyPart{SQL: w.sql, Analysis: &Analysis{Parsed: true, Statements: []Statement{st}}})
		return
	}
	lang, src, ok := "sql", "", false
	for _, o := range x.Options {
		de := o.GetDefElem()
		if de == nil {
			continue
		}
		switch de.Defname {
		case "as":
			if l := de.Arg.GetList(); l != nil && len(l.Items) > 0 {
				if s := l.Items[0].GetString_(); s != nil {
					src, ok = s.Sval, true
				}
			}
		case "language":
			if s := de.Arg.GetString_(); s != nil {
				lang = s.Sval
			}
		}
	}
	if !ok {
		b.Opaque = "the function has no body"
		return
	}
	readBody(b, lang, src, w.sql[w.stmtStart:w.stmtEnd])
}

// readBody analyses src, a body in language lang. create is the CREATE FUNCTION text the body came from ("" for a
// DO block), which pg_query's plpgsql parser needs whole (argument names, return type).
func readBody(b *Body, lang, src, create string) {
	switch strings.ToLower(lang) {
	case "sql":
		b.addSQL(src, true)
	case "plpgsql":
		if create == "" {
			tag := "$deferproxy$"
			for n := 0; strings.Contains(src, tag); n++ {
				tag = "$deferproxy" + strconv.Itoa(n) + "$"
			}
			create = "CREATE FUNCTION pg_temp.deferproxy_do() RETURNS void LANGUAGE plpgsql AS " + tag + src + tag
		}
		readPlpgsql(b, create)
	default:
		b.Opaque = "LANGUAGE " + lang + " is not read by deferproxy"
	}
}

// addSQL analyses one SQL text of the body. statement is true for a whole statement (a parse failure makes the body
// opaque); false for an expression fragment, which is analysed as SELECT <expr> and kept even if that fails.
func (b *Body) addSQL(sql string, statement bool) {
	if strings.TrimSpace(sql) == "" {
		return
	}
	a, err := Analyze(sql)
	if err != nil {
		b.Opaque = err.Error()
		return
	}
	if !a.Parsed && statement && b.Opaque == "" {
		b.Opaque = "a statement in the body does not parse: " + a.ParseError
	}
	b.Parts = append(b.Parts, BodyPart{SQL: sql, Analysis: a})
	for _, st := range a.Statements {
		if st.Body != nil { // CREATE FUNCTION inside a body
			b.Parts = append(b.Parts, st.Body.Parts...)
			b.Dynamic = b.Dynamic || st.Body.Dynamic
			if b.Opaque == "" {
				b.Opaque = st.Body.Opaque
			}
		}
	}
}

// readPlpgsql parses a plpgsql function and analyses every SQL statement and expression in it; an EXECUTE of a
// constant string is analysed as SQL, any other EXECUTE makes the body Dynamic.
func readPlpgsql(b *Body, create string) {
	js, err := pg_query.ParsePlPgSqlToJSON(create)
	if err != nil {
		b.Opaque = "the plpgsql body does not parse: " + err.Error()
		return
	}
	var tree any
	if err := json.Unmarshal([]byte(js), &tree); err != nil {
		b.Opaque = "the plpgsql parse tree could not be read: " + err.Error()
		return
	}
	b.plpgsqlNode(tree, false)
}

// plpgsqlNode walks pg_query's plpgsql JSON tree. dynamic is true under an EXECUTE's query (dynexecute, dynfors,
// OPEN … FOR EXECUTE, RETURN QUERY EXECUTE).
func (b *Body) plpgsqlNode(n any, dynamic bool) {
	switch x := n.(type) {
	case []any:
		for _, v := range x {
			b.plpgsqlNode(v, dynamic)
		}
	case map[string]any:
		if e, ok := x["PLpgSQL_expr"].(map[string]any); ok {
			q, _ := e["query"].(string)
			mode, _ := e["parseMode"].(float64)
			b.plpgsqlExpr(q, int(mode), dynamic)
			return
		}
		for k, v := range x {
			switch {
			case k == "PLpgSQL_stmt_dynexecute" || k == "PLpgSQL_stmt_dynfors":
				if m, ok := v.(map[string]any); ok {
					for kk, vv := range m {
						b.plpgsqlNode(vv, kk == "query")
					}
					continue
				}
			case k == "dynquery":
				b.plpgsqlNode(v, true)
				continue
			}
			b.plpgsqlNode(v, dynamic)
		}
	}
}

// plpgsqlExpr analyses one plpgsql expression or statement. Under EXECUTE, a constant string is the SQL run;
// anything else is dynamic.
func (b *Body) plpgsqlExpr(q string, mode int, dynamic bool) {
	if mode == 0 { // RAW_PARSE_DEFAULT: a whole SQL statement
		b.addSQL(q, true)
		return
	}
	expr := q
	if mode >= 3 { // an assignment target := expr
		if i := strings.Index(q, ":="); i >= 0 {
			expr = q[i+2:]
		} else if i := strings.IndexByte(q, '='); i >= 0 {
			expr = q[i+1:]
		}
	}
	if !dynamic {
		b.addSQL("SELECT "+expr, false)
		return
	}
	if s, ok := constantString(expr); ok {
		b.addSQL(s, true)
		return
	}
	b.Dynamic = true
	b.addSQL("SELECT "+expr, false) // what the expression itself reads or calls
}

// constantString returns the value of expr when it is one string constant ('…', E'…', $$…$$).
func constantString(expr string) (string, bool) {
	tree, err := pg_query.Parse("SELECT " + expr)
	if err != nil || len(tree.Stmts) != 1 {
		return "", false
	}
	sel := tree.Stmts[0].Stmt.GetSelectStmt()
	if sel == nil || len(sel.TargetList) != 1 || len(sel.FromClause) != 0 {
		return "", false
	}
	rt := sel.TargetList[0].GetResTarget()
	if rt == nil {
		return "", false
	}
	c := rt.Val.GetAConst()
	if c == nil || c.GetSval() == nil {
		return "", false
	}
	return c.GetSval().Sval, true
}
