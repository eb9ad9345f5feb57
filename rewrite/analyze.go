package rewrite

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Analyze finds, for each statement of sql (PostgreSQL dialect), every relation name with its role (SPEC §5.1,
// §5.2), kind, catalog-query and DDL flags. It parses with pg_query and never deparses: spans come from the parser's
// byte locations and a scan of the original text. When pg_query cannot parse the text, the dialect-tolerant lexer
// (LexAnalyze) reads it instead and the Analysis says Parsed=false with the parser's error.
//
// The same single parse also yields each statement's settings (SET/RESET/set_config), the setting a SHOW asks for,
// and a catalog query's introspection literals, so the text is never parsed twice.
//
// The error is reserved for text no PostgreSQL server could accept as a query string (a NUL byte); parse errors
// are not errors here, they select the fallback.
func Analyze(sql string) (*Analysis, error) {
	if strings.IndexByte(sql, 0) >= 0 {
		return nil, fmt.Errorf("analyze statement: text contains a NUL byte; PostgreSQL query strings cannot")
	}
	tree, err := pg_query.Parse(sql)
	var a *Analysis
	if err != nil {
		a = LexAnalyze(sql, Postgres)
		if a == nil {
			a = &Analysis{}
		}
		a.Parsed = false
		a.ParseError = err.Error()
	} else {
		a = analyzeTree(sql, tree)
	}
	markTemps(sql, a)
	return a, nil
}

// markTemps flags the write targets of CREATE statements that declare TEMP or TEMPORARY before the name.
func markTemps(sql string, a *Analysis) {
	for si := range a.Statements {
		st := &a.Statements[si]
		if len(st.Kind) < 6 || !strings.EqualFold(st.Kind[:6], "CREATE") {
			continue
		}
		for i := range st.References {
			ref := &st.References[i]
			if ref.Role == Write && ref.Start >= st.Start {
				head := sql[st.Start:ref.Start]
				ref.Temp = ContainsWord(head, "temp") || ContainsWord(head, "temporary")
			}
		}
	}
}

// analyzeTree builds the Analysis of a successfully parsed text.
func analyzeTree(sql string, tree *pg_query.ParseResult) *Analysis {
	a := &Analysis{Parsed: true, Dialect: Postgres, Statements: make([]Statement, 0, len(tree.Stmts))}
	for i, raw := range tree.Stmts {
		start := int(raw.StmtLocation)
		end := len(sql)
		if raw.StmtLen > 0 {
			end = start + int(raw.StmtLen)
		}
		st := Statement{Start: start, End: end, Kind: "OTHER"}
		if raw.Stmt != nil && raw.Stmt.Node != nil {
			w := walker{sql: sql, stmt: i, stmtStart: start, stmtEnd: end}
			w.visit(nodeMessage(raw.Stmt))
			switch n := raw.Stmt.Node.(type) {
			case *pg_query.Node_VariableSetStmt:
				if s, ok := settingOf(n.VariableSetStmt, start, end); ok {
					st.Settings = []Setting{s}
				}
			case *pg_query.Node_DiscardStmt:
				if n.DiscardStmt.Target == pg_query.DiscardMode_DISCARD_ALL {
					st.Settings = []Setting{{Name: "all", Reset: true, Start: start, End: end}}
				}
			case *pg_query.Node_VariableShowStmt:
				st.Show = strings.ToLower(n.VariableShowStmt.Name)
			}
			if len(w.settings) > 0 {
				st.Settings = append(st.Settings, w.settings...)
			}
			st.Kind, st.DDL = stmtKind(raw.Stmt)
			st.References = sortRefs(w.refs)
			if len(w.quals) > 0 {
				st.Qualifiers = sortRefs(w.quals)
			}
			st.Schemas = w.schemas
			st.Objects = w.objects
			st.Body = w.body
			for _, r := range w.refs {
				if r.Role != Write && isCatalogRef(r) {
					st.CatalogQuery = true
				}
			}
			if st.CatalogQuery {
				st.Literals = introspectionLiterals(sql, start, end)
			}
		}
		a.Statements = append(a.Statements, st)
	}
	return a
}

// sortRefs puts references in text order and drops repeats: pg_query copies a shared subtree once per owner (the
// sub-select of UPDATE … SET (a, b) = (SELECT …) appears under each target column).
func sortRefs(refs []Reference) []Reference {
	sort.SliceStable(refs, func(x, y int) bool { return refs[x].Start < refs[y].Start })
	out := refs[:0]
	for _, r := range refs {
		if n := len(out); n > 0 && r.Start == out[n-1].Start && r.End == out[n-1].End && r.Role == out[n-1].Role &&
			slices.Equal(r.Normalized, out[n-1].Normalized) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// isCatalogRef reports whether a reference names an information_schema or pg_catalog relation, or an unqualified
// pg_* relation (which search_path resolves to pg_catalog first).
func isCatalogRef(r Reference) bool {
	n := r.Normalized
	switch len(n) {
	case 1:
		return strings.HasPrefix(n[0], "pg_")
	case 0:
		return false
	}
	s := n[len(n)-2]
	return s == "information_schema" || s == "pg_catalog"
}

// nodeMessage unwraps a Node (a oneof of every node type) to the message it holds.
func nodeMessage(n *pg_query.Node) proto.Message {
	if n == nil || n.Node == nil {
		return nil
	}
	m := n.ProtoReflect()
	od := m.Descriptor().Oneofs().Get(0)
	fd := m.WhichOneof(od)
	if fd == nil || fd.Kind() != protoreflect.MessageKind {
		return nil
	}
	return m.Get(fd).Message().Interface()
}

// walker collects the references (and column qualifiers) of one statement. scopes holds, per query level, the CTE names visible there.
type walker struct {
	sql                string
	stmt               int
	stmtStart, stmtEnd int
	refs               []Reference
	quals              []Reference
	schemas            []Reference
	objects            []Reference // Statement.Objects
	body               *Body       // Statement.Body
	settings           []Setting   // set_config calls
	scopes             [][]string
	// writeDefault makes plain RangeVars write targets (inside statements whose every relation is a target,
	// such as CREATE PUBLICATION … FOR TABLE).
	writeDefault bool
	// pin makes plain RangeVars pinned (the FROM items of a SELECT … FOR UPDATE/SHARE).
	pin bool
}

func (w *walker) cteVisible(name string) bool {
	for i := len(w.scopes) - 1; i >= 0; i-- {
		for _, n := range w.scopes[i] {
			if n == name {
				return true
			}
		}
	}
	return false
}

// nodes visits each node of a list.
func (w *walker) nodes(list []*pg_query.Node) {
	for _, n := range list {
		w.node(n)
	}
}

func (w *walker) node(n *pg_query.Node) {
	if n == nil || n.Node == nil {
		return
	}
	// The commonest leaves and wrappers are handled without reflection.
	switch x := n.Node.(type) {
	case *pg_query.Node_ColumnRef:
		w.columnRef(x.ColumnRef)
	case *pg_query.Node_AConst, *pg_query.Node_String_, *pg_query.Node_Integer,
		*pg_query.Node_ParamRef, *pg_query.Node_AStar, *pg_query.Node_TypeName, *pg_query.Node_Float,
		*pg_query.Node_Boolean, *pg_query.Node_BitString, *pg_query.Node_SqlvalueFunction,
		*pg_query.Node_SetToDefault, *pg_query.Node_DefElem:
		return
	case *pg_query.Node_RangeVar:
		w.rangeVar(x.RangeVar, w.role(), true)
	case *pg_query.Node_SelectStmt:
		w.selectStmt(x.SelectStmt)
	case *pg_query.Node_ResTarget:
		w.node(x.ResTarget.Val)
		w.nodes(x.ResTarget.Indirection)
	case *pg_query.Node_AExpr:
		w.node(x.AExpr.Lexpr)
		w.node(x.AExpr.Rexpr)
	case *pg_query.Node_BoolExpr:
		w.nodes(x.BoolExpr.Args)
	case *pg_query.Node_FuncCall:
		if s, ok := setConfig(w.sql, x.FuncCall); ok {
			w.settings = append(w.settings, s)
		}
		w.nodes(x.FuncCall.Args)
		w.nodes(x.FuncCall.AggOrder)
		w.node(x.FuncCall.AggFilter)
		w.visit(x.FuncCall.Over)
	case *pg_query.Node_TypeCast:
		w.node(x.TypeCast.Arg)
	case *pg_query.Node_SubLink:
		w.node(x.SubLink.Testexpr)
		w.node(x.SubLink.Subselect)
	case *pg_query.Node_JoinExpr:
		w.node(x.JoinExpr.Larg)
		w.node(x.JoinExpr.Rarg)
		w.node(x.JoinExpr.Quals)
	case *pg_query.Node_RangeSubselect:
		w.node(x.RangeSubselect.Subquery)
	case *pg_query.Node_SortBy:
		w.node(x.SortBy.Node)
	case *pg_query.Node_List:
		w.nodes(x.List.Items)
	case *pg_query.Node_CaseExpr:
		w.node(x.CaseExpr.Arg)
		w.nodes(x.CaseExpr.Args)
		w.node(x.CaseExpr.Defresult)
	case *pg_query.Node_CaseWhen:
		w.node(x.CaseWhen.Expr)
		w.node(x.CaseWhen.Result)
	case *pg_query.Node_NullTest:
		w.node(x.NullTest.Arg)
	case *pg_query.Node_CoalesceExpr:
		w.nodes(x.CoalesceExpr.Args)
	default:
		w.visit(nodeMessage(n))
	}
}

// role is the role of a RangeVar in a plain (read) position.
func (w *walker) role() Role {
	if w.writeDefault {
		return Write
	}
	if w.pin {
		return Pin
	}
	return Read
}

// visit dispatches on the message type: statements and clauses that give relations a role are handled by name;
// everything else is walked generically, so a RangeVar anywhere in an expression is found.
func (w *walker) visit(m proto.Message) {
	if m == nil || !m.ProtoReflect().IsValid() { // nil, or a typed nil pointer for an absent field
		return
	}
	switch x := m.(type) {
	case *pg_query.DropStmt, *pg_query.RenameStmt, *pg_query.AlterOwnerStmt, *pg_query.GrantStmt:
		if w.schemaStmt(x) {
			return
		}
	}
	if w.objectStmt(m) {
		return
	}
	switch x := m.(type) {
	case *pg_query.Node:
		w.node(x)
	case *pg_query.RangeVar:
		w.rangeVar(x, w.role(), true)
	case *pg_query.SelectStmt:
		w.selectStmt(x)
	case *pg_query.InsertStmt:
		w.withClause(x.WithClause, func() {
			w.rangeVar(x.Relation, Write, false)
			w.node(x.SelectStmt)
			w.visit(x.OnConflictClause)
			w.nodes(x.ReturningList)
		})
	case *pg_query.UpdateStmt:
		w.withClause(x.WithClause, func() {
			w.rangeVar(x.Relation, Write, false)
			w.nodes(x.TargetList)
			w.nodes(x.FromClause)
			w.node(x.WhereClause)
			w.nodes(x.ReturningList)
		})
	case *pg_query.DeleteStmt:
		w.withClause(x.WithClause, func() {
			w.rangeVar(x.Relation, Write, false)
			w.nodes(x.UsingClause)
			w.node(x.WhereClause)
			w.nodes(x.ReturningList)
		})
	case *pg_query.MergeStmt:
		w.withClause(x.WithClause, func() {
			w.rangeVar(x.Relation, Write, false)
			w.node(x.SourceRelation)
			w.node(x.JoinCondition)
			w.nodes(x.MergeWhenClauses)
		})
	case *pg_query.IntoClause:
		w.rangeVar(x.Rel, Write, false)
		w.node(x.ViewQuery)
	case *pg_query.CreateStmt:
		w.rangeVar(x.Relation, Write, false)
		for _, n := range x.InhRelations { // INHERITS / PARTITION OF: the parent's contents change
			if rv := n.GetRangeVar(); rv != nil {
				w.rangeVar(rv, Write, false)
			}
		}
		w.nodes(x.TableElts) // LIKE and REFERENCES name relations that are read
		w.nodes(x.Constraints)
	case *pg_query.CreateTableAsStmt:
		w.visit(x.Into)
		w.node(x.Query)
	case *pg_query.ViewStmt:
		w.rangeVar(x.View, Write, false)
		w.node(x.Query)
	case *pg_query.RefreshMatViewStmt:
		w.rangeVar(x.Relation, Write, false)
	case *pg_query.AlterTableStmt:
		w.rangeVar(x.Relation, Write, false)
		for _, c := range x.Cmds {
			cmd := c.GetAlterTableCmd()
			if cmd == nil {
				continue
			}
			switch {
			case cmd.Subtype == pg_query.AlterTableType_AT_AddInherit || cmd.Subtype == pg_query.AlterTableType_AT_DropInherit:
				w.rangeVar(cmd.Def.GetRangeVar(), Write, false)
			case cmd.Def.GetPartitionCmd() != nil:
				w.rangeVar(cmd.Def.GetPartitionCmd().Name, Write, false)
			default:
				w.node(cmd.Def)
			}
		}
	case *pg_query.RenameStmt:
		w.renameStmt(x)
	case *pg_query.AlterObjectSchemaStmt:
		w.setSchemaStmt(x)
	case *pg_query.DropStmt:
		w.dropStmt(x)
	case *pg_query.CommentStmt:
		w.commentStmt(x)
	case *pg_query.TruncateStmt:
		w.rangeVars(x.Relations, Write)
	case *pg_query.LockStmt:
		w.rangeVars(x.Relations, Write)
	case *pg_query.GrantStmt:
		if x.Targtype == pg_query.GrantTargetType_ACL_TARGET_OBJECT && isRelationType(x.Objtype) {
			w.rangeVars(x.Objects, Write)
		}
	case *pg_query.IndexStmt:
		w.rangeVar(x.Relation, Write, false)
		w.nodes(x.IndexParams)
		w.nodes(x.IndexIncludingParams)
		w.node(x.WhereClause)
	case *pg_query.CopyStmt:
		if x.IsFrom {
			w.rangeVar(x.Relation, Write, false)
		} else {
			w.rangeVar(x.Relation, Read, false)
		}
		w.node(x.Query)
		w.node(x.WhereClause)
	case *pg_query.CreateTrigStmt:
		w.rangeVar(x.Relation, Write, false)
		w.rangeVar(x.Constrrel, Read, false)
		w.node(x.WhenClause)
	case *pg_query.RuleStmt:
		w.rangeVar(x.Relation, Write, false)
		w.node(x.WhereClause)
		w.nodes(x.Actions)
	case *pg_query.CreatePolicyStmt:
		w.rangeVar(x.Table, Write, false)
		w.node(x.Qual)
		w.node(x.WithCheck)
	case *pg_query.AlterPolicyStmt:
		w.rangeVar(x.Table, Write, false)
		w.node(x.Qual)
		w.node(x.WithCheck)
	case *pg_query.VacuumRelation:
		w.rangeVar(x.Relation, Write, false)
	case *pg_query.ClusterStmt:
		w.rangeVar(x.Relation, Write, false)
	case *pg_query.ReindexStmt:
		w.rangeVar(x.Relation, Write, false)
	case *pg_query.CreateSeqStmt:
		w.rangeVar(x.Sequence, Write, false)
	case *pg_query.AlterSeqStmt:
		w.rangeVar(x.Sequence, Write, false)
	case *pg_query.CreateStatsStmt:
		w.rangeVars(x.Relations, Write)
	case *pg_query.AlterObjectDependsStmt:
		w.rangeVar(x.Relation, Write, false)
	case *pg_query.AlterOwnerStmt:
		w.rangeVar(x.Relation, Write, false)
	case *pg_query.CreatePublicationStmt, *pg_query.AlterPublicationStmt:
		prev := w.writeDefault
		w.writeDefault = true
		w.children(m.ProtoReflect())
		w.writeDefault = prev
	case *pg_query.LockingClause:
		// FOR UPDATE OF names FROM items (by alias), not relations.
	case *pg_query.Constraint:
		// FOREIGN KEY … REFERENCES t: PostgreSQL adds triggers to t, so t is pinned (never deferred, guarded).
		if x.Contype == pg_query.ConstrType_CONSTR_FOREIGN {
			w.rangeVar(x.Pktable, Pin, false)
			w.node(x.RawExpr)
			w.node(x.WhereClause)
			return
		}
		w.children(m.ProtoReflect())
	case *pg_query.ColumnRef:
		w.columnRef(x)
	case *pg_query.TypeName, *pg_query.A_Const, *pg_query.String, *pg_query.DefElem:
	default:
		w.children(m.ProtoReflect())
	}
}

// children walks every message-valued field of m.
func (w *walker) children(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind {
			return true
		}
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				w.visit(l.Get(i).Message().Interface())
			}
			return true
		}
		w.visit(v.Message().Interface())
		return true
	})
}

