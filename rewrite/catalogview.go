package rewrite

import (
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v5"
)

// The catalog view (SPEC §5.6) makes an IDE's schema tree show what a developer can query: each deferred model
// appears in its dev schema with production's columns, keys, indexes and comments, although nothing exists there.
// It is done in the statement alone — nothing is created in the warehouse: every catalog relation a SELECT reads is
// replaced by a subquery that returns the real rows plus, for each deferred model, production's rows moved into
// the dev schema; a WITH clause put in front of the statement says which models those are.
//
// A synthetic relation's oid is 4294967295 minus production's (the top of the oid space, which PostgreSQL's
// counter does not reach in practice), so joins on oid between the rewritten catalogs agree, and a query about
// production's relation still finds production's own rows once. A missing dev schema gets a synthetic namespace
// oid from the top quarter of the oid space. Functions that take an oid (obj_description, pg_get_viewdef,
// pg_table_is_visible) read the real catalogs and see no synthetic relation.

// ViewNode is one deferred model the catalog view shows in a dev schema.
type ViewNode struct {
	// DevSchema and DevName are where the model appears; ProdSchema and ProdName the production relation it shows
	// (all as stored: unquoted, case exact).
	DevSchema, DevName, ProdSchema, ProdName string
}

// viewNamespaceBase is the first synthetic namespace oid (a dev schema that does not exist yet).
const viewNamespaceBase = 3221225472

// viewedCatalogs are the catalog relations the view rewrites, by normalised [schema, name], each with the builder of
// its replacement subquery: by an oid column (keyedView) or by schema and name columns (namedView).
var viewedCatalogs = map[[2]string]func() string{
	{"pg_catalog", "pg_class"}: func() string {
		return keyedView("pg_catalog.pg_class", "oid", `'oid', m.fake_oid, 'relname', m.dn, 'relnamespace', m.dev_ns`)
	},
	{"pg_catalog", "pg_attribute"}: func() string { return keyedView("pg_catalog.pg_attribute", "attrelid", `'attrelid', m.fake_oid`) },
	{"pg_catalog", "pg_attrdef"}:   func() string { return keyedView("pg_catalog.pg_attrdef", "adrelid", `'adrelid', m.fake_oid`) },
	{"pg_catalog", "pg_index"}:     func() string { return keyedView("pg_catalog.pg_index", "indrelid", `'indrelid', m.fake_oid`) },
	{"pg_catalog", "pg_constraint"}: func() string {
		return keyedView("pg_catalog.pg_constraint", "conrelid", `'conrelid', m.fake_oid, 'connamespace', m.dev_ns`)
	},
	{"pg_catalog", "pg_description"}: func() string {
		// Column comments are production's; the relation's own comment says where it comes from.
		const isClass = "x.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass"
		return "(SELECT x.* FROM pg_catalog.pg_description x WHERE NOT (" + isClass +
			" AND x.objoid IN (SELECT h.oid FROM __deferproxy_hidden h))" +
			" UNION ALL SELECT r.* FROM pg_catalog.pg_description x JOIN __deferproxy_map m ON x.objoid = m.prod_oid AND " +
			isClass + " AND x.objsubid <> 0, LATERAL pg_catalog.jsonb_populate_record(x, pg_catalog.jsonb_build_object('objoid', m.fake_oid)) r" +
			" UNION ALL SELECT m.fake_oid, 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid, 0, m.note FROM __deferproxy_map m)"
	},
	{"pg_catalog", "pg_namespace"}: func() string {
		return "(SELECT x.* FROM pg_catalog.pg_namespace x UNION ALL SELECT DISTINCT ON (m.dev_ns) r.* FROM __deferproxy_map m" +
			" JOIN pg_catalog.pg_namespace x ON x.oid = m.prod_ns, LATERAL pg_catalog.jsonb_populate_record(x," +
			" pg_catalog.jsonb_build_object('oid', m.dev_ns, 'nspname', m.ds)) r WHERE m.dev_ns_missing)"
	},
	{"information_schema", "tables"}:  func() string { return namedView("information_schema.tables", "table_schema", "table_name") },
	{"information_schema", "columns"}: func() string { return namedView("information_schema.columns", "table_schema", "table_name") },
	{"information_schema", "views"}:   func() string { return namedView("information_schema.views", "table_schema", "table_name") },
	{"pg_catalog", "pg_tables"}:       func() string { return namedView("pg_catalog.pg_tables", "schemaname", "tablename") },
	{"pg_catalog", "pg_views"}:        func() string { return namedView("pg_catalog.pg_views", "schemaname", "viewname") },
	{"pg_catalog", "pg_matviews"}:     func() string { return namedView("pg_catalog.pg_matviews", "schemaname", "matviewname") },
	{"pg_catalog", "pg_indexes"}:      func() string { return namedView("pg_catalog.pg_indexes", "schemaname", "tablename") },
}

