package rewrite

import pg_query "github.com/pganalyze/pg_query_go/v5"

// stmtKind returns the statement's Kind tag and whether it is DDL that can change which relations exist (the dev
// catalog cache drops what it knows when such a statement runs).
func stmtKind(n *pg_query.Node) (kind string, ddl bool) {
	switch x := n.Node.(type) {
	case *pg_query.Node_SelectStmt:
		if x.SelectStmt.IntoClause != nil {
			return "SELECT INTO", true
		}
		return "SELECT", false
	case *pg_query.Node_InsertStmt:
		return "INSERT", false
	case *pg_query.Node_UpdateStmt:
		return "UPDATE", false
	case *pg_query.Node_DeleteStmt:
		return "DELETE", false
	case *pg_query.Node_MergeStmt:
		return "MERGE", false
	case *pg_query.Node_CreateTableAsStmt:
		if x.CreateTableAsStmt.Objtype == pg_query.ObjectType_OBJECT_MATVIEW {
			return "CREATE MATERIALIZED VIEW", true
		}
		if x.CreateTableAsStmt.IsSelectInto {
			return "SELECT INTO", true
		}
		return "CREATE TABLE AS", true
	case *pg_query.Node_ViewStmt:
		return "CREATE VIEW", true
	case *pg_query.Node_CreateStmt:
		return "CREATE TABLE", true
	case *pg_query.Node_CreateForeignTableStmt:
		return "CREATE FOREIGN TABLE", true
	case *pg_query.Node_CreateSeqStmt:
		return "CREATE SEQUENCE", true
	case *pg_query.Node_CreateSchemaStmt:
		return "CREATE SCHEMA", true
	case *pg_query.Node_IndexStmt:
		return "CREATE INDEX", true
	case *pg_query.Node_DropStmt:
		return "DROP", true
	case *pg_query.Node_AlterTableStmt:
		return "ALTER " + objectWords(x.AlterTableStmt.Objtype), true
	case *pg_query.Node_RenameStmt:
		if !isRelationType(x.RenameStmt.RenameType) && x.RenameStmt.Relation != nil {
			return "ALTER " + objectWords(x.RenameStmt.RelationType), true // a column, constraint, … of a relation
		}
		return "ALTER " + objectWords(x.RenameStmt.RenameType), true
	case *pg_query.Node_AlterOwnerStmt:
		return "ALTER " + objectWords(x.AlterOwnerStmt.ObjectType), false
	case *pg_query.Node_AlterObjectSchemaStmt:
		return "ALTER " + objectWords(x.AlterObjectSchemaStmt.ObjectType), true
	case *pg_query.Node_TruncateStmt:
		return "TRUNCATE", false
	case *pg_query.Node_RefreshMatViewStmt:
		return "REFRESH MATERIALIZED VIEW", false
	case *pg_query.Node_CopyStmt:
		return "COPY", false
	case *pg_query.Node_ExplainStmt:
		return "EXPLAIN", false
	case *pg_query.Node_VariableSetStmt:
		return "SET", false
	case *pg_query.Node_VariableShowStmt:
		return "SHOW", false
	case *pg_query.Node_GrantStmt:
		if x.GrantStmt.IsGrant {
			return "GRANT", false
		}
		return "REVOKE", false
	case *pg_query.Node_CommentStmt:
		return "COMMENT", false
	case *pg_query.Node_LockStmt:
		return "LOCK", false
	case *pg_query.Node_TransactionStmt:
		switch x.TransactionStmt.Kind {
		case pg_query.TransactionStmtKind_TRANS_STMT_BEGIN, pg_query.TransactionStmtKind_TRANS_STMT_START:
			return "BEGIN", false
		case pg_query.TransactionStmtKind_TRANS_STMT_COMMIT:
			return "COMMIT", false
		case pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK:
			return "ROLLBACK", false
		}
		return "TRANSACTION", false
	case *pg_query.Node_PrepareStmt:
		return "PREPARE", false
	case *pg_query.Node_ExecuteStmt:
		return "EXECUTE", false
	case *pg_query.Node_DeallocateStmt:
		return "DEALLOCATE", false
	case *pg_query.Node_DeclareCursorStmt:
		return "DECLARE CURSOR", false
	case *pg_query.Node_CreateFunctionStmt:
		if x.CreateFunctionStmt.IsProcedure {
			return "CREATE PROCEDURE", false
		}
		return "CREATE FUNCTION", false
	case *pg_query.Node_AlterDefaultPrivilegesStmt:
		return "ALTER DEFAULT PRIVILEGES", false
	case *pg_query.Node_CompositeTypeStmt, *pg_query.Node_CreateEnumStmt, *pg_query.Node_CreateRangeStmt:
		return "CREATE TYPE", false
	case *pg_query.Node_DefineStmt:
		return "CREATE " + defineWords(x.DefineStmt.Kind), false
	case *pg_query.Node_CreateDomainStmt:
		return "CREATE DOMAIN", false
	case *pg_query.Node_CreateExtensionStmt:
		return "CREATE EXTENSION", false
	case *pg_query.Node_CreatePolicyStmt:
		return "CREATE POLICY", false
	case *pg_query.Node_RuleStmt:
		return "CREATE RULE", false
	case *pg_query.Node_CreateConversionStmt:
		return "CREATE CONVERSION", false
	case *pg_query.Node_CreateOpClassStmt:
		return "CREATE OPERATOR CLASS", false
	case *pg_query.Node_CreateOpFamilyStmt:
		return "CREATE OPERATOR FAMILY", false
	case *pg_query.Node_CreateStatsStmt:
		return "CREATE STATISTICS", false
	case *pg_query.Node_DoStmt:
		return "DO", false
	case *pg_query.Node_CallStmt:
		return "CALL", false
	case *pg_query.Node_VacuumStmt:
		if x.VacuumStmt.IsVacuumcmd {
			return "VACUUM", false
		}
		return "ANALYZE", false
	case *pg_query.Node_CreateTrigStmt:
		return "CREATE TRIGGER", false
	}
	return "OTHER", false
}

func objectWords(t pg_query.ObjectType) string {
	switch t {
	case pg_query.ObjectType_OBJECT_TABLE:
		return "TABLE"
	case pg_query.ObjectType_OBJECT_VIEW:
		return "VIEW"
	case pg_query.ObjectType_OBJECT_MATVIEW:
		return "MATERIALIZED VIEW"
	case pg_query.ObjectType_OBJECT_INDEX:
		return "INDEX"
	case pg_query.ObjectType_OBJECT_SEQUENCE:
		return "SEQUENCE"
	case pg_query.ObjectType_OBJECT_FOREIGN_TABLE:
		return "FOREIGN TABLE"
	case pg_query.ObjectType_OBJECT_SCHEMA:
		return "SCHEMA"
	}
	return "OBJECT"
}

// defineWords names the object a DefineStmt (CREATE AGGREGATE/OPERATOR/TYPE/COLLATION/TEXT SEARCH …) creates.
func defineWords(t pg_query.ObjectType) string {
	switch t {
	case pg_query.ObjectType_OBJECT_AGGREGATE:
		return "AGGREGATE"
	case pg_query.ObjectType_OBJECT_OPERATOR:
		return "OPERATOR"
	case pg_query.ObjectType_OBJECT_TYPE:
		return "TYPE"
	case pg_query.ObjectType_OBJECT_COLLATION:
		return "COLLATION"
	}
	return "TEXT SEARCH OBJECT"
}
