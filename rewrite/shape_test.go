package rewrite

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v5"
)

func TestLiteralShape(t *testing.T) {
	for _, tc := range []struct {
		sql, key string // key "" means no shape
	}{
		{"select 1", "select \x00i"},
		{"select * from s.t where a = 'x' and b = 42 and c = 1.5 and d = .5e-3", "select * from s.t where a = \x00s and b = \x00i and c = \x00f and d = \x00f"},
		{"select 'it''s', 2", "select \x00s, \x00i"},
		{"select * from s.t", ""},                                 // nothing to share
		{"select 1234567890", ""},                                 // ten digits: ICONST or FCONST by value
		{"select 0x1f, 1_000, E'a\\'b', $$x$$, B'01', U&'d'", ""}, // kept verbatim
		{"select 'unterminated", ""},                              // never a shape
		{"select 'a''", ""},                                       // unterminated too
		{"select 12abc", ""},                                      // trailing junk is no number
		{"select 'x' -- 'comment'\n, /* 3 */ 4", "select \x00s -- 'comment'\n, /* 3 */ \x00i"},
		{"select U&'d!0061' UESCAPE '!'", ""}, // the escape literal is checked by the parser
		{"select 1\x00", ""},                  // no SQL text
		{"select -7, 1e5, 3.", "select -\x00i, \x00f, \x00f"},
	} {
		key, lits, ok := literalShape(tc.sql)
		if !ok {
			key = ""
		}
		if key != tc.key {
			t.Errorf("literalShape(%q) = %q, want %q", tc.sql, key, tc.key)
			continue
		}
		for _, l := range lits {
			if l.start < 0 || l.end > len(tc.sql) || l.start >= l.end {
				t.Errorf("literalShape(%q): bad span %+v", tc.sql, l)
			}
		}
	}
}

// Texts of one shape share one parse, and get exactly the analysis a parse of their own would give.
func TestShapeSharing(t *testing.T) {
	for _, tc := range []struct {
		first, second string
		share         bool
	}{
		{"SELECT abalance FROM dbt_fabio.accounts WHERE aid = 1", "SELECT abalance FROM dbt_fabio.accounts WHERE aid = 48213", true},
		{"select * from a.b where x = 'short' union select * from c.d where y = 5",
			"select * from a.b where x = 'a much longer ''quoted'' string' union select * from c.d where y = 123456789", true},
		{"insert into dbt_fabio.t select 1, 'a' from s.u; select * from s.v where z > 2.5",
			"insert into dbt_fabio.t select 100, 'bé' from s.u; select * from s.v where z > 2.55555e10", true},
		{`select "Ä".x, 'é' from "Ä"."ü" where q = 'ü'`, `select "Ä".x, 'ééé' from "Ä"."ü" where q = ''`, true},
		{"select 1 from s.t", "select 1.0 from s.t", false},               // ICONST and FCONST are different shapes
		{"select 'a'\n'b' from s.t", "select 'xx'\n'yy' from s.t", false}, // PostgreSQL joins the two: no shape
		{"select 5 from s.t", "select 1234567890 from s.t", false},
	} {
		c := NewCache(16)
		if _, err := c.Analyze(tc.first); err != nil {
			t.Fatal(err)
		}
		got, err := c.Analyze(tc.second)
		if err != nil {
			t.Fatal(err)
		}
		st := c.Stats()
		if shared := st.ShapeHits == 1; shared != tc.share {
			t.Errorf("%q after %q: shape hit %v, want %v (%+v)", tc.second, tc.first, shared, tc.share, st)
		}
		want, err := Analyze(tc.second)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: analysis from the shape\n%+v\nwant\n%+v", tc.second, got, want)
		}
	}
}

// On every parsed statement of the PostgreSQL regression corpus: a variant with each shaped literal replaced by a
// value of the same class but another length gets, from the first statement's shape, the analysis a parse of the
// variant gives. Variants PostgreSQL's grammar rejects for their values (float(0) and the like) are counted and
// listed with -v, not compared: those are the documented limit of shapes.
func TestShapeCorpus(t *testing.T) {
	var nShaped, nShared, nCompared, nRejected, nNoShape int
	for _, cs := range corpusStatements(t) {
		a, err := Analyze(cs.sql)
		if err != nil || !a.Parsed {
			continue
		}
		_, lits, ok := literalShape(cs.sql)
		if !ok {
			continue
		}
		nShaped++
		variant := varyLiterals(cs.sql, lits)
		c := NewCache(4)
		if _, err := c.Analyze(cs.sql); err != nil {
			t.Fatal(err)
		}
		got, err := c.Analyze(variant)
		if err != nil {
			t.Fatal(err)
		}
		if c.Stats().ShapeHits == 0 {
			nNoShape++ // pg_query's scanner disagreed with the shape (adjacent literals…): parsed instead
			continue
		}
		nShared++
		if _, perr := pg_query.Parse(variant); perr != nil {
			nRejected++
			if testing.Verbose() && nRejected <= 20 {
				t.Logf("%s:%d: the variant is rejected for a value (%v): %s", cs.file, cs.idx, perr, oneLine(variant, 100))
			}
			continue
		}
		want, err := Analyze(variant)
		if err != nil {
			t.Fatal(err)
		}
		nCompared++
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:%d: shape analysis differs from a parse\nvariant: %s\nshape:  %+v\nparse:  %+v", cs.file, cs.idx, variant, got.Statements, want.Statements)
		}
	}
	t.Logf("corpus: %d parsed statements with shaped literals; %d shared a shape (%d compared equal to a parse, %d variants rejected by the grammar for their values); %d not shaped (scanners disagreed)",
		nShaped, nShared, nCompared, nRejected, nNoShape)
	if nShaped < 10000 || nCompared < nShared*9/10 {
		t.Errorf("too little of the corpus exercised shapes: %d shaped, %d shared, %d compared", nShaped, nShared, nCompared)
	}
}

// varyLiterals replaces each literal with another value of its class and a different length.
func varyLiterals(sql string, lits []litSpan) string {
	var b strings.Builder
	last := 0
	for i, l := range lits {
		b.WriteString(sql[last:l.start])
		lit := sql[l.start:l.end]
		switch numberClass(lit) {
		case 'i':
			if len(lit) < 5 {
				b.WriteString(lit + "0")
			} else {
				b.WriteString(lit[:len(lit)-1])
			}
		case 'f':
			b.WriteString("0" + lit)
		default:
			fmt.Fprintf(&b, "'v%d''é%s'", i, strings.Repeat("x", i%3))
		}
		last = l.end
	}
	b.WriteString(sql[last:])
	return b.String()
}
