package deferral

import (
	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/engine"
	"github.com/deferproxy/deferproxy/rewrite"
)

// Snowflake sessions (SPEC §11): names resolve in the session's current database and schema — from the login
// request, then USE statements, then what the server reports (engine.SchemaTracker) — instead of a search_path, and
// existence comes from the Snowflake dev catalog.

var _ engine.SchemaTracker = (*session)(nil)

// snowflakeName normalises a database or schema name as a Snowflake client writes it (the login's databaseName,
// the configuration's dev_schema): unquoted folds to upper case, "quoted" is exact.
func snowflakeName(s string) string {
	if s == "" {
		return ""
	}
	parts, err := catalog.SplitName(rewrite.Snowflake, s)
	if err != nil || len(parts) != 1 {
		return rewrite.FoldIdent(s, rewrite.Snowflake)
	}
	return parts[0]
}

// setSnowflakeScopeLocked makes database and schema current: 2-part names resolve in the database, unqualified ones
// in the schema (mu held, or the session not yet shared).
func (s *session) setSnowflakeScopeLocked(database, schema string) {
	s.scope = catalog.Scope{Database: database}
	if schema != "" {
		s.scope.SearchPath = []string{schema}
	}
	s.searchPath = s.scope.SearchPath
	// Unqualified writes are judged by the same scope: Snowflake has one current schema, which the server reports.
	s.guardScopes, s.pathUnknown = []catalog.Scope{s.scope}, false
	s.pathVersion++
}

// trackUse applies the USE [DATABASE|SCHEMA] statements of an analysis. USE DATABASE makes PUBLIC the current
// schema, as Snowflake does when the database has one; the server's own report (CurrentSchema) corrects it.
func (s *session) trackUse(an *rewrite.Analysis) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range an.Statements {
		u := st.Use
		if u == nil {
			continue
		}
		db, schema := s.scope.Database, ""
		if len(s.scope.SearchPath) > 0 {
			schema = s.scope.SearchPath[0]
		}
		switch {
		case u.Database != "" && u.Schema == "":
			db, schema = u.Database, "PUBLIC"
		case u.Database != "":
			db, schema = u.Database, u.Schema
		default:
			schema = u.Schema
		}
		s.setSnowflakeScopeLocked(db, schema)
	}
}

// CurrentSchema implements engine.SchemaTracker: the server's current database and schema after a statement.
func (s *session) CurrentSchema(database, schema string) {
	if s.dialect != rewrite.Snowflake || database == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := ""
	if len(s.scope.SearchPath) > 0 {
		cur = s.scope.SearchPath[0]
	}
	if database != s.scope.Database || schema != cur {
		s.setSnowflakeScopeLocked(database, schema)
	}
}

// devCatalog is the shared dev catalog of the session's warehouse (nil when none is configured).
func (s *session) devCatalog() *catalog.DevCatalog {
	if s.dialect == rewrite.Snowflake {
		return s.e.sfcat
	}
	return s.e.devcat
}

// existence is what answers dev existence for the session, and the shared dev catalog behind it (nil when the
// answers come from elsewhere: a test double, or no catalog).
func (s *session) existence() (catalog.Existence, *catalog.DevCatalog) {
	if s.dialect == rewrite.Snowflake {
		if s.e.sfcat == nil {
			return catalog.Unavailable{Why: "no snowflake_catalog_dsn configured"}, nil
		}
		return s.e.sfcat, s.e.sfcat
	}
	if s.e.existence != nil {
		return s.e.existence, s.e.devcat
	}
	return catalog.Unavailable{Why: "no catalog_dsn configured"}, nil
}
