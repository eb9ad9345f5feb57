package deferral_test

import (
	"context"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// The BI and IDE drivers, as their users run them through deferproxy: pgjdbc 42.7.7 (with HikariCP) on the machine's
// JDK, asyncpg and psycopg 3. Each keeps statements prepared on the server; each must read what a fresh statement
// reads while the dev relation is built and dropped (testdata/drivers: DriverCheck.java, prepared_check.py).

// driverJars returns the directory holding pgjdbc, HikariCP and their dependencies: $DEFERPROXY_DRIVER_JARS, else
// <repo>/.tmp/drivers/jars, which `make deps` fills from Maven Central (testdata/drivers/pom.xml); when it is
// empty the test fetches them itself with mvn. Without a JDK and Maven the test fails in CI and skips elsewhere.
func driverJars(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"java", "javac", "mvn"} {
		if _, err := osexec.LookPath(tool); err != nil {
			if pgtest.InCI() {
				t.Fatalf("%s is missing: `make deps` installs default-jdk-headless and maven", tool)
			}
			t.Skipf("%s is missing (make deps installs a JDK and Maven)", tool)
		}
	}
	dir := os.Getenv("DEFERPROXY_DRIVER_JARS")
	if dir == "" {
		abs, err := filepath.Abs(filepath.Join("..", ".tmp", "drivers", "jars"))
		if err != nil {
			t.Fatal(err)
		}
		dir = abs
	}
	if jars, _ := filepath.Glob(filepath.Join(dir, "postgresql-42.7.7.jar")); len(jars) == 1 {
		return dir
	}
	pom, err := filepath.Abs(filepath.Join("testdata", "drivers", "pom.xml"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := osexec.CommandContext(ctx, "mvn", "-q", "-B", "-f", pom, "dependency:copy-dependencies",
		"-DoutputDirectory="+dir).CombinedOutput()
	if err != nil {
		t.Fatalf("fetch the JDBC driver with Maven: %v\n%s", err, out)
	}
	return dir
}

// TestPgjdbcPreparedStatements: pgjdbc's server-side prepared statements under its default settings
// (prepareThreshold 5), prepareThreshold 1, -1 and 0 (never prepared on the server), preferQueryMode=extendedCacheEverything, a changed row type
// (0A000, then pgjdbc prepares again), and a HikariCP pool — each through the dev build and the drop; and an IDE's
// DatabaseMetaData calls for the dev schema, which agree with each other.
func TestPgjdbcPreparedStatements(t *testing.T) {
	driverCheck := compileDriverCheck(t)
	e := newEnv(t, envOptions{})
	// Keys and an index for the metadata scenario: production's stg_payments has them, dev has only stg_customers.
	e.c.Exec(t, e.db, `alter table analytics.stg_payments add primary key (id);
		create index stg_payments_src on analytics.stg_payments (src);
		alter table dbt_fabio.stg_customers add primary key (id)`)
	url := "jdbc:postgresql://" + e.addr + "/" + e.db
	for _, scenario := range []string{"default", "threshold1", "threshold-1", "threshold0", "cacheEverything", "rowtype", "hikari", "metadata"} {
		t.Run(scenario, func(t *testing.T) {
			runDriverCheck(t, driverCheck(url, scenario), scenario)
		})
	}
}

// compileDriverCheck compiles testdata/drivers/DriverCheck.java against the driver jars and returns the command
// that runs one of its scenarios: DriverCheck <jdbc url> <scenario>.
func compileDriverCheck(t *testing.T) func(url, scenario string) *osexec.Cmd {
	t.Helper()
	jars := driverJars(t)
	classes := t.TempDir()
	src, err := filepath.Abs(filepath.Join("testdata", "drivers", "DriverCheck.java"))
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(jars, "*")
	if out, err := osexec.Command("javac", "-nowarn", "-encoding", "UTF-8", "-cp", cp, "-d", classes, src).CombinedOutput(); err != nil {
		t.Fatalf("javac DriverCheck.java: %v\n%s", err, out)
	}
	return func(url, scenario string) *osexec.Cmd {
		return osexec.Command("java", "-cp", classes+string(os.PathListSeparator)+cp, "DriverCheck", url, scenario)
	}
}

// TestPythonDriversPreparedStatements: asyncpg's statement cache and explicit prepare, psycopg 3's prepare=True and
// prepare_threshold, through the dev build and the drop.
func TestPythonDriversPreparedStatements(t *testing.T) {
	python := filepath.Join(pgtest.Venv(t), "bin", "python")
	script, err := filepath.Abs(filepath.Join("testdata", "drivers", "prepared_check.py"))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{})
	dsn := "postgresql://" + pgtest.SuperUser + "@" + e.addr + "/" + e.db + "?sslmode=disable"
	for _, driver := range []string{"asyncpg", "psycopg"} {
		t.Run(driver, func(t *testing.T) {
			runDriverCheck(t, osexec.Command(python, script, dsn, driver), driver)
		})
	}
}

// runDriverCheck runs one driver program and fails the test unless it ends with "OK <name>".
func runDriverCheck(t *testing.T, cmd *osexec.Cmd, name string) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	text := strings.TrimSpace(string(out))
	if err != nil || !strings.HasSuffix(text, "OK "+name) {
		t.Fatalf("%s: %v\n%s", name, err, text)
	}
	if testing.Verbose() {
		t.Log(text)
	}
}

// TestPsqlDescribeDevSchema: psql's \dt and \d of the dev schema describe it as it is, as pgjdbc's metadata does: the
// model built in dev is listed, a deferred one is not (yet a query naming it reads production).
func TestPsqlDescribeDevSchema(t *testing.T) {
	bin, _, err := pgtest.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{})
	url := "postgresql://" + pgtest.SuperUser + "@" + e.addr + "/" + e.db + "?sslmode=disable&application_name=psql"
	// psql exits 1 when \d finds nothing; the output says what it found.
	psql := func(cmd string) string {
		out, _ := osexec.Command(filepath.Join(bin, "psql"), "-X", "-A", "-t", "-d", url, "-c", cmd).CombinedOutput()
		return string(out)
	}
	if out := psql(`\dt dbt_fabio.*`); !strings.Contains(out, "stg_customers") || strings.Contains(out, "stg_payments") {
		t.Errorf(`\dt dbt_fabio.*: %q, want stg_customers only`, out)
	}
	if out := psql(`\d dbt_fabio.stg_payments`); !strings.Contains(out, "Did not find any relation") {
		t.Errorf(`\d of a model missing from dev: %q`, out)
	}
	if out := psql(`\d dbt_fabio.stg_customers`); !strings.Contains(out, "src") {
		t.Errorf(`\d of the dev model: %q`, out)
	}
	if out := psql(`select src from dbt_fabio.stg_payments`); !strings.Contains(out, "prod") {
		t.Errorf("the deferred model by name: %q, want production's row", out)
	}
}
