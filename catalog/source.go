package catalog

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// StoreOptions configures a ManifestStore.
type StoreOptions struct {
	// Logger receives loads and failures (default slog.Default()).
	Logger *slog.Logger
	// Name labels log lines ("production manifest", "dev manifest").
	Name string
	// OnLoad, if set, is called after every successful load with the new snapshot (from the store's goroutine).
	OnLoad func(*Manifest)
	// PollInterval is how often the source is checked: default 2 s for files (a stat; a safety net for what fsnotify
	// cannot see, such as `dbt clean` or network file systems), 60 s for the others (manifest_poll).
	PollInterval time.Duration
	// Debounce is how long a watched file must be quiet before it is read (default 250 ms).
	Debounce time.Duration
	// RetryMin and RetryMax bound the exponential back-off after failed checks (defaults: 5 s, or the poll interval
	// when shorter; and 10 min, or the poll interval when longer).
	RetryMin, RetryMax time.Duration
	// FetchTimeout bounds one check, manifest download included (default 5 min); the first check, in Start, is
	// bounded by StartTimeout (default 30 s) and then goes on in the background.
	FetchTimeout time.Duration
	StartTimeout time.Duration
	// MaxBytes is the largest manifest accepted, after decompression (default 2 GiB).
	MaxBytes int64
	// StateDir, if set, keeps the last good manifest of a remote source on disk so that a restart works offline.
	StateDir string
	// RunURLTemplate is manifest_run_url: the run's link when the source does not give one (see ExpandRunURL).
	RunURLTemplate string
	// Source holds credentials and endpoints for remote sources.
	Source SourceOptions
	// Force accepts a manifest that validate would refuse (no refable nodes, another project), with a warning in
	// the log: manifest_force, for an operator who really means to switch.
	Force bool
	// Fetcher, if set, is used instead of one built from the source string (tests, embedders).
	Fetcher Fetcher
}

// ManifestStore holds the latest good snapshot of a manifest from a Fetcher and checks the source for a newer one
// on a poll (and, for files, on fsnotify events). Readers call Current, which never blocks; a check that fails keeps
// the last good snapshot, records the error and retries with exponential back-off. A new manifest must parse
// completely and pass validate before it replaces the current one.
type ManifestStore struct {
	source string
	kind   string
	src    Fetcher
	opts   StoreOptions
	cache  *diskCache // nil: no on-disk copy

	cur atomic.Pointer[Manifest]
	// st is the source's health; stMu guards it (checks are rare, readers copy it).
	stMu sync.Mutex
	st   SourceStatus
	// errSticky: the last error came from a complete body (invalid manifest) that the source still serves, so a
	// "not modified" answer does not clear it.
	errSticky bool
	loads     atomic.Uint64
	started   atomic.Bool
	// checkMu serialises checks (poll loop, watcher, Reload); readers never take it.
	checkMu sync.Mutex
	kick    chan struct{}
	done    chan struct{}
}

// SourceStatus is a manifest source's health for /status and `deferproxy status` (SPEC §7).
type SourceStatus struct {
	Source     string    `json:"source"`
	Kind       string    `json:"kind"`
	LastCheck  time.Time `json:"last_check"`
	LastChange time.Time `json:"last_change"`
	// LastError is the error of the latest check ("" when it succeeded or found nothing new); the last good manifest
	// stays in use.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at"`
	// FromCache: the manifest in use was read from state_dir at start, the source not having answered yet.
	FromCache bool      `json:"from_cache,omitempty"`
	NextCheck time.Time `json:"next_check"`
	Checks    uint64    `json:"checks"`
	Failures  int       `json:"consecutive_failures,omitempty"`
	Poll      string    `json:"poll"`
}

