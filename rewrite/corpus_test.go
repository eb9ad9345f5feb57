package rewrite

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v5"

	"github.com/deferproxy/deferproxy/internal/corpus"
)

// corpusDir is the repository's test corpus (testdata/corpus).
func corpusDir(t testing.TB) string { return corpus.Dir(t) }

// corpusStatement is one statement of a regression script.
type corpusStatement struct {
	file string // path relative to pg-regress/
	idx  int    // statement index within the file
	sql  string
}

// corpusStatements reads every .sql file under pg-regress: psql meta-command lines and COPY … FROM stdin data
// are dropped, the rest is split with pg_query's scanner-based splitter.
func corpusStatements(t testing.TB) []corpusStatement {
	t.Helper()
	var out []corpusStatement
	for _, sc := range corpus.RegressScripts(t) {
		rel := sc.Name
		stmts, err := pg_query.SplitWithScanner(sc.SQL, true)
		if err != nil { // the scanner rejects a few PG 17 literals; split like psql does instead
			stmts = splitLikePsql(sc.SQL)
		}
		for i, s := range stmts {
			if strings.TrimSpace(s) == "" {
				continue
			}
			out = append(out, corpusStatement{file: rel, idx: i, sql: s})
		}
	}
	return out
}

// zzProd sends every read reference to schema zz_prod, keeping the number of parts (an unqualified name becomes
// zz_prod.name).
type zzProd struct{}

func (zzProd) Resolve(ref Reference) ([]string, bool) {
	n := ref.Normalized
	switch len(n) {
	case 1:
		return []string{"zz_prod", n[0]}, true
	case 2:
		return []string{"zz_prod", n[1]}, true
	default:
		return []string{n[0], "zz_prod", n[2]}, true
	}
}

// checkRewrite checks properties 1–4 of issue 3 for one statement and returns a description of the first
// violation ("" when all hold). Property 5 (no panic) is the caller's recover.
func checkRewrite(sql string, r Resolver) (string, *Analysis) {
	a, err := Analyze(sql)
	if err != nil {
		return "", nil
	}
	res, err := Rewrite(sql, a, r)
	if err != nil {
		return "rewrite error: " + err.Error(), a
	}
	if !a.Parsed {
		return "", a
	}
	// 1. The output parses.
	outJSON, err := pg_query.ParseToJSON(res.SQL)
	if err != nil {
		return fmt.Sprintf("output does not parse: %v\n%s", err, res.SQL), a
	}
	inJSON, err := pg_query.ParseToJSON(sql)
	if err != nil {
		return "input does not parse with ParseToJSON: " + err.Error(), a
	}
	// 2. Its tree equals the input's except the schema (and catalog, when a one-part name was qualified) of the
	// swapped read RangeVars.
	swapped := map[int][]string{}
	for _, d := range res.Deferrals {
		parts, _ := r.Resolve(d.Ref)
		swapped[d.Ref.Start] = parts
	}
	var in, out any
	if err := json.Unmarshal([]byte(inJSON), &in); err != nil {
		return err.Error(), a
	}
	if err := json.Unmarshal([]byte(outJSON), &out); err != nil {
		return err.Error(), a
	}
	applied := map[int]bool{}
	// A RangeVar is an object with a relname, wrapped ({"RangeVar": {…}}) or not (InsertStmt.relation).
	in = editTree(in, func(m map[string]any) {
		if _, ok := m["relname"]; !ok {
			return
		}
		if parts, ok := swapped[jsonInt(m["location"])]; ok {
			applied[jsonInt(m["location"])] = true
			delete(m, "catalogname")
			if len(parts) == 3 {
				m["catalogname"] = parts[0]
			}
			m["schemaname"] = parts[len(parts)-2]
			m["relname"] = parts[len(parts)-1]
		}
	})
	// Column qualifiers rewritten along with them: the ColumnRef's leading String fields.
	requal := map[int]string{}
	for _, q := range res.Requalified {
		requal[q.Ref.Start] = q.To
	}
	requalApplied := 0
	in = editTree(in, func(m map[string]any) {
		fields, ok := m["fields"].([]any)
		if !ok {
			return
		}
		to, ok := requal[jsonInt(m["location"])]
		if !ok {
			return
		}
		sn, ok := nameAt(to, 0, len(fields)-1)
		if !ok {
			return
		}
		for i := 0; i < len(fields)-1; i++ {
			fields[i] = map[string]any{"String": map[string]any{"sval": normalizePart(sn.parts[i], sn.quoted[i], Postgres)}}
		}
		requalApplied++
	})
	if requalApplied != len(res.Requalified) {
		return fmt.Sprintf("%d requalified column references but %d found in the tree", len(res.Requalified), requalApplied), a
	}
	if len(applied) != len(res.Deferrals) {
		return fmt.Sprintf("%d deferrals but %d swapped RangeVars found in the tree", len(res.Deferrals), len(applied)), a
	}
	in, out = stripLocations(in), stripLocations(out)
	if !reflect.DeepEqual(in, out) {
		ij, _ := json.Marshal(in)
		oj, _ := json.Marshal(out)
		return fmt.Sprintf("trees differ beyond the swapped schemas\nin:  %s\nout: %s\nsql: %s", ij, oj, res.SQL), a
	}
	// 3. No write target changed.
	b, err := Analyze(res.SQL)
	if err != nil || !b.Parsed {
		return "output analysis failed", a
	}
	if got, want := writeTargets(b), writeTargets(a); !reflect.DeepEqual(got, want) {
		return fmt.Sprintf("write targets changed: %v -> %v", want, got), a
	}
	// 4. Every byte outside the edited spans is identical.
	prevIn, prevOut := 0, 0
	edits := append(append([]Deferral(nil), res.Deferrals...), res.Requalified...)
	sort.Slice(edits, func(i, j int) bool { return edits[i].Ref.Start < edits[j].Ref.Start })
	for _, d := range edits {
		seg := sql[prevIn:d.Ref.Start]
		if !strings.HasPrefix(res.SQL[prevOut:], seg) {
			return fmt.Sprintf("bytes outside edits changed before offset %d", d.Ref.Start), a
		}
		prevOut += len(seg)
		if !strings.HasPrefix(res.SQL[prevOut:], d.To) {
			return "edit text not where expected", a
		}
		prevOut += len(d.To)
		prevIn = d.Ref.End
	}
	if res.SQL[prevOut:] != sql[prevIn:] {
		return "bytes after the last edit changed", a
	}
	return "", a
}

