package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/deferproxy/deferproxy/deferral"
	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// Modes compared natively and through the proxy.
const (
	modeDefer      = "defer"       // native: --defer --state prod; proxy: default mode
	modeFavorState = "favor_state" // native: --defer --favor-state; proxy: PGOPTIONS=-c deferproxy.mode=favor_state
)

// project is one dbt project of the fidelity suite.
type project struct {
	name     string
	corpus   string // directory under <corpus>/dbt to copy (whole), or ""
	testdata string // directory under internal/e2e/testdata to copy, or ""
	// withDbtUtils copies the corpus dbt_utils package (dbt_project.yml, macros) to ../dbt_utils of the project.
	withDbtUtils bool
	sub          string // directory inside the copy where dbt runs ("" = the copy itself)
	profile      string // profile name of dbt_project.yml
	remove       []string
	deps         bool
	env          func(db string) []string
	// devManifest: the proxy maps dev relations with the dev target's manifest (`dbt parse --target dev_proxy`,
	// SPEC §3.1) instead of deriving them.
	devManifest bool
	preBuild    []string   // SQL before the production build (e.g. source tables)
	prodBuild   [][]string // dbt commands building production
	prodChange  []string   // SQL after the production build: production data now differs from seeds and stale copies
	stale       []string   // SQL run in a fresh dev schema before every dev run: stale dev copies
	cases       []fidelityCase
}

// fidelityCase is one dev invocation compared natively and through the proxy.
type fidelityCase struct {
	name string
	args []string // dbt command and selection, without target/defer flags
	// reads: per mode, relations ("schema.name") the run must name in its statements; they show that the data came
	// from where dbt's defer rule says (a stale dev copy or production).
	reads map[string][]string
	// mayFail: the native run may exit non-zero (failing data tests); the proxy run must then fail the same way.
	mayFail bool
	// differs: per mode, a documented difference from native defer (README, "Differences from native defer"): the
	// proxy run names exactly these relations in addition to the native run's, and its data may differ accordingly.
	differs map[string]knownDifference
}

// knownDifference is a documented, asserted difference between native defer and the proxy.
type knownDifference struct {
	why         string   // one line; the README explains it
	proxyReads  []string // relations the proxy run names and the native run does not
	dataDiffers bool     // the dev relations must differ (else the documented difference no longer holds)
	relations   []string // when set, only these dev relations may differ
}

// Statement templates: {dev} and {prod} are the dev and prod schemas.
func expand(sql string) string {
	return strings.NewReplacer("{dev}", devSchema, "{prod}", prodSchema).Replace(sql)
}

// projectRig is a project copied to a temp dir, with its database and production built.
type projectRig struct {
	p         *project
	cl        *pgtest.Cluster
	db        string
	url       string // direct, superuser
	dir       string // where dbt runs
	dbt       *dbtInvoker
	prodState string // target path of the production build: manifest.json lives here
	// devManifest is the dev target's manifest.json when the project maps with it (project.devManifest), else "".
	devManifest string
	log         *stmtLog
	tmp         string
}

var (
	rigsMu sync.Mutex
	rigs   = map[string]*rigOutcome{}
	tmpDir string
)

// rigOutcome is how a project's production build went, for the tests that come after the one that built it.
type rigOutcome struct {
	mu      sync.Mutex  // held while the project builds: projects build in parallel, a project once
	built   bool        // a build was attempted
	rig     *projectRig // nil when the build failed or was skipped
	test    string      // the test that built it, whose log holds the cause of a failure
	skipped bool
}

// rigFor returns the project's rig, building production on first use (shared by all tests of the binary). A later
// test of a project whose build failed or skipped fails or skips the same way, naming the test whose log says why.
func rigFor(t *testing.T, p *project) *projectRig {
	t.Helper()
	rigsMu.Lock()
	o, ok := rigs[p.name]
	if !ok {
		o = &rigOutcome{}
		rigs[p.name] = o
	}
	if tmpDir == "" {
		d, err := os.MkdirTemp("", "deferproxy-e2e-")
		if err != nil {
			rigsMu.Unlock()
			t.Fatal(err)
		}
		tmpDir = d
	}
	rigsMu.Unlock()

	o.mu.Lock()
	defer o.mu.Unlock()
	if o.built {
		switch {
		case o.rig != nil:
			return o.rig
		case o.skipped:
			t.Skipf("production build of %s was skipped in %s (its skip message says why)", p.name, o.test)
		default:
			t.Fatalf("production build of %s failed in %s: that test's output above has the cause", p.name, o.test)
		}
	}
	o.built, o.test = true, t.Name()
	defer func() { o.skipped = t.Skipped() }() // runs on t.Skip's Goexit too
	o.rig = buildRig(t, p)
	return o.rig
}

