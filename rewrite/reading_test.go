package rewrite

import "testing"

// TestReadingPlain: what pg_query reads as the server does, and what it does not.
func TestReadingPlain(t *testing.T) {
	cases := []struct {
		r     Reading
		sql   string
		plain bool
	}{
		{Reading{}, `SELECT 'a\'' ; x`, true},
		{Reading{BackslashStrings: true}, `SELECT 'a\'' ; x`, false},
		{Reading{BackslashStrings: true}, `SELECT 'a'`, true},
		{Reading{Encoding: "LATIN1"}, "SELECT 'caf\xe9'", false},
		{Reading{Encoding: "SJIS"}, "SELECT 1", true},
		{Reading{Encoding: "UTF8"}, "SELECT 'é'", true},
	}
	for _, c := range cases {
		if got := c.r.Plain(c.sql); got != c.plain {
			t.Errorf("%+v.Plain(%q) = %v", c.r, c.sql, got)
		}
	}
}

// TestReadingToUTF8: a SJIS character whose trail byte is a backslash decodes whole; invalid bytes and unknown
// encodings are not trusted.
func TestReadingToUTF8(t *testing.T) {
	got, ok := Reading{Encoding: "SJIS"}.ToUTF8("SELECT '\x95\x5c' ; x")
	if !ok || got != "SELECT '表' ; x" {
		t.Errorf("SJIS: %q %v", got, ok)
	}
	if got, ok := (Reading{Encoding: "LATIN1"}).ToUTF8("'caf\xe9'"); !ok || got != "'café'" {
		t.Errorf("LATIN1: %q %v", got, ok)
	}
	if _, ok := (Reading{Encoding: "SJIS"}).ToUTF8("'\x81'"); ok {
		t.Error("a cut SJIS character was trusted")
	}
	if _, ok := (Reading{Encoding: "EUC_TW"}).ToUTF8("'\xa4\xa1'"); ok {
		t.Error("an encoding without a decoder was trusted")
	}
}

// TestWriteNaming: a statement that may write and names a production schema in any spelling is found; reads, other
// schemas and names inside literals are not.
func TestWriteNaming(t *testing.T) {
	names := []string{"analytics"}
	cases := []struct {
		sql       string
		backslash bool
		want      string
	}{
		{`SELECT 'a\'' ; DELETE FROM analytics.orders; -- '`, true, "analytics"},
		{`SELECT 'a\'' ; DELETE FROM analytics.orders; -- '`, false, ""}, // one string with standard strings
		{`DELETE FROM U&"\0061nalytics".orders`, false, "analytics"},
		{`DELETE FROM U&"!0061nalytics" UESCAPE '!' . orders`, false, "analytics"},
		{`TRUNCATE "analytics" . /* x */ Orders`, false, "analytics"},
		{`delete from ANALYTICS.orders`, false, "analytics"},
		{`DELETE FROM "Analytics".orders`, false, ""}, // quoted: another schema
		{`SELECT * FROM analytics.orders`, false, ""},
		{`SELECT * INTO x FROM analytics.orders`, false, "analytics"},
		{`SELECT * FROM analytics.orders FOR UPDATE`, false, "analytics"},
		{`INSERT INTO dbt_dev.t SELECT 'analytics'`, false, ""},
		{`DO $$ BEGIN DELETE FROM Analytics.orders; END $$`, false, "analytics"},
		{`DELETE FROM U&"\D800\DC00".t`, false, "(a U& name deferproxy cannot decode)"},
	}
	for _, c := range cases {
		if got := WriteNaming(c.sql, c.backslash, names); got != c.want {
			t.Errorf("WriteNaming(%q, %v) = %q, want %q", c.sql, c.backslash, got, c.want)
		}
	}
}

// TestAnalyzeReading: with backslash strings the lexer splits where the server does, and the analysis says so.
func TestAnalyzeReading(t *testing.T) {
	a, err := AnalyzeReading(`SELECT 'a\'' ; DELETE FROM analytics.orders; -- '`, Reading{BackslashStrings: true})
	if err != nil || a.Parsed || len(a.Statements) < 2 {
		t.Fatalf("%v %+v", err, a)
	}
	w := 0
	for _, st := range a.Statements {
		for _, r := range st.References {
			if r.Role == Write && len(r.Normalized) == 2 && r.Normalized[0] == "analytics" {
				w++
			}
		}
	}
	if w != 1 {
		t.Errorf("write targets: %+v", a.Statements)
	}
	if a, err := AnalyzeReading(`SELECT 'a'`, Reading{BackslashStrings: true}); err != nil || !a.Parsed {
		t.Errorf("text without a backslash should parse: %v %+v", err, a)
	}
}