func writeTargets(a *Analysis) [][]string {
	var out [][]string
	for _, s := range a.Statements {
		for _, r := range s.References {
			if r.Role == Write {
				p := append([]string{}, r.Parts...)
				for i, q := range r.Quoted {
					if q {
						p[i] = `"` + p[i] + `"`
					}
				}
				out = append(out, p)
			}
		}
	}
	return out
}

func jsonInt(v any) int {
	if f, ok := v.(float64); ok {
		return int(f)
	}
	return 0 // pg_query omits zero values
}

// editTree calls f on every JSON object of v.
func editTree(v any, f func(map[string]any)) any {
	switch x := v.(type) {
	case map[string]any:
		f(x)
		for k, c := range x {
			x[k] = editTree(c, f)
		}
	case []any:
		for i, c := range x {
			x[i] = editTree(c, f)
		}
	}
	return v
}

// stripLocations removes every byte position from a JSON parse tree.
func stripLocations(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if k == "location" || k == "stmt_location" || k == "stmt_len" {
				delete(x, k)
				continue
			}
			x[k] = stripLocations(c)
		}
	case []any:
		for i, c := range x {
			x[i] = stripLocations(c)
		}
	}
	return v
}

// rangeVarLocations returns the locations of every RangeVar of a JSON parse tree that names a relation (not the
// FOR UPDATE OF list, not SQL-standard function bodies), and the CTE names of the tree.
func rangeVarLocations(v any) (locs []int, ctes map[string]bool, names map[int]string) {
	ctes = map[string]bool{}
	names = map[int]string{}
	var walk func(v any, key string)
	walk = func(v any, key string) {
		switch x := v.(type) {
		case map[string]any:
			if key == "lockingClause" || key == "sql_body" {
				return
			}
			if _, ok := x["CreateFunctionStmt"]; ok {
				return
			}
			if _, ok := x["DoStmt"]; ok {
				return
			}
			if n, ok := x["ctename"].(string); ok {
				ctes[n] = true
			}
			if rel, ok := x["relname"].(string); ok && rel != "" {
				if _, isRTE := x["inh"]; isRTE || x["relpersistence"] != nil {
					l := jsonInt(x["location"])
					locs = append(locs, l)
					if x["schemaname"] == nil && x["catalogname"] == nil {
						names[l] = rel
					}
				}
			}
			for k, c := range x {
				walk(c, k)
			}
		case []any:
			for _, c := range x {
				walk(c, key)
			}
		}
	}
	walk(v, "")
	return locs, ctes, names
}

