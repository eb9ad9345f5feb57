package rewrite

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v5"
)

// NamePart says which part of a relation name a catalog-query literal compares against.
type NamePart uint8

const (
	PartSchema NamePart = iota
	PartName
	PartDatabase
)

// introspectColumns maps the catalog columns dbt-postgres and dbt-utils compare with literals (SPEC §5.5) to the
// name part they hold:
//   - information_schema.columns/tables/views: table_catalog, table_schema, table_name
//     (postgres__get_columns_in_relation, dbt_utils.get_tables_by_pattern_sql, get_show_grant_sql)
//   - pg_catalog: nspname, relname (pg_class/pg_namespace joins: get_show_indexes_sql, constraints),
//     schemaname, tablename, viewname, matviewname (pg_tables, pg_views, pg_matviews)
var introspectColumns = map[string]NamePart{
	"table_catalog": PartDatabase,
	"table_schema":  PartSchema,
	"table_name":    PartName,
	"nspname":       PartSchema,
	"schemaname":    PartSchema,
	"relname":       PartName,
	"tablename":     PartName,
	"viewname":      PartName,
	"matviewname":   PartName,
}

// Literal is one string literal a catalog query compares with a catalog column that holds part of a relation name:
// `col = 'value'` or `'value' = col` (qualified columns such as n.nspname included; LIKE/ILIKE count too, since
// dbt-utils sends patterns that are plain names for a single relation).
type Literal struct {
	Part  NamePart
	Value string // the literal's value, '' unescaped
	// Start and End are the byte span of the whole literal token, quotes included, in the SQL text.
	Start, End int
}

// introspectionLiterals scans sql[start:end] (a catalog query) with PostgreSQL's own scanner and returns the
// literals of the shapes above, with offsets in sql. Only plain '…' literals are considered (E'…' and $$…$$ are left
// alone: dbt never sends them here).
func introspectionLiterals(sql string, start, end int) []Literal {
	text := sql[start:end]
	res, err := pg_query.Scan(text)
	if err != nil {
		return nil
	}
	toks := res.Tokens
	var out []Literal
	isCmp := func(t *pg_query.ScanToken) bool {
		return t.Token == pg_query.Token_ASCII_61 || t.Token == pg_query.Token_LIKE || t.Token == pg_query.Token_ILIKE
	}
	column := func(t *pg_query.ScanToken) (NamePart, bool) {
		if t.Token != pg_query.Token_IDENT {
			return 0, false
		}
		r, ok := introspectColumns[strings.ToLower(text[t.Start:t.End])]
		return r, ok
	}
	for i, t := range toks {
		if t.Token != pg_query.Token_SCONST {
			continue
		}
		lit := text[t.Start:t.End]
		if len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' {
			continue
		}
		var part NamePart
		found := false
		if i >= 2 && isCmp(toks[i-1]) {
			part, found = column(toks[i-2])
		}
		if !found && i+2 < len(toks) && toks[i+1].Token == pg_query.Token_ASCII_61 {
			part, found = column(toks[i+2])
		}
		if !found {
			continue
		}
		out = append(out, Literal{Part: part, Value: literalValue(lit), Start: start + int(t.Start), End: start + int(t.End)})
	}
	return out
}

// literalValue is the value of a plain '…' literal.
func literalValue(lit string) string { return strings.ReplaceAll(lit[1:len(lit)-1], "''", "'") }
