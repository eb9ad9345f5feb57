package deferral_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// Issue 10's attacks on the write guard, rows 1–6: a dev session connected as a superuser (so the guard is the only
// protection) tries to change production through the proxy; every attempt checks a fingerprint of production before
// and after. docs/RELIABILITY.md carries the table.

// attackSetupSQL adds what the attacks aim at: a production-schema table that is no manifest node.
const attackSetupSQL = `CREATE TABLE analytics.audit_log (id int, note text); INSERT INTO analytics.audit_log VALUES (1, 'prod');`

// prodFingerprint (guardobjects_test.go) is what every attack checks before and after.

// attack is one row variant: statements sent in order on one session; the last must be refused with 42501 unless
// allowed is set (then every statement must succeed: the guard must not refuse what is not production).
type attack struct {
	name    string
	params  map[string]string // startup parameters
	setup   []string          // run directly (not through the proxy) before connecting, with {{DB}} and {{USER}} replaced
	steps   []string
	allowed bool
}

// runAttack runs one attack through the proxy, in the simple protocol, or with every step in the extended protocol
// (Parse/Bind/Execute), and checks the verdict and the production fingerprint.
func runAttack(t *testing.T, e *env, a attack, extended bool) {
	t.Helper()
	for _, s := range a.setup {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "{{DB}}", e.db), "{{USER}}", pgtest.SuperUser)
		e.c.Exec(t, e.db, s)
	}
	before := prodFingerprint(t, e)
	c := e.connect(t, a.params)
	ctx := context.Background()
	for i, s := range a.steps {
		var err error
		if extended {
			_, err = c.PgConn().ExecParams(ctx, s, nil, nil, nil, nil).Close()
		} else {
			_, err = c.PgConn().Exec(ctx, s).ReadAll()
		}
		last := i == len(a.steps)-1
		switch {
		case last && !a.allowed:
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "42501" || !strings.HasPrefix(pe.Message, "deferproxy:") {
				t.Errorf("%s: %q: want deferproxy's 42501, got %v", a.name, s, err)
			} else if pe.Hint == "" {
				t.Errorf("%s: %q: refusal without a HINT", a.name, s)
			}
		case err != nil:
			t.Fatalf("%s: step %q: %v", a.name, s, err)
		}
	}
	if after := prodFingerprint(t, e); after != before {
		t.Errorf("%s: production changed:\nbefore:\n%s\nafter:\n%s", a.name, before, after)
	}
}