func TestCorpusProperties(t *testing.T) {
	stmts := corpusStatements(t)
	var unparseable []string
	var nStmts, nRefs, nReads, nWrites, nDeferred, nFailed, nQuals, nSchemas int
	for _, cs := range stmts {
		if _, err := pg_query.Parse(cs.sql); err != nil {
			unparseable = append(unparseable, fmt.Sprintf("%s:%d\t%s", cs.file, cs.idx, oneLine(cs.sql, 70)))
			continue
		}
		var msg string
		var a *Analysis
		func() {
			defer func() {
				if p := recover(); p != nil {
					msg = fmt.Sprintf("panic: %v", p) // 5. no panic
				}
			}()
			msg, a = checkRewrite(cs.sql, zzProd{})
		}()
		if msg == "" && a != nil {
			msg = checkComplete(cs.sql, a)
		}
		if msg != "" {
			nFailed++
			if nFailed <= 30 {
				t.Errorf("%s statement %d: %s\n%s", cs.file, cs.idx, msg, cs.sql)
			}
			continue
		}
		for _, s := range a.Statements {
			nStmts++
			nQuals += len(s.Qualifiers)
			nSchemas += len(s.Schemas)
			for _, r := range s.References {
				// The prefilter for a reference's schema matches its statement (no false negatives).
				if len(r.Normalized) >= 2 && !NewPrefilter(r.Normalized[len(r.Normalized)-2:len(r.Normalized)-1]).Match(cs.sql) {
					t.Errorf("%s statement %d: prefilter for schema %q does not match", cs.file, cs.idx, r.Normalized[len(r.Normalized)-2])
				}
				nRefs++
				if r.Role == Read {
					nReads++
					nDeferred++
				} else {
					nWrites++
				}
			}
		}
	}
	if nFailed > 30 {
		t.Errorf("%d statements failed in all (first 30 shown)", nFailed)
	}
	t.Logf("corpus: %d split statements, %d parsed statements, %d unparseable, %d references (%d read, %d write), %d reads swapped to zz_prod, %d column qualifiers, %d schema targets",
		len(stmts), nStmts, len(unparseable), nRefs, nReads, nWrites, nDeferred, nQuals, nSchemas)
	checkUnparseableList(t, unparseable)
}

// checkComplete checks that every RangeVar naming a relation was reported, unless a CTE of that name exists in the
// statement (the walker's scoping decides those; the golden tests pin them down).
func checkComplete(sql string, a *Analysis) string {
	js, err := pg_query.ParseToJSON(sql)
	if err != nil {
		return ""
	}
	var tree any
	if err := json.Unmarshal([]byte(js), &tree); err != nil {
		return err.Error()
	}
	locs, ctes, names := rangeVarLocations(tree)
	found := map[int]bool{}
	for _, s := range a.Statements {
		for _, r := range s.References {
			found[r.Start] = true
		}
		for _, r := range s.Objects { // CREATE TYPE t AS (…): the RangeVar names a type (Statement.Objects)
			found[r.Start] = true
		}
	}
	for _, l := range locs {
		if found[l] {
			continue
		}
		if n, ok := names[l]; ok && ctes[n] {
			continue
		}
		return fmt.Sprintf("RangeVar at byte %d (%q…) not reported", l, oneLine(sql[l:], 30))
	}
	return ""
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n]
	}
	return s
}

// checkUnparseableList compares the statements pg_query v5 cannot parse with testdata/corpus_unparseable.txt.
func checkUnparseableList(t *testing.T, got []string) {
	t.Helper()
	path := filepath.Join("testdata", "corpus_unparseable.txt")
	body := "# Corpus statements pg_query v5 (PostgreSQL 16 grammar) cannot parse: deliberate syntax errors, PG 17\n" +
		"# syntax, psql variables. <file>:<statement index>\t<start of statement>. Regenerate with -update.\n" +
		strings.Join(got, "\n") + "\n"
	if *update {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v (run go test -run TestCorpusProperties -update)", path, err)
	}
	if string(want) != body {
		t.Errorf("the statements pg_query cannot parse differ from %s; inspect and rerun with -update", path)
	}
}

// splitLikePsql splits at semicolons outside quotes, comments, dollar quotes and parentheses, as psql does.
func splitLikePsql(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '-' && i+1 < len(s) && s[i+1] == '-', c == '/' && i+1 < len(s) && s[i+1] == '*':
			i = skipSpace(s, i)
		case c == '\'':
			i = skipString(s, i, i > 0 && (s[i-1] == 'e' || s[i-1] == 'E'))
		case c == '"':
			if _, e, ok := quotedAt(s, i); ok {
				i = e
			} else {
				i = len(s)
			}
		case c == '$':
			if e, ok := dollarQuoteEnd(s, i); ok {
				i = e
			} else {
				i++
			}
		case c == '(':
			depth++
			i++
		case c == ')':
			depth--
			i++
		case c == ';' && depth <= 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			depth = 0
			i++
			start = i
		default:
			i++
		}
	}
	if strings.TrimSpace(s[start:]) != "" {
		out = append(out, strings.TrimSpace(s[start:]))
	}
	return out
}