// selectStmt walks a SELECT (or VALUES, or set operation) with its CTE scope.
func (w *walker) selectStmt(s *pg_query.SelectStmt) {
	if s == nil {
		return
	}
	w.withClause(s.WithClause, func() {
		w.visit(s.IntoClause)
		w.nodes(s.DistinctClause)
		w.nodes(s.TargetList)
		w.fromClause(s.FromClause, s.LockingClause)
		w.node(s.WhereClause)
		w.nodes(s.GroupClause)
		w.node(s.HavingClause)
		w.nodes(s.WindowClause)
		w.nodes(s.ValuesLists)
		w.nodes(s.SortClause)
		w.node(s.LimitOffset)
		w.node(s.LimitCount)
		w.selectStmt(s.Larg)
		w.selectStmt(s.Rarg)
	})
}

// withClause walks the CTE bodies of wc with PostgreSQL's visibility rules, then runs body with all of them in
// scope. Without RECURSIVE a CTE sees only the CTEs before it (a later or its own name is a table); with
// RECURSIVE every CTE of the clause is visible in every body.
func (w *walker) withClause(wc *pg_query.WithClause, body func()) {
	if wc == nil {
		body()
		return
	}
	scope := make([]string, 0, len(wc.Ctes))
	if wc.Recursive {
		for _, n := range wc.Ctes {
			if c := n.GetCommonTableExpr(); c != nil {
				scope = append(scope, c.Ctename)
			}
		}
	}
	w.scopes = append(w.scopes, scope)
	top := len(w.scopes) - 1
	for _, n := range wc.Ctes {
		c := n.GetCommonTableExpr()
		if c == nil {
			continue
		}
		w.node(c.Ctequery)
		if !wc.Recursive {
			w.scopes[top] = append(w.scopes[top], c.Ctename)
		}
	}
	body()
	w.scopes = w.scopes[:top]
}

