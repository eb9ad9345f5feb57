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
// oid from the top quarter of the oid space. Functions that take an oid read the real catalogs: the calls of those
// the view knows (viewedFunctions) are rewritten to give production's answer; any other sees no such relation.

// ViewNode is one deferred model the catalog view shows in a dev schema.
type ViewNode struct {
	// DevSchema and DevName are where the model appears; ProdSchema and ProdName the production relation it shows
	// (all as stored: unquoted, case exact).
	DevSchema, DevName, ProdSchema, ProdName string
}

// viewNamespaceBase is the first synthetic namespace oid (a dev schema that does not exist yet).
const viewNamespaceBase = 3221225472

// Column is one column of a catalog relation as the server has it (name and format_type), for CatalogView.
type Column struct{ Name, Type string }

// CatalogColumns are the columns of the viewed catalogs, by qualified name ("pg_catalog.pg_class"), as the server
// lists them (catalog.DevCatalog.CatalogColumns). With them a shown row is built by a plain projection; without
// (a nil map, a catalog missing from it) by jsonb_populate_record, which gives the same rows at several times the
// cost per row.
type CatalogColumns map[string][]Column

// viewedCatalog says how one catalog relation is rewritten: rel is its qualified name; key, for a catalog whose rows
// belong to a relation by an oid column, is that column, and set the fields a shown row takes from the map
// (column → SQL over m, a __deferproxy_map row); a catalog view whose rows name their relation by schema and name
// columns has key "" and set says which.
type viewedCatalog struct {
	rel string
	key string
	set [][2]string
	// rels: the shown rows come from __deferproxy_rel (the shown relations and their indexes) rather than
	// __deferproxy_map (the relations alone).
	rels bool
}

// ViewedCatalogRelations are the qualified names of the catalog relations the view rewrites.
func ViewedCatalogRelations() []string {
	out := make([]string, 0, len(viewedCatalogs))
	for _, v := range viewedCatalogs {
		out = append(out, v.rel)
	}
	return out
}

// viewedCatalogs are the catalog relations the view rewrites, by normalised [schema, name].
var viewedCatalogs = map[[2]string]viewedCatalog{
	{"pg_catalog", "pg_class"}: {rel: "pg_catalog.pg_class", key: "oid", rels: true,
		set: [][2]string{{"oid", "m.fake_oid"}, {"relname", "m.dn"}, {"relnamespace", "m.dev_ns"}}},
	{"pg_catalog", "pg_attribute"}: {rel: "pg_catalog.pg_attribute", key: "attrelid", rels: true, set: [][2]string{{"attrelid", "m.fake_oid"}}},
	{"pg_catalog", "pg_attrdef"}:   {rel: "pg_catalog.pg_attrdef", key: "adrelid", set: [][2]string{{"adrelid", "m.fake_oid"}}},
	// A shown relation's index is shown too: its own synthetic oid, in the dev schema.
	{"pg_catalog", "pg_index"}: {rel: "pg_catalog.pg_index", key: "indrelid",
		set: [][2]string{{"indrelid", "m.fake_oid"}, {"indexrelid", "(4294967295 - x.indexrelid::pg_catalog.int8)"}}},
	{"pg_catalog", "pg_constraint"}: {rel: "pg_catalog.pg_constraint", key: "conrelid", set: [][2]string{{"conrelid", "m.fake_oid"},
		{"connamespace", "m.dev_ns"},
		{"conindid", "COALESCE((SELECT i.fake_oid FROM __deferproxy_rel i WHERE i.prod_oid = x.conindid), x.conindid)"}}},
	{"pg_catalog", "pg_description"}: {rel: "pg_catalog.pg_description", key: "objoid", rels: true,
		set: [][2]string{{"objoid", "m.fake_oid"}}},
	{"pg_catalog", "pg_namespace"}: {rel: "pg_catalog.pg_namespace", key: "oid",
		set: [][2]string{{"oid", "m.dev_ns"}, {"nspname", "m.ds"}}},
	{"information_schema", "tables"}:  {rel: "information_schema.tables", set: [][2]string{{"table_schema", "m.ds"}, {"table_name", "m.dn"}}},
	{"information_schema", "columns"}: {rel: "information_schema.columns", set: [][2]string{{"table_schema", "m.ds"}, {"table_name", "m.dn"}}},
	{"information_schema", "views"}:   {rel: "information_schema.views", set: [][2]string{{"table_schema", "m.ds"}, {"table_name", "m.dn"}}},
	{"pg_catalog", "pg_tables"}:       {rel: "pg_catalog.pg_tables", set: [][2]string{{"schemaname", "m.ds"}, {"tablename", "m.dn"}}},
	{"pg_catalog", "pg_views"}:        {rel: "pg_catalog.pg_views", set: [][2]string{{"schemaname", "m.ds"}, {"viewname", "m.dn"}}},
	{"pg_catalog", "pg_matviews"}:     {rel: "pg_catalog.pg_matviews", set: [][2]string{{"schemaname", "m.ds"}, {"matviewname", "m.dn"}}},
	{"pg_catalog", "pg_indexes"}:      {rel: "pg_catalog.pg_indexes", set: [][2]string{{"schemaname", "m.ds"}, {"tablename", "m.dn"}}},
}

