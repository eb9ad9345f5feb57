package rewrite

import (
	pg_query "github.com/pganalyze/pg_query_go/v5"
)

// Objects other than relations live in schemas too: a function, type or domain created in a production schema, a
// privilege granted there, a schema moved into it — each writes production (SPEC §6). Their names are bare
// strings in the tree (no location); the span is found by scanning the statement's tokens for the name.

// objectStmt records the objects (Statement.Objects) and destination schemas (Statement.Schemas) of the statements
// that create, alter or grant on objects other than relations. It reports whether m was fully handled (the walker
// then does not descend into it).
func (w *walker) objectStmt(m any) bool {
	switch x := m.(type) {
	case *pg_query.CreateFunctionStmt:
		w.object(stringNodes(x.Funcname))
		w.functionBody(x)
		return true
	case *pg_query.DoStmt:
		w.doBody(x)
		return true
	case *pg_query.AlterFunctionStmt:
		if x.Func != nil {
			w.object(stringNodes(x.Func.Objname))
		}
		return true
	case *pg_query.DefineStmt: // CREATE AGGREGATE/OPERATOR/TYPE/COLLATION/TEXT SEARCH …
		w.object(stringNodes(x.Defnames))
		return true
	case *pg_query.CompositeTypeStmt: // CREATE TYPE t AS (…): its RangeVar names a type, not a relation to read
		if rv := x.Typevar; rv != nil && rv.Relname != "" {
			name := []string{rv.Relname}
			if rv.Schemaname != "" {
				name = []string{rv.Schemaname, rv.Relname}
			}
			w.object(name)
		}
		return true
	case *pg_query.CreateEnumStmt:
		w.object(stringNodes(x.TypeName))
		return true
	case *pg_query.CreateRangeStmt:
		w.object(stringNodes(x.TypeName))
		return true
	case *pg_query.AlterEnumStmt:
		w.object(stringNodes(x.TypeName))
		return true
	case *pg_query.AlterTypeStmt:
		w.object(stringNodes(x.TypeName))
		return true
	case *pg_query.CreateDomainStmt:
		w.object(stringNodes(x.Domainname))
		w.nodes(x.Constraints)
		return true
	case *pg_query.AlterDomainStmt:
		w.object(stringNodes(x.TypeName))
		w.node(x.Def)
		return true
	case *pg_query.AlterOperatorStmt:
		if x.Opername != nil {
			w.object(stringNodes(x.Opername.Objname))
		}
		return true
	case *pg_query.CreateConversionStmt:
		w.object(stringNodes(x.ConversionName))
		return true
	case *pg_query.CreateOpClassStmt:
		w.object(stringNodes(x.Opclassname))
		if len(x.Opfamilyname) > 0 {
			w.object(stringNodes(x.Opfamilyname))
		}
		return true
	case *pg_query.CreateOpFamilyStmt:
		w.object(stringNodes(x.Opfamilyname))
		return true
	case *pg_query.AlterOpFamilyStmt:
		w.object(stringNodes(x.Opfamilyname))
		return true
	case *pg_query.CreateStatsStmt:
		if len(x.Defnames) > 0 {
			w.object(stringNodes(x.Defnames))
		}
		return false // the relations are write targets (visit)
	case *pg_query.CreateExtensionStmt:
		for _, o := range x.Options {
			if de := o.GetDefElem(); de != nil && de.Defname == "schema" {
				if s := de.Arg.GetString_(); s != nil {
					w.addSchemaNames([]string{s.Sval})
				}
			}
		}
		return true
	case *pg_query.CreateSchemaStmt:
		// CREATE SCHEMA IF NOT EXISTS of an existing schema, without elements, changes nothing; anything else naming
		// a production schema would create in (or fail on) it.
		if x.Schemaname != "" && !(x.IfNotExists && len(x.SchemaElts) == 0) {
			w.addSchemaNames([]string{x.Schemaname})
		}
		return false // the elements are visited
	case *pg_query.AlterDefaultPrivilegesStmt:
		for _, o := range x.Options {
			if de := o.GetDefElem(); de != nil && de.Defname == "schemas" {
				w.addSchemaNames(stringNodes(de.Arg.GetList().GetItems()))
			}
		}
		return true
	case *pg_query.AlterObjectSchemaStmt:
		if x.Relation != nil {
			return false // relations: setSchemaStmt
		}
		w.object(objectName(x.ObjectType, x.Object))
		if x.Newschema != "" {
			w.addSchemaNames([]string{x.Newschema})
		}
		return true
	case *pg_query.RenameStmt:
		if x.Relation != nil || x.RenameType == pg_query.ObjectType_OBJECT_SCHEMA {
			return false
		}
		w.object(objectName(x.RenameType, x.Object))
		return true
	case *pg_query.AlterOwnerStmt:
		if x.Relation != nil || x.ObjectType == pg_query.ObjectType_OBJECT_SCHEMA {
			return false
		}
		w.object(objectName(x.ObjectType, x.Object))
		return true
	case *pg_query.DropStmt:
		if isRelationType(x.RemoveType) || x.RemoveType == pg_query.ObjectType_OBJECT_SCHEMA {
			return false
		}
		for _, o := range x.Objects {
			w.object(objectName(x.RemoveType, o))
		}
		return true
	case *pg_query.CommentStmt:
		if isRelationType(x.Objtype) || x.Objtype == pg_query.ObjectType_OBJECT_COLUMN {
			return false
		}
		w.object(objectName(x.Objtype, x.Object))
		return true
	case *pg_query.GrantStmt:
		if x.Targtype != pg_query.GrantTargetType_ACL_TARGET_OBJECT || isRelationType(x.Objtype) ||
			x.Objtype == pg_query.ObjectType_OBJECT_SCHEMA {
			return false
		}
		for _, o := range x.Objects {
			w.object(objectName(x.Objtype, o))
		}
		return true
	}
	return false
}

