package catalog

// QueryComment is what deferproxy reads from dbt's query comment (SPEC §4.3):
// /* {"app": "dbt", "dbt_version": "1.8.4", "profile_name": "pg", "target_name": "dev", "node_id": "model.pkg.name"} */
// Fields absent from the comment are empty. The strings may share memory with the statement text.
type QueryComment struct {
	App            string
	DbtVersion     string
	ProfileName    string
	TargetName     string
	NodeID         string
	ConnectionName string
	InvocationID   string
}

// ParseQueryComment finds dbt's JSON query comment at the start of sql (dbt-postgres prepends it) or at its end
// (dbt-snowflake appends it; trailing whitespace and semicolons are allowed) and returns its fields. false: there is
// no such comment, or it is not a JSON object.
func ParseQueryComment(sql string) (QueryComment, bool) {
	return QueryComment{}, false
}
