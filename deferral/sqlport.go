package deferral

import (
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
	a, err := p.cache.Analyze(sql)
	if err != nil {
		return &rewrite.Analysis{ParseError: err.Error(), Statements: []rewrite.Statement{{Start: 0, End: len(sql), Kind: "OTHER"}}}
	}
	return a
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