// columnRef records the relation part of a schema-qualified column reference (s.t.col, db.s.t.col, s.t.*).
func (w *walker) columnRef(c *pg_query.ColumnRef) {
	if c == nil || len(c.Fields) < 3 || len(c.Fields) > 4 {
		return
	}
	want := make([]string, 0, 3)
	for _, f := range c.Fields[:len(c.Fields)-1] {
		s := f.GetString_()
		if s == nil {
			return
		}
		want = append(want, s.Sval)
	}
	loc := int(c.Location)
	if loc < 0 || loc >= len(w.sql) {
		return
	}
	if sn, ok := nameAt(w.sql, loc, len(want)); ok && sn.matches(want) {
		n := len(w.refs)
		w.add(sn, want, Read)
		w.quals = append(w.quals, w.refs[n])
		w.refs = w.refs[:n]
	}
}

func (w *walker) rangeVars(list []*pg_query.Node, role Role) {
	for _, n := range list {
		if rv := n.GetRangeVar(); rv != nil {
			w.rangeVar(rv, role, false)
		} else {
			w.node(n)
		}
	}
}

// rangeVar records one RangeVar. cteCheck: an unqualified name matching a visible CTE is not a relation.
func (w *walker) rangeVar(rv *pg_query.RangeVar, role Role, cteCheck bool) {
	if rv == nil || rv.Relname == "" {
		return
	}
	if cteCheck && role != Write && rv.Schemaname == "" && rv.Catalogname == "" && w.cteVisible(rv.Relname) {
		return
	}
	want := make([]string, 0, 3)
	if rv.Catalogname != "" {
		want = append(want, rv.Catalogname)
	}
	if rv.Schemaname != "" || rv.Catalogname != "" {
		want = append(want, rv.Schemaname)
	}
	want = append(want, rv.Relname)
	loc := int(rv.Location)
	if loc >= 0 && loc < len(w.sql) {
		if sn, ok := nameAt(w.sql, loc, len(want)); ok && sn.matches(want) {
			w.add(sn, want, role)
			r := &w.refs[len(w.refs)-1]
			r.Aliased, r.Only = rv.Alias != nil, !rv.Inh
			return
		}
	}
	// The text does not show the name where the parser says (should not happen). A read is then left alone; a
	// write target is still reported, spanning its statement, so the write guard sees it.
	if role == Write {
		w.addUnlocated(want)
	}
}

