package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// StoreOptions configures a ManifestStore.
type StoreOptions struct {
	// Debounce is how long the store waits after the last file event before reloading (default 250 ms): dbt and
	// editors write in several steps.
	Debounce time.Duration
	// Logger receives reload successes and failures (default slog.Default()).
	Logger *slog.Logger
	// Name labels log lines ("production manifest", "dev manifest").
	Name string
	// OnLoad, if set, is called after every successful load with the new snapshot (from the watcher goroutine).
	OnLoad func(*Manifest)
	// PollInterval is how often the file is also checked with stat (default 2 s; negative disables): a safety
	// net for what fsnotify cannot see — `dbt clean` deleting and recreating target/, network file systems.
	PollInterval time.Duration
}

// ManifestStore holds the latest good snapshot of a manifest file and reloads it when the file changes. Readers
// call Current, which never blocks; a reload that fails keeps the last good snapshot and records the error.
type ManifestStore struct {
	source string
	path   string
	opts   StoreOptions

	cur      atomic.Pointer[Manifest]
	lastErr  atomic.Pointer[error]
	loadedAt atomic.Pointer[time.Time]
	loads    atomic.Uint64
	started  atomic.Bool
	// stamp is the file as stat saw it just before the last load attempt, for the poll.
	stamp atomic.Pointer[os.FileInfo]
	// reloadMu serialises loads (watcher and explicit Reload); readers never take it.
	reloadMu sync.Mutex

	done chan struct{}
}

// NewManifestStore prepares a store for source: a plain path or "file:<path>". Other schemes (http, dbt-cloud,
// paradime) return an error that says they are not supported yet. Nothing is read until Start or Reload.
func NewManifestStore(source string, opts StoreOptions) (*ManifestStore, error) {
	path, err := manifestPath(source)
	if err != nil {
		return nil, err
	}
	if opts.Debounce <= 0 {
		opts.Debounce = 250 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Name == "" {
		opts.Name = "manifest"
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = 2 * time.Second
	}
	return &ManifestStore{source: source, path: path, opts: opts, done: make(chan struct{})}, nil
}

// manifestPath turns a configured source into a file path.
func manifestPath(source string) (string, error) {
	switch {
	case source == "":
		return "", errors.New("no manifest source configured: give a path to manifest.json")
	case strings.HasPrefix(source, "file://"):
		source = strings.TrimPrefix(source, "file://")
	case strings.HasPrefix(source, "file:"):
		source = strings.TrimPrefix(source, "file:")
	case strings.Contains(source, "://"):
		return "", fmt.Errorf("manifest source %q: only files are supported in this version; download the manifest and give its path", source)
	}
	if source == "" {
		return "", errors.New("manifest source \"file:\" has no path")
	}
	abs, err := filepath.Abs(source)
	if err != nil {
		return "", fmt.Errorf("manifest source %q: %w", source, err)
	}
	return abs, nil
}

// Start loads the manifest once and then watches its directory until ctx is done. The returned error is the first
// load's error (the store is still watching: a file that appears or is fixed later is loaded then), or an error
// setting up the watcher (then nothing is watched).
//
// The directory is watched, not the file: dbt writes target/manifest.json by writing a new file and renaming it over
// the old one, which ends a watch on the old inode.
func (s *ManifestStore) Start(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("manifest store already started")
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		close(s.done)
		return fmt.Errorf("watch manifest %s: %w", s.path, err)
	}
	dir := filepath.Dir(s.path)
	watching := true
	if err := w.Add(dir); err != nil {
		// A directory that does not exist yet (a fresh checkout before the first `dbt compile`, a volume mounted
		// late) is like a missing file: not ready until a manifest loads; the poll adds the watch once it appears.
		if !errors.Is(err, os.ErrNotExist) || s.opts.PollInterval < 0 {
			w.Close()
			close(s.done)
			return fmt.Errorf("watch manifest directory %s: %w (create it, or fix the manifest path)", dir, err)
		}
		watching = false
	}
	loadErr := s.Reload()
	go s.watch(ctx, w, watching)
	return loadErr
}

