// Package pgcluster starts throwaway PostgreSQL clusters: for integration tests (through internal/pgtest, which adds
// the test helpers) and for `deferproxy demo`. It does not import package testing, so the binary does not link it.
//
// A cluster is a fresh initdb in a temporary directory, listening on a free port on 127.0.0.1 with TLS on (a test CA
// and server certificate generated at start) and one role per authentication method the proxy must relay. When the
// test process runs as root (CI containers), initdb and postgres run as the "postgres" OS user, because PostgreSQL
// refuses to run as root.
package pgcluster

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Roles and passwords created in every cluster, one per authentication method (see pg_hba.conf in writeConfig).
const (
	SuperUser = "postgres" // superuser, trust
	TrustUser = "trust_user"
	ClearUser = "clear_user" // method "password" (cleartext)
	ClearPass = "clear_pass"
	MD5User   = "md5_user"
	MD5Pass   = "md5_pass"
	ScramUser = "scram_user"
	ScramPass = "scram_pass"
	ReplUser  = "repl_user" // REPLICATION, scram-sha-256, also allowed on "replication" connections
	ReplPass  = "repl_pass"
)

// Options configures a private cluster.
type Options struct {
	// LogStatements turns on log_statement=all; the server log is Cluster.LogFile either way.
	LogStatements bool
	// Settings are extra postgresql.conf settings (name → value, value written verbatim).
	Settings map[string]string
	// HBA are extra pg_hba.conf lines, matched before the catch-all trust line (roles of a client's own test
	// suite that must log in with a given method, say).
	HBA []string
}

// Cluster is a throwaway PostgreSQL server (initdb from /usr/lib/postgresql/*/bin, newest major).
type Cluster struct {
	Host     string // "127.0.0.1"
	Port     int
	DataDir  string
	BinDir   string // e.g. /usr/lib/postgresql/15/bin (psql, pgbench, pg_ctl live here)
	CAFile   string // test CA certificate (PEM)
	CertFile string // server certificate (SAN localhost, 127.0.0.1), signed by CAFile
	KeyFile  string // server private key
	Major    int
	LogFile  string // server log (stderr of postgres); statements too when Options.LogStatements
	SockDir  string // unix_socket_directories

	dir  string              // temporary root holding everything above
	cred *syscall.Credential // nil when not root

	mu   sync.Mutex
	proc *exec.Cmd
	done chan struct{} // closed when proc has exited
	log  *os.File
}

// ErrNoPostgres means no PostgreSQL server binaries were found under /usr/lib/postgresql.
var ErrNoPostgres = errors.New("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (install Debian's postgresql package, or run `make postgres`)")

// FindBinDir returns the bin directory and major version of the newest PostgreSQL under /usr/lib/postgresql.
func FindBinDir() (string, int, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	type cand struct {
		dir   string
		major int
	}
	var cands []cand
	for _, m := range matches {
		bin := filepath.Dir(m)
		major, err := strconv.Atoi(filepath.Base(filepath.Dir(bin)))
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(bin, "postgres")); err != nil {
			continue
		}
		cands = append(cands, cand{bin, major})
	}
	if len(cands) == 0 {
		return "", 0, ErrNoPostgres
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].major > cands[j].major })
	return cands[0].dir, cands[0].major, nil
}