// add records a reference scanned from the text; want are the parser's normalised parts.
func (w *walker) add(sn scannedName, want []string, role Role) {
	parts := sn.parts
	for k, u := range sn.unicode {
		if u { // U&"…": report the decoded name
			parts = append([]string(nil), parts...)
			parts[k] = want[k]
		}
	}
	w.refs = append(w.refs, Reference{
		Parts:      parts,
		Quoted:     sn.quoted,
		Normalized: want,
		Start:      sn.start,
		End:        sn.end,
		Role:       role,
		Statement:  w.stmt,
	})
}

// addUnlocated records a write target whose bytes could not be found; its span is the whole statement.
func (w *walker) addUnlocated(want []string) {
	quoted := make([]bool, len(want))
	for i, p := range want {
		quoted[i] = p != asciiLower(p)
	}
	w.refs = append(w.refs, Reference{
		Parts: want, Quoted: quoted, Normalized: want,
		Start: w.stmtStart, End: w.stmtEnd, Role: Write, Statement: w.stmt,
	})
}

// isRelationType reports whether objects of type t live in pg_class (and so can be deferred or guarded).
func isRelationType(t pg_query.ObjectType) bool {
	switch t {
	case pg_query.ObjectType_OBJECT_TABLE, pg_query.ObjectType_OBJECT_VIEW, pg_query.ObjectType_OBJECT_MATVIEW,
		pg_query.ObjectType_OBJECT_INDEX, pg_query.ObjectType_OBJECT_SEQUENCE, pg_query.ObjectType_OBJECT_FOREIGN_TABLE:
		return true
	}
	return false
}

