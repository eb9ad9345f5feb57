package catalog

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// corpusPath locates a file of the shared dbt corpus (../shared/corpus relative to the repository root). In CI a
// missing corpus is a failure, elsewhere a skip.
func corpusPath(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "shared", "corpus", rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus file %s is missing: %v", p, err)
		}
		t.Skipf("corpus file %s is missing: %v", p, err)
	}
	return p
}

const (
	stripeManifest = "dbt/stripe/docs/manifest.json"
	jaffleManifest = "dbt/altered_jaffle_shop/target/manifest.json"
)

func mustLoad(t testing.TB, path string) *Manifest {
	t.Helper()
	m, err := LoadManifestFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