// shown is the projection of a shown row from x (a row of v.rel) and m: the catalog's columns in order, with those
// of v.set replaced (cast to the column's type, so the union keeps the catalog's row type). Without the column list,
// jsonb_populate_record does the same; it needs a LATERAL item named r.
func (v viewedCatalog) shown(cols []Column) (proj string, lateral bool) {
	if len(cols) == 0 {
		return "r.*", true
	}
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		expr := "x." + QuoteIdent(c.Name, Postgres)
		for _, kv := range v.set {
			if kv[0] == c.Name {
				expr = kv[1] + "::" + c.Type
			}
		}
		b.WriteString(expr)
	}
	return b.String(), false
}

// populate is the LATERAL item of the jsonb_populate_record form.
func (v viewedCatalog) populate() string {
	var b strings.Builder
	for i, kv := range v.set {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("'" + kv[0] + "', " + kv[1])
	}
	return ", LATERAL pg_catalog.jsonb_populate_record(x, pg_catalog.jsonb_build_object(" + b.String() + ")) r"
}

// subquery is the replacement of a reference to v: the real rows less the hidden ones, then the shown rows.
func (v viewedCatalog) subquery(cols []Column, sys []string) string {
	proj, lateral := v.shown(cols)
	// The system columns the statement reads (DataGrip's xmin), as ordinary columns of the subquery: from the
	// catalog row where there is one. A catalog view (information_schema, pg_tables) has none to give.
	own, extra, note := "x.*", "", ""
	if v.key != "" {
		for _, c := range sys {
			extra += ", x." + c + " AS " + c
			note += ", " + systemColumnValue[c]
		}
		own += extra
		proj += extra
	}
	source := "__deferproxy_map"
	if v.rels {
		source = "__deferproxy_rel"
	}
	from := func(join string) string {
		s := " FROM " + v.rel + " x JOIN " + source + " m ON " + join
		if lateral {
			s += v.populate()
		}
		return s
	}
	switch {
	case v.rel == "pg_catalog.pg_namespace":
		// A dev schema that does not exist yet, once, from production's schema row.
		return "(SELECT " + own + " FROM pg_catalog.pg_namespace x UNION ALL SELECT DISTINCT ON (m.dev_ns) " + proj +
			from("x.oid = m.prod_ns") + " WHERE m.dev_ns_missing)"
	case v.rel == "pg_catalog.pg_description":
		// Column comments are production's; the relation's own comment says where it comes from.
		const isClass = "x.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass"
		return "(SELECT " + own + " FROM pg_catalog.pg_description x WHERE NOT (" + isClass +
			" AND x.objoid IN (SELECT h.oid FROM __deferproxy_hidden h)) UNION ALL SELECT " + proj +
			from("x.objoid = m.prod_oid AND "+isClass+" AND x.objsubid <> 0") +
			" UNION ALL SELECT m.fake_oid, 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid, 0, m.note" + note +
			" FROM __deferproxy_map m)"
	case v.key != "":
		return "(SELECT " + own + " FROM " + v.rel + " x WHERE x." + v.key + " NOT IN (SELECT h.oid FROM __deferproxy_hidden h)" +
			" UNION ALL SELECT " + proj + from("x."+v.key+" = m.prod_oid") + ")"
	}
	sc, nc := v.set[0][0], v.set[1][0]
	return "(SELECT x.* FROM " + v.rel + " x WHERE (x." + sc + "::pg_catalog.name, x." + nc +
		"::pg_catalog.name) NOT IN (SELECT m.ds, m.dn FROM __deferproxy_map m) UNION ALL SELECT " + proj +
		from("x."+sc+"::pg_catalog.name = m.ps AND x."+nc+"::pg_catalog.name = m.pn") + ")"
}