// Start creates and starts a private cluster. The caller must Stop it.
func Start(ctx context.Context, opt Options) (*Cluster, error) {
	bin, major, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Host: "127.0.0.1", BinDir: bin, Major: major}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs the postgres OS user to run PostgreSQL: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	base := c.tempBase()
	removeStale(base)
	c.dir, err = os.MkdirTemp(base, "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("create cluster dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(c.dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, fmt.Errorf("write cluster owner: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = c.Stop()
		}
	}()
	if err := c.chown(c.dir); err != nil {
		return nil, err
	}
	c.DataDir = filepath.Join(c.dir, "data")
	c.SockDir = c.dir
	c.LogFile = filepath.Join(c.dir, "postgres.log")

	initdb := c.command(ctx, filepath.Join(bin, "initdb"), "-D", c.DataDir, "-U", SuperUser, "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	if err := c.writeCerts(); err != nil {
		return nil, err
	}
	if err := c.writeConfig(opt); err != nil {
		return nil, err
	}
	// A free port can be taken between our probe and the postmaster's bind; retry with another one.
	for attempt := 0; ; attempt++ {
		c.Port, err = freePort()
		if err != nil {
			return nil, err
		}
		if err := c.writePort(); err != nil {
			return nil, err
		}
		err = c.start(ctx)
		if err == nil {
			break
		}
		if attempt >= 4 || !strings.Contains(c.logTail(), "could not bind") {
			return nil, err
		}
	}
	if err := c.createRoles(ctx); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}

// ownerFile in a cluster directory holds the pid of the test process that created it.
const ownerFile = "owner.pid"

// removeStale deletes cluster directories under base left by test processes that died without Stop (killed, or a
// package without pgtest.Main): their owner process is gone, and so is their postmaster (Pdeathsig).
func removeStale(base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, "pgtest-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			continue // being created right now, or not ours
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue
		}
		if pm, err := os.ReadFile(filepath.Join(d, "data", "postmaster.pid")); err == nil {
			if ppid, err := strconv.Atoi(strings.SplitN(string(pm), "\n", 2)[0]); err == nil && syscall.Kill(ppid, 0) != syscall.ESRCH {
				continue // its postmaster still runs
			}
		}
		_ = os.RemoveAll(d)
	}
}

// tempBase is the directory to create the cluster in: os.TempDir(), unless the server's OS user could not reach it
// (TMPDIR under /root, say), then /tmp.
func (c *Cluster) tempBase() string {
	base := os.TempDir()
	if c.cred == nil {
		return base
	}
	for d := base; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return "/tmp"
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if fi.Mode().Perm()&0o001 == 0 && !(ok && st.Uid == c.cred.Uid) {
			return "/tmp"
		}
		if d == filepath.Dir(d) {
			return base
		}
	}
}

// command builds an exec.Cmd for a PostgreSQL program, run as the postgres OS user when we are root.
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = c.dir
	env := []string{"LC_ALL=C", "LANG=C"}
	for _, kv := range os.Environ() {
		// PG* variables (PGDATA, PGPORT, …) from the developer's shell must not leak into the cluster.
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = env
	// Pdeathsig: if the test binary dies (timeout panic, kill -9), the postmaster goes with it instead of lingering.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGQUIT}
	return cmd
}

func (c *Cluster) chown(path string) error {
	if c.cred == nil {
		return nil
	}
	if err := os.Chown(path, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
		return fmt.Errorf("chown %s to postgres: %w", path, err)
	}
	return nil
}

// writeFile writes a file readable only by the server's OS user.
func (c *Cluster) writeFile(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return c.chown(path)
}

