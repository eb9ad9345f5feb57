package catalog

import (
	"errors"
	"fmt"
	"strings"
)

// A legacy snapshot's target_schema/target_database (dbt < 1.9 style, still common) bypasses generate_schema_name:
// dbt renders the config with the current target and uses the result verbatim. Most projects write it over the
// target — target_schema=target.schema ~ '_snapshots' — so the dev relation differs from production's, and using the
// production value verbatim would map the dev snapshot to nothing (docs/SPEC.md §3.3). This file evaluates the
// config for the dev target from what the manifest keeps of it.

// targetHow says how a snapshot's dev target config was found.
type targetHow int

const (
	// targetExact: the unrendered expression was evaluated over the dev target.
	targetExact targetHow = iota
	// targetLiteral: a constant, the same in every target.
	targetLiteral
	// targetInferred: only production's rendered value is known; it is production's target schema (or database)
	// plus a suffix, so the dev value is the dev target's plus the same suffix.
	targetInferred
)

// targetEnv is what a target config may refer to: the dev target, and production's target for inference.
type targetEnv struct {
	schema, database         string // the dev target ("" database: the session's)
	prodSchema, prodDatabase string // production's target, as its nodes without custom schema show it
}

// errUnsupportedExpr is wrapped when a config uses Jinja that deferproxy does not evaluate.
var errUnsupportedExpr = errors.New("unsupported Jinja expression")

// evalTargetConfig returns a snapshot's target_schema (attr "schema") or target_database (attr "database") for the
// dev target, from its unrendered form and production's rendered value.
func evalTargetConfig(attr, unrendered, rendered string, env targetEnv) (string, targetHow, error) {
	u := strings.TrimSpace(unrendered)
	switch {
	case strings.HasPrefix(u, "Keyword("):
		v, err := evalRepr(u, env)
		return v, targetExact, err
	case strings.Contains(u, "{{") || strings.Contains(u, "{%"):
		v, err := evalTemplate(u, env)
		return v, targetExact, err
	}
	// A plain value: a literal, or (without state_modified_compare_more_unrendered_values) production's rendered
	// value of a config() call. Production's target plus a suffix is read as an expression over the target.
	v := rendered
	if u != "" {
		v = u
	}
	prod, dev := env.prodSchema, env.schema
	if attr == "database" {
		prod, dev = env.prodDatabase, env.database
	}
	if prod != "" && strings.HasPrefix(v, prod) && (attr == "schema" || v == prod) {
		return dev + v[len(prod):], targetInferred, nil
	}
	return v, targetLiteral, nil
}

// evalTemplate renders a Jinja template made of text and {{ … }} expressions over target.schema, target.database
// and string literals joined with ~ (or +).
func evalTemplate(tmpl string, env targetEnv) (string, error) {
	if strings.Contains(tmpl, "{%") || strings.Contains(tmpl, "{#") {
		return "", fmt.Errorf("%w: %q uses Jinja statements", errUnsupportedExpr, tmpl)
	}
	var b strings.Builder
	rest := tmpl
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		b.WriteString(rest[:i])
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return "", fmt.Errorf("%w: %q has an unclosed {{", errUnsupportedExpr, tmpl)
		}
		v, err := evalJinjaExpr(strings.Trim(rest[i+2:i+j], " \t\n-"), env)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
		rest = rest[i+j+2:]
	}
}

