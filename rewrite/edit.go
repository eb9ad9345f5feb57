package rewrite

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Rewrite asks r about each read reference of a (the analysis of sql) and replaces exactly the bytes of every name
// r swaps; everything else — whitespace, comments, literals, placeholders — stays byte for byte. Write targets are
// never offered to r. Replacement parts are quoted only when the analysis' dialect needs it (QuoteIdent). A nil r
// swaps nothing. Edits that overlap, fall outside sql or come with no parts are an error and nothing is rewritten.
func Rewrite(sql string, a *Analysis, r Resolver) (Result, error) {
	res := Result{SQL: sql, Analysis: a}
	if a == nil || r == nil {
		return res, nil
	}
	var toParts [][]string // the resolver's parts of each deferral
	for si := range a.Statements {
		refs := a.Statements[si].References
		for i := range refs {
			ref := refs[i]
			if ref.Role != Read {
				continue
			}
			parts, ok := r.Resolve(ref)
			if !ok {
				continue
			}
			if len(parts) == 0 {
				return Result{SQL: sql, Analysis: a}, fmt.Errorf("rewrite %s: the resolver returned an empty name", sql[ref.Start:ref.End])
			}
			if ref.Start < 0 || ref.End > len(sql) || ref.Start >= ref.End {
				return Result{SQL: sql, Analysis: a}, fmt.Errorf("rewrite: reference span [%d,%d) lies outside the %d-byte statement", ref.Start, ref.End, len(sql))
			}
			// A quoted name can touch the words around it ("from"t"join"…); a bare replacement would then
			// merge with them, so its outer parts are quoted in that case.
			quoteFirst := ref.Start > 0 && isIdentCont(sql[ref.Start-1])
			quoteLast := ref.End < len(sql) && isIdentCont(sql[ref.End])
			to := separate(sql, ref.Start, ref.End, joinName(parts, a.Dialect, quoteFirst, quoteLast,
				lowerBare(sql[ref.Start:ref.End], a.Dialect)))
			from := sql[ref.Start:ref.End]
			if to == from {
				continue
			}
			res.Deferrals = append(res.Deferrals, Deferral{Ref: ref, From: from, To: to})
			toParts = append(toParts, parts)
		}
	}
	if len(res.Deferrals) == 0 {
		return res, nil
	}
	res.Requalified = requalify(sql, a, res.Deferrals, toParts)
	var buf [8]Edit
	out, err := Apply(sql, editsOf(res.Requalified, editsOf(res.Deferrals, buf[:0])))
	if err != nil {
		return Result{SQL: sql, Analysis: a}, err
	}
	res.SQL = out
	return res, nil
}

// Edits returns the byte edits of the result on the original text: its deferrals and requalified qualifiers, for a
// caller that has edits of its own to apply in the same pass (Apply).
func (r Result) Edits() []Edit {
	return editsOf(r.Requalified, editsOf(r.Deferrals, make([]Edit, 0, len(r.Deferrals)+len(r.Requalified))))
}

func editsOf(ds []Deferral, out []Edit) []Edit {
	for _, d := range ds {
		out = append(out, Edit{Start: d.Ref.Start, End: d.Ref.End, Text: d.To})
	}
	return out
}

// RewriteSQL analyses sql and rewrites it with r.
func RewriteSQL(sql string, r Resolver) (Result, error) {
	a, err := Analyze(sql)
	if err != nil {
		return Result{SQL: sql}, err
	}
	return Rewrite(sql, a, r)
}

