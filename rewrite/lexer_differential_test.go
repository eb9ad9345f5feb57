package rewrite

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v5"

	"github.com/deferproxy/deferproxy/internal/corpus"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The differential test (SPEC §5.3): on every statement of the PostgreSQL regression corpus and of the stripe
// project's compiled SQL that pg_query parses, every read reference the lexer reports must also be one the parser
// reports — same span, same parts. The lexer may report fewer, never a wrong one.

// lexCorpusDir is the repository's test corpus (testdata/corpus).
func lexCorpusDir(t testing.TB) string { return corpus.Dir(t) }

// lexCorpusText is one SQL text of the corpus: a regression script (psql meta-commands and COPY data removed) or
// one compiled dbt node.
type lexCorpusText struct {
	name string
	sql  string
}

// lexRegressTexts reads the regression scripts. Lines starting with a backslash (psql meta-commands) are dropped,
// a trailing \g… ends the query like ';', and the data lines after COPY … FROM stdin up to \. are skipped.
func lexRegressTexts(t testing.TB) []lexCorpusText {
	t.Helper()
	var out []lexCorpusText
	for _, sc := range corpus.RegressScripts(t) {
		out = append(out, lexCorpusText{name: sc.Name, sql: sc.SQL})
	}
	return out
}

// lexStripeTexts returns the compiled SQL of every node of the stripe project's manifest.
func lexStripeTexts(t testing.TB) []lexCorpusText {
	t.Helper()
	path := filepath.Join(lexCorpusDir(t), "dbt", "stripe", "docs", "manifest.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read stripe manifest: %v", err)
	}
	var m struct {
		Nodes map[string]struct {
			CompiledCode string `json:"compiled_code"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	var out []lexCorpusText
	for id, n := range m.Nodes {
		if strings.TrimSpace(n.CompiledCode) != "" {
			out = append(out, lexCorpusText{name: id, sql: n.CompiledCode})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	if len(out) == 0 {
		t.Fatalf("no compiled_code in %s", path)
	}
	return out
}

// lexGoldenTexts returns the PostgreSQL inputs of the lexer's golden tests.
func lexGoldenTexts(t testing.TB) []lexCorpusText {
	files, err := filepath.Glob(filepath.Join("testdata", "lexer", "pg_*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/lexer/pg_*.sql: %v", err)
	}
	var out []lexCorpusText
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, lexCorpusText{name: f, sql: string(b)})
	}
	return out
}

// pgRef is a relation name as the parser reports it.
type pgRef struct {
	start, end int
	names      []string // the parser's (folded) name parts
}

// rangeVarRefs walks the parse tree for RangeVars and finds each name's end with pg_query's own scanner.
func rangeVarRefs(sql string, tree *pg_query.ParseResult) []pgRef {
	var rvs []*pg_query.RangeVar
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		if rv, ok := m.Interface().(*pg_query.RangeVar); ok {
			rvs = append(rvs, rv)
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					walk(l.Get(i).Message())
				}
			case fd.Message() != nil && !fd.IsMap():
				walk(v.Message())
			}
			return true
		})
	}
	walk(proto.Message(tree).ProtoReflect())
	if len(rvs) == 0 {
		return nil
	}
	scan, err := pg_query.Scan(sql)
	if err != nil {
		return nil
	}
	var out []pgRef
	for _, rv := range rvs {
		var names []string
		for _, p := range []string{rv.Catalogname, rv.Schemaname, rv.Relname} {
			if p != "" {
				names = append(names, p)
			}
		}
		end := -1
		for i, tok := range scan.Tokens {
			if int(tok.Start) != int(rv.Location) {
				continue
			}
			parts := 1
			end = int(tok.End)
			for j := i + 1; j+1 < len(scan.Tokens) && scan.Tokens[j].Token == pg_query.Token_ASCII_46; j += 2 {
				parts++
				end = int(scan.Tokens[j+1].End)
			}
			if parts != len(names) {
				end = -1
			}
			break
		}
		out = append(out, pgRef{start: int(rv.Location), end: end, names: names})
	}
	return out
}

// diffStats counts the differential test's outcomes.
type diffStats struct {
	texts, statements, parsed, unparsed  int
	pgAll                                int // every RangeVar
	lexReads, pgQualified, agreed        int // qualified reads
	lexAllReads, agreedAll               int // every read position, unqualified ones included (lexAnalyze's test mode)
	lexWrites, agreedWrites              int
	lexQuals, pgQuals, agreedQuals       int // column qualifiers
	lexSchemas, pgSchemas, agreedSchemas int // schemas acted on (Statement.Schemas)
	// Statement flags, on single statements both read: same Kind, same DDL flag, same CatalogQuery flag.
	kindTotal, kindSame, ddlSame, catalogSame int
	kindDiff                                  map[string]int
	wrong                                     []string
}

func (s *diffStats) String() string {
	return fmt.Sprintf("%d texts, %d lexer statements, %d parsed by pg_query (%d not); qualified reads: lexer %d, "+
		"Analyze %d, agreed %d; all read positions: lexer %d, agreed %d; "+
		"write targets: lexer %d, agreed %d; column qualifiers: lexer %d, Analyze %d, agreed %d; schemas: lexer %d, Analyze %d, agreed %d; "+
		"Analyze references in all %d; statements compared %d: same kind %d, same DDL flag %d, same catalog flag %d; wrong %d",
		s.texts, s.statements, s.parsed, s.unparsed, s.lexReads, s.pgQualified, s.agreed, s.lexAllReads, s.agreedAll,
		s.lexWrites, s.agreedWrites, s.lexQuals, s.pgQuals, s.agreedQuals, s.lexSchemas, s.pgSchemas, s.agreedSchemas, s.pgAll,
		s.kindTotal, s.kindSame, s.ddlSame, s.catalogSame, len(s.wrong))
}

// diffText compares the lexer with the parser on each statement of text: every reference LexAnalyze reports must
// be one Analyze reports (same span, parts, quoting, normalised parts and role). In its test mode the lexer also
// reports unqualified read names; each must be a RangeVar of the raw parse tree (CTE names included, which Analyze
// leaves out), which checks the lexer's read positions on the whole corpus rather than on its few qualified names.
func diffText(t *testing.T, st *diffStats, name, text string) {
	st.texts++
	a := LexAnalyze(text, Postgres)
	all := lexAnalyze(text, Postgres, true)
	if len(all.Statements) != len(a.Statements) {
		t.Fatalf("%s: %d statements, %d in test mode", name, len(a.Statements), len(all.Statements))
	}
	for si, ls := range a.Statements {
		st.statements++
		stmt := text[ls.Start:ls.End]
		pq, err := Analyze(stmt)
		if err != nil || !pq.Parsed || len(pq.Statements) == 0 {
			st.unparsed++
			continue
		}
		var refs []Reference
		for _, pst := range pq.Statements {
			refs = append(refs, pst.References...)
		}
		if len(pq.Statements) == 1 {
			ps := pq.Statements[0]
			st.kindTotal++
			if ps.Kind == ls.Kind {
				st.kindSame++
			} else {
				st.kindDiff[ls.Kind+" / "+ps.Kind]++
			}
			if ps.DDL == ls.DDL {
				st.ddlSame++
			}
			if ps.CatalogQuery == ls.CatalogQuery {
				st.catalogSame++
			} else if ls.CatalogQuery {
				st.wrong = append(st.wrong, fmt.Sprintf("%s stmt %d: lexer says catalog query, the parser does not\n%s", name, si, clip(stmt)))
			}
		}
		st.parsed++
		st.pgAll += len(refs)
		byStart := make(map[int]Reference, len(refs))
		for _, r := range refs {
			if len(r.Parts) >= 2 && r.Role == Read {
				st.pgQualified++
			}
			byStart[r.Start] = r
		}
		for _, r := range ls.References {
			p, found := byStart[r.Start-ls.Start]
			var problem string
			switch {
			case !found:
				problem = "is no parser reference"
			case p.End != r.End-ls.Start:
				problem = fmt.Sprintf("ends at %d, the parser's at %d", r.End-ls.Start, p.End)
			case !equalStrings(p.Parts, r.Parts) || !equalStrings(p.Normalized, r.Normalized) || fmt.Sprint(p.Quoted) != fmt.Sprint(r.Quoted):
				problem = fmt.Sprintf("has parts %q %q %v, the parser's %q %q %v", r.Parts, r.Normalized, r.Quoted, p.Parts, p.Normalized, p.Quoted)
			case p.Role != r.Role:
				problem = fmt.Sprintf("is a %s for the parser", p.Role)
			}
			if r.Role == Read {
				st.lexReads++
			} else {
				st.lexWrites++
			}
			if problem != "" {
				st.wrong = append(st.wrong, fmt.Sprintf("%s stmt %d: lexer %s %q at %d %s\n%s", name, si, r.Role, text[r.Start:r.End], r.Start-ls.Start, problem, clip(stmt)))
			} else if r.Role == Read {
				st.agreed++
			} else {
				st.agreedWrites++
			}
		}
		qualByStart := map[int]Reference{}
		for _, pst := range pq.Statements {
			for _, q := range pst.Qualifiers {
				qualByStart[q.Start] = q
			}
		}
		st.pgQuals += len(qualByStart)
		schemaByStart := map[int]Reference{}
		for _, pst := range pq.Statements {
			for _, q := range pst.Schemas {
				schemaByStart[q.Start] = q
			}
		}
		st.pgSchemas += len(schemaByStart)
		for _, q := range ls.Schemas {
			st.lexSchemas++
			p, found := schemaByStart[q.Start-ls.Start]
			if !found || p.End != q.End-ls.Start || !equalStrings(p.Parts, q.Parts) || !equalStrings(p.Normalized, q.Normalized) ||
				fmt.Sprint(p.Quoted) != fmt.Sprint(q.Quoted) || p.Role != q.Role {
				st.wrong = append(st.wrong, fmt.Sprintf("%s stmt %d: lexer schema %q at %d is not the parser's (%v %+v)\n%s",
					name, si, text[q.Start:q.End], q.Start-ls.Start, found, p, clip(stmt)))
				continue
			}
			st.agreedSchemas++
		}
		for _, q := range ls.Qualifiers {
			st.lexQuals++
			p, found := qualByStart[q.Start-ls.Start]
			if !found || p.End != q.End-ls.Start || !equalStrings(p.Parts, q.Parts) || !equalStrings(p.Normalized, q.Normalized) ||
				fmt.Sprint(p.Quoted) != fmt.Sprint(q.Quoted) {
				st.wrong = append(st.wrong, fmt.Sprintf("%s stmt %d: lexer column qualifier %q at %d is not the parser's (%v %+v)\n%s",
					name, si, text[q.Start:q.End], q.Start-ls.Start, found, p, clip(stmt)))
				continue
			}
			st.agreedQuals++
		}
		var rvs []pgRef
		if tree, err := pg_query.Parse(stmt); err == nil {
			rvs = rangeVarRefs(stmt, tree)
		}
		for _, r := range all.Statements[si].References {
			if r.Role != Read {
				continue
			}
			st.lexAllReads++
			ok := false
			for _, p := range rvs {
				if p.start == r.Start-ls.Start && p.end == r.End-ls.Start && equalStrings(p.names, r.Normalized) {
					ok = true
					break
				}
			}
			if ok {
				st.agreedAll++
			} else {
				st.wrong = append(st.wrong, fmt.Sprintf("%s stmt %d: lexer read position %q at %d is no RangeVar\n%s", name, si, text[r.Start:r.End], r.Start-ls.Start, clip(stmt)))
			}
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

func TestLexerDifferential(t *testing.T) {
	for _, c := range []struct {
		corpus string
		texts  func(testing.TB) []lexCorpusText
	}{
		{"pg-regress", lexRegressTexts},
		{"stripe", lexStripeTexts},
		{"lexer goldens", lexGoldenTexts},
	} {
		t.Run(c.corpus, func(t *testing.T) {
			st := diffStats{kindDiff: map[string]int{}}
			for _, x := range c.texts(t) {
				diffText(t, &st, x.name, x.sql)
			}
			t.Logf("%s: %s", c.corpus, &st)
			t.Logf("%s: kinds that differ (lexer / parser): %v", c.corpus, st.kindDiff)
			fmt.Printf("lexer differential %s: %s\n", c.corpus, &st)
			for i, w := range st.wrong {
				if i == 300 {
					t.Errorf("… and %d more", len(st.wrong)-20)
					break
				}
				t.Error(w)
			}
			if st.parsed == 0 || st.agreed == 0 {
				t.Errorf("nothing compared: %s", &st)
			}
		})
	}
}
