package secret

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"
)

// MinLength is the shortest secret a Set masks in free text: shorter values (a one-letter test password) would
// mask ordinary words everywhere. The structured redaction of DSN masks secrets of any length.
const MinLength = 4

// Set is the secrets of one process's configuration (passwords in its connection strings, tokens, header values),
// scrubbed from any text that may echo them: error messages of libraries, log records, status documents. It is
// built once from the configuration; the zero value and nil scrub nothing.
type Set struct {
	values []string // longest first, so that a secret holding another is masked whole
}

// NewSet returns a Set of the secrets of each connection string in dsns (see Values).
func NewSet(dsns ...string) *Set {
	s := &Set{}
	for _, d := range dsns {
		s.AddDSN(d)
	}
	return s
}

// AddDSN adds the secrets a connection string or URL carries.
func (s *Set) AddDSN(dsn string) { s.add(Values(dsn)...) }

// AddValue adds secrets given as themselves (a token, a header's value).
func (s *Set) AddValue(vals ...string) {
	var c collector
	c.add(vals...)
	s.add(c...)
}

func (s *Set) add(vals ...string) {
	for _, v := range vals {
		if !contains(s.values, v) {
			s.values = append(s.values, v)
		}
	}
	sort.SliceStable(s.values, func(i, j int) bool { return len(s.values[i]) > len(s.values[j]) })
}

// Scrub returns text with every secret of the Set masked, wherever and however it appears (as written in its
// connection string, or decoded).
func (s *Set) Scrub(text string) string {
	if s == nil || len(s.values) == 0 {
		return text
	}
	for _, v := range s.values {
		if strings.Contains(text, v) {
			text = strings.ReplaceAll(text, v, Mask)
		}
	}
	return text
}

// Error returns err with its message scrubbed (nil stays nil); errors.Is and errors.As still see err and its chain.
func (s *Set) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := s.Scrub(err.Error())
	if msg == err.Error() {
		return err
	}
	return &scrubbed{msg: msg, err: err}
}

type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// URLError returns err with the URL of a *url.Error in its chain (net/http's errors, which print the request URL
// with a presigned query or a token in its user part) redacted by DSN; other errors are returned unchanged.
func URLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if red := DSN(ue.URL); red != ue.URL {
			return &scrubbed{msg: strings.ReplaceAll(err.Error(), ue.URL, red), err: err}
		}
	}
	return err
}

// Handler wraps a slog.Handler so that no record carries a secret of the Set: the message and every string, error
// and Stringer attribute (in groups too) are scrubbed before h sees them.
func (s *Set) Handler(h slog.Handler) slog.Handler {
	if s == nil || len(s.values) == 0 {
		return h
	}
	return &handler{set: s, next: h}
}

type handler struct {
	set  *Set
	next slog.Handler
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.set.Scrub(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return &handler{set: h.set, next: h.next.WithAttrs(clean)}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{set: h.set, next: h.next.WithGroup(name)}
}

// attr scrubs one attribute's value: strings, errors, Stringers and anything else printed as text.
func (h *handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.set.Scrub(v.String()))
	case slog.KindGroup:
		g := v.Group()
		clean := make([]any, len(g))
		for i, ga := range g {
			clean[i] = h.attr(ga)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.set.Scrub(x.Error()))
		case interface{ String() string }:
			return slog.String(a.Key, h.set.Scrub(x.String()))
		default:
			if txt := fmt.Sprint(x); h.set.Scrub(txt) != txt {
				return slog.String(a.Key, h.set.Scrub(txt))
			}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// ConnError returns err, an error of a database driver about the connection string dsn, with dsn shown redacted and
// its secrets masked wherever the message echoes them. pgx prints the string it could not parse ("cannot parse
// `…`: reason") with its own best-effort redaction, which misses libpq's escaped quotes (password='a\' b' shows
// " b'"): that part is replaced by DSN's.
func ConnError(dsn string, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	const pgxPrefix = "cannot parse `"
	if i := strings.Index(msg, pgxPrefix); i >= 0 {
		if j := strings.LastIndex(msg, "`: "); j > i {
			msg = msg[:i] + pgxPrefix + DSN(dsn) + msg[j:]
		}
	}
	return &scrubbed{msg: NewSet(dsn).Scrub(msg), err: err}
}
