package catalog

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// fileFetcher reads a manifest file, or manifest.json in a directory (a dbt target/ or a copied prod-state/). Its
// Fetch is a stat when nothing changed; Watch reports changes through fsnotify on the directory.
type fileFetcher struct {
	path string
	// debounce is how long Watch waits after the last event before reporting (dbt and editors write in steps).
	debounce time.Duration

	mu sync.Mutex
	// stamp is the file as stat saw it at the last committed fetch.
	stamp os.FileInfo
}

func newFileFetcher(source string) (*fileFetcher, error) {
	p, err := manifestPath(source)
	if err != nil {
		return nil, err
	}
	return &fileFetcher{path: p, debounce: 250 * time.Millisecond}, nil
}

// manifestPath turns a file source into the manifest's path: a directory (existing, or named without a .json or
// .gz ending) means its manifest.json.
func manifestPath(source string) (string, error) {
	orig := source
	switch {
	case strings.HasPrefix(source, "file://"):
		source = strings.TrimPrefix(source, "file://")
	case strings.HasPrefix(source, "file:"):
		source = strings.TrimPrefix(source, "file:")
	}
	if source == "" {
		return "", fmt.Errorf("manifest source %q has no path", orig)
	}
	abs, err := filepath.Abs(source)
	if err != nil {
		return "", fmt.Errorf("manifest source %q: %w", orig, err)
	}
	fi, err := os.Stat(abs)
	isDir := err == nil && fi.IsDir()
	if err != nil && !strings.HasSuffix(abs, ".json") && !strings.HasSuffix(abs, ".gz") {
		isDir = true // not there yet: prod-state/ or target/ that a later run creates
	}
	if isDir {
		abs = filepath.Join(abs, "manifest.json")
	}
	return abs, nil
}

func (f *fileFetcher) String() string { return f.path }

// usable reports a path that can never hold a manifest (a component that is a file, not a directory): a
// configuration error, unlike a file or directory that does not exist yet.
func (f *fileFetcher) usable() error {
	if _, err := os.Stat(f.path); errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("manifest %s: a part of the path is a file, not a directory (fix the manifest path)", f.path)
	}
	return nil
}

// Fetch opens the file unless stat shows the same file (inode, size, modification time) as the last commit.
func (f *fileFetcher) Fetch(context.Context) (*Fetched, error) {
	fi, err := os.Stat(f.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if _, derr := os.Stat(filepath.Dir(f.path)); derr != nil {
				return nil, fmt.Errorf("manifest %s: directory %s does not exist (yet): waiting for it", f.path, filepath.Dir(f.path))
			}
			return nil, fmt.Errorf("manifest %s does not exist (yet): waiting for it", f.path)
		}
		return nil, fmt.Errorf("manifest %s: %w", f.path, err)
	}
	f.mu.Lock()
	last := f.stamp
	f.mu.Unlock()
	if last != nil && os.SameFile(last, fi) && last.Size() == fi.Size() && last.ModTime().Equal(fi.ModTime()) {
		return nil, ErrNotModified
	}
	file, err := os.Open(f.path)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", f.path, err)
	}
	return &Fetched{Body: file, Commit: func() {
		f.mu.Lock()
		f.stamp = fi
		f.mu.Unlock()
	}}, nil
}

// forget makes the next Fetch read the file even if stat shows no change (an explicit Reload).
func (f *fileFetcher) forget() {
	f.mu.Lock()
	f.stamp = nil
	f.mu.Unlock()
}

// Watch watches the directory, not the file: dbt writes target/manifest.json by writing a new file and renaming it
// over the old one, which ends a watch on the old inode. A directory that is missing or goes away (`dbt clean`) is
// watched again once it is back (the store's poll notices the file itself meanwhile).
func (f *fileFetcher) Watch(ctx context.Context, changed func()) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return // the poll still works
	}
	defer w.Close()
	dir, name := filepath.Dir(f.path), filepath.Base(f.path)
	watching := w.Add(dir) == nil
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	retry := time.NewTicker(time.Second)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if ev.Name == dir && ev.Has(fsnotify.Remove|fsnotify.Rename) {
				watching = false
				continue
			}
			if filepath.Base(ev.Name) != name || ev.Op == fsnotify.Chmod {
				continue
			}
			timer.Reset(f.debounce)
		case _, ok := <-w.Errors:
			if !ok {
				return
			}
			timer.Reset(f.debounce) // events may have been lost (queue overflow)
		case <-retry.C:
			if !watching && w.Add(dir) == nil {
				watching = true
				timer.Reset(f.debounce)
			}
		case <-timer.C:
			changed()
		}
	}
}
