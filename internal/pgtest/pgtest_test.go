package pgtest_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestRoles logs in as every role over plain TCP and TLS, and checks the server really used the intended
// authentication method and TLS state.
func TestRoles(t *testing.T) {
	c := pgtest.Shared(t)
	roles := []struct{ user, pass string }{
		{pgtest.SuperUser, ""},
		{pgtest.TrustUser, ""},
		{pgtest.ClearUser, pgtest.ClearPass},
		{pgtest.MD5User, pgtest.MD5Pass},
		{pgtest.ScramUser, pgtest.ScramPass},
		{pgtest.ReplUser, pgtest.ReplPass},
	}
	for _, r := range roles {
		for _, tls := range []bool{false, true} {
			name := r.user
			url := c.URL(r.user, r.pass, "postgres")
			if tls {
				name += "/tls"
				url = c.TLSURL(r.user, r.pass, "postgres")
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				conn := connect(t, url)
				var who string
				var ssl bool
				err := conn.QueryRow(context.Background(),
					"select current_user, coalesce((select ssl from pg_stat_ssl where pid = pg_backend_pid()), false)").Scan(&who, &ssl)
				if err != nil {
					t.Fatal(err)
				}
				if who != r.user || ssl != tls {
					t.Fatalf("got user %q ssl %v, want %q %v", who, ssl, r.user, tls)
				}
			})
		}
	}
}

// TestWrongPassword checks that password roles really require their password (the catch-all trust line must not
// shadow them).
func TestWrongPassword(t *testing.T) {
	c := pgtest.Shared(t)
	for _, u := range []string{pgtest.ClearUser, pgtest.MD5User, pgtest.ScramUser, pgtest.ReplUser} {
		_, err := pgx.Connect(context.Background(), c.URL(u, "wrong", "postgres"))
		if err == nil || !strings.Contains(err.Error(), "28P01") {
			t.Errorf("%s with a wrong password: err = %v, want SQLSTATE 28P01", u, err)
		}
	}
}

// TestAuthMethods checks which exchange each role's login used, via the stored verifier and pg_hba rules.
func TestAuthMethods(t *testing.T) {
	c := pgtest.Shared(t)
	conn := connect(t, c.URL(pgtest.SuperUser, "", "postgres"))
	rows, err := conn.Query(context.Background(),
		"select user_name[1], auth_method from pg_hba_file_rules where type = 'host' and database[1] = 'all' order by line_number")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var u, m string
		if err := rows.Scan(&u, &m); err != nil {
			t.Fatal(err)
		}
		if _, seen := got[u]; !seen {
			got[u] = m
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"postgres": "trust", "trust_user": "trust", "clear_user": "password", "md5_user": "md5",
		"scram_user": "scram-sha-256", "repl_user": "scram-sha-256"}
	for u, m := range want {
		if got[u] != m {
			t.Errorf("pg_hba method for %s = %q, want %q", u, got[u], m)
		}
	}
	var md5Stored string
	if err := conn.QueryRow(context.Background(), "select left(rolpassword, 3) from pg_authid where rolname = 'md5_user'").Scan(&md5Stored); err != nil {
		t.Fatal(err)
	}
	if md5Stored != "md5" {
		t.Errorf("md5_user password stored as %q…, want an md5 hash so the server runs the md5 exchange", md5Stored)
	}
}

func TestNewDatabaseAndExec(t *testing.T) {
	c := pgtest.Shared(t)
	db := c.NewDatabase(t)
	c.Exec(t, db, "create table t(x int); insert into t values (1), (2)")
	conn := connect(t, c.URL(pgtest.ScramUser, pgtest.ScramPass, db))
	if _, err := conn.Exec(context.Background(), "create table mine(y int)"); err != nil {
		t.Fatalf("non-superuser cannot create in a fresh database: %v", err)
	}
	var n int
	if err := conn.QueryRow(context.Background(), "select count(*) from t").Scan(&n); err == nil {
		t.Fatalf("scram_user read superuser's table without a grant (n=%d)", n)
	}
	su := connect(t, c.URL(pgtest.SuperUser, "", db))
	if err := su.QueryRow(context.Background(), "select sum(x) from t").Scan(&n); err != nil || n != 3 {
		t.Fatalf("sum = %d, %v; want 3", n, err)
	}
}

// TestParallelShared hammers Shared from many goroutines: all must get the same cluster.
func TestParallelShared(t *testing.T) {
	var wg sync.WaitGroup
	got := make([]*pgtest.Cluster, 16)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = pgtest.Shared(t)
		}()
	}
	wg.Wait()
	for _, c := range got {
		if c != got[0] {
			t.Fatal("Shared returned different clusters")
		}
	}
}

// TestPrivateRestart starts a private cluster with statement logging, restarts it, and checks it serves again on the
// same port and logged our statement.
func TestPrivateRestart(t *testing.T) {
	if _, _, err := pgtest.FindBinDir(); err != nil && !pgtest.InCI() {
		t.Skip(err)
	}
	ctx := context.Background()
	c, err := pgtest.Start(ctx, pgtest.Options{LogStatements: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	port := c.Port
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	if c.Port != port {
		t.Fatalf("port changed %d -> %d", port, c.Port)
	}
	conn := connect(t, c.URL(pgtest.TrustUser, "", "postgres"))
	if _, err := conn.Exec(ctx, "select 'pgtest-log-marker'"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if !c.LogContains("pgtest-log-marker") {
		t.Fatalf("statement not in server log %s", c.LogFile)
	}
	dir := c.DataDir
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("data dir %s still exists after Stop: %v", dir, err)
	}
}