func (c *Cluster) writeConfig(opt Options) error {
	settings := map[string]string{
		"listen_addresses":          "'127.0.0.1'",
		"unix_socket_directories":   "'" + c.SockDir + "'",
		"max_connections":           "600", // the proxy's 500-concurrent-sessions test
		"shared_buffers":            "32MB",
		"fsync":                     "off",
		"synchronous_commit":        "off",
		"full_page_writes":          "off",
		"ssl":                       "on",
		"ssl_cert_file":             "'" + c.CertFile + "'",
		"ssl_key_file":              "'" + c.KeyFile + "'",
		"ssl_ca_file":               "'" + c.CAFile + "'",
		"logging_collector":         "off",
		"log_min_messages":          "warning",
		"log_line_prefix":           "'%m [%p] %q%u@%d '",
		"max_wal_senders":           "10",
		"wal_level":                 "replica",
		"max_prepared_transactions": "10",
		"password_encryption":       "'scram-sha-256'",
		"timezone":                  "'UTC'",
	}
	if opt.LogStatements {
		settings["log_statement"] = "'all'"
	}
	for k, v := range opt.Settings {
		settings[k] = v
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# written by internal/pgcluster\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = %s\n", k, settings[k])
	}
	b.WriteString("include_if_exists = 'pgtest_port.conf'\n")
	f, err := os.OpenFile(filepath.Join(c.DataDir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open postgresql.conf: %w", err)
	}
	_, err = f.WriteString(b.String())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write postgresql.conf: %w", err)
	}

	// "host" lines match TCP connections with and without TLS, so they cover hostssl too; the first matching line
	// wins, so the per-role lines come before the catch-all trust line that lets roles created by tests log in.
	hba := `# written by internal/pgcluster
local all all trust
host all postgres 127.0.0.1/32 trust
host all trust_user 127.0.0.1/32 trust
host all clear_user 127.0.0.1/32 password
host all md5_user 127.0.0.1/32 md5
host all scram_user 127.0.0.1/32 scram-sha-256
host all repl_user 127.0.0.1/32 scram-sha-256
host replication repl_user 127.0.0.1/32 scram-sha-256
host replication postgres 127.0.0.1/32 trust
local replication all trust
`
	for _, l := range opt.HBA {
		hba += l + "\n"
	}
	hba += "host all all 127.0.0.1/32 trust\n"
	return c.writeFile(filepath.Join(c.DataDir, "pg_hba.conf"), []byte(hba))
}

func (c *Cluster) writePort() error {
	return c.writeFile(filepath.Join(c.DataDir, "pgtest_port.conf"), []byte(fmt.Sprintf("port = %d\n", c.Port)))
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// start runs the postmaster as our child and waits until postmaster.pid says it is ready for connections.
func (c *Cluster) start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	lf, err := os.OpenFile(c.LogFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open server log: %w", err)
	}
	// The postmaster outlives ctx (it is stopped by Stop), so it must not be tied to it.
	cmd := c.command(context.WithoutCancel(ctx), filepath.Join(c.BinDir, "postgres"), "-D", c.DataDir)
	cmd.Stdout = lf
	cmd.Stderr = lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		return fmt.Errorf("start postgres: %w", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	c.proc, c.done, c.log = cmd, done, lf

	pidFile := filepath.Join(c.DataDir, "postmaster.pid")
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case <-done:
			c.proc = nil
			lf.Close()
			return fmt.Errorf("postgres exited during startup; log %s:\n%s", c.LogFile, c.logTail())
		case <-deadline:
			return fmt.Errorf("postgres not ready after 60s; log %s:\n%s", c.LogFile, c.logTail())
		case <-ctx.Done():
			return fmt.Errorf("wait for postgres: %w", ctx.Err())
		case <-tick.C:
		}
		b, err := os.ReadFile(pidFile)
		if err != nil {
			continue
		}
		lines := strings.Split(string(b), "\n")
		// Line 8 of postmaster.pid is the postmaster status (PM_STATUS_READY is "ready   "), as pg_ctl -w reads it.
		if len(lines) >= 8 && strings.TrimSpace(lines[7]) == "ready" && strings.TrimSpace(lines[0]) == strconv.Itoa(cmd.Process.Pid) {
			return nil
		}
	}
}

// stopServer shuts the postmaster down with a fast shutdown (SIGINT), as pg_ctl stop -m fast does.
func (c *Cluster) stopServer() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil {
		return nil
	}
	_ = c.proc.Process.Signal(syscall.SIGINT)
	var err error
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.proc.Process.Kill()
		<-c.done
		err = errors.New("postgres did not stop within 30s of a fast shutdown; killed")
	}
	c.proc = nil
	c.log.Close()
	return err
}

// Stop shuts the cluster down and removes its files.
func (c *Cluster) Stop() error {
	err := c.stopServer()
	if c.dir != "" {
		if rerr := os.RemoveAll(c.dir); rerr != nil && err == nil {
			err = fmt.Errorf("remove cluster dir: %w", rerr)
		}
	}
	return err
}

