package arrows

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const (
	module  = "github.com/deferproxy/deferproxy/"
	pgQuery = "github.com/pganalyze/pg_query_go/v5"
)

// pkg is what `go list -json` says about one package (non-test files only).
type pkg struct {
	ImportPath string
	Imports    []string // direct
	Deps       []string // transitive
}

func listPackages(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-json=ImportPath,Imports,Deps", "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		pkgs[strings.TrimPrefix(p.ImportPath, module)] = p
	}
	return pkgs
}

// ours returns the packages of this module among paths, without the module prefix.
func ours(paths []string) []string {
	var out []string
	for _, p := range paths {
		if rest, ok := strings.CutPrefix(p, module); ok {
			out = append(out, rest)
		}
	}
	return out
}

// TestArrows: each package depends (transitively) only on the packages of ours it is allowed to.
func TestArrows(t *testing.T) {
	pkgs := listPackages(t)
	allowed := map[string][]string{
		"engine":               {},                                                                                 // the contract between the engine and its front ends: a leaf
		"internal/age":         {},                                                                                 // how people say an age: a leaf shared by the engine, admin and the commands
		"internal/levenshtein": {},                                                                                 // how far apart two names are: "did you mean" for the mapping and the configuration
		"rewrite":              {},                                                                                 // the only reader of SQL: pure, a leaf
		"secret":               {},                                                                                 // the one redaction of secrets: a leaf
		"admin":                {"internal/age", "secret"},                                                         // the operator listener: told what to show through interfaces
		"catalog":              {"rewrite", "secret", "internal/levenshtein"},                                      // manifests, dev catalog, decisions
		"deferral":             {"engine", "catalog", "rewrite", "internal/age", "secret", "internal/levenshtein"}, // the engine: no front end, no admin, no command
		"proxy":                {"engine", "secret"},                                                               // the PostgreSQL front end: the contract only
		"snowflake":            {"engine", "secret"},                                                               // the Snowflake HTTP front end: the contract only
	}
	for name, want := range allowed {
		p, ok := pkgs[name]
		if !ok {
			t.Errorf("package %s not found by go list", name)
			continue
		}
		for _, d := range ours(p.Deps) {
			if !slices.Contains(want, d) {
				t.Errorf("%s depends on %s; it may depend only on %v of ours (docs/ARCHITECTURE.md)", name, d, want)
			}
		}
	}
}

// testingImporters are the third-party packages allowed to bring package testing into the binary: thrift's
// deprecated test logger (lib/go/thrift/logger.go), linked through gosnowflake → arrow-go → parquet, which the
// Snowflake dev catalog needs (docs/SPEC.md §11.3). Its import registers nothing: testing's flags exist only after
// testing.Init, which only a test binary calls.
var testingImporters = []string{"github.com/apache/thrift/lib/go/thrift"}

// TestBinaryLinksNoTestHarness: the deferproxy binary (demo included) does not link the test harness, nor package
// testing except through testingImporters.
func TestBinaryLinksNoTestHarness(t *testing.T) {
	pkgs := listPackages(t)
	p := pkgs["cmd/deferproxy"]
	for _, d := range p.Deps {
		if d == module+"internal/pgtest" || d == module+"internal/corpus" {
			t.Errorf("cmd/deferproxy links %s", d)
		}
		if d == "testing" {
			for _, imp := range importersOf(t, "./cmd/deferproxy", "testing") {
				if !slices.Contains(testingImporters, imp) {
					t.Errorf("cmd/deferproxy links testing, imported by %s", imp)
				}
			}
		}
	}
}

// importersOf lists the packages in the dependencies of main that import imported directly.
func importersOf(t *testing.T, main, imported string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Imports", main)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	var importers []string
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		if slices.Contains(p.Imports, imported) {
			importers = append(importers, p.ImportPath)
		}
	}
	return importers
}

// TestOnlyRewriteReadsSQL: pg_query is imported by rewrite and nothing else of ours (tests excepted).
func TestOnlyRewriteReadsSQL(t *testing.T) {
	pkgs := listPackages(t)
	for name, p := range pkgs {
		if !slices.Contains(p.Imports, pgQuery) {
			continue
		}
		if name != "rewrite" {
			t.Errorf("%s imports pg_query: only rewrite reads SQL", name)
		}
	}
}
