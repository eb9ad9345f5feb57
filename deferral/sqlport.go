package deferral

import (
	"fmt"
	"strings"

	"github.com/deferproxy/deferproxy/rewrite"
)

// sqlPort is the engine's access to rewrite/: the shared analysis cache and the rewriter.
type sqlPort struct {
	cache *rewrite.Cache
}

// analysisCacheSize bounds the shared analysis cache (statements; dbt and BI tools repeat a few thousand at most).
const analysisCacheSize = 8192

func newSQLPort() *sqlPort { return &sqlPort{cache: rewrite.NewCache(analysisCacheSize)} }

// analyze returns the (shared, immutable) analysis of sql. Text the server could not accept either (a NUL byte)
// is reported as not parsed, which fails open for reads and closed for writes.
func (p *sqlPort) analyze(sql string) *rewrite.Analysis {
	if len(sql) > MaxAnalyzedText {
		return bigAnalysis(sql)
	}
	a, err := p.cache.Analyze(sql)
	if err != nil {
		return &rewrite.Analysis{ParseError: err.Error(), Statements: []rewrite.Statement{{Start: 0, End: len(sql), Kind: "OTHER"}}}
	}
	return a
}

// MaxAnalyzedText is the largest statement text the engine parses (SPEC §6): pg_query's parse tree and the walk
// cost about 35 times the text (a 1 MiB IN list, 39 MB and 2.6 s; BenchmarkHookHugeStatement), so a longer text is
// read by the lexer alone, at about twice its size, and treated as unparsed: a read passes unchanged (not deferred)
// with the session's one WARNING, a write whose target is a production relation — or that names a production schema
// where its target cannot be read — is refused. The guard never fails open.
const MaxAnalyzedText = 1 << 20

// bigAnalysis is the analysis of a text over MaxAnalyzedText: the lexer's, marked unparsed with the reason.
func bigAnalysis(sql string) *rewrite.Analysis {
	if strings.IndexByte(sql, 0) >= 0 {
		return &rewrite.Analysis{ParseError: "text contains a NUL byte; PostgreSQL query strings cannot", Statements: []rewrite.Statement{{Start: 0, End: len(sql), Kind: "OTHER"}}}
	}
	a := rewrite.LexAnalyze(sql, rewrite.Postgres)
	if a == nil {
		a = &rewrite.Analysis{Statements: []rewrite.Statement{{Start: 0, End: len(sql), Kind: "OTHER"}}}
	}
	a.Parsed = false
	a.ParseError = fmt.Sprintf("a statement of %d bytes is over the %d bytes deferproxy parses: it is read for writes only and not deferred", len(sql), MaxAnalyzedText)
	return a
}

// analyzeIn returns the analysis of sql in dialect d: PostgreSQL text is parsed (analyze), Snowflake text is read by
// the lexer, its only reader (SPEC §11).
func (p *sqlPort) analyzeIn(sql string, d rewrite.Dialect) *rewrite.Analysis {
	if d == rewrite.Snowflake {
		return p.cache.Lex(sql, d)
	}
	return p.analyze(sql)
}

// readable reports whether the read references of an analysis may be decided and rewritten: pg_query parsed the
// text, or it is Snowflake SQL, whose reader is the lexer (SPEC §11). PostgreSQL text the parser rejected is
// forwarded unchanged: its lexer references serve only the write guard (SPEC §5.3).
func readable(an *rewrite.Analysis) bool {
	return an.Parsed || an.Dialect == rewrite.Snowflake
}

// prefilter answers "can this text name one of these schemas?" without parsing (rewrite.Prefilter), and knows the
// schema names themselves (for search_path checks).
type prefilter struct {
	names map[string]struct{}
	pf    *rewrite.Prefilter
}

func (p *sqlPort) newPrefilter(names []string) prefilter {
	// Besides the schema names, the words of statements that can write production without naming a production
	// schema: a DO block's EXECUTE of SQL built at run time, ALTER DEFAULT PRIVILEGES of every schema (SPEC §6).
	// A text holding one goes to the write guard; a false positive costs one (cached) parse.
	words := append(append(make([]string, 0, len(names)+2), names...), "execute", "privileges")
	f := prefilter{names: make(map[string]struct{}, len(names)), pf: rewrite.NewPrefilter(words)}
	for _, n := range names {
		f.names[n] = struct{}{}
	}
	return f
}

func (f prefilter) match(sql string) bool { return f.pf.Match(sql) }

// has reports whether schema is one of the filter's schemas.
func (f prefilter) has(schema string) bool {
	_, ok := f.names[schema]
	return ok
}