// Restart stops the server with a fast shutdown (like pg_ctl restart -m fast) and starts it again on the same port.
// Open sessions are terminated with 57P01.
func (c *Cluster) Restart() error {
	if err := c.stopServer(); err != nil {
		return err
	}
	return c.start(context.Background())
}

// Kill stops the server abruptly (SIGQUIT: immediate shutdown, no checkpoint), for fault tests. Start it again with
// Restart.
func (c *Cluster) Kill() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil {
		return nil
	}
	_ = c.proc.Process.Signal(syscall.SIGQUIT)
	<-c.done
	c.proc = nil
	c.log.Close()
	return nil
}

// Addr is the server's TCP address, "127.0.0.1:PORT".
func (c *Cluster) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// URL is a postgres:// URL for the given role (password may be empty) with sslmode=disable.
func (c *Cluster) URL(user, password, database string) string {
	u := "postgres://" + user
	if password != "" {
		u += ":" + password
	}
	if database == "" {
		database = "postgres"
	}
	return u + "@" + c.Addr() + "/" + database + "?sslmode=disable"
}

// TLSURL is like URL but with sslmode=verify-full against the test CA.
func (c *Cluster) TLSURL(user, password, database string) string {
	return strings.TrimSuffix(c.URL(user, password, database), "sslmode=disable") + "sslmode=verify-full&sslrootcert=" + c.CAFile
}

func (c *Cluster) createRoles(ctx context.Context) error {
	conn, err := pgconn.Connect(ctx, c.URL(SuperUser, "", "postgres"))
	if err != nil {
		return fmt.Errorf("connect as superuser: %w", err)
	}
	defer conn.Close(ctx)
	// md5_user's password is stored as MD5 so the server really runs the md5 exchange (with a SCRAM verifier it
	// would silently upgrade to SCRAM).
	sql := `
SET password_encryption = 'md5';
CREATE ROLE md5_user LOGIN CREATEDB PASSWORD 'md5_pass';
SET password_encryption = 'scram-sha-256';
CREATE ROLE trust_user LOGIN CREATEDB;
CREATE ROLE clear_user LOGIN CREATEDB PASSWORD 'clear_pass';
CREATE ROLE scram_user LOGIN CREATEDB PASSWORD 'scram_pass';
CREATE ROLE repl_user LOGIN CREATEDB REPLICATION PASSWORD 'repl_pass';
GRANT CREATE ON DATABASE postgres TO trust_user, clear_user, md5_user, scram_user, repl_user;
GRANT ALL ON SCHEMA public TO PUBLIC;
`
	if _, err := conn.Exec(ctx, sql).ReadAll(); err != nil {
		return fmt.Errorf("create roles: %w", err)
	}
	// New databases are copies of template1: let every role create tables in their public schema as in PG ≤ 14.
	t1, err := pgconn.Connect(ctx, c.URL(SuperUser, "", "template1"))
	if err != nil {
		return fmt.Errorf("connect to template1: %w", err)
	}
	defer t1.Close(ctx)
	if _, err := t1.Exec(ctx, "GRANT ALL ON SCHEMA public TO PUBLIC").ReadAll(); err != nil {
		return fmt.Errorf("grant on template1: %w", err)
	}
	return nil
}

func (c *Cluster) logTail() string {
	b, _ := os.ReadFile(c.LogFile)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// ServerVersion returns the output of `postgres --version`, for logs.
func (c *Cluster) ServerVersion() string {
	out, _ := exec.Command(filepath.Join(c.BinDir, "postgres"), "--version").Output()
	return string(bytes.TrimSpace(out))
}

// LogContains reports whether the server log holds a line containing s (statements are logged only with
// Options.LogStatements).
func (c *Cluster) LogContains(s string) bool {
	f, err := os.Open(c.LogFile)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			return true
		}
	}
	return false
}
