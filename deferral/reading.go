package deferral

import (
	"context"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/engine"
	"github.com/deferproxy/deferproxy/rewrite"
)

// Reading SQL the way the server will (SPEC §6): standard_conforming_strings and client_encoding, as the server
// reports them (Parameter), decide how it reads a text. pg_query reads UTF-8 with standard strings; a text the
// server reads otherwise ("not plain": a backslash while strings may take escapes, a non-ASCII byte in another
// encoding) is converted to UTF-8 with the encoding's real decoder and read by the lexer with backslash escapes.
// Such a text is never rewritten — reads pass unchanged, told once — and the write guard judges it in every way the
// server may read it: a statement that may write and names a production schema in any spelling, or an unqualified
// write while the search_path may reach production, is refused. A text the proxy cannot convert is refused when it
// may write.

// noteReadingChange marks the session's reading uncertain when a statement may change standard_conforming_strings
// or client_encoding: until the server's report is certain to describe the next statement, both readings count.
func (s *session) noteReadingChange(first, sql string) {
	if rewrite.ContainsFold(sql, "standard_conforming") {
		s.scsMaybe.Store(true)
	}
	if rewrite.ContainsFold(sql, "client_encoding") || isSettingVerb(first) && rewrite.ContainsFold(sql, "names") {
		s.encMaybe.Store(true)
	}
}

// reading is how the server may read the session's next statement; both says backslash escapes may or may not
// apply (so the guard reads it both ways).
func (s *session) reading() (r rewrite.Reading, both bool) {
	r.BackslashStrings = s.scsOff.Load() || s.scsMaybe.Load()
	if p := s.encoding.Load(); p != nil {
		r.Encoding = *p
	}
	if s.encMaybe.Load() {
		r.Encoding = "(changed by a statement)" // not a name ToUTF8 knows: non-ASCII text is not converted
	}
	return r, s.scsMaybe.Load()
}

// processUnplain decides a text the server does not read the way pg_query does.
func (s *session) processUnplain(ctx context.Context, sql string, rd rewrite.Reading, both bool, prod *catalog.Manifest,
	ts *targetState, scope catalog.Scope, notices []engine.Message) engine.Verdict {
	e := s.e
	deps := engine.Dependencies{Manifests: ts.id, SearchPath: scope.SearchPath, Volatile: true}
	refuse := func(rel, hint string) engine.Verdict {
		e.refused.Add(1)
		r := prodWriteError(rel)
		if hint != "" {
			r.Hint = hint + " " + r.Hint
		}
		return engine.Verdict{SQL: sql, Messages: notices, Refusal: r, DependsOn: deps}
	}
	const readHint = "Send the statement with standard_conforming_strings on and client_encoding UTF8 (the defaults), or name relations so that deferproxy can read them."
	if !e.cfg.AllowProdWrites {
		s.mu.Lock()
		guardScopes, pathUnknown := s.guardScopes, s.pathUnknown
		risk := s.pathRiskLocked(ts)
		tempTable := s.tempTableLocked()
		s.mu.Unlock()
		multi := rewrite.SeveralStatements(sql)
		u, ok := rd.ToUTF8(sql)
		if !ok {
			if couldWrite(rewrite.FirstWord(sql), sql, multi) {
				return refuse("(a statement that may write, in client_encoding "+rd.Encoding+" deferproxy cannot read, naming a production schema or run while the search_path may reach one)", readHint)
			}
		} else {
			readings := []bool{rd.BackslashStrings}
			if both {
				readings = []bool{false, true}
			}
			for _, bs := range readings {
				an, err := rewrite.AnalyzeReading(u, rewrite.Reading{BackslashStrings: bs})
				if err != nil {
					return refuse("(a statement deferproxy cannot read: "+err.Error()+")", readHint)
				}
				lexed := !an.Parsed
				if lexed {
					// The lexer read it the server's way: its write targets go through the guard as a parse's would,
					// and WriteNaming below, not the guard's fallback for unreadable text, decides what else may
					// write (so a SELECT holding a backslash stays a read).
					c := *an
					c.Parsed = true
					an = &c
				}
				o := decide(ctx, plan{sql: u, an: an, prod: prod, ts: ts, scope: scope, mode: catalog.ModeOff,
					tempTable: tempTable, guardScopes: guardScopes, pathUnknown: pathUnknown})
				if o.refused != "" {
					return refuse(o.refused, o.hint)
				}
				if n := rewrite.WriteNaming(u, bs, ts.prodSchemas); n != "" {
					return refuse(n+" (a production schema, named in a statement deferproxy reads but cannot parse)", readHint)
				}
				if risk && lexed && couldWrite(rewrite.FirstWord(u), u, multi) {
					return refuse("(a statement that may write unqualified names while the search_path may reach production, which deferproxy cannot parse)", readHint)
				}
			}
		}
	}
	// Reads fail open: forwarded unchanged, never rewritten (a splice could land inside what the server reads as a
	// literal), the session told once.
	e.failedOpen.Add(1)
	s.mu.Lock()
	told := s.warnedParse
	s.warnedParse = true
	s.mu.Unlock()
	if !told {
		notices = append(notices, warning("deferproxy could not read a statement the way the server will (standard_conforming_strings off or client_encoding "+
			rd.Encoding+"); it was forwarded unchanged, without deferral (reported once per session)"))
	}
	return engine.Verdict{SQL: sql, Messages: notices, DependsOn: deps}
}

// tempTableLocked returns the session's temp tables as a function over a copy, or nil when there are none.
func (s *session) tempTableLocked() func(string) bool {
	if len(s.temps) == 0 {
		return nil
	}
	temps := make(map[string]struct{}, len(s.temps))
	for k := range s.temps {
		temps[k] = struct{}{}
	}
	return func(name string) bool { _, ok := temps[name]; return ok }
}