// searchPathAttacks are rows 1–4: the search_path however it was set.
var searchPathAttacks = []attack{
	// Row 1: SET in any case and spelling.
	{name: "mixed case SET", steps: []string{"SET Search_Path = analytics", "DELETE FROM orders"}},
	{name: "SET SESSION TO", steps: []string{"SET SESSION search_path TO analytics, public", "delete from orders"}},
	{name: "upper case, quoted", steps: []string{`SET SEARCH_PATH = "analytics"`, "UPDATE orders SET src = 'dev'"}},
	{name: "unicode escape name", steps: []string{`SET U&"search\005fpath" = analytics`, "DELETE FROM orders"}},
	{name: "SET SCHEMA", steps: []string{"SET SCHEMA 'analytics'", "DELETE FROM audit_log"}},
	{name: "production second in path", steps: []string{"SET search_path = dbt_fabio, analytics", "DELETE FROM orders"}},
	{name: "$user first", steps: []string{`SET search_path = "$user", analytics`, "TRUNCATE audit_log"}},
	{name: "SET LOCAL in a block", steps: []string{"BEGIN", "SET LOCAL search_path = analytics", "DELETE FROM audit_log"}},
	{name: "rolled-back SET does not hide production", steps: []string{"SET search_path = analytics", "BEGIN",
		"SET search_path = dbt_fabio", "ROLLBACK", "DELETE FROM orders"}},
	{name: "comment between tokens", steps: []string{"SET /* x */ search_path /* y */ = analytics", "DELETE FROM audit_log"}},
	// Row 2: set_config anywhere in a statement.
	{name: "set_config in a SELECT", steps: []string{"SELECT set_config('search_path', 'analytics', false)", "DELETE FROM orders"}},
	{name: "SET_CONFIG mixed case, qualified", steps: []string{"select 1, PG_CATALOG.Set_Config('search_path', 'analytics', false)", "DELETE FROM audit_log"}},
	{name: "set_config computed value", steps: []string{"SELECT set_config('search_path', 'analy' || 'tics', false)", "DELETE FROM audit_log"}},
	{name: "set_config computed name", steps: []string{"SELECT set_config('search' || '_path', 'analytics', false)", "DELETE FROM audit_log"}},
	{name: "set_config in a DO block", steps: []string{"DO $$ BEGIN PERFORM set_config('search_path', 'analytics', false); END $$", "DELETE FROM audit_log"}},
	{name: "function that sets the path", steps: []string{
		"CREATE OR REPLACE FUNCTION dbt_fabio.sp() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'SET search_path = analytics'; END $$",
		"SELECT dbt_fabio.sp()", "DELETE FROM audit_log"}},
	// Row 3: a production-schema table that is no manifest node, the SET in an earlier message.
	{name: "non-node DELETE", steps: []string{"SET search_path = analytics", "DELETE FROM audit_log"}},
	{name: "non-node INSERT", steps: []string{"SET search_path = analytics", "INSERT INTO audit_log VALUES (2, 'dev')"}},
	{name: "non-node DROP", steps: []string{"SET search_path = analytics", "DROP TABLE audit_log"}},
	{name: "non-node ALTER", steps: []string{"SET search_path = analytics", "ALTER TABLE audit_log ADD COLUMN x int"}},
	{name: "CREATE in production", steps: []string{"SET search_path = analytics", "CREATE TABLE new_thing (i int)"}},
	{name: "writable CTE", steps: []string{"SET search_path = analytics", "WITH d AS (DELETE FROM audit_log RETURNING 1) SELECT count(*) FROM d"}},
	// Row 4: role and database defaults, startup options, RESET and DISCARD back to them.
	{name: "ALTER ROLE IN DATABASE default", setup: []string{`ALTER ROLE "{{USER}}" IN DATABASE "{{DB}}" SET search_path = analytics`},
		steps: []string{"DELETE FROM orders"}},
	{name: "ALTER DATABASE default", setup: []string{`ALTER DATABASE "{{DB}}" SET search_path = analytics`},
		steps: []string{"DELETE FROM audit_log"}},
	{name: "startup option", params: map[string]string{"options": "-c search_path=analytics"}, steps: []string{"DELETE FROM orders"}},
	{name: "startup parameter", params: map[string]string{"search_path": "analytics"}, steps: []string{"DELETE FROM audit_log"}},
	{name: "RESET to the startup value", params: map[string]string{"options": "-csearch_path=analytics"},
		steps: []string{"SET search_path = dbt_fabio", "RESET search_path", "DELETE FROM audit_log"}},
	{name: "RESET ALL", params: map[string]string{"search_path": "analytics"}, steps: []string{"SET search_path = dbt_fabio", "RESET ALL", "DELETE FROM audit_log"}},
	{name: "DISCARD ALL", params: map[string]string{"search_path": "analytics"}, steps: []string{"SET search_path = dbt_fabio", "DISCARD ALL", "DELETE FROM audit_log"}},
	// Not production: allowed.
	{name: "dev path write", allowed: true, steps: []string{"SET search_path = dbt_fabio", "DELETE FROM stg_customers WHERE id = 99"}},
	{name: "temp table with production path", allowed: true, steps: []string{"SET search_path = analytics",
		"CREATE TEMP TABLE scratch (i int)", "INSERT INTO scratch VALUES (1)"}},
	{name: "back to dev", allowed: true, steps: []string{"SET search_path = analytics", "SET search_path = dbt_fabio",
		"UPDATE stg_customers SET src = 'dev' WHERE id = 99"}},
}

func TestGuardSearchPathAttacks(t *testing.T) {
	runAttacks(t, searchPathAttacks)
}

// runAttacks runs each attack in both protocols, each on a new session; attacks with setup (role and database
// defaults, which every later session would see) get a database of their own.
func runAttacks(t *testing.T, attacks []attack) {
	shared := newEnv(t, envOptions{})
	shared.c.Exec(t, shared.db, attackSetupSQL)
	for _, extended := range []bool{false, true} {
		for _, a := range attacks {
			t.Run(fmt.Sprintf("%s/extended=%v", a.name, extended), func(t *testing.T) {
				e := shared
				if len(a.setup) > 0 {
					e = newEnv(t, envOptions{})
					e.c.Exec(t, e.db, attackSetupSQL)
				}
				runAttack(t, e, a, extended)
			})
		}
	}
}

// TestGuardSearchPathOneMessage: the SET and the write in one simple Query.
func TestGuardSearchPathOneMessage(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.c.Exec(t, e.db, attackSetupSQL)
	for _, sql := range []string{
		"SET Search_Path = analytics; DELETE FROM audit_log",
		"SELECT set_config('search_path', 'analytics', false); DELETE FROM audit_log",
		"BEGIN; SET LOCAL search_path = analytics; DELETE FROM orders; COMMIT",
	} {
		runAttack(t, e, attack{name: sql, steps: []string{sql}}, false)
	}
}

// encodeIn returns s in a client encoding (golang.org/x/text's encoder, as a client would send it).
func encodeIn(t testing.TB, enc encoding.Encoding, s string) string {
	t.Helper()
	out, err := enc.NewEncoder().String(s)
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	return out
}

// backslashTrail returns a character whose encoding in enc ends with the byte 0x5C, an ASCII backslash: the trap of
// SJIS, BIG5 and GBK for any reader that scans bytes.
func backslashTrail(t testing.TB, enc encoding.Encoding) string {
	t.Helper()
	for r := rune(0x4E00); r < 0x9FFF; r++ {
		b, err := enc.NewEncoder().String(string(r))
		if err == nil && len(b) == 2 && b[1] == '\\' {
			return string(r)
		}
	}
	t.Fatal("no character with a backslash trail byte")
	return ""
}