// typeWords are the keywords naming a relation type in DROP and COMMENT ON.
func typeWords(t pg_query.ObjectType) []string {
	switch t {
	case pg_query.ObjectType_OBJECT_TABLE:
		return []string{"table"}
	case pg_query.ObjectType_OBJECT_VIEW:
		return []string{"view"}
	case pg_query.ObjectType_OBJECT_MATVIEW:
		return []string{"materialized", "view"}
	case pg_query.ObjectType_OBJECT_INDEX:
		return []string{"index"}
	case pg_query.ObjectType_OBJECT_SEQUENCE:
		return []string{"sequence"}
	case pg_query.ObjectType_OBJECT_FOREIGN_TABLE:
		return []string{"foreign", "table"}
	case pg_query.ObjectType_OBJECT_COLUMN:
		return []string{"column"}
	}
	return nil
}

// stringList returns the strings of a List node of String nodes (an any_name in the grammar).
func stringList(n *pg_query.Node) []string {
	l := n.GetList()
	if l == nil {
		return nil
	}
	out := make([]string, 0, len(l.Items))
	for _, it := range l.Items {
		s := it.GetString_()
		if s == nil {
			return nil
		}
		out = append(out, s.Sval)
	}
	return out
}

// dropStmt reports every relation of DROP TABLE/VIEW/… a, b, c. The tree holds the names without locations, so
// they are read from the text: DROP <type words> [CONCURRENTLY] [IF EXISTS] name [, name …].
func (w *walker) dropStmt(x *pg_query.DropStmt) {
	if !isRelationType(x.RemoveType) {
		return
	}
	words := append([]string{"drop"}, typeWords(x.RemoveType)...)
	if x.Concurrent {
		words = append(words, "concurrently")
	}
	if x.MissingOk {
		words = append(words, "if", "exists")
	}
	pos, ok := skipWords(w.sql, w.stmtStart, words...)
	for i, obj := range x.Objects {
		want := stringList(obj)
		if len(want) == 0 || len(want) > 3 { // PostgreSQL rejects more than db.schema.name before doing anything
			ok = false
			continue
		}
		if ok && i > 0 {
			pos, ok = punctAt(w.sql, pos, ',')
		}
		if ok {
			var sn scannedName
			sn, ok = nameAt(w.sql, skipSpace(w.sql, pos), len(want))
			if ok && sn.matches(want) {
				w.add(sn, want, Write)
				pos = sn.end
				continue
			}
			ok = false
		}
		w.addUnlocated(want)
	}
}

