package rewrite

import (
	"fmt"

	pg_query "github.com/pganalyze/pg_query_go/v5"
)

// ParserVersion is the PostgreSQL version of the grammar Analyze parses with (pg_query's embedded parser, read from
// a parse result, not hard-coded), e.g. "16.1".
func ParserVersion() string {
	res, err := pg_query.Parse("SELECT 1")
	if err != nil {
		return "unknown"
	}
	n := res.GetVersion() // e.g. 160001
	return fmt.Sprintf("%d.%d", n/10000, n%10000)
}