// keyedView is the subquery for a catalog whose rows belong to a relation by an oid column: the real rows but those
// of hidden dev relations, then production's rows of each deferred model with the fields in set replaced.
func keyedView(rel, key, set string) string {
	return "(SELECT x.* FROM " + rel + " x WHERE x." + key + " NOT IN (SELECT h.oid FROM __deferproxy_hidden h)" +
		" UNION ALL SELECT r.* FROM " + rel + " x JOIN __deferproxy_map m ON x." + key + " = m.prod_oid," +
		" LATERAL pg_catalog.jsonb_populate_record(x, pg_catalog.jsonb_build_object(" + set + ")) r)"
}

// namedView is the subquery for a catalog view whose rows name their relation by schema and name columns.
func namedView(rel, schemaCol, nameCol string) string {
	return "(SELECT x.* FROM " + rel + " x WHERE (x." + schemaCol + "::pg_catalog.name, x." + nameCol +
		"::pg_catalog.name) NOT IN (SELECT m.ds, m.dn FROM __deferproxy_map m)" +
		" UNION ALL SELECT r.* FROM " + rel + " x JOIN __deferproxy_map m ON x." + schemaCol + "::pg_catalog.name = m.ps AND x." +
		nameCol + "::pg_catalog.name = m.pn, LATERAL pg_catalog.jsonb_populate_record(x, pg_catalog.jsonb_build_object('" +
		schemaCol + "', m.ds, '" + nameCol + "', m.dn)) r)"
}

// viewPrelude is the WITH list every rewritten statement starts with: the deferred models (__deferproxy_nodes),
// each one's production and synthetic oids and dev namespace (__deferproxy_map, only models production has), and
// the dev relations the view hides because their reads go to production (__deferproxy_hidden).
func viewPrelude(nodes []ViewNode) string {
	var b strings.Builder
	b.WriteString("__deferproxy_nodes(ds, dn, ps, pn, nso) AS (VALUES ")
	nsIndex := map[string]int{}
	for i, n := range nodes {
		if i > 0 {
			b.WriteString(", ")
		}
		ns, ok := nsIndex[n.DevSchema]
		if !ok {
			ns = len(nsIndex)
			nsIndex[n.DevSchema] = ns
		}
		b.WriteString("(")
		b.WriteString(QuoteLiteral(n.DevSchema, Postgres) + "::pg_catalog.name, ")
		b.WriteString(QuoteLiteral(n.DevName, Postgres) + "::pg_catalog.name, ")
		b.WriteString(QuoteLiteral(n.ProdSchema, Postgres) + "::pg_catalog.name, ")
		b.WriteString(QuoteLiteral(n.ProdName, Postgres) + "::pg_catalog.name, ")
		b.WriteString(strconv.Itoa(viewNamespaceBase+ns) + "::pg_catalog.oid)")
	}
	b.WriteString("), __deferproxy_map AS (SELECT pc.oid AS prod_oid, (4294967295 - pc.oid::pg_catalog.int8)::pg_catalog.oid AS fake_oid," +
		" d.ds, d.dn, d.ps, d.pn, pns.oid AS prod_ns, COALESCE(dns.oid, d.nso) AS dev_ns, dns.oid IS NULL AS dev_ns_missing," +
		" 'deferproxy: not built in ' || pg_catalog.quote_ident(d.ds) || '; reads production ' || pg_catalog.quote_ident(d.ps) || '.' ||" +
		" pg_catalog.quote_ident(d.pn) || COALESCE(' - ' || pg_catalog.obj_description(pc.oid, 'pg_class'), '') AS note" +
		" FROM __deferproxy_nodes d JOIN pg_catalog.pg_namespace pns ON pns.nspname = d.ps" +
		" JOIN pg_catalog.pg_class pc ON pc.relnamespace = pns.oid AND pc.relname = d.pn" +
		" LEFT JOIN pg_catalog.pg_namespace dns ON dns.nspname = d.ds)," +
		" __deferproxy_hidden AS (SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace" +
		" JOIN __deferproxy_map m ON n.nspname = m.ds AND c.relname = m.dn)")
	return b.String()
}

