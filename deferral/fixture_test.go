package deferral_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeManifest(t testing.TB, db string, generated time.Time) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "prod_manifest.json.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), "{{DB}}", db)
	s = strings.ReplaceAll(s, "{{GENERATED_AT}}", generated.UTC().Format("2006-01-02T15:04:05.000000Z"))
	path := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
