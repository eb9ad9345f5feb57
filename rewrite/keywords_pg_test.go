package rewrite

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestKeywordsGenerated: keywords_pg.go is what its generator writes from the pg_query_go in go.mod (after an
// upgrade, run `go generate ./rewrite`).
func TestKeywordsGenerated(t *testing.T) {
	out := filepath.Join(t.TempDir(), "keywords_pg.go")
	if b, err := exec.Command("go", "run", "./internal/kwgen", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("kwgen: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("keywords_pg.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("keywords_pg.go is not what internal/kwgen generates: run go generate ./rewrite")
	}
}
