package deferral

import (
	"strings"

	"github.com/deferproxy/deferproxy/rewrite"
)

// sqlPort is the engine's access to rewrite/: the shared analysis cache and the rewriter.
type sqlPort struct{}

func newSQLPort() *sqlPort { return &sqlPort{} }

// analyze returns the (shared, immutable) analysis of sql. Text the server could not accept either (a NUL byte)
// is reported as not parsed, which fails open for reads and closed for writes.
func (p *sqlPort) analyze(sql string) *rewrite.Analysis {
	a, err := rewrite.Analyze(sql)
	if err != nil {
		return &rewrite.Analysis{ParseError: err.Error(), Statements: []rewrite.Statement{{Start: 0, End: len(sql), Kind: "OTHER"}}}
	}
	return a
}

// rewrite swaps the read references r asks for.
func (p *sqlPort) rewrite(sql string, an *rewrite.Analysis, r rewrite.Resolver) (rewrite.Result, error) {
	return rewrite.Rewrite(sql, an, r)
}

// prefilter answers "can this text name one of these schemas?" without parsing.
type prefilter struct {
	names map[string]struct{}
	lower []string
}

func (p *sqlPort) newPrefilter(names []string) prefilter {
	pf := prefilter{names: map[string]struct{}{}}
	for _, n := range names {
		pf.names[n] = struct{}{}
		pf.lower = append(pf.lower, strings.ToLower(n))
	}
	return pf
}

func (f prefilter) match(sql string) bool {
	for _, n := range f.lower {
		if containsFold(sql, n) {
			return true
		}
	}
	return false
}

// has reports whether schema is one of the filter's schemas.
func (f prefilter) has(schema string) bool {
	_, ok := f.names[schema]
	return ok
}

func containsFold(s, lower string) bool {
	if lower == "" {
		return false
	}
	c0 := lower[0]
	u0 := c0
	if c0 >= 'a' && c0 <= 'z' {
		u0 = c0 - 32
	}
	for i := 0; i+len(lower) <= len(s); i++ {
		if (s[i] == c0 || s[i] == u0) && strings.EqualFold(s[i:i+len(lower)], lower) {
			return true
		}
	}
	return false
}