// NewManifestStore prepares a store for a configured source (see NewFetcher). Nothing is read until Start or Reload.
func NewManifestStore(source string, opts StoreOptions) (*ManifestStore, error) {
	src := opts.Fetcher
	if src == nil {
		var err error
		if src, err = NewFetcher(source, opts.Source); err != nil {
			return nil, err
		}
	}
	kind := SourceKind(source)
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Name == "" {
		opts.Name = "manifest"
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 60 * time.Second
		if kind == KindFile {
			opts.PollInterval = 2 * time.Second
		}
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = min(5*time.Second, opts.PollInterval)
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = max(10*time.Minute, opts.PollInterval)
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = 5 * time.Minute
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 30 * time.Second
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 2 << 30
	}
	if ff, ok := src.(*fileFetcher); ok && opts.Debounce > 0 {
		ff.debounce = opts.Debounce
	}
	s := &ManifestStore{source: source, kind: kind, src: src, opts: opts, kick: make(chan struct{}, 1), done: make(chan struct{})}
	s.st = SourceStatus{Source: src.String(), Kind: kind, Poll: opts.PollInterval.String()}
	if opts.StateDir != "" && kind != KindFile {
		s.cache = newDiskCache(opts.StateDir, opts.Name, src.String())
	}
	return s, nil
}

// Start loads the on-disk copy of a remote source (if any), checks the source once (within StartTimeout) and then
// keeps checking it until ctx is done. The returned error is the first check's: the store goes on, and a source that
// appears or recovers later is loaded then.
func (s *ManifestStore) Start(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("manifest store already started")
	}
	if ff, ok := s.src.(*fileFetcher); ok {
		if err := ff.usable(); err != nil {
			close(s.done)
			return err
		}
	}
	if s.cache != nil {
		s.loadCache()
	}
	sctx, cancel := context.WithTimeout(ctx, s.opts.StartTimeout)
	err := s.check(sctx, false)
	cancel()
	if w, ok := s.src.(Watcher); ok {
		go w.Watch(ctx, func() { s.Kick() })
	}
	go s.loop(ctx)
	return err
}

// Kick asks for a check soon (without waiting for it).
func (s *ManifestStore) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *ManifestStore) loop(ctx context.Context) {
	defer close(s.done)
	timer := time.NewTimer(s.nextDelay())
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-timer.C:
		}
		_ = s.check(ctx, false)
		timer.Reset(s.nextDelay())
	}
}

// nextDelay is the poll interval after a good check, and an exponential back-off after failures.
func (s *ManifestStore) nextDelay() time.Duration {
	s.stMu.Lock()
	n := s.st.Failures
	s.stMu.Unlock()
	d := backoff(n, s.opts.PollInterval, s.opts.RetryMin, s.opts.RetryMax)
	s.stMu.Lock()
	s.st.NextCheck = time.Now().Add(d)
	s.stMu.Unlock()
	return d
}

// backoff is the wait before the next check after n consecutive failures: the poll interval when n is 0, else
// retryMin doubled per further failure, at most retryMax.
func backoff(n int, poll, retryMin, retryMax time.Duration) time.Duration {
	if n == 0 {
		return poll
	}
	d := retryMin
	for i := 1; i < n && d < retryMax; i++ {
		d *= 2
	}
	return min(d, retryMax)
}

// Reload checks the source now, reading a file even if it looks unchanged. It returns the check's error, or the
// standing error when the source has nothing new.
func (s *ManifestStore) Reload() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.FetchTimeout)
	defer cancel()
	return s.check(ctx, true)
}