// viewPrelude is the WITH list every rewritten statement starts with: the deferred models (__deferproxy_nodes),
// each one's production and synthetic oids and dev namespace (__deferproxy_map, only models production has), and
// the dev relations the view hides because their reads go to production (__deferproxy_hidden).
func viewPrelude(nodes []ViewNode) string {
	var b strings.Builder
	b.WriteString("__deferproxy_nodes(ds, dn, ps, pn, nso) AS (VALUES ")
	nsIndex := map[string]int{}
	seen := map[[2]string]bool{}
	for _, n := range nodes {
		// A production relation is shown once (its synthetic oid derives from production's).
		if prod := [2]string{n.ProdSchema, n.ProdName}; seen[prod] {
			continue
		} else {
			seen[prod] = true
		}
		if len(seen) > 1 {
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
	// The map is built by scalar subqueries over the node list rather than joins, so the planner's estimate of
	// its size is the list's (a join's estimate here is a handful of rows, and a nested loop over a thousand
	// shown relations then costs a second); OFFSET 0 keeps each subquery computed once per node rather than
	// copied into every use of its column.
	b.WriteString("), __deferproxy_map AS (SELECT q.ds, q.dn, q.ps, q.pn, q.prod_ns, q.prod_oid," +
		" (4294967295 - q.prod_oid::pg_catalog.int8)::pg_catalog.oid AS fake_oid," +
		" COALESCE(q.dev_ns, q.nso) AS dev_ns, q.dev_ns IS NULL AS dev_ns_missing," +
		" 'deferproxy: not built in ' || pg_catalog.quote_ident(q.ds) || '; reads production ' || pg_catalog.quote_ident(q.ps) ||" +
		" '.' || pg_catalog.quote_ident(q.pn) || COALESCE(' - ' || (SELECT pd.description FROM pg_catalog.pg_description pd" +
		" WHERE pd.objoid = q.prod_oid AND pd.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND pd.objsubid = 0), '') AS note" +
		" FROM (SELECT p.*, (SELECT pc.oid FROM pg_catalog.pg_class pc WHERE pc.relnamespace = p.prod_ns AND pc.relname = p.pn) AS prod_oid" +
		" FROM (SELECT d.*, (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = d.ps) AS prod_ns," +
		" (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = d.ds) AS dev_ns FROM __deferproxy_nodes d OFFSET 0) p OFFSET 0) q" +
		" WHERE q.prod_oid IS NOT NULL)," +
		" __deferproxy_rel AS (SELECT m.prod_oid, m.fake_oid, m.dn, m.dev_ns FROM __deferproxy_map m UNION ALL" +
		" SELECT i.indexrelid, (4294967295 - i.indexrelid::pg_catalog.int8)::pg_catalog.oid, ci.relname, m.dev_ns" +
		" FROM pg_catalog.pg_index i JOIN __deferproxy_map m ON i.indrelid = m.prod_oid JOIN pg_catalog.pg_class ci ON ci.oid = i.indexrelid)," +
		" __deferproxy_hidden AS (SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace" +
		" JOIN __deferproxy_map m ON n.nspname = m.ds AND c.relname = m.dn UNION ALL SELECT i.indexrelid FROM pg_catalog.pg_index i" +
		" JOIN pg_catalog.pg_class c ON c.oid = i.indrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace" +
		" JOIN __deferproxy_map m ON n.nspname = m.ds AND c.relname = m.dn)")
	return b.String()
}

// viewedFunctions are the catalog functions that take a relation's oid and read the real catalogs, and how a call
// is rewritten so a shown relation gets production's answer: the argument holding the oid mapped to production's
// (column comments, a view's definition, a default's expression, sizes), or the whole call (the relation's comment:
// the view's own note; whether it is visible: its dev schema on the search_path).
var viewedFunctions = map[string]funcView{
	"col_description":        {how: viewArg},
	"pg_get_viewdef":         {how: viewArg},
	"pg_get_indexdef":        {how: viewArg},
	"pg_get_expr":            {how: viewArg, arg: 1},
	"pg_relation_size":       {how: viewArg},
	"pg_table_size":          {how: viewArg},
	"pg_total_relation_size": {how: viewArg},
	"pg_indexes_size":        {how: viewArg},
	"obj_description":        {how: viewComment},
	// The dev name is visible when its schema is on the search_path (an earlier schema's relation of the same name
	// is not looked for).
	"pg_table_is_visible": {how: viewVisible},
}

// funcView is how one function's calls are rewritten: how, and for viewArg which argument (0-based) holds the oid.
type funcView struct {
	how uint8
	arg int
}

const (
	viewArg uint8 = iota
	viewComment
	viewVisible
)

// prodOid is the SQL for "production's oid when arg is a synthetic relation's, else arg".
func prodOid(arg string) string {
	return "COALESCE((SELECT m.prod_oid FROM __deferproxy_rel m WHERE m.fake_oid = (" + arg + ")), (" + arg + "))"
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
		// The arguments: spans between the commas at depth one, up to the closing parenthesis.
		depth, end := 0, -1
		var args [][2]int
		argStart := int(toks[i+1].End)
		for j := i + 1; j < len(toks) && end < 0; j++ {
			switch toks[j].Token {
			case pg_query.Token_ASCII_40, pg_query.Token_ASCII_91:
				depth++
			case pg_query.Token_ASCII_41, pg_query.Token_ASCII_93:
				depth--
				if depth == 0 {
					end = int(toks[j].End)
					args = append(args, [2]int{argStart, int(toks[j].Start)})
				}
			case pg_query.Token_ASCII_44:
				if depth == 1 {
					args = append(args, [2]int{argStart, int(toks[j].Start)})
					argStart = int(toks[j].End)
				}
			}
		}
		if end < 0 || len(args) <= kind.arg || args[kind.arg][1] <= args[kind.arg][0] {
			return nil, false
		}
		span := args[kind.arg]
		for span[0] < span[1] && pgSpace(text[span[0]]) {
			span[0]++
		}
		for span[1] > span[0] && pgSpace(text[span[1]-1]) {
			span[1]--
		}
		arg := text[span[0]:span[1]]
		call := text[start:end]
		switch kind.how {
		case viewArg:
			edits = append(edits, Edit{Start: st.Start + span[0], End: st.Start + span[1], Text: prodOid(arg)})
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
func viewedRef(ref Reference) (viewedCatalog, bool) {
	if ref.Role != Read || ref.Only {
		return viewedCatalog{}, false
	}
	n := ref.Normalized
	var key [2]string
	switch len(n) {
	case 1:
		key = [2]string{"pg_catalog", n[0]} // search_path reaches pg_catalog first unless it names it later
	case 2:
		key = [2]string{n[0], n[1]}
	default:
		return viewedCatalog{}, false
	}
	v, ok := viewedCatalogs[key]
	return v, ok
}

// CatalogView returns the edits, on the analysed text sql, that give the SELECT statements reading viewed catalog
// relations the catalog view of nodes. It returns no edits when there is nothing to show or a statement's shape is
// one the view cannot keep correct (a catalog read with ONLY, a system column such as xmin, a column qualified with
// the catalog's schema); the statement then describes the warehouse as it is. The edits are checked: applied alone,
// the text must still parse.
func CatalogView(sql string, a *Analysis, nodes []ViewNode, cols CatalogColumns) []Edit {
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
		if !ViewedCatalogs(sql, a, i) {
			continue
		}
		sys, ok := viewable(sql, st)
		if !ok {
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
			v, ok := viewedRef(ref)
			if !ok {
				continue
			}
			text := v.subquery(cols[v.rel], sys)
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
func viewable(sql string, st *Statement) (sys []string, ok bool) {
	text := sql[st.Start:st.End]
	for _, c := range systemColumns {
		if ContainsWord(text, c) {
			sys = append(sys, c)
		}
	}
	if len(sys) > 0 && starExpansion(text) {
		// The subqueries would carry the system columns as ordinary ones, which a * would list.
		return nil, false
	}
	for _, q := range st.Qualifiers {
		if len(q.Normalized) >= 2 {
			if _, ok := viewedRef(Reference{Normalized: q.Normalized[len(q.Normalized)-2:]}); ok {
				return nil, false // pg_catalog.pg_class.relname: the subquery's alias has no schema
			}
		}
	}
	return sys, true
}

// starExpansion reports whether a statement's text has a * that expands columns (SELECT *, t.*) rather than one
// that multiplies or counts.
func starExpansion(text string) bool {
	res, err := pg_query.Scan(text)
	if err != nil {
		return true
	}
	toks := res.Tokens
	for i, t := range toks {
		if t.Token != pg_query.Token_ASCII_42 || i == 0 {
			continue
		}
		switch toks[i-1].Token {
		case pg_query.Token_ASCII_46, pg_query.Token_SELECT, pg_query.Token_ASCII_44, pg_query.Token_DISTINCT, pg_query.Token_ALL:
			return true
		}
	}
	return false
}

// systemColumnValue is what a shown row that no catalog row backs (a relation's own comment) gives for a system
// column the statement reads.
var systemColumnValue = map[string]string{
	"xmin": "'0'::pg_catalog.xid", "xmax": "'0'::pg_catalog.xid", "cmin": "'0'::pg_catalog.cid", "cmax": "'0'::pg_catalog.cid",
	"ctid": "'(0,0)'::pg_catalog.tid", "tableoid": "'pg_catalog.pg_description'::pg_catalog.regclass::pg_catalog.oid",
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