func buildRig(t *testing.T, p *project) *projectRig {
	t.Helper()
	bin := dbtBinary(t)
	cl := logCluster(t)
	r := &projectRig{p: p, cl: cl, tmp: filepath.Join(tmpDir, p.name)}
	src := ""
	switch {
	case p.corpus != "":
		src = filepath.Join(corpusRoot(t), p.corpus)
	default:
		src = filepath.Join(repoRoot(t), "internal", "e2e", "testdata", p.testdata)
	}
	copyRoot := filepath.Join(r.tmp, "src", filepath.Base(src))
	if err := copyTree(src, copyRoot); err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
	if p.withDbtUtils {
		du := filepath.Join(corpusRoot(t), "dbt_utils")
		for _, part := range []string{"dbt_project.yml", "macros"} {
			if err := copyTree(filepath.Join(du, part), filepath.Join(r.tmp, "src", "dbt_utils", part)); err != nil {
				t.Fatalf("copy dbt_utils: %v", err)
			}
		}
	}
	r.dir = filepath.Join(copyRoot, p.sub)
	for _, f := range p.remove {
		if err := os.Remove(filepath.Join(r.dir, f)); err != nil {
			t.Fatalf("remove %s from the copy: %v", f, err)
		}
	}
	r.db = "e2e_" + p.name
	cl.Exec(t, "postgres", "create database "+qident(r.db))
	r.url = cl.URL("postgres", "", r.db)
	r.log = &stmtLog{path: cl.LogFile, url: r.url}

	profilesDir := filepath.Join(r.tmp, "profiles")
	if err := os.MkdirAll(profilesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeProfiles(profilesDir, p.profile, cl.Host, cl.Port, r.db); err != nil {
		t.Fatal(err)
	}
	r.dbt = &dbtInvoker{bin: bin, dir: r.dir, profilesDir: profilesDir}
	if p.env != nil {
		r.dbt.env = p.env(r.db)
	}
	r.prodState = filepath.Join(r.tmp, "prod-state")
	for _, s := range p.preBuild {
		execSQL(t, r.url, expand(s))
	}
	if p.deps {
		r.dbt.mustRun(t, r.prodState, nil, "deps")
	}
	for _, cmd := range p.prodBuild {
		r.dbt.mustRun(t, r.prodState, nil, append(cmd, "--target", targetProd)...)
	}
	if _, err := os.Stat(filepath.Join(r.prodState, "manifest.json")); err != nil {
		t.Fatalf("production build of %s left no manifest: %v", p.name, err)
	}
	for _, s := range p.prodChange {
		execSQL(t, r.url, expand(s))
	}
	if p.devManifest {
		// What a developer's own dbt leaves in target/ at every invocation; parse connects to nothing.
		devState := filepath.Join(r.tmp, "dev-manifest")
		r.dbt.mustRun(t, devState, nil, "parse", "--target", targetDevProxy)
		r.devManifest = filepath.Join(devState, "manifest.json")
	}
	return r
}

// devRun is what one dev invocation did.
type devRun struct {
	how   string // "native" or "proxy"
	run   dbtRun
	snap  relSnapshot
	named map[string]bool
	stmts []string
	note  string // the proxy engine's status after the run
	proxy *proxyHandle
}

// runDev resets the dev schemas, creates the stale copies and runs args natively (with --defer) or through a fresh
// proxy.
func (r *projectRig) runDev(t *testing.T, how, mode string, args []string) devRun {
	t.Helper()
	return r.runDevOpts(t, how, mode, args, devOpts{})
}

// devOpts varies runDev for the non-fidelity tests.
type devOpts struct {
	noStale       bool // start from an empty dev schema
	noDevManifest bool // start the proxy without the project's dev manifest (derivation only)
	noDefer       bool // native run without --defer (an ordinary dev build)
	keepProxy     bool // return the proxy still running in devRun.proxy (the caller stops it)
	// devManifest, when set, is the proxy's dev manifest instead of the project's (a branch's own parse).
	devManifest string
	// proxyConfig changes the proxy engine's configuration (schema map, catalog_ttl).
	proxyConfig func(*deferral.Config)
	// beforeRun runs after the dev schema is reset (and the proxy started) and before dbt: out-of-band changes.
	// px is nil for a native run.
	beforeRun func(px *proxyHandle)
}

func (r *projectRig) runDevOpts(t *testing.T, how, mode string, args []string, o devOpts) devRun {
	t.Helper()
	resetDev(t, r.url)
	if !o.noStale {
		for _, s := range r.p.stale {
			execSQL(t, r.url, expand(s))
		}
	}
	target := filepath.Join(r.tmp, "dev-"+how)
	var extraEnv []string
	full := append([]string{}, args...)
	var px *proxyHandle
	switch how {
	case "native":
		full = append(full, "--target", targetDevNative)
		if !o.noDefer {
			full = append(full, "--defer", "--state", r.prodState)
		}
		if mode == modeFavorState && !o.noDefer {
			full = append(full, "--favor-state")
		}
	case "proxy":
		dm := r.devManifest
		if o.noDevManifest {
			dm = ""
		}
		if o.devManifest != "" {
			dm = o.devManifest
		}
		px = startProxyWith(t, r.url, filepath.Join(r.prodState, "manifest.json"), modeDefer, dm, o.proxyConfig)
		full = append(full, "--target", targetDevProxy)
		extraEnv = append(extraEnv, fmt.Sprintf("DEFERPROXY_E2E_PROXY_PORT=%d", px.Port))
		if mode == modeFavorState {
			// dbt-postgres has no profile key for libpq options; libpq reads PGOPTIONS (SPEC §8 startup option).
			extraEnv = append(extraEnv, "PGOPTIONS=-c deferproxy.mode=favor_state")
		}
	default:
		t.Fatalf("unknown run kind %q", how)
	}
	if o.beforeRun != nil {
		o.beforeRun(px)
	}
	from := r.log.mark(t)
	run := r.dbt.run(t, target, extraEnv, full...)
	to := r.log.mark(t)
	d := devRun{how: how, run: run}
	if px != nil {
		d.note = px.status()
		if o.keepProxy {
			d.proxy = px
		} else {
			px.stop()
		}
	}
	d.stmts = r.log.statements(t, from, to)
	var unparsed []string
	d.named, unparsed = namedRelations(d.stmts)
	for _, u := range unparsed {
		t.Logf("%s: statement pg_query could not parse (ignored for the relation set): %.200q", how, u)
	}
	d.snap = snapshotDev(t, r.url)
	return d
}