// check asks the source for something newer and loads it.
func (s *ManifestStore) check(ctx context.Context, force bool) error {
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	if ff, ok := s.src.(*fileFetcher); ok && force {
		ff.forget()
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.FetchTimeout)
	defer cancel()
	start := time.Now()
	s.stMu.Lock()
	s.st.LastCheck = start
	s.st.Checks++
	s.stMu.Unlock()

	f, err := s.src.Fetch(ctx)
	if errors.Is(err, ErrNotModified) {
		s.stMu.Lock()
		defer s.stMu.Unlock()
		if !s.errSticky {
			s.st.LastError, s.st.Failures = "", 0
		}
		if s.st.LastError != "" {
			return errors.New(s.st.LastError)
		}
		return nil
	}
	var m *Manifest
	sticky := false
	if err == nil {
		m, sticky, err = s.load(f)
	}
	if err != nil {
		s.fail(err, sticky)
		return err
	}
	if f.Commit != nil {
		f.Commit()
	}
	s.publish(m, false)
	md, run := m.Metadata(), m.Run()
	s.opts.Logger.Info("manifest loaded", "manifest", s.opts.Name, "source", s.st.Source, "run", run.Label(), "run_url", run.URL,
		"finished_at", run.FinishedAt, "nodes", m.Len(), "bytes", m.Size(), "dbt_version", md.DbtVersion,
		"invocation_id", md.InvocationID, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// load reads and validates a fetched manifest, writing the on-disk copy as it reads. sticky reports an error of a
// complete body (the source will serve it again until it changes), as opposed to a transfer error.
func (s *ManifestStore) load(f *Fetched) (m *Manifest, sticky bool, err error) {
	defer f.Body.Close()
	var r io.Reader = f.Body
	br := bufio.NewReaderSize(r, 64<<10)
	r = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, false, fmt.Errorf("manifest %s: gzip: %w", s.st.Source, err)
		}
		defer zr.Close()
		r = zr
	}
	lr := &limitReader{r: r, left: s.opts.MaxBytes}
	r = lr
	var tmp *cacheWriter
	if s.cache != nil {
		if tmp, err = s.cache.create(); err != nil {
			s.opts.Logger.Warn("cannot write the manifest's on-disk copy", "manifest", s.opts.Name, "err", err)
		} else {
			defer tmp.abort()
			r = io.TeeReader(r, tmp)
		}
	}
	m, err = LoadManifest(r)
	if err == nil {
		_, err = io.Copy(io.Discard, r) // the rest (whitespace), for the copy; a transfer error shows here too
	}
	if lr.over {
		return nil, true, fmt.Errorf("manifest %s is larger than %d bytes (max_manifest_size)", s.st.Source, s.opts.MaxBytes)
	}
	if err != nil {
		return nil, false, fmt.Errorf("manifest %s: %w", s.st.Source, err)
	}
	if err := s.validate(m); err != nil {
		return nil, true, fmt.Errorf("manifest %s rejected, the last good one stays in use: %w", s.st.Source, err)
	}
	m.run = completeRun(f.Run, m.Metadata(), s.opts.RunURLTemplate, s.st.Source)
	if tmp != nil {
		if err := tmp.commit(m.run); err != nil {
			s.opts.Logger.Warn("cannot write the manifest's on-disk copy", "manifest", s.opts.Name, "err", err)
		}
	}
	return m, false, nil
}

// validate decides whether a parsed manifest may be used: it must have something to defer to (a model, seed or
// snapshot with a relation), since the write guard's production schemas are those of its nodes, and a replacement
// must be of the project in use (metadata.project_name, and project_id when both have one). The first manifest is
// held to the first rule too: with none usable the engine stays not ready and says why (SPEC §6). With Force the
// manifest is used anyway, and the log says what was overridden.
func (s *ManifestStore) validate(m *Manifest) error {
	err := s.usable(m)
	if err != nil && s.opts.Force {
		s.opts.Logger.Warn("manifest accepted although it would be refused (manifest_force)", "manifest", s.opts.Name,
			"source", s.st.Source, "reason", err.Error())
		return nil
	}
	return err
}

func (s *ManifestStore) usable(m *Manifest) error {
	deferrable := 0
	m.Nodes(func(n *Node) bool {
		if m.Deferrable(n) {
			deferrable++
		}
		return deferrable == 0
	})
	if deferrable == 0 {
		return errors.New("it has no models, seeds or snapshots with a relation to defer to (a manifest of a failed parse or an empty project?); set manifest_force: true to use it anyway")
	}
	if cur := s.cur.Load(); cur != nil {
		got, want := m.Metadata(), cur.Metadata()
		if got.ProjectName != want.ProjectName {
			return fmt.Errorf("it is of project %q, the one in use of project %q (is the source pointing at another project's job?); set manifest_force: true to switch", got.ProjectName, want.ProjectName)
		}
		if got.ProjectID != "" && want.ProjectID != "" && got.ProjectID != want.ProjectID {
			return fmt.Errorf("its project_id %q differs from the one in use, %q, although both are named %q (another project of the same name?); set manifest_force: true to switch", got.ProjectID, want.ProjectID, got.ProjectName)
		}
	}
	return nil
}