// requalify finds the column qualifiers that name a deferred relation (same schema and name; same database when
// both say one) and rewrites them to the replacement's schema, name and database.
func requalify(sql string, a *Analysis, ds []Deferral, toParts [][]string) []Deferral {
	var out []Deferral
	for i, d := range ds {
		if d.Ref.Statement < 0 || d.Ref.Statement >= len(a.Statements) {
			continue
		}
		st := &a.Statements[d.Ref.Statement]
		n := d.Ref.Normalized
		if len(n) < 2 || len(st.Qualifiers) == 0 {
			continue
		}
		to := toParts[i]
		if len(to) < 2 {
			continue
		}
		for _, q := range st.Qualifiers {
			qn := q.Normalized
			m := len(qn)
			if qn[m-1] != n[len(n)-1] || qn[m-2] != n[len(n)-2] || m == 3 && len(n) == 3 && qn[0] != n[0] {
				continue
			}
			parts := append([]string(nil), qn...)
			parts[m-1], parts[m-2] = to[len(to)-1], to[len(to)-2]
			if m == 3 && len(to) == 3 {
				parts[0] = to[0]
			}
			quoteFirst := q.Start > 0 && isIdentCont(sql[q.Start-1])
			text := separate(sql, q.Start, q.End, joinName(parts, a.Dialect, quoteFirst, false,
				lowerBare(sql[q.Start:q.End], a.Dialect)))
			if text != sql[q.Start:q.End] {
				out = append(out, Deferral{Ref: q, From: sql[q.Start:q.End], To: text})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Ref.Start < out[j].Ref.Start })
	// One qualifier matched by two deferrals of the same relation is one edit.
	dedup := out[:0]
	for _, q := range out {
		if len(dedup) > 0 && dedup[len(dedup)-1].Ref.Start == q.Ref.Start {
			continue
		}
		dedup = append(dedup, q)
	}
	return dedup
}

// separate adds a space where a quoted replacement would touch a double quote of the text around [start, end)
// ("o$""0" would read as one identifier): the only case where To is more than the name.
func separate(sql string, start, end int, to string) string {
	if end < len(sql) && sql[end] == '"' && strings.HasSuffix(to, `"`) {
		to += " "
	}
	if start > 0 && sql[start-1] == '"' && strings.HasPrefix(to, `"`) {
		to = " " + to
	}
	return to
}

// joinName writes name parts as SQL, each quoted only when needed, or always for the first/last part when asked.
// lower writes the bare parts in lower case (Snowflake folds them back to the same name).
func joinName(parts []string, d Dialect, quoteFirst, quoteLast, lower bool) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('.')
		}
		if i == 0 && quoteFirst || i == len(parts)-1 && quoteLast {
			b.WriteString(`"` + strings.ReplaceAll(p, `"`, `""`) + `"`)
			continue
		}
		q := QuoteIdent(p, d)
		if lower && q == p {
			q = asciiLower(p)
		}
		b.WriteString(q)
	}
	return b.String()
}

// lowerBare reports whether a Snowflake name is written the way dbt-snowflake renders relations — unquoted, in lower
// case — so that its replacement is written the same way: analytics.stg_orders rather than ANALYTICS.STG_ORDERS,
// which Snowflake resolves identically (SPEC §11). A name written otherwise gets the upper-case bare form.
func lowerBare(written string, d Dialect) bool {
	if d != Snowflake {
		return false
	}
	for i := 0; i < len(written); i++ {
		if c := written[i]; c == '"' || c >= 'A' && c <= 'Z' {
			return false
		}
	}
	return true
}

// Edit replaces the bytes sql[Start:End] with Text.
type Edit struct {
	Start, End int
	Text       string
}

// Apply returns sql with every edit made, each on the original offsets. It is the one place byte edits are applied:
// relation names (Rewrite), introspection literals and session-control statements alike. Edits may come in any
// order (they are sorted in place); an edit outside sql or overlapping another is an error and nothing is changed.
func Apply(sql string, edits []Edit) (string, error) {
	if len(edits) == 0 {
		return sql, nil
	}
	slices.SortStableFunc(edits, func(a, b Edit) int { return a.Start - b.Start })
	size := len(sql)
	for i, e := range edits {
		if e.Start < 0 || e.End > len(sql) || e.Start > e.End {
			return sql, fmt.Errorf("rewrite: edit span [%d,%d) lies outside the %d-byte text", e.Start, e.End, len(sql))
		}
		if i > 0 && e.Start < edits[i-1].End {
			return sql, fmt.Errorf("rewrite: edits overlap at bytes %d-%d and %d-%d", edits[i-1].Start, edits[i-1].End, e.Start, e.End)
		}
		size += len(e.Text) - (e.End - e.Start)
	}
	// Building left to right over sorted, disjoint spans is the same as applying them right to left.
	var b strings.Builder
	b.Grow(size)
	prev := 0
	for _, e := range edits {
		b.WriteString(sql[prev:e.Start])
		b.WriteString(e.Text)
		prev = e.End
	}
	b.WriteString(sql[prev:])
	return b.String(), nil
}

// Replacement is the name decided for the read reference that starts at Start.
type Replacement struct {
	Start int
	Parts []string // as Resolver.Resolve returns them
}

// Replacements are decisions made before rewriting, in text order: a Resolver that is a plain value, so a caller
// decides every reference first and Rewrite only applies what was decided.
type Replacements []Replacement

// Resolve implements Resolver.
func (rs Replacements) Resolve(ref Reference) ([]string, bool) {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].Start >= ref.Start })
	if i < len(rs) && rs[i].Start == ref.Start {
		return rs[i].Parts, true
	}
	return nil, false
}
