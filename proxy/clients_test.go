package proxy_test

// Real clients through the proxy: the psql binary, pgbench, and Python's psycopg2 (what dbt-postgres uses). Each
// asserts real results read back through the proxy, never timings.

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deferproxy/deferproxy/internal/pgtest"
	"github.com/deferproxy/deferproxy/proxy"
)

// clientTarget is one address a client test talks to.
type clientTarget struct {
	name string
	addr string // host:port
	tls  bool   // the target accepts TLS from clients (verify-full against the cluster CA)
}

func (ct clientTarget) hostPort() (string, string) {
	h, p, _ := strings.Cut(ct.addr, ":")
	return h, p
}

// libpqConnString is a libpq keyword/value connection string for ct.
func (ct clientTarget) libpqConnString(c *pgtest.Cluster, user, password, db string) string {
	h, p := ct.hostPort()
	s := "host=" + h + " port=" + p + " user=" + user + " dbname=" + db + " connect_timeout=10"
	if password != "" {
		s += " password=" + password
	}
	if ct.tls {
		s += " sslmode=verify-full sslrootcert=" + c.CAFile
	} else {
		s += " sslmode=disable"
	}
	return s
}

// clientTargets are the proxies the client tests go through: plaintext to the proxy with a plaintext upstream,
// and TLS to the proxy with a TLS upstream.
func clientTargets(t *testing.T, c *pgtest.Cluster) []clientTarget {
	var out []clientTarget
	for _, p := range proxyTargets(t, c) {
		out = append(out, clientTarget{name: p.name, addr: p.addr, tls: p.clientTLS})
	}
	if len(out) == 0 {
		t.Log("proxy.New not available yet: client tests run directly against PostgreSQL only")
		out = append(out, clientTarget{name: "direct", addr: c.Addr(), tls: true})
	}
	return out
}

