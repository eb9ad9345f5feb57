package rewrite_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/deferproxy/deferproxy/internal/pgtest"
	"github.com/deferproxy/deferproxy/rewrite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestQuoteIdentMatchesServer compares QuoteIdent with the server's quote_ident() for every word the server
// knows as a keyword plus tricky names. QuoteIdent follows pg_query's (PostgreSQL 16) keyword list, so it may quote
// a word an older server would leave bare — never the other way round: a bare name must read back the same.
func TestQuoteIdentMatchesServer(t *testing.T) {
	c := pgtest.Shared(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL("postgres", "", "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "select word from pg_get_keywords()")
	if err != nil {
		t.Fatal(err)
	}
	words, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	words = append(words, "orders", "Orders", "1abc", "a$b", "größe", `we"ird`, "Order Items", "_x", "x1", "ÄÖÜ", strings.Repeat("z", 70))
	moreQuoted := 0
	for _, w := range words {
		var want string
		if err := conn.QueryRow(ctx, "select quote_ident($1)", w).Scan(&want); err != nil {
			t.Fatal(err)
		}
		got := rewrite.QuoteIdent(w, rewrite.Postgres)
		switch {
		case got == want:
		case got == `"`+w+`"` && want == w:
			moreQuoted++ // a keyword of PostgreSQL 16 that this server does not know
			t.Logf("quoted %q, server %d leaves it bare", w, c.Major)
		default:
			t.Errorf("QuoteIdent(%q) = %s, server quote_ident = %s", w, got, want)
		}
	}
	if c.Major >= 16 && moreQuoted > 0 {
		t.Errorf("%d words quoted that a PostgreSQL %d server leaves bare", moreQuoted, c.Major)
	}
	if os.Getenv("CI") == "true" && len(words) < 400 {
		t.Errorf("server reported only %d keywords", len(words))
	}
}
