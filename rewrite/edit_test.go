package rewrite

import (
	"strings"
	"testing"
	"unsafe"
)

func TestQuoteIdent(t *testing.T) {
	tests := []struct {
		in   string
		d    Dialect
		want string
	}{
		{"orders", Postgres, "orders"},
		{"_x9", Postgres, "_x9"},
		{"Orders", Postgres, `"Orders"`},
		{"select", Postgres, `"select"`},           // reserved
		{"int", Postgres, `"int"`},                 // column-name keyword
		{"left", Postgres, `"left"`},               // type/function-name keyword
		{"name", Postgres, "name"},                 // unreserved keyword
		{"1abc", Postgres, `"1abc"`},               // leading digit
		{"a$b", Postgres, `"a$b"`},                 // quote_ident quotes $
		{"größe", Postgres, `"größe"`},             // quote_ident quotes non-ASCII
		{`we"ird`, Postgres, `"we""ird"`},          // quotes doubled
		{"Order Items", Postgres, `"Order Items"`}, // space
		{"", Postgres, `""`},
		{"ORDERS", Snowflake, "ORDERS"},
		{"orders", Snowflake, `"orders"`},
		{"A$1", Snowflake, "A$1"},
		{"SELECT", Snowflake, `"SELECT"`},
		{"1A", Snowflake, `"1A"`},
	}
	for _, tt := range tests {
		if got := QuoteIdent(tt.in, tt.d); got != tt.want {
			t.Errorf("QuoteIdent(%q, %v) = %s, want %s", tt.in, tt.d, got, tt.want)
		}
	}
}

func TestFoldAndNormalize(t *testing.T) {
	if got := FoldIdent("DBT_Fabio", Postgres); got != "dbt_fabio" {
		t.Errorf("FoldIdent postgres = %q", got)
	}
	if got := FoldIdent("dbt_Fabio", Snowflake); got != "DBT_FABIO" {
		t.Errorf("FoldIdent snowflake = %q", got)
	}
	if got := FoldIdent("GRÖSSE", Postgres); got != "grÖsse" { // PostgreSQL folds ASCII only
		t.Errorf("FoldIdent non-ASCII = %q", got)
	}
	long := strings.Repeat("a", 62) + "éz" // é is 2 bytes at offset 62: cut before it
	if got := normalizePart(long, true, Postgres); got != strings.Repeat("a", 62) {
		t.Errorf("truncation = %q", got)
	}
	a, _ := Analyze(`select * from "` + long + `"`)
	if n := a.Statements[0].References[0].Normalized[0]; n != strings.Repeat("a", 62) {
		t.Errorf("pg_query truncated differently: %q", n)
	}
}

// recorder swaps everything in schema s to schema "p" and records what it was asked.
type recorder struct {
	asked []Reference
}

func (r *recorder) Resolve(ref Reference) ([]string, bool) {
	r.asked = append(r.asked, ref)
	if len(ref.Normalized) == 2 && ref.Normalized[0] == "s" {
		return []string{"p", ref.Normalized[1]}, true
	}
	return nil, false
}

func TestRewriteOffersOnlyReads(t *testing.T) {
	sql := "insert into s.t select * from s.u join s.v using (id)"
	r := &recorder{}
	res, err := RewriteSQL(sql, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.asked) != 2 {
		t.Fatalf("resolver asked %d times, want 2 (reads only): %+v", len(r.asked), r.asked)
	}
	for _, ref := range r.asked {
		if ref.Role != Read {
			t.Errorf("write target offered: %+v", ref)
		}
	}
	if want := "insert into s.t select * from p.u join p.v using (id)"; res.SQL != want {
		t.Errorf("got %q, want %q", res.SQL, want)
	}
	if len(res.Deferrals) != 2 || res.Deferrals[0].From != "s.u" || res.Deferrals[0].To != "p.u" {
		t.Errorf("deferrals = %+v", res.Deferrals)
	}
}

func TestRewriteUnchangedIsSameString(t *testing.T) {
	sql := "select * from other.t"
	res, err := RewriteSQL(sql, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	if unsafe.StringData(res.SQL) != unsafe.StringData(sql) || len(res.Deferrals) != 0 {
		t.Error("unchanged statement was copied or reported deferrals")
	}
	if res, _ := Rewrite(sql, nil, &recorder{}); res.SQL != sql {
		t.Error("nil analysis changed the text")
	}
}

type fixed []string

func (f fixed) Resolve(Reference) ([]string, bool) { return f, true }

func TestRewriteErrors(t *testing.T) {
	sql := "select * from s.a, s.b"
	ref := func(start, end int) Reference {
		return Reference{Parts: []string{"s", "a"}, Normalized: []string{"s", "a"}, Start: start, End: end, Role: Read}
	}
	overlap := &Analysis{Parsed: true, Statements: []Statement{{End: len(sql), References: []Reference{ref(14, 17), ref(16, 22)}}}}
	if res, err := Rewrite(sql, overlap, fixed{"p", "x"}); err == nil || res.SQL != sql {
		t.Errorf("overlapping edits: err=%v sql=%q", err, res.SQL)
	}
	outside := &Analysis{Parsed: true, Statements: []Statement{{References: []Reference{ref(14, 99)}}}}
	if _, err := Rewrite(sql, outside, fixed{"p", "x"}); err == nil {
		t.Error("span outside the text accepted")
	}
	if _, err := RewriteSQL(sql, fixed{}); err == nil {
		t.Error("empty replacement accepted")
	}
	if _, err := RewriteSQL("select 1\x00", fixed{"x"}); err == nil {
		t.Error("NUL byte accepted")
	}
}

func TestRewriteQuotesOnlyWhenNeeded(t *testing.T) {
	res, err := RewriteSQL(`select * from "s"."a"`, fixed{"Prod", "select"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `select * from "Prod"."select"`; res.SQL != want {
		t.Errorf("got %s, want %s", res.SQL, want)
	}
	res, _ = RewriteSQL(`select * from "s"."a"`, fixed{"prod", "a"})
	if want := `select * from prod.a`; res.SQL != want {
		t.Errorf("got %s, want %s", res.SQL, want)
	}
}

func TestRewriteTouchingWords(t *testing.T) {
	res, err := RewriteSQL(`select * from"s"."a"join"s"."b"on true`, fixed{"p", "x"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `select * from"p"."x"join"p"."x"on true`; res.SQL != want {
		t.Errorf("got %s, want %s", res.SQL, want)
	}
}

func TestRewriteTouchingQuotes(t *testing.T) {
	res, err := RewriteSQL(`select * from o$"x"`, fixed{"p", "o$"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `select * from p."o$" "x"`; res.SQL != want {
		t.Errorf("got %s, want %s", res.SQL, want)
	}
}
