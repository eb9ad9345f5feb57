package rewrite

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v5"
)

// Literal shapes let statements that differ only in literal values share one parse. Clients that inline their
// values — psycopg2 (dbt-postgres) interpolates parameters client-side, BI tools inline filter values, pgbench -M
// simple — send a new text for every execution, so the exact-text cache never hits and every statement would pay a
// full pg_query parse (≈ 20 µs for a one-line SELECT).
//
// A text's shape is the text with each plain string literal ('…'), each integer of up to nine digits and each
// decimal or exponent number replaced by a two-byte marker (NUL and s, i or f, the token class PostgreSQL's scanner
// gives it: SCONST, ICONST, FCONST). Two texts with one shape are the same token sequence but for the values of
// those constants, and PostgreSQL's grammar does not look at a constant's value to decide the structure around it,
// so their analyses are the same but for byte offsets, which move by the difference in literal lengths before them.
// References never lie inside a literal (the analysis skips A_Const subtrees), so shifting is exact.
//
// A shape is only ever recorded from a text pg_query parsed, and only when pg_query's own scanner (pg_query.Scan)
// finds constants exactly where literalShape put its markers, so a disagreement between the two scanners (adjacent
// string literals that PostgreSQL joins, a number form it reads differently) means no shape, never a wrong one.
// What the shape cannot know is a parse-time check of a constant's value (float(0), an over-long UESCAPE); a text
// that fails only that way gets the analysis of its shape's first text, and its names may be rewritten in a
// statement the server then rejects with the same error it would have given unrewritten.

// litSpan is the byte span of one literal replaced in a shape.
type litSpan struct{ start, end int }

// literalShape returns the shape key of sql and the spans of the literals it replaced. ok is false when sql has no
// such literal (the exact-text cache is enough) or cannot be shaped (a NUL byte, which is no SQL text).
func literalShape(sql string) (key string, lits []litSpan, ok bool) {
	if strings.IndexByte(sql, 0) >= 0 {
		return "", nil, false
	}
	s := scanner{src: sql, dialect: Postgres}
	var b []byte
	last := 0
	for {
		t := s.next()
		if t.kind == tkEOF {
			break
		}
		var mark byte
		switch t.kind {
		case tkWord:
			if t.end-t.start == len("uescape") && strings.EqualFold(sql[t.start:t.end], "uescape") {
				return "", nil, false // U&'…' UESCAPE '…': the escape literal's value is checked by the parser
			}
		case tkString:
			if plainString(sql[t.start:t.end]) {
				mark = 's'
			}
		case tkNumber:
			if t.end == len(sql) || !isIdentCont(sql[t.end]) {
				mark = numberClass(sql[t.start:t.end])
			}
		}
		if mark == 0 {
			continue
		}
		if b == nil {
			b = make([]byte, 0, len(sql))
		}
		b = append(b, sql[last:t.start]...)
		b = append(b, 0, mark)
		last = t.end
		lits = append(lits, litSpan{t.start, t.end})
	}
	if len(lits) == 0 {
		return "", nil, false
	}
	b = append(b, sql[last:]...)
	return string(b), lits, true
}

// plainString reports whether t is a complete '…' literal (” inside is a quote; no prefix, no backslash escapes
// under standard_conforming_strings).
func plainString(t string) bool {
	if len(t) < 2 || t[0] != '\'' {
		return false
	}
	for i := 1; i < len(t); i++ {
		if t[i] != '\'' {
			continue
		}
		if i+1 < len(t) && t[i+1] == '\'' {
			i++
			continue
		}
		return i == len(t)-1
	}
	return false // unterminated
}

// numberClass returns 'i' for an integer PostgreSQL always scans as ICONST (up to nine digits: it fits int32), 'f'
// for a decimal or exponent form (FCONST), and 0 for anything else (long integers, which may be either; 0x…, 1_000
// and other forms are kept verbatim in the shape).
func numberClass(t string) byte {
	digits := func(i int) int {
		j := i
		for j < len(t) && t[j] >= '0' && t[j] <= '9' {
			j++
		}
		return j
	}
	i := digits(0)
	intDigits := i
	if i == len(t) {
		if intDigits >= 1 && intDigits <= 9 {
			return 'i'
		}
		return 0
	}
	if t[i] == '.' {
		j := digits(i + 1)
		if intDigits == 0 && j == i+1 {
			return 0 // a lone '.'
		}
		i = j
	} else if intDigits == 0 {
		return 0
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return 0
		}
		i = j
	}
	if i != len(t) {
		return 0
	}
	return 'f'
}

// shapeAgrees reports whether pg_query's scanner finds a constant of the marked class exactly at each of lits.
func shapeAgrees(sql string, lits []litSpan) bool {
	res, err := pg_query.Scan(sql)
	if err != nil {
		return false
	}
	i := 0
	for _, tk := range res.Tokens {
		if i == len(lits) {
			break
		}
		start, end := int(tk.Start), int(tk.End)
		if start > lits[i].start {
			return false // no PostgreSQL token starts where this literal does
		}
		if start < lits[i].start {
			if end > lits[i].start {
				return false // a PostgreSQL token spans the literal's start
			}
			continue
		}
		if end != lits[i].end {
			return false
		}
		var want pg_query.Token
		switch numberClass(sql[start:end]) {
		case 'i':
			want = pg_query.Token_ICONST
		case 'f':
			want = pg_query.Token_FCONST
		default:
			want = pg_query.Token_SCONST
		}
		if tk.Token != want {
			return false
		}
		i++
	}
	return i == len(lits)
}

// shiftAnalysis returns a, the analysis of a text whose literals were at from, moved to sql, a text with the same
// shape whose literals are at to; introspection literals take their values from sql. It returns nil if an offset
// of a falls inside a literal (not a shape it can move), a statement changes a setting (whose value may be one of
// the literals) or has a code body (which may be one).
func shiftAnalysis(a *Analysis, sql string, from, to []litSpan) *Analysis {
	bad := false
	move := func(p int) int {
		delta := 0
		for i, l := range from {
			if l.end <= p {
				delta += (to[i].end - to[i].start) - (l.end - l.start)
				continue
			}
			if l.start < p {
				bad = true
			}
			break
		}
		return p + delta
	}
	refs := func(in []Reference) []Reference {
		if len(in) == 0 {
			return in
		}
		out := make([]Reference, len(in))
		for i, r := range in {
			r.Start, r.End = move(r.Start), move(r.End)
			out[i] = r
		}
		return out
	}
	out := &Analysis{Parsed: a.Parsed, ParseError: a.ParseError, Dialect: a.Dialect, Statements: make([]Statement, len(a.Statements))}
	for i, st := range a.Statements {
		if len(st.Settings) > 0 || st.Body != nil { // a code body may be one of the literals
			return nil
		}
		st.Start, st.End = move(st.Start), move(st.End)
		st.References = refs(st.References)
		st.Qualifiers = refs(st.Qualifiers)
		st.Schemas = refs(st.Schemas)
		st.Objects = refs(st.Objects)
		if len(st.Literals) > 0 {
			lits := make([]Literal, len(st.Literals))
			for j, l := range st.Literals {
				l.Start, l.End = move(l.Start), move(l.End)
				if bad || l.Start < 0 || l.End > len(sql) || l.End-l.Start < 2 {
					return nil
				}
				l.Value = literalValue(sql[l.Start:l.End])
				lits[j] = l
			}
			st.Literals = lits
		}
		out.Statements[i] = st
	}
	if bad {
		return nil
	}
	return out
}
