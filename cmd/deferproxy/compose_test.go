package main

// docker-compose.yml cannot run here (no Docker engine), so these tests check it against what it depends on: the
// CLI's real flags, the files it mounts, its ports and healthchecks; and TestComposeStackWithoutDocker runs the same
// stack from the same files without Docker (the init scripts into a throwaway PostgreSQL, deferproxy with the
// compose command line, dbt with the compose profile).

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"gopkg.in/yaml.v3"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// composeFile is the subset of the Compose specification docker-compose.yml uses. Decoding is strict, so a
// misspelt key (depend_on, healtcheck) fails the test instead of being ignored as Docker would.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Image       string                      `yaml:"image"`
	Build       yaml.Node                   `yaml:"build"`
	Command     []string                    `yaml:"command"`
	Environment map[string]string           `yaml:"environment"`
	Volumes     []string                    `yaml:"volumes"`
	Ports       []string                    `yaml:"ports"`
	DependsOn   map[string]composeDependsOn `yaml:"depends_on"`
	Healthcheck *composeHealthcheck         `yaml:"healthcheck"`
	Profiles    []string                    `yaml:"profiles"`
	WorkingDir  string                      `yaml:"working_dir"`
}

type composeDependsOn struct {
	Condition string `yaml:"condition"`
}

type composeHealthcheck struct {
	Test     []string `yaml:"test"`
	Interval string   `yaml:"interval"`
	Timeout  string   `yaml:"timeout"`
	Retries  int      `yaml:"retries"`
}

// composeRepoRoot is the repository root, where docker-compose.yml and the Dockerfile live.
const composeRepoRoot = "../.."

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(composeRepoRoot, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return f
}

// buildContext returns the build context of a service ("build: dir" or "build: {context: dir}").
func (s composeService) buildContext() string {
	switch s.Build.Kind {
	case yaml.ScalarNode:
		return s.Build.Value
	case yaml.MappingNode:
		var m struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
		}
		if err := s.Build.Decode(&m); err == nil {
			return m.Context
		}
	}
	return ""
}

// mounts maps each bind mount's container path to its source path on the host (relative to the repository).
func (s composeService) mounts(t *testing.T) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || !strings.HasPrefix(parts[0], ".") {
			t.Errorf("volume %q is not a relative bind mount", v)
			continue
		}
		m[parts[1]] = filepath.Join(composeRepoRoot, parts[0])
	}
	return m
}

// composeFlagValue returns the value of --name in a command line (--name=value or --name value).
func composeFlagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

func composePublishes(ports []string, port string) bool {
	for _, p := range ports {
		parts := strings.Split(p, ":")
		if parts[len(parts)-1] == port {
			return true
		}
	}
	return false
}

