package catalog

import (
	"testing"

	"github.com/deferproxy/deferproxy/internal/corpus"
	"github.com/deferproxy/deferproxy/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// corpusPath locates a file of the test corpus (testdata/corpus in the repository).
func corpusPath(t testing.TB, rel string) string { return corpus.Path(t, rel) }

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
