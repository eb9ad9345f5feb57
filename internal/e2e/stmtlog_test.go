package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v5"
)

// stmtLog reads the statements PostgreSQL logged (log_statement=all) between two marks. Runs are sequential, so the
// statements between a mark taken before a dbt invocation and one taken after belong to it (plus the proxy's own
// catalog queries, which name only pg_catalog relations and are filtered out).
type stmtLog struct {
	path string
	url  string // direct connection used to write markers
	seq  int
}

// mark writes a unique marker statement and waits until it is in the log, so that everything executed before it is
// too; it returns the log offset just past the marker.
func (l *stmtLog) mark(t testing.TB) int64 {
	t.Helper()
	l.seq++
	marker := fmt.Sprintf("e2e_mark_%d_%d", os.Getpid(), l.seq)
	execSQL(t, l.url, "select '"+marker+"'")
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(l.path)
		if err != nil {
			t.Fatalf("read statement log: %v", err)
		}
		if i := bytes.LastIndex(b, []byte(marker)); i >= 0 {
			if j := bytes.IndexByte(b[i:], '\n'); j >= 0 {
				return int64(i + j + 1)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("marker %s never reached the statement log %s", marker, l.path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// statements returns the logged statement texts between offsets from and to.
func (l *stmtLog) statements(t testing.TB, from, to int64) []string {
	t.Helper()
	b, err := os.ReadFile(l.path)
	if err != nil {
		t.Fatalf("read statement log: %v", err)
	}
	if to > int64(len(b)) {
		to = int64(len(b))
	}
	return parseStatementLog(b[from:to])
}

// parseStatementLog extracts statements from PostgreSQL's stderr-format log: an entry "…LOG:  statement: <sql>" or
// "…LOG:  execute <name>: <sql>", continued by lines starting with a tab.
func parseStatementLog(b []byte) []string {
	var out []string
	var cur *strings.Builder
	flush := func() {
		if cur != nil {
			out = append(out, cur.String())
			cur = nil
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		if cur != nil && strings.HasPrefix(line, "\t") {
			cur.WriteString("\n")
			cur.WriteString(line[1:])
			continue
		}
		flush()
		if i := strings.Index(line, "LOG:  statement: "); i >= 0 {
			cur = &strings.Builder{}
			cur.WriteString(line[i+len("LOG:  statement: "):])
			continue
		}
		if i := strings.Index(line, "LOG:  execute "); i >= 0 {
			rest := line[i+len("LOG:  execute "):]
			if j := strings.Index(rest, ": "); j >= 0 {
				cur = &strings.Builder{}
				cur.WriteString(rest[j+2:])
			}
		}
	}
	flush()
	return out
}

// namedRelations is the set of "schema.name" relations named (RangeVars, read or written) by the statements, limited
// to user schemas (not pg_catalog, information_schema or unqualified names). Statements pg_query cannot parse are reported in unparsed.
func namedRelations(stmts []string) (set map[string]bool, unparsed []string) {
	set = map[string]bool{}
	for _, s := range stmts {
		js, err := pg_query.ParseToJSON(s)
		if err != nil {
			unparsed = append(unparsed, s)
			continue
		}
		var tree any
		if err := json.Unmarshal([]byte(js), &tree); err != nil {
			unparsed = append(unparsed, s)
			continue
		}
		walkRangeVars(tree, func(schema, name string) {
			if schema != "" && schema != "information_schema" && !strings.HasPrefix(schema, "pg_") {
				set[schema+"."+name] = true
			}
		})
	}
	return set, unparsed
}

func walkRangeVars(v any, fn func(schema, name string)) {
	switch x := v.(type) {
	case map[string]any:
		// A RangeVar appears as {"RangeVar": {...}} where a Node is expected and bare (the fields only) in typed
		// positions such as IntoClause.rel or InsertStmt.relation: both carry "relname".
		if name, ok := x["relname"].(string); ok {
			schema, _ := x["schemaname"].(string)
			fn(schema, name)
		}
		for _, c := range x {
			walkRangeVars(c, fn)
		}
	case []any:
		for _, c := range x {
			walkRangeVars(c, fn)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