// watch reloads on file events and on the poll's changes until ctx is done; watching says whether w already watches
// the manifest's directory.
func (s *ManifestStore) watch(ctx context.Context, w *fsnotify.Watcher, watching bool) {
	defer close(s.done)
	defer w.Close()
	dir, name := filepath.Dir(s.path), filepath.Base(s.path)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var poll <-chan time.Time
	if s.opts.PollInterval > 0 {
		t := time.NewTicker(s.opts.PollInterval)
		defer t.Stop()
		poll = t.C
	}
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
				// The directory itself went away (`dbt clean`): the poll re-adds the watch once it is back.
				watching = false
				continue
			}
			if filepath.Base(ev.Name) != name || ev.Op == fsnotify.Chmod {
				continue
			}
			// Debounce: a write comes as several events (truncate, writes, rename); load once they settle.
			timer.Reset(s.opts.Debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			s.opts.Logger.Warn("manifest watcher error", "manifest", s.opts.Name, "path", s.path, "err", err)
			// Events may have been lost (queue overflow): reload to be sure.
			timer.Reset(s.opts.Debounce)
		case <-poll:
			if !watching {
				if err := w.Add(dir); err == nil {
					watching = true
					timer.Reset(s.opts.Debounce)
				}
			}
			if s.changedSinceLoad() {
				timer.Reset(s.opts.Debounce)
			}
		case <-timer.C:
			_ = s.Reload()
		}
	}
}

// changedSinceLoad reports whether the file differs (another inode, size or modification time) from the one the
// last load attempt read.
func (s *ManifestStore) changedSinceLoad() bool {
	fi, err := os.Stat(s.path)
	if err != nil {
		return false // missing: keep the last good snapshot; a new file is noticed when it appears
	}
	last := s.stamp.Load()
	return last == nil || !os.SameFile(*last, fi) || (*last).Size() != fi.Size() || !(*last).ModTime().Equal(fi.ModTime())
}

// Reload reads the file now. On success it swaps the snapshot; on failure it keeps the last good one, records and
// returns the error.
func (s *ManifestStore) Reload() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	start := time.Now()
	if fi, err := os.Stat(s.path); err == nil {
		s.stamp.Store(&fi)
	}
	m, err := LoadManifestFile(s.path)
	if err != nil {
		s.lastErr.Store(&err)
		if prev := s.cur.Load(); prev != nil {
			s.opts.Logger.Error("manifest reload failed; keeping the last good one", "manifest", s.opts.Name,
				"path", s.path, "err", err, "kept_generated_at", prev.Metadata().GeneratedAt)
		} else {
			s.opts.Logger.Error("manifest load failed; no manifest loaded yet", "manifest", s.opts.Name, "path", s.path, "err", err)
		}
		return err
	}
	now := time.Now()
	s.cur.Store(m)
	s.lastErr.Store(nil)
	s.loadedAt.Store(&now)
	s.loads.Add(1)
	md := m.Metadata()
	s.opts.Logger.Info("manifest loaded", "manifest", s.opts.Name, "path", s.path, "nodes", m.Len(), "bytes", m.Size(),
		"dbt_version", md.DbtVersion, "generated_at", md.GeneratedAt, "invocation_id", md.InvocationID,
		"took", now.Sub(start).Round(time.Millisecond))
	if s.opts.OnLoad != nil {
		s.opts.OnLoad(m)
	}
	return nil
}

// Wait blocks until the watcher started by Start has stopped (after its ctx is done); it returns at once when
// Start was never called.
func (s *ManifestStore) Wait() {
	if s.started.Load() {
		<-s.done
	}
}

// Current returns the latest good snapshot, or nil when none has loaded yet.
func (s *ManifestStore) Current() *Manifest { return s.cur.Load() }

// Source is the source as configured.
func (s *ManifestStore) Source() string { return s.source }

// Path is the file path the store reads.
func (s *ManifestStore) Path() string { return s.path }

// LastError is the error of the latest load attempt, or nil when it succeeded.
func (s *ManifestStore) LastError() error {
	if p := s.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

// LoadedAt is when the current snapshot was loaded (zero when none).
func (s *ManifestStore) LoadedAt() time.Time {
	if p := s.loadedAt.Load(); p != nil {
		return *p
	}
	return time.Time{}
}

// Loads counts successful loads (for tests and status).
func (s *ManifestStore) Loads() uint64 { return s.loads.Load() }