func TestComposeFile(t *testing.T) {
	f := loadCompose(t)
	for _, name := range []string{"postgres", "deferproxy", "dbt"} {
		if _, ok := f.Services[name]; !ok {
			t.Fatalf("docker-compose.yml lacks service %q", name)
		}
	}

	pg := f.Services["postgres"]
	if !strings.HasPrefix(pg.Image, "postgres:15") {
		t.Errorf("postgres image %q, want postgres:15", pg.Image)
	}
	if pg.Healthcheck == nil || !strings.Contains(strings.Join(pg.Healthcheck.Test, " "), "pg_isready") {
		t.Errorf("postgres healthcheck %+v does not run pg_isready", pg.Healthcheck)
	}
	db := pg.Environment["POSTGRES_DB"]
	if db == "" {
		t.Errorf("postgres service sets no POSTGRES_DB")
	}
	var inits []string
	for target, src := range pg.mounts(t) {
		if _, err := os.Stat(src); err != nil {
			t.Errorf("postgres mount %s: %v", target, err)
		}
		if strings.HasPrefix(target, "/docker-entrypoint-initdb.d/") {
			inits = append(inits, target)
		}
	}
	if len(inits) == 0 {
		t.Errorf("postgres service mounts no init scripts")
	}

	dp := f.Services["deferproxy"]
	if ctx := dp.buildContext(); ctx != "." {
		t.Errorf("deferproxy build context %q, want . (the repository, with the Dockerfile)", ctx)
	}
	if d := dp.DependsOn["postgres"].Condition; d != "service_healthy" {
		t.Errorf("deferproxy depends_on postgres condition %q, want service_healthy", d)
	}
	for target, src := range dp.mounts(t) {
		if _, err := os.Stat(src); err != nil {
			t.Errorf("deferproxy mount %s: %v", target, err)
		}
	}
	// The command line must parse with the real serve command: every flag exists and every value has its type.
	if len(dp.Command) == 0 || dp.Command[0] != "serve" {
		t.Fatalf("deferproxy command %q does not start with serve", dp.Command)
	}
	serve, _, err := newRootCmd().Find([]string{"serve"})
	if err != nil {
		t.Fatal(err)
	}
	args := dp.Command[1:]
	for _, a := range args {
		if name, ok := strings.CutPrefix(a, "--"); ok {
			name, _, _ = strings.Cut(name, "=")
			if serve.Flags().Lookup(name) == nil {
				t.Errorf("deferproxy command uses --%s, which `deferproxy serve` does not have", name)
			}
		}
	}
	if err := serve.ParseFlags(args); err != nil {
		t.Errorf("deferproxy command %q: %v", args, err)
	}
	if serve.Flags().NArg() != 0 {
		t.Errorf("deferproxy command has positional arguments %q", serve.Flags().Args())
	}
	listen, _ := composeFlagValue(args, "listen")
	admin, _ := composeFlagValue(args, "admin")
	for flag, addr := range map[string]string{"listen": listen, "admin": admin} {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Errorf("--%s %q: %v", flag, addr, err)
			continue
		}
		if host != "0.0.0.0" && host != "" {
			t.Errorf("--%s %q listens on %s only: other containers cannot reach it", flag, addr, host)
		}
		if !composePublishes(dp.Ports, port) {
			t.Errorf("--%s port %s is not published (ports %q)", flag, port, dp.Ports)
		}
	}
	up, _ := composeFlagValue(args, "upstream")
	u, err := url.Parse(up)
	if err != nil {
		t.Errorf("--upstream %q: %v", up, err)
	} else {
		if u.Hostname() != "postgres" {
			t.Errorf("--upstream host %q is not the postgres service", u.Hostname())
		}
		if strings.TrimPrefix(u.Path, "/") != db {
			t.Errorf("--upstream database %q, postgres service creates %q", u.Path, db)
		}
	}
	if m, ok := composeFlagValue(args, "manifest"); !ok {
		t.Errorf("deferproxy command has no --manifest: the stack would be a bare pass-through")
	} else if _, mounted := dp.mounts(t)[m]; !mounted {
		t.Errorf("--manifest %s is not mounted into the deferproxy container", m)
	}
	if dp.Healthcheck == nil {
		t.Errorf("deferproxy has no healthcheck")
	} else {
		hc := strings.Join(dp.Healthcheck.Test, " ")
		_, adminPort, _ := net.SplitHostPort(admin)
		if !strings.Contains(hc, "/readyz") || !strings.Contains(hc, ":"+adminPort+"/") {
			t.Errorf("deferproxy healthcheck %q does not hit the admin listener's /readyz (port %s): dbt must wait for readiness", hc, adminPort)
		}
	}

	dbt := f.Services["dbt"]
	if len(dbt.Profiles) != 1 || dbt.Profiles[0] != "dbt" {
		t.Errorf("dbt service profiles %q, want [dbt]", dbt.Profiles)
	}
	if d := dbt.DependsOn["deferproxy"].Condition; d != "service_healthy" {
		t.Errorf("dbt depends_on deferproxy condition %q, want service_healthy", d)
	}
	mounts := dbt.mounts(t)
	for target, src := range mounts {
		if _, err := os.Stat(src); err != nil {
			t.Errorf("dbt mount %s: %v", target, err)
		}
	}
	if ctx := dbt.buildContext(); ctx == "" {
		t.Errorf("dbt service has no build context")
	} else if _, err := os.Stat(filepath.Join(composeRepoRoot, ctx, "Dockerfile")); err != nil {
		t.Errorf("dbt build: %v", err)
	}
	profilesDir := dbt.Environment["DBT_PROFILES_DIR"]
	src, ok := mounts[profilesDir+"/profiles.yml"]
	if !ok {
		t.Fatalf("DBT_PROFILES_DIR %q has no mounted profiles.yml", profilesDir)
	}
	out := loadComposeProfile(t, src)
	_, listenPort, _ := net.SplitHostPort(listen)
	devSchema, _ := composeFlagValue(args, "dev-schema")
	if out.Host != "deferproxy" || strconv.Itoa(out.Port) != listenPort || out.DBName != db || out.Schema != devSchema {
		t.Errorf("dbt profile output %+v: want host deferproxy, port %s, dbname %s, schema %s (the proxy's --dev-schema)",
			out, listenPort, db, devSchema)
	}
	if _, ok := mounts[dbt.WorkingDir]; !ok {
		t.Errorf("dbt working_dir %q is not the mounted project", dbt.WorkingDir)
	}
}