// viewedFunctions are the catalog functions that take a relation's oid and read the real catalogs, and how a call
// is rewritten so a synthetic relation gets production's answer: its first argument mapped to production's oid
// (column comments, a view's definition), the whole call (the relation's comment: the view's own note; whether the
// relation is visible: its dev schema on the search_path).
var viewedFunctions = map[string]funcView{
	"col_description": viewArg,
	"pg_get_viewdef":  viewArg,
	"obj_description": viewComment,
	// The dev name is visible when its schema is on the search_path (first come, first served is not checked).
	"pg_table_is_visible": viewVisible,
}

type funcView uint8

const (
	viewArg funcView = iota
	viewComment
	viewVisible
)

// prodOid is the SQL for "production's oid when arg is a synthetic relation's, else arg".
func prodOid(arg string) string {
	return "COALESCE((SELECT m.prod_oid FROM __deferproxy_map m WHERE m.fake_oid = (" + arg + ")), (" + arg + "))"
}

// functionEdits rewrites the calls of viewedFunctions in one statement (by its tokens: a call is a name, optionally
// pg_catalog-qualified, and a parenthesised argument list).
func functionEdits(sql string, st *Statement) ([]Edit, bool) {
	text := sql[st.Start:st.End]
	if !callsViewedFunction(text) {
		return nil, true
	}
	res, err := pg_query.Scan(text)
	if err != nil {
		return nil, false
	}
	toks := res.Tokens
	var edits []Edit
	for i := 0; i+1 < len(toks); i++ {
		t := toks[i]
		if t.Token != pg_query.Token_IDENT || toks[i+1].Token != pg_query.Token_ASCII_40 {
			continue
		}
		kind, ok := viewedFunctions[strings.ToLower(text[t.Start:t.End])]
		if !ok {
			continue
		}
		start := int(t.Start)
		if i >= 2 && toks[i-1].Token == pg_query.Token_ASCII_46 && strings.EqualFold(text[toks[i-2].Start:toks[i-2].End], "pg_catalog") {
			start = int(toks[i-2].Start)
		} else if i >= 1 && toks[i-1].Token == pg_query.Token_ASCII_46 {
			continue // another schema's function of that name
		}
		// The first argument ends at the first comma or the closing parenthesis at depth one.
		depth, argEnd, end := 0, -1, -1
		for j := i + 1; j < len(toks) && end < 0; j++ {
			switch toks[j].Token {
			case pg_query.Token_ASCII_40, pg_query.Token_ASCII_91:
				depth++
			case pg_query.Token_ASCII_41, pg_query.Token_ASCII_93:
				depth--
				if depth == 0 {
					end = int(toks[j].End)
					if argEnd < 0 {
						argEnd = int(toks[j].Start)
					}
				}
			case pg_query.Token_ASCII_44:
				if depth == 1 && argEnd < 0 {
					argEnd = int(toks[j].Start)
				}
			}
		}
		argStart := int(toks[i+1].End)
		if end < 0 || argEnd <= argStart {
			return nil, false
		}
		arg := text[argStart:argEnd]
		call := text[start:end]
		switch kind {
		case viewArg:
			edits = append(edits, Edit{Start: st.Start + argStart, End: st.Start + argEnd, Text: prodOid(arg)})
		case viewComment:
			edits = append(edits, Edit{Start: st.Start + start, End: st.Start + end,
				Text: "COALESCE((SELECT m.note FROM __deferproxy_map m WHERE m.fake_oid = (" + arg + ")), " + call + ")"})
		case viewVisible:
			edits = append(edits, Edit{Start: st.Start + start, End: st.Start + end,
				Text: "COALESCE((SELECT m.ds = ANY (pg_catalog.current_schemas(false)) FROM __deferproxy_map m WHERE m.fake_oid = (" +
					arg + ")), " + call + ")"})
		}
		i += 1
	}
	return edits, true
}

// systemColumns are the columns a catalog subquery does not have: a statement that reads one is left alone.
var systemColumns = []string{"ctid", "xmin", "xmax", "cmin", "cmax", "tableoid"}

// ViewedCatalogs reports whether statement st of the analysis of sql reads a catalog relation the view rewrites or
// calls one of its catalog functions.
func ViewedCatalogs(sql string, a *Analysis, st int) bool {
	if a == nil || !a.Parsed || a.Dialect != Postgres || st < 0 || st >= len(a.Statements) {
		return false
	}
	s := &a.Statements[st]
	if s.Kind != "SELECT" {
		return false
	}
	for _, ref := range s.References {
		if _, ok := viewedRef(ref); ok {
			return true
		}
	}
	return callsViewedFunction(sql[s.Start:s.End])
}

