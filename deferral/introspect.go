package deferral

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v5"
)

// literalRole says which part of a relation name a catalog-query literal compares against.
type literalRole int

const (
	litSchema literalRole = iota
	litName
	litCatalog
)

// introspectColumns maps the catalog columns dbt-postgres and dbt-utils compare with literals (SPEC §5.5) to the
// name part they hold:
//   - information_schema.columns/tables/views: table_catalog, table_schema, table_name
//     (postgres__get_columns_in_relation, dbt_utils.get_tables_by_pattern_sql, get_show_grant_sql)
//   - pg_catalog: nspname, relname (pg_class/pg_namespace joins: get_show_indexes_sql, constraints),
//     schemaname, tablename, viewname, matviewname (pg_tables, pg_views, pg_matviews)
var introspectColumns = map[string]literalRole{
	"table_catalog": litCatalog,
	"table_schema":  litSchema,
	"table_name":    litName,
	"nspname":       litSchema,
	"schemaname":    litSchema,
	"relname":       litName,
	"tablename":     litName,
	"viewname":      litName,
	"matviewname":   litName,
}

// literal is one string literal compared with an introspection column: `col = 'value'` or `'value' = col`
// (qualified columns such as n.nspname included; ILIKE/LIKE count too, since dbt-utils sends patterns that are plain
// names for a single relation).
type literal struct {
	role       literalRole
	value      string // the literal's value, '' unescaped
	start, end int    // byte span of the whole literal token, quotes included
}

// introspectionLiterals scans a catalog query with PostgreSQL's own scanner and returns the literals of the shapes
// above. Only plain '…' literals are considered (E'…' and $$…$$ are left alone: dbt never sends them here).
func introspectionLiterals(sql string) []literal {
	res, err := pg_query.Scan(sql)
	if err != nil {
		return nil
	}
	toks := res.Tokens
	var out []literal
	isCmp := func(t *pg_query.ScanToken) bool {
		if t.Token == pg_query.Token_ASCII_61 {
			return true
		}
		if t.Token == pg_query.Token_LIKE || t.Token == pg_query.Token_ILIKE {
			return true
		}
		return false
	}
	column := func(t *pg_query.ScanToken) (literalRole, bool) {
		if t.Token != pg_query.Token_IDENT {
			return 0, false
		}
		r, ok := introspectColumns[strings.ToLower(sql[t.Start:t.End])]
		return r, ok
	}
	for i, t := range toks {
		if t.Token != pg_query.Token_SCONST {
			continue
		}
		text := sql[t.Start:t.End]
		if len(text) < 2 || text[0] != '\'' || text[len(text)-1] != '\'' {
			continue
		}
		var role literalRole
		found := false
		if i >= 2 && isCmp(toks[i-1]) {
			role, found = column(toks[i-2])
		}
		if !found && i+2 < len(toks) && toks[i+1].Token == pg_query.Token_ASCII_61 {
			role, found = column(toks[i+2])
		}
		if !found {
			continue
		}
		out = append(out, literal{
			role:  role,
			value: strings.ReplaceAll(text[1:len(text)-1], "''", "'"),
			start: int(t.Start),
			end:   int(t.End),
		})
	}
	return out
}
