package catalog

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func copyFixture(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or 10 s pass (fsnotify delivery is asynchronous; no wall-clock assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func startStore(t *testing.T, source string) (*ManifestStore, error) {
	t.Helper()
	s, err := NewManifestStore(source, StoreOptions{Debounce: 20 * time.Millisecond, PollInterval: 30 * time.Millisecond,
		Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); s.Wait() })
	return s, s.Start(ctx)
}

func TestStoreReloadOnAtomicRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "manifest.json")
	copyFixture(t, "testdata/manifest_v9.json", path)
	s, err := startStore(t, "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	first := s.Current()
	if first == nil || first.Metadata().InvocationID != "inv-v9" || s.LastError() != nil || s.LoadedAt().IsZero() {
		t.Fatalf("initial load: %v, err %v", first, s.LastError())
	}
	// dbt writes the new manifest beside the old one and renames it over it.
	tmp := filepath.Join(dir, "manifest.json.tmp")
	copyFixture(t, "testdata/manifest_v11.json", tmp)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "reload after rename", func() bool { return s.Current().Metadata().InvocationID == "inv-v11" })
	if first.Metadata().InvocationID != "inv-v9" {
		t.Error("the old snapshot changed: snapshots must be immutable")
	}
	// A second rename onto the new inode is seen too (the directory is watched, not the file).
	copyFixture(t, "testdata/manifest_v10.json", tmp)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "second reload", func() bool { return s.Current().Metadata().InvocationID == "inv-v10" })
}

func TestStoreReloadOnInPlaceWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "manifest.json")
	copyFixture(t, "testdata/manifest_v9.json", path)
	s, err := startStore(t, path)
	if err != nil {
		t.Fatal(err)
	}
	copyFixture(t, "testdata/manifest_v11.json", path) // truncate + write in place
	waitFor(t, "reload after in-place write", func() bool { return s.Current().Metadata().InvocationID == "inv-v11" })
}

func TestStoreKeepsLastGood(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "manifest.json")
	copyFixture(t, "testdata/manifest_v11.json", path)
	s, err := startStore(t, path)
	if err != nil {
		t.Fatal(err)
	}
	good11, _ := os.ReadFile("testdata/manifest_v11.json")
	for _, bad := range []struct{ name, data string }{
		{"truncated", string(good11[:len(good11)/3])},
		{"wrong schema", strings.Replace(string(good11), "manifest/v11.json", "manifest/v7.json", 1)},
		{"not json", "<html>502 Bad Gateway</html>"},
	} {
		loads := s.Loads()
		if err := os.WriteFile(path, []byte(bad.data), 0o644); err != nil {
			t.Fatal(err)
		}
		waitFor(t, bad.name+" reported", func() bool { return s.LastError() != nil })
		kept := s.Current()
		if kept == nil || kept.Metadata().InvocationID != "inv-v11" {
			t.Fatalf("%s: the last good snapshot was not kept: %v", bad.name, kept)
		}
		if err := s.Reload(); err == nil {
			t.Fatalf("%s: Reload succeeded", bad.name)
		}
		if s.Current() != kept {
			t.Fatalf("%s: a failed reload replaced the snapshot", bad.name)
		}
		// Fix the file: the store recovers.
		copyFixture(t, "testdata/manifest_v11.json", path)
		waitFor(t, bad.name+" recovered", func() bool { return s.LastError() == nil && s.Loads() > loads })
	}
	// Removing the file keeps the last good one as well.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err == nil || s.Current() == nil {
		t.Fatalf("Reload of a missing file: err %v, current %v", err, s.Current())
	}
}

func TestStoreStartsWithoutFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "manifest.json")
	s, err := startStore(t, path)
	if err == nil || s.Current() != nil || s.LastError() == nil {
		t.Fatalf("Start without a file: err %v, current %v", err, s.Current())
	}
	copyFixture(t, "testdata/manifest_v10.json", path)
	waitFor(t, "load once the file appears", func() bool { return s.Current() != nil })
}

func TestStoreSources(t *testing.T) {
	for _, src := range []string{"", "file:", "ftp://example.com/manifest.json", "dbt-cloud://1/2", "dbt-cloud://1", "dbt-cloud://a/b",
		"paradime://nightly", "s3://bucket", "https://"} {
		if _, err := NewManifestStore(src, StoreOptions{}); err == nil {
			t.Errorf("NewManifestStore(%q) accepted", src)
		}
	}
	s, err := NewManifestStore("file://"+filepath.FromSlash("/x/target/manifest.json"), StoreOptions{})
	if err != nil || s.Path() != "/x/target/manifest.json" {
		t.Errorf("file:// source: %v %v", s, err)
	}
	// A directory (existing, or not there yet and named without .json) means its manifest.json.
	dir := t.TempDir()
	for _, src := range []string{dir, "file:" + dir, filepath.Join(dir, "prod-state")} {
		s, err := NewManifestStore(src, StoreOptions{})
		if err != nil || filepath.Base(s.Path()) != "manifest.json" || filepath.Dir(s.Path()) == filepath.Dir(src) {
			t.Errorf("directory source %q: path %q, %v", src, s.Path(), err)
		}
	}
	s, err = NewManifestStore("/no/such/dir/manifest.json", StoreOptions{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err == nil || !strings.Contains(err.Error(), "directory /no/such/dir does not exist") {
		t.Errorf("Start on a missing directory: %v", err)
	}
	cancel()
	s.Wait()
	// A path through a regular file can never hold a manifest: Start refuses it.
	file := filepath.Join(t.TempDir(), "file")
	copyFixture(t, "testdata/manifest_v9.json", file)
	s, err = NewManifestStore(filepath.Join(file, "target", "manifest.json"), StoreOptions{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "not a directory") || s.LastError() != nil {
		t.Errorf("Start on a path through a file: %v", err)
	}
	s.Wait()
}

// A manifest directory that does not exist yet is like a missing file: the store starts without a manifest and
// loads one once the directory and the file appear (SPEC §6: not ready until a manifest loads).
func TestStoreStartsWithoutDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "target")
	path := filepath.Join(dir, "manifest.json")
	s, err := startStore(t, path)
	if err == nil || s.Current() != nil || s.LastError() == nil {
		t.Fatalf("Start without a directory: err %v, current %v", err, s.Current())
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFixture(t, "testdata/manifest_v10.json", path)
	waitFor(t, "load once the directory and file appear", func() bool { return s.Current() != nil })
	copyFixture(t, "testdata/manifest_v11.json", path+".tmp")
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "reload through the watch added later", func() bool { return s.Current().Metadata().InvocationID == "inv-v11" })
}

// `dbt clean` deletes target/ (and the directory watch with it); `dbt compile` recreates it. The store notices the new
// manifest through its stat poll and watches the new directory.
func TestStoreSurvivesDirectoryRecreation(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "target")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "manifest.json")
	copyFixture(t, "testdata/manifest_v9.json", path)
	s, err := startStore(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFixture(t, "testdata/manifest_v10.json", path)
	waitFor(t, "load after the directory came back", func() bool { return s.Current().Metadata().InvocationID == "inv-v10" })
	copyFixture(t, "testdata/manifest_v11.json", path+".tmp")
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "load through the new watch", func() bool { return s.Current().Metadata().InvocationID == "inv-v11" })
}