// callsViewedFunction is a word check for the names of viewedFunctions.
func callsViewedFunction(text string) bool {
	for name := range viewedFunctions {
		if ContainsWord(text, name) {
			return true
		}
	}
	return false
}

// viewedRef returns the replacement builder of a reference to a viewed catalog relation.
func viewedRef(ref Reference) (func() string, bool) {
	if ref.Role != Read || ref.Only {
		return nil, false
	}
	n := ref.Normalized
	var key [2]string
	switch len(n) {
	case 1:
		key = [2]string{"pg_catalog", n[0]} // search_path reaches pg_catalog first unless it names it later
	case 2:
		key = [2]string{n[0], n[1]}
	default:
		return nil, false
	}
	b, ok := viewedCatalogs[key]
	return b, ok
}

// CatalogView returns the edits, on the analysed text sql, that give the SELECT statements reading viewed catalog
// relations the catalog view of nodes. It returns no edits when there is nothing to show or a statement's shape is
// one the view cannot keep correct (a catalog read with ONLY, a system column such as xmin, a column qualified with
// the catalog's schema); the statement then describes the warehouse as it is. The edits are checked: applied alone,
// the text must still parse.
func CatalogView(sql string, a *Analysis, nodes []ViewNode) []Edit {
	if len(nodes) == 0 || a == nil || !a.Parsed || a.Dialect != Postgres {
		return nil
	}
	for _, n := range nodes {
		if strings.ContainsRune(n.DevSchema+n.DevName+n.ProdSchema+n.ProdName, '\\') {
			return nil // would need E'' under standard_conforming_strings = off; dbt never names relations so
		}
	}
	var edits []Edit
	prelude := ""
	for i := range a.Statements {
		st := &a.Statements[i]
		if !ViewedCatalogs(sql, a, i) || !viewable(sql, st) {
			continue
		}
		at, comma, ok := withPoint(sql, st)
		if !ok {
			continue
		}
		if prelude == "" {
			prelude = viewPrelude(nodes)
		}
		if comma {
			edits = append(edits, Edit{Start: at, End: at, Text: " " + prelude + ","})
		} else {
			edits = append(edits, Edit{Start: at, End: at, Text: "WITH " + prelude + " "})
		}
		fedits, ok := functionEdits(sql, st)
		if !ok {
			continue
		}
		edits = append(edits, fedits...)
		for _, ref := range st.References {
			build, ok := viewedRef(ref)
			if !ok {
				continue
			}
			text := build()
			if !ref.Aliased {
				text += " AS " + QuoteIdent(ref.Normalized[len(ref.Normalized)-1], Postgres)
			}
			edits = append(edits, Edit{Start: ref.Start, End: ref.End, Text: text})
		}
	}
	if len(edits) == 0 {
		return nil
	}
	check := append([]Edit(nil), edits...)
	out, err := Apply(sql, check)
	if err != nil {
		return nil
	}
	if _, err := pg_query.Parse(out); err != nil {
		return nil
	}
	return edits
}

// viewable reports whether a statement's catalog reads can be replaced by subqueries without changing its meaning.
func viewable(sql string, st *Statement) bool {
	text := sql[st.Start:st.End]
	for _, c := range systemColumns {
		if ContainsWord(text, c) {
			return false
		}
	}
	for _, q := range st.Qualifiers {
		if len(q.Normalized) >= 2 {
			if _, ok := viewedRef(Reference{Normalized: q.Normalized[len(q.Normalized)-2:]}); ok {
				return false // pg_catalog.pg_class.relname: the subquery's alias has no schema
			}
		}
	}
	return true
}

// withPoint returns where the view's WITH list goes in a SELECT statement: after WITH [RECURSIVE] when the
// statement has a WITH clause (comma: the list continues with the statement's own), else before its first token.
func withPoint(sql string, st *Statement) (at int, comma bool, ok bool) {
	text := sql[st.Start:st.End]
	res, err := pg_query.Scan(text)
	if err != nil || len(res.Tokens) == 0 {
		return 0, false, false
	}
	toks := res.Tokens
	// Skip comments: the first token the grammar sees.
	i := 0
	for i < len(toks) && (toks[i].Token == pg_query.Token_SQL_COMMENT || toks[i].Token == pg_query.Token_C_COMMENT) {
		i++
	}
	if i == len(toks) {
		return 0, false, false
	}
	if toks[i].Token != pg_query.Token_WITH {
		return st.Start + int(toks[i].Start), false, true
	}
	end := toks[i].End
	if i+1 < len(toks) && toks[i+1].Token == pg_query.Token_RECURSIVE {
		end = toks[i+1].End
	}
	return st.Start + int(end), true, true
}
