package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// diskCache keeps the last good manifest of a remote source in state_dir, with the run it came from, so that a
// proxy restarted without network defers to the last production run it knew (SPEC §9). One file pair per source:
// <name>-<hash of the source>.json and .run.json, each written to a temporary file and renamed into place.
type diskCache struct {
	dir, base string
}

func newDiskCache(dir, name, source string) *diskCache {
	sum := sha256.Sum256([]byte(source))
	slug := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(name))
	return &diskCache{dir: dir, base: slug + "-" + hex.EncodeToString(sum[:6])}
}

func (c *diskCache) manifestPath() string { return filepath.Join(c.dir, c.base+".json") }
func (c *diskCache) runPath() string      { return filepath.Join(c.dir, c.base+".run.json") }

// load reads the copy; nil, nil when there is none.
func (c *diskCache) load() (*Manifest, error) {
	data, err := os.ReadFile(c.runPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var run Run
	if err := json.Unmarshal(data, &run); err != nil {
		return nil, fmt.Errorf("%s: %w", c.runPath(), err)
	}
	m, err := LoadManifestFile(c.manifestPath())
	if err != nil {
		return nil, err
	}
	m.run = run
	return m, nil
}

// cacheWriter is a manifest being copied to the cache while it is loaded.
type cacheWriter struct {
	c    *diskCache
	f    *os.File
	done bool
}

func (c *diskCache) create() (*cacheWriter, error) {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return nil, fmt.Errorf("state_dir %s: %w", c.dir, err)
	}
	f, err := os.CreateTemp(c.dir, c.base+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("state_dir %s: %w", c.dir, err)
	}
	return &cacheWriter{c: c, f: f}, nil
}

func (w *cacheWriter) Write(p []byte) (int, error) { return w.f.Write(p) }

// commit puts the copy and its run in place (the manifest first: a run file always has its manifest).
func (w *cacheWriter) commit(run Run) error {
	w.done = true
	if err := w.f.Close(); err != nil {
		os.Remove(w.f.Name())
		return err
	}
	if err := os.Rename(w.f.Name(), w.c.manifestPath()); err != nil {
		os.Remove(w.f.Name())
		return err
	}
	data, err := json.Marshal(run)
	if err != nil {
		return err
	}
	tmp := w.c.runPath() + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, w.c.runPath())
}

// abort removes an uncommitted copy.
func (w *cacheWriter) abort() {
	if !w.done {
		w.f.Close()
		os.Remove(w.f.Name())
	}
}