// commentStmt reports the relation of COMMENT ON TABLE/VIEW/…/COLUMN name IS '…' (for a column, the name without
// its last part).
func (w *walker) commentStmt(x *pg_query.CommentStmt) {
	isCol := x.Objtype == pg_query.ObjectType_OBJECT_COLUMN
	if !isRelationType(x.Objtype) && !isCol {
		return
	}
	full := stringList(x.Object)
	want := full
	if isCol {
		if len(full) < 2 {
			return
		}
		want = full[:len(full)-1]
	}
	if len(want) == 0 || len(want) > 3 { // not a relation name; PostgreSQL rejects it
		return
	}
	words := append([]string{"comment", "on"}, typeWords(x.Objtype)...)
	if pos, ok := skipWords(w.sql, w.stmtStart, words...); ok {
		if sn, ok := nameAt(w.sql, skipSpace(w.sql, pos), len(want)); ok && sn.matches(want) {
			w.add(sn, want, Write)
			return
		}
	}
	w.addUnlocated(want)
}

// renameStmt: ALTER … name RENAME TO newname renames a relation — both names are write targets; the new name is a
// bare string in the tree, found in the text after the old one. Other renames (columns, constraints, triggers…)
// alter the relation they belong to.
func (w *walker) renameStmt(x *pg_query.RenameStmt) {
	if x.Relation == nil {
		return
	}
	n := len(w.refs)
	w.rangeVar(x.Relation, Write, false)
	if !isRelationType(x.RenameType) || x.Newname == "" {
		return
	}
	want := []string{x.Newname}
	if len(w.refs) > n && w.refs[n].End <= w.stmtEnd && w.refs[n].Start != w.stmtStart {
		if pos, ok := skipWords(w.sql, w.refs[n].End, "rename", "to"); ok {
			if sn, ok := nameAt(w.sql, skipSpace(w.sql, pos), 1); ok && sn.matches(want) {
				w.add(sn, want, Write)
				return
			}
		}
	}
	w.addUnlocated(want)
}