// composeProfileOutput is the dbt target the compose stack uses.
type composeProfileOutput struct {
	Type     string `yaml:"type"`
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	User     string `yaml:"user"`
	Password string `yaml:"password"`
	DBName   string `yaml:"dbname"`
	Schema   string `yaml:"schema"`
	Threads  int    `yaml:"threads"`
	SSLMode  string `yaml:"sslmode"`
}

// loadComposeProfile reads profiles.yml and returns the default target of the jaffle_shop profile.
func loadComposeProfile(t *testing.T, path string) composeProfileOutput {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var profiles map[string]struct {
		Target  string                          `yaml:"target"`
		Outputs map[string]composeProfileOutput `yaml:"outputs"`
	}
	if err := yaml.Unmarshal(b, &profiles); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	p, ok := profiles["jaffle_shop"]
	if !ok {
		t.Fatalf("%s has no jaffle_shop profile (the example project's profile name)", path)
	}
	out, ok := p.Outputs[p.Target]
	if !ok || out.Type != "postgres" {
		t.Fatalf("%s: target %q is not a postgres output", path, p.Target)
	}
	return out
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(composeRepoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var froms, exposes []string
	var user, health string
	cgo := false
	// Instructions continue over lines ending in a backslash.
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	for _, l := range strings.Split(text, "\n") {
		fields := strings.Fields(l)
		if len(fields) == 0 {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "FROM":
			froms = append(froms, fields[1])
		case "EXPOSE":
			exposes = append(exposes, fields[1:]...)
		case "USER":
			user = fields[1]
		case "HEALTHCHECK":
			health = l
		}
		if strings.Contains(l, "CGO_ENABLED=1") {
			cgo = true
		}
	}
	if len(froms) < 2 || !strings.HasPrefix(froms[0], "golang:1.26") {
		t.Errorf("Dockerfile stages %q: want a golang:1.26 build stage and a runtime stage", froms)
	}
	if !cgo {
		t.Errorf("Dockerfile does not build with CGO_ENABLED=1 (pg_query_go needs cgo)")
	}
	if user == "" || user == "root" || strings.HasPrefix(user, "0") {
		t.Errorf("Dockerfile runs as %q, want a non-root user", user)
	}
	sort.Strings(exposes)
	if strings.Join(exposes, " ") != "6432 6480" {
		t.Errorf("Dockerfile exposes %q, want 6432 6480", exposes)
	}
	if !strings.Contains(health, "/healthz") {
		t.Errorf("Dockerfile HEALTHCHECK %q does not hit /healthz", health)
	}
}

// TestComposeStackWithoutDocker runs the compose stack's pieces from the compose files themselves: the postgres
// service's init scripts (in file-name order, as the postgres image runs them) into a throwaway PostgreSQL,
// deferproxy with the compose command line (service host names and listen addresses mapped to local ones), and the
// dbt service's command with its profile pointed at that proxy. dbt must build `customers` in the dev schema
// although its upstream models stg_orders and stg_payments exist only in production.
func TestComposeStackWithoutDocker(t *testing.T) {
	venv := pgtest.Venv(t)
	if _, _, err := pgtest.FindBinDir(); err != nil && !pgtest.InCI() {
		t.Skip(err)
	}
	f := loadCompose(t)
	pgSvc, dpSvc, dbtSvc := f.Services["postgres"], f.Services["deferproxy"], f.Services["dbt"]
	db := pgSvc.Environment["POSTGRES_DB"]

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// A private cluster: the stack needs its database to have the compose name, which other tests may use too.
	c, err := pgtest.Start(ctx, pgtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	c.Exec(t, "postgres", "CREATE DATABASE "+db)
	mounts := pgSvc.mounts(t)
	var targets []string
	for target := range mounts {
		if strings.HasPrefix(target, "/docker-entrypoint-initdb.d/") {
			targets = append(targets, target)
		}
	}
	sort.Strings(targets)
	for _, target := range targets {
		sql, err := os.ReadFile(mounts[target])
		if err != nil {
			t.Fatal(err)
		}
		c.Exec(t, db, string(sql))
	}

	// deferproxy with the compose command line.
	listenAddr, adminAddr := composeFreeAddr(t), composeFreeAddr(t)
	replacer := []string{"postgres:5432", c.Addr()}
	for target, src := range dpSvc.mounts(t) {
		abs, _ := filepath.Abs(src)
		replacer = append(replacer, target, abs)
	}
	r := strings.NewReplacer(replacer...)
	var args []string
	for _, a := range dpSvc.Command {
		switch {
		case strings.HasPrefix(a, "--listen="):
			a = "--listen=" + listenAddr
		case strings.HasPrefix(a, "--admin="):
			a = "--admin=" + adminAddr
		default:
			a = r.Replace(a)
		}
		args = append(args, a)
	}
	root := newRootCmd()
	logs := &composeLog{}
	root.SetOut(logs)
	root.SetErr(logs)
	srvCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- execute(srvCtx, root, args) }()
	defer func() {
		stop()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Errorf("deferproxy serve did not stop")
		}
	}()
	// The compose healthcheck URL, on the local admin address.
	health := ""
	for _, a := range dpSvc.Healthcheck.Test {
		if strings.Contains(a, "/readyz") {
			u, _ := url.Parse(a)
			u.Host = adminAddr
			health = u.String()
		}
	}
	composeWaitHealthy(t, health, done, logs)

	// dbt with the compose profile, pointed at the local proxy.
	dbtMounts := dbtSvc.mounts(t)
	profile := loadComposeProfile(t, dbtMounts[dbtSvc.Environment["DBT_PROFILES_DIR"]+"/profiles.yml"])
	host, port, _ := net.SplitHostPort(listenAddr)
	dir := t.TempDir()
	profileYAML := fmt.Sprintf(`jaffle_shop:
  target: dev
  outputs:
    dev:
      type: postgres
      host: %s
      port: %s
      user: %s
      password: %s
      dbname: %s
      schema: %s
      threads: %d
      sslmode: %s
`, host, port, profile.User, profile.Password, profile.DBName, profile.Schema, profile.Threads, profile.SSLMode)
	if err := os.WriteFile(filepath.Join(dir, "profiles.yml"), []byte(profileYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	// The project runs in place, as the read-only mount does; the service's environment sends dbt's artifacts to
	// /tmp, mapped here to a temporary directory.
	project := dbtMounts[dbtSvc.WorkingDir]
	cmd := exec.CommandContext(ctx, filepath.Join(venv, "bin", "dbt"), dbtSvc.Command...)
	cmd.Dir = project
	cmd.Env = os.Environ()
	for k, v := range dbtSvc.Environment {
		if strings.HasPrefix(v, "/tmp/") {
			v = filepath.Join(dir, v)
		}
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "DBT_PROFILES_DIR="+dir, "DO_NOT_TRACK=1")
	out, err := cmd.CombinedOutput()
	for _, artifact := range []string{"target", "logs"} {
		if _, err := os.Stat(filepath.Join(project, artifact)); err == nil {
			t.Errorf("dbt wrote %s/ into the project, which the dbt service mounts read-only", artifact)
			os.RemoveAll(filepath.Join(project, artifact))
		}
	}
	if err != nil {
		t.Fatalf("dbt %s through the proxy: %v\n%s\nproxy log:\n%s", strings.Join(dbtSvc.Command, " "), err, out, logs.String())
	}

	// dbt built customers in the dev schema, from the dev stg_customers (upper-cased names) and the production
	// orders and payments (never built in dev).
	conn, err := pgx.Connect(ctx, c.URL(pgtest.SuperUser, "", db))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n, upper int
	var devOrders, prodLifetime, devLifetime *float64
	var missing *string
	err = conn.QueryRow(ctx, `select count(*), count(*) filter (where first_name = upper(first_name)),
		sum(customer_lifetime_value)::float8, (select sum(customer_lifetime_value)::float8 from analytics.customers),
		sum(number_of_orders)::float8, to_regclass('dbt_dev.stg_orders')::text
		from dbt_dev.customers`).Scan(&n, &upper, &devLifetime, &prodLifetime, &devOrders, &missing)
	if err != nil {
		t.Fatalf("read dbt_dev.customers: %v\ndbt output:\n%s", err, out)
	}
	if n != 100 || upper != n {
		t.Errorf("dbt_dev.customers: %d rows, %d with upper-cased names; want 100, all (built from the dev stg_customers)", n, upper)
	}
	if devLifetime == nil || prodLifetime == nil || *devLifetime != *prodLifetime || devOrders == nil || *devOrders == 0 {
		t.Errorf("dbt_dev.customers lifetime value %v, production %v, orders %v: want equal and non-zero (orders and payments deferred to production)",
			devLifetime, prodLifetime, devOrders)
	}
	if missing != nil {
		t.Errorf("dbt_dev.stg_orders exists (%s): the test no longer shows a deferral", *missing)
	}
}

// composeLog collects the proxy's log; serve writes it while the test reads it.
type composeLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *composeLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *composeLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func composeFreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// composeWaitHealthy polls the healthcheck URL as Docker would, failing if serve exits first.
func composeWaitHealthy(t *testing.T, health string, done <-chan error, logs *composeLog) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("deferproxy serve exited: %v\n%s", err, logs.String())
		default:
		}
		resp, err := client.Get(health)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("deferproxy never healthy at %s\n%s", health, logs.String())
}