// readingAttacks are rows 5 and 6: standard_conforming_strings off and non-UTF-8 client encodings.
func readingAttacks(t *testing.T) []attack {
	scsOff := map[string]string{"options": "-c standard_conforming_strings=off"}
	hidden := `SELECT 'a\'' ; DELETE FROM analytics.orders; -- '`
	as := []attack{
		{name: "scs off at startup", params: scsOff, steps: []string{hidden}},
		{name: "scs off by SET", steps: []string{"SET standard_conforming_strings = off", hidden}},
		{name: "scs off by set_config", steps: []string{"SELECT set_config('standard_conforming_strings', 'off', false)", hidden}},
		{name: "scs off, U& schema", params: scsOff, steps: []string{`SELECT 'x\'' ; DELETE FROM U&"\0061nalytics".audit_log; -- '`}},
		{name: "scs off, quoted mixed case", params: scsOff, steps: []string{`SELECT E'\\', 'b\'' ; TRUNCATE "analytics" . /* c */ Orders; -- '`}},
		{name: "scs off, unqualified on a production path", params: scsOff, steps: []string{"SET search_path = analytics",
			`SELECT 'a\'' ; DELETE FROM audit_log; -- '`}},
		{name: "scs off, a plain write", params: scsOff, steps: []string{`DELETE FROM analytics.orders WHERE src = 'a\'b'`}},
		{name: "scs off, a read passes unchanged", params: scsOff, allowed: true,
			steps: []string{`SELECT 'a\'', src FROM analytics.orders`}},
	}
	latin1 := map[string]string{"client_encoding": "LATIN1"}
	as = append(as,
		attack{name: "LATIN1 byte and U& schema", params: latin1,
			steps: []string{encodeIn(t, charmap.ISO8859_1, `DELETE FROM U&"\0061nalytics".orders WHERE src <> 'é'`)}},
		attack{name: "LATIN1 byte, quoted schema", params: latin1,
			steps: []string{encodeIn(t, charmap.ISO8859_1, `UPDATE "analytics".audit_log SET note = 'café'`)}},
		attack{name: "LATIN1 by SET, then a write", steps: []string{"SET client_encoding = 'LATIN1'",
			encodeIn(t, charmap.ISO8859_1, `INSERT INTO U&"\0061nalytics".audit_log VALUES (9, 'é')`)}},
		attack{name: "LATIN1 read of production passes", params: latin1, allowed: true,
			steps: []string{encodeIn(t, charmap.ISO8859_1, `SELECT 'é', count(*) FROM analytics.orders`)}},
	)
	for _, enc := range []struct {
		name string
		enc  encoding.Encoding
	}{{"SJIS", japanese.ShiftJIS}, {"BIG5", traditionalchinese.Big5}, {"GBK", simplifiedchinese.GBK}} {
		ch := backslashTrail(t, enc.enc)
		p := map[string]string{"client_encoding": enc.name}
		pOff := map[string]string{"client_encoding": enc.name, "options": "-c standard_conforming_strings=off"}
		as = append(as,
			attack{name: enc.name + " trail backslash hides a statement (scs off)", params: pOff,
				steps: []string{encodeIn(t, enc.enc, `SELECT '`+ch+`' ; DELETE FROM analytics.orders; -- '`)}},
			attack{name: enc.name + " U& schema", params: p,
				steps: []string{encodeIn(t, enc.enc, `DELETE FROM U&"\0061nalytics".audit_log WHERE note <> '`+ch+`'`)}},
			attack{name: enc.name + " E-string trail byte", params: p,
				steps: []string{encodeIn(t, enc.enc, `SELECT E'`+ch+`' ; DELETE FROM analytics.orders; -- '`)}},
			attack{name: enc.name + " read passes", params: p, allowed: true,
				steps: []string{encodeIn(t, enc.enc, `SELECT '`+ch+`', count(*) FROM analytics.orders`)}},
		)
	}
	return as
}

func TestGuardReadingAttacks(t *testing.T) {
	runAttacks(t, readingAttacks(t))
}

// TestReadingNeverChangesALiteral (row 5): with standard_conforming_strings off, a text pg_query would read as a
// deferrable reference is a literal to the server; it must come back unchanged, not rewritten to production.
func TestReadingNeverChangesALiteral(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.connect(t, map[string]string{"options": "-c standard_conforming_strings=off"})
	sql := `SELECT 'a\' FROM dbt_fabio.stg_orders --' AS lit`
	res, err := c.PgConn().Exec(context.Background(), sql).ReadAll()
	if err != nil || len(res) != 1 || len(res[0].Rows) != 1 {
		t.Fatalf("%s: %v %+v", sql, err, res)
	}
	if got, want := string(res[0].Rows[0][0]), `a' FROM dbt_fabio.stg_orders --`; got != want {
		t.Fatalf("literal changed: got %q, want %q", got, want)
	}
	// The same text with standard strings is a read of a missing dev relation, deferred as usual.
	c2 := e.connect(t, nil)
	if got := queryString(t, c2, `SELECT src FROM dbt_fabio.stg_orders`); got != "prod" {
		t.Fatalf("deferral with standard strings: %q", got)
	}
}