// evalJinjaExpr evaluates term (~|+ term)*, a term being target.schema, target.database or a quoted string.
func evalJinjaExpr(expr string, env targetEnv) (string, error) {
	var b strings.Builder
	s := strings.TrimSpace(expr)
	for {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
			return "", fmt.Errorf("%w: %q", errUnsupportedExpr, expr)
		case s[0] == '\'' || s[0] == '"':
			end := strings.IndexByte(s[1:], s[0])
			if end < 0 || strings.Contains(s[1:1+end], `\`) {
				return "", fmt.Errorf("%w: %q", errUnsupportedExpr, expr)
			}
			b.WriteString(s[1 : 1+end])
			s = s[2+end:]
		default:
			n := 0
			for n < len(s) && (isJinjaNameByte(s[n]) || s[n] == '.') {
				n++
			}
			v, ok := env.attr(s[:n])
			if !ok {
				return "", fmt.Errorf("%w: %q (only target.schema, target.database, quoted strings and ~)", errUnsupportedExpr, expr)
			}
			b.WriteString(v)
			s = s[n:]
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return b.String(), nil
		}
		if s[0] != '~' && s[0] != '+' {
			return "", fmt.Errorf("%w: %q (only target.schema, target.database, quoted strings and ~)", errUnsupportedExpr, expr)
		}
		s = s[1:]
	}
}

func (e targetEnv) attr(name string) (string, bool) {
	switch name {
	case "target.schema":
		return e.schema, true
	case "target.database":
		return e.database, true
	}
	return "", false
}

// isJinjaNameByte reports whether c may be part of a Jinja (Python) name: ASCII letters, digits and '_'.
func isJinjaNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// evalRepr evaluates the Python repr of a config() call's keyword argument as dbt keeps it in unrendered_config
// when the project sets state_modified_compare_more_unrendered_values, e.g.
// Keyword(key='target_schema', value=Concat(nodes=[Getattr(node=Name(name='target', ctx='load'), attr='schema',
// ctx='load'), Const(value='_snapshots')])).
func evalRepr(repr string, env targetEnv) (string, error) {
	p := reprParser{s: repr}
	n, err := p.node()
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", errUnsupportedExpr, repr, err)
	}
	return n.eval(env)
}

// reprNode is one jinja2.nodes node of a repr: its class name and keyword fields.
type reprNode struct {
	class  string
	fields map[string]any // string, []any, *reprNode or a bare word (None, True)
}

func (n *reprNode) eval(env targetEnv) (string, error) {
	sub := func(key string) (string, error) {
		c, ok := n.fields[key].(*reprNode)
		if !ok {
			return "", fmt.Errorf("%w: %s without %s", errUnsupportedExpr, n.class, key)
		}
		return c.eval(env)
	}
	switch n.class {
	case "Keyword":
		return sub("value")
	case "Const":
		if v, ok := n.fields["value"].(string); ok {
			return v, nil
		}
	case "Getattr":
		name, _ := n.fields["node"].(*reprNode)
		attr, _ := n.fields["attr"].(string)
		if name != nil && name.class == "Name" && name.fields["name"] == "target" {
			if v, ok := env.attr("target." + attr); ok {
				return v, nil
			}
		}
	case "Concat":
		list, _ := n.fields["nodes"].([]any)
		var b strings.Builder
		for _, item := range list {
			c, ok := item.(*reprNode)
			if !ok {
				return "", fmt.Errorf("%w: Concat of %v", errUnsupportedExpr, item)
			}
			v, err := c.eval(env)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
		}
		return b.String(), nil
	case "Add":
		l, err := sub("left")
		if err != nil {
			return "", err
		}
		r, err := sub("right")
		return l + r, err
	}
	return "", fmt.Errorf("%w: %s", errUnsupportedExpr, n.class)
}

// reprParser reads Class(key=value, …) with values that are nodes, lists, quoted strings or bare words.
type reprParser struct {
	s   string
	pos int
}

func (p *reprParser) skip() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\n') {
		p.pos++
	}
}

func (p *reprParser) word() string {
	p.skip()
	start := p.pos
	for p.pos < len(p.s) && isJinjaNameByte(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos]
}

func (p *reprParser) expect(c byte) error {
	p.skip()
	if p.pos >= len(p.s) || p.s[p.pos] != c {
		return fmt.Errorf("want %q at offset %d", c, p.pos)
	}
	p.pos++
	return nil
}

func (p *reprParser) node() (*reprNode, error) {
	class := p.word()
	if class == "" {
		return nil, fmt.Errorf("want a node at offset %d", p.pos)
	}
	if err := p.expect('('); err != nil {
		return nil, err
	}
	n := &reprNode{class: class, fields: map[string]any{}}
	for {
		p.skip()
		if p.pos < len(p.s) && p.s[p.pos] == ')' {
			p.pos++
			return n, nil
		}
		key := p.word()
		if key == "" {
			return nil, fmt.Errorf("want a field name at offset %d", p.pos)
		}
		if err := p.expect('='); err != nil {
			return nil, err
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		n.fields[key] = v
		p.skip()
		if p.pos < len(p.s) && p.s[p.pos] == ',' {
			p.pos++
		}
	}
}

func (p *reprParser) value() (any, error) {
	p.skip()
	if p.pos >= len(p.s) {
		return nil, errors.New("unexpected end")
	}
	switch c := p.s[p.pos]; {
	case c == '\'' || c == '"':
		return p.str(c)
	case c == '[':
		p.pos++
		var list []any
		for {
			p.skip()
			if p.pos < len(p.s) && p.s[p.pos] == ']' {
				p.pos++
				return list, nil
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			list = append(list, v)
			p.skip()
			if p.pos < len(p.s) && p.s[p.pos] == ',' {
				p.pos++
			}
		}
	}
	start := p.pos
	w := p.word()
	if w == "" {
		return nil, fmt.Errorf("unexpected %q at offset %d", p.s[p.pos], p.pos)
	}
	p.skip()
	if p.pos < len(p.s) && p.s[p.pos] == '(' {
		p.pos = start
		return p.node()
	}
	return w, nil // None, True, a number
}

// str reads a Python string literal quoted with q, with backslash escapes of the quote and the backslash.
func (p *reprParser) str(q byte) (string, error) {
	var b strings.Builder
	for p.pos++; p.pos < len(p.s); p.pos++ {
		c := p.s[p.pos]
		switch {
		case c == '\\' && p.pos+1 < len(p.s):
			p.pos++
			b.WriteByte(p.s[p.pos])
		case c == q:
			p.pos++
			return b.String(), nil
		default:
			b.WriteByte(c)
		}
	}
	return "", errors.New("unterminated string")
}