func runClient(t *testing.T, ctx context.Context, env []string, name string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

func TestPsqlThroughProxy(t *testing.T) {
	c := pgtest.Shared(t)
	psql := filepath.Join(c.BinDir, "psql")
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	out := filepath.Join(dir, "out.csv")
	if err := os.WriteFile(in, []byte("1,alpha\n2,\"be,ta\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `create table items(id int primary key, name text);
\copy items from '` + in + `' with (format csv)
select count(*) as n, string_agg(name, '|' order by id) from items;
select 1/0;
insert into items values (3, 'gamma'); select name from items where id = 3;
begin; insert into items values (4, 'rolled back'); rollback;
\copy (select id, name from items order by id) to '` + out + `' with (format csv)
select 'done', count(*) from items
`
	sqlFile := filepath.Join(dir, "script.sql")
	if err := os.WriteFile(sqlFile, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tg := range clientTargets(t, c) {
		t.Run(tg.name, func(t *testing.T) {
			db := c.NewDatabase(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			// scram_user over TLS checks that libpq completes SCRAM through the proxy (no channel binding across it).
			conn := tg.libpqConnString(c, pgtest.ScramUser, pgtest.ScramPass, db)
			stdout, stderr, err := runClient(t, ctx, []string{"PGAPPNAME=psql-test"}, psql, "-X", "-A", "-t", "-d", conn, "-f", sqlFile)
			if err != nil {
				t.Fatalf("psql: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
			}
			// psql -A -t prints rows one per line, and also command tags: keep only the rows.
			var rows []string
			for _, l := range strings.Split(stdout, "\n") {
				if l == "" || strings.HasPrefix(l, "CREATE") || strings.HasPrefix(l, "INSERT") || strings.HasPrefix(l, "COPY") ||
					l == "BEGIN" || l == "ROLLBACK" {
					continue
				}
				rows = append(rows, l)
			}
			want := "2|alpha|be,ta\ngamma\ndone|3\n"
			if got := strings.Join(rows, "\n") + "\n"; got != want {
				t.Errorf("psql rows:\n%s\nwant:\n%s\n(full stdout:\n%s)", got, want, stdout)
			}
			if !strings.Contains(stderr, "ERROR:  division by zero") {
				t.Errorf("psql stderr lacks the division-by-zero error:\n%s", stderr)
			}
			if strings.Count(stderr, "ERROR:") != 1 {
				t.Errorf("psql reported other errors:\n%s", stderr)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(b); got != "1,alpha\n2,\"be,ta\"\n3,gamma\n" {
				t.Errorf("\\copy to file through the proxy wrote %q", got)
			}
		})
	}
}

var (
	pgbenchFailed    = regexp.MustCompile(`number of failed transactions: (\d+)`)
	pgbenchProcessed = regexp.MustCompile(`number of transactions actually processed: (\d+)`)
)

func TestPgbenchThroughProxy(t *testing.T) {
	c := pgtest.Shared(t)
	pgbench := filepath.Join(c.BinDir, "pgbench")
	for _, tg := range clientTargets(t, c) {
		t.Run(tg.name, func(t *testing.T) {
			db := c.NewDatabase(t)
			h, p := tg.hostPort()
			env := []string{"PGHOST=" + h, "PGPORT=" + p, "PGUSER=" + pgtest.MD5User, "PGPASSWORD=" + pgtest.MD5Pass,
				"PGDATABASE=" + db, "PGSSLMODE=disable", "PGCONNECT_TIMEOUT=10"}
			if tg.tls {
				env = append(env, "PGSSLMODE=verify-full", "PGSSLROOTCERT="+c.CAFile)
			}
			// Each command gets its own deadline: a proxy that hangs fails the test in a minute, not at go test's timeout.
			ctx := context.Background()
			if stdout, stderr, err := runClient(t, ctx, env, pgbench, "-i", "-s", "1", "-q"); err != nil {
				t.Fatalf("pgbench -i: %v\n%s\n%s", err, stdout, stderr)
			}
			// The initialized tables must be all there, read back through the proxy by pgbench's own run below and
			// checked here by row count with psql.
			out, stderr, err := runClient(t, ctx, env, filepath.Join(c.BinDir, "psql"), "-X", "-A", "-t", "-c",
				"select (select count(*) from pgbench_accounts), (select count(*) from pgbench_branches)")
			if err != nil || strings.TrimSpace(out) != "100000|1" {
				t.Fatalf("pgbench tables after -i: %q %v %s", out, err, stderr)
			}
			for _, mode := range []string{"extended", "simple", "prepared"} {
				args := []string{"-n", "-c", "4", "-T", "3", "-M", mode}
				if mode == "prepared" {
					args = []string{"-n", "-c", "2", "-t", "50", "-M", mode}
				}
				stdout, stderr, err := runClient(t, ctx, env, pgbench, args...)
				if err != nil {
					t.Fatalf("pgbench %v: %v\n%s\n%s%s", args, err, stdout, stderr, dumpGoroutinesOnTimeout(t, err))
				}
				m := pgbenchProcessed.FindStringSubmatch(stdout)
				if m == nil {
					t.Fatalf("pgbench %v printed no transaction count:\n%s\n%s", args, stdout, stderr)
				}
				n, _ := strconv.Atoi(m[1])
				if n == 0 || (mode == "prepared" && n != 100) {
					t.Errorf("pgbench %v processed %d transactions", args, n)
				}
				if f := pgbenchFailed.FindStringSubmatch(stdout); f == nil || f[1] != "0" {
					t.Errorf("pgbench %v: failed transactions %v\n%s", args, f, stdout)
				}
				if strings.Contains(stderr, "error") || strings.Contains(stderr, "ERROR") {
					t.Errorf("pgbench %v stderr:\n%s", args, stderr)
				}
			}
			// Every processed transaction of the tpcb-like script inserts one history row.
			out, _, err = runClient(t, ctx, env, filepath.Join(c.BinDir, "psql"), "-X", "-A", "-t", "-c", "select count(*) > 100 from pgbench_history")
			if err != nil || strings.TrimSpace(out) != "t" {
				t.Errorf("pgbench_history after the runs: %q %v", out, err)
			}
		})
	}
}

const psycopg2Script = `
import io, os, sys
import psycopg2, psycopg2.errors

conn = psycopg2.connect(os.environ["DSN"])
cur = conn.cursor()
cur.execute("create table py(id int primary key, name text)")
cur.executemany("insert into py values (%s, %s)", [(i, "n%d" % i) for i in range(1, 101)])
conn.commit()
cur.execute("select count(*), sum(id) from py")
print("count", cur.fetchone())

# A server-side (named) cursor fetches in batches through DECLARE/FETCH.
with conn.cursor(name="ssc") as ss:
    ss.itersize = 7
    ss.execute("select id from py where id % 2 = 0 order by id")
    print("ssc", sum(r[0] for r in ss))
conn.commit()

cur.copy_expert("copy py from stdin", io.StringIO("101\tcopied\n102\tcopied too\n"))
out = io.StringIO()
cur.copy_expert("copy (select id, name from py where id > 100 order by id) to stdout with (format csv)", out)
print("copyout", repr(out.getvalue()))
conn.commit()

cur.execute("do $$ begin raise notice 'py notice %', 7; end $$")
print("notices", [n.strip() for n in conn.notices])

try:
    cur.execute("select 1/0")
except psycopg2.errors.DivisionByZero as e:
    print("error", e.pgcode)
    conn.rollback()

cur.execute("select name, %s::int + 1 from py where id = %s", (41, 42))
print("param", cur.fetchone())
print("tls", conn.info.ssl_in_use)
conn.close()
`

func TestPsycopg2ThroughProxy(t *testing.T) {
	c := pgtest.Shared(t)
	python := filepath.Join(pgtest.Venv(t), "bin", "python")
	for _, tg := range clientTargets(t, c) {
		t.Run(tg.name, func(t *testing.T) {
			db := c.NewDatabase(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			dsn := tg.libpqConnString(c, pgtest.ScramUser, pgtest.ScramPass, db)
			stdout, stderr, err := runClient(t, ctx, []string{"DSN=" + dsn}, python, "-c", psycopg2Script)
			if err != nil {
				t.Fatalf("psycopg2 script: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
			}
			want := strings.Join([]string{
				"count (100, 5050)",
				"ssc 2550",
				"copyout '101,copied\\n102,copied too\\n'",
				"notices ['NOTICE:  py notice 7']",
				"error 22012",
				"param ('n42', 42)",
				"tls " + map[bool]string{true: "True", false: "False"}[tg.tls],
			}, "\n") + "\n"
			if stdout != want {
				t.Errorf("psycopg2 output:\n%s\nwant:\n%s\nstderr:\n%s", stdout, want, stderr)
			}
		})
	}
}

// TestChannelBindingAcrossProxy covers SCRAM when the proxy presents its own certificate and the upstream is TLS too:
// the proxy must not offer SCRAM-SHA-256-PLUS (a binding to the client's TLS connection cannot verify upstream), so a
// libpq client that requires channel binding refuses cleanly, and one with channel_binding=disable (the documented
// setting for this deployment) logs in over TLS.
func TestChannelBindingAcrossProxy(t *testing.T) {
	c := pgtest.Shared(t)
	ca, cert, key, err := pgtest.WriteCertificates(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	tp := startProxy(t, c, proxy.Config{
		Upstream: fmt.Sprintf("postgres://%s/postgres?sslmode=verify-full&sslrootcert=%s", c.Addr(), c.CAFile),
		TLS:      &tls.Config{Certificates: []tls.Certificate{pair}},
	})
	db := c.NewDatabase(t)
	h, p, _ := strings.Cut(tp.addr, ":")
	conn := func(cb string) string {
		return "host=" + h + " port=" + p + " user=" + pgtest.ScramUser + " password=" + pgtest.ScramPass + " dbname=" + db +
			" sslmode=verify-full sslrootcert=" + ca + " channel_binding=" + cb + " connect_timeout=10"
	}
	psql := filepath.Join(c.BinDir, "psql")
	ctx := context.Background()
	out, stderr, err := runClient(t, ctx, nil, psql, "-X", "-A", "-t", "-d", conn("disable"), "-c",
		"select current_user, ssl from pg_stat_ssl where pid = pg_backend_pid()")
	if err != nil || strings.TrimSpace(out) != "scram_user|t" {
		t.Errorf("channel_binding=disable through a TLS proxy with its own certificate: %q %v\n%s", out, err, stderr)
	}
	_, stderr, err = runClient(t, ctx, nil, psql, "-X", "-A", "-t", "-d", conn("require"), "-c", "select 1")
	if err == nil || !strings.Contains(stderr, "channel binding is required") {
		t.Errorf("channel_binding=require: err %v, stderr %q; want libpq's refusal, since the proxy must not offer SCRAM-SHA-256-PLUS", err, stderr)
	}
}