func (s *ManifestStore) fail(err error, sticky bool) {
	s.stMu.Lock()
	s.st.LastError, s.st.LastErrorAt = err.Error(), time.Now()
	s.st.Failures++
	s.errSticky = sticky
	s.stMu.Unlock()
	if prev := s.cur.Load(); prev != nil {
		s.opts.Logger.Error("manifest check failed; keeping the last good one", "manifest", s.opts.Name, "source", s.st.Source,
			"err", err, "kept_run", prev.Run().Label())
	} else {
		s.opts.Logger.Error("manifest load failed; no manifest loaded yet", "manifest", s.opts.Name, "source", s.st.Source, "err", err)
	}
}

func (s *ManifestStore) publish(m *Manifest, fromCache bool) {
	s.cur.Store(m)
	s.loads.Add(1)
	s.stMu.Lock()
	s.st.LastChange = time.Now()
	s.st.FromCache = fromCache
	if !fromCache {
		s.st.LastError, s.st.Failures, s.errSticky = "", 0, false
	}
	s.stMu.Unlock()
	if s.opts.OnLoad != nil {
		s.opts.OnLoad(m)
	}
}

// loadCache publishes the on-disk copy, if there is a valid one.
func (s *ManifestStore) loadCache() {
	m, err := s.cache.load()
	if err != nil {
		s.opts.Logger.Warn("ignoring the manifest's on-disk copy", "manifest", s.opts.Name, "err", err)
		return
	}
	if m == nil {
		return
	}
	if err := s.validate(m); err != nil {
		s.opts.Logger.Warn("ignoring the manifest's on-disk copy", "manifest", s.opts.Name, "err", err)
		return
	}
	s.publish(m, true)
	s.opts.Logger.Info("manifest loaded from the on-disk copy until the source answers", "manifest", s.opts.Name,
		"source", s.st.Source, "run", m.Run().Label(), "finished_at", m.Run().FinishedAt)
}

// Wait blocks until the goroutine started by Start has stopped (after its ctx is done); it returns at once when
// Start was never called.
func (s *ManifestStore) Wait() {
	if s.started.Load() {
		<-s.done
	}
}

// Current returns the latest good snapshot, or nil when none has loaded yet.
func (s *ManifestStore) Current() *Manifest { return s.cur.Load() }

// Source is the source as configured, without secrets (user info and query strings of URLs are left out).
func (s *ManifestStore) Source() string { return s.st.Source }

// Kind is the source's kind (KindFile, KindHTTP, …).
func (s *ManifestStore) Kind() string { return s.kind }

// Path is the file a file source reads ("" for other sources).
func (s *ManifestStore) Path() string {
	if ff, ok := s.src.(*fileFetcher); ok {
		return ff.path
	}
	return ""
}

// Status is the source's health.
func (s *ManifestStore) Status() SourceStatus {
	s.stMu.Lock()
	defer s.stMu.Unlock()
	return s.st
}

// LastError is the error of the latest check, or nil when it succeeded (or found nothing new after a success).
func (s *ManifestStore) LastError() error {
	s.stMu.Lock()
	defer s.stMu.Unlock()
	if s.st.LastError == "" {
		return nil
	}
	return errors.New(s.st.LastError)
}

// LoadedAt is when the current snapshot was loaded (zero when none).
func (s *ManifestStore) LoadedAt() time.Time {
	s.stMu.Lock()
	defer s.stMu.Unlock()
	if s.cur.Load() == nil {
		return time.Time{}
	}
	return s.st.LastChange
}

// Loads counts successful loads (for tests and status).
func (s *ManifestStore) Loads() uint64 { return s.loads.Load() }

// limitReader fails a read past left bytes (io.LimitReader would end the JSON silently, which reads as truncation).
type limitReader struct {
	r    io.Reader
	left int64
	over bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var probe [1]byte
		if n, err := l.r.Read(probe[:]); n == 0 {
			return 0, err // at the end exactly at the limit (or a read error): not over
		}
		l.over = true
		return 0, errors.New("manifest too large")
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