// setSchemaStmt: ALTER … name SET SCHEMA s moves a relation into s. Besides the relation, the destination is
// reported as a write target [s, relname] spanning the schema name in the text, so the write guard sees a move
// into a production schema.
func (w *walker) setSchemaStmt(x *pg_query.AlterObjectSchemaStmt) {
	if x.Relation == nil {
		return
	}
	n := len(w.refs)
	w.rangeVar(x.Relation, Write, false)
	if !isRelationType(x.ObjectType) || x.Newschema == "" {
		return
	}
	want := []string{x.Newschema, x.Relation.Relname}
	if len(w.refs) > n && w.refs[n].Start != w.stmtStart {
		if pos, ok := skipWords(w.sql, w.refs[n].End, "set", "schema"); ok {
			if sn, ok := nameAt(w.sql, skipSpace(w.sql, pos), 1); ok && sn.matches(want[:1]) {
				parts := []string{sn.parts[0], x.Relation.Relname}
				if sn.unicode[0] {
					parts[0] = x.Newschema
				}
				w.refs = append(w.refs, Reference{
					Parts: parts, Quoted: []bool{sn.quoted[0], x.Relation.Relname != asciiLower(x.Relation.Relname)}, Normalized: want,
					Start: sn.start, End: sn.end, Role: Write, Statement: w.stmt,
				})
				return
			}
		}
	}
	w.addUnlocated(want)
}