// objectName returns the schema-qualifiable name of an object of type t, as parts; for objects that belong to a
// relation (trigger, policy, rule, table constraint) the relation's name; nil for objects outside schemas.
func objectName(t pg_query.ObjectType, n *pg_query.Node) []string {
	if n == nil {
		return nil
	}
	var parts []string
	switch {
	case n.GetObjectWithArgs() != nil:
		parts = stringNodes(n.GetObjectWithArgs().Objname)
	case n.GetTypeName() != nil:
		parts = stringNodes(n.GetTypeName().Names)
	case n.GetList() != nil:
		parts = stringNodes(n.GetList().Items)
	default:
		return nil // a bare String: databases, roles, languages, extensions, … live outside schemas
	}
	switch t {
	case pg_query.ObjectType_OBJECT_TRIGGER, pg_query.ObjectType_OBJECT_POLICY, pg_query.ObjectType_OBJECT_RULE,
		pg_query.ObjectType_OBJECT_TABCONSTRAINT:
		if len(parts) < 2 {
			return nil
		}
		return parts[:len(parts)-1]
	case pg_query.ObjectType_OBJECT_OPCLASS, pg_query.ObjectType_OBJECT_OPFAMILY:
		if len(parts) < 2 {
			return nil
		}
		return parts[1:] // the first part is the access method
	case pg_query.ObjectType_OBJECT_CAST, pg_query.ObjectType_OBJECT_TRANSFORM, pg_query.ObjectType_OBJECT_AMOP,
		pg_query.ObjectType_OBJECT_AMPROC, pg_query.ObjectType_OBJECT_USER_MAPPING,
		pg_query.ObjectType_OBJECT_PUBLICATION_NAMESPACE, pg_query.ObjectType_OBJECT_PUBLICATION_REL:
		return nil
	}
	return parts
}

// stringNodes returns the strings of a list of String nodes; other nodes are skipped.
func stringNodes(list []*pg_query.Node) []string {
	out := make([]string, 0, len(list))
	for _, it := range list {
		if s := it.GetString_(); s != nil {
			out = append(out, s.Sval)
		}
	}
	return out
}

// object records one object name (Statement.Objects), spanning its text when the scan finds it.
func (w *walker) object(want []string) {
	if len(want) == 0 || len(want) > 3 {
		return
	}
	if sn, ok := w.findQualified(w.stmtStart, want); ok {
		w.objects = append(w.objects, Reference{
			Parts: w.decoded(sn, want), Quoted: sn.quoted, Normalized: want,
			Start: sn.start, End: sn.end, Role: Write, Statement: w.stmt,
		})
		return
	}
	quoted := make([]bool, len(want))
	for i, p := range want {
		quoted[i] = p != asciiLower(p)
	}
	w.objects = append(w.objects, Reference{
		Parts: want, Quoted: quoted, Normalized: want,
		Start: w.stmtStart, End: w.stmtEnd, Role: Write, Statement: w.stmt,
	})
}

// decoded returns the scanned parts with U&"…" parts replaced by the parser's decoded value.
func (w *walker) decoded(sn scannedName, want []string) []string {
	parts := sn.parts
	for k, u := range sn.unicode {
		if u {
			parts = append([]string(nil), parts...)
			parts[k] = want[k]
		}
	}
	return parts
}

// findQualified returns the first name of len(want) parts at or after i whose stored parts are want.
func (w *walker) findQualified(i int, want []string) (scannedName, bool) {
	for {
		start, end, ok := w.nextToken(i)
		if !ok {
			return scannedName{}, false
		}
		if sn, ok := nameAt(w.sql[:w.stmtEnd], start, len(want)); ok && sn.matches(want) {
			return sn, true
		}
		i = end
	}
}
