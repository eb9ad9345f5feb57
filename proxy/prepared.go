package proxy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/deferproxy/deferproxy/engine"
)

// Named prepared statements that stay right (SPEC §10). A client that prepares a statement once and executes it for
// hours (pgjdbc after prepareThreshold, asyncpg, psycopg's prepare=True, pgbench -M prepared) would otherwise keep the
// decision made at its Parse. So the client side keeps, per named statement, the client's text, the text the server
// holds and what the verdict depended on; at each Bind and Describe of the statement it asks the Hook whether that is
// still current (StatementChecker: id comparisons, nothing else on the hot path). When it is not, the text is
// decided again; when the new text differs, the statement is prepared again under its name, transparently:
//
//  0. At the client's Parse of S the proxy adds Close(tmp) and Describe(S), and keeps the description (the upstream
//     side swallows the answers). It cannot ask later: describing a statement re-plans it, and its relation may be
//     gone by then.
//  1. The probe. Before the client's message the proxy sends Close(tmp), Parse(tmp, new text, the client's
//     parameter types), Describe(tmp) and Flush, and waits for the answers (swallowed by the upstream side, which
//     hands over the description). Every answer before them belongs to the client's earlier messages and is
//     forwarded as usual; the CloseComplete counted at its place in the segment marks where the probe's answers
//     begin.
//  2. Same parameter and row types as kept (names, type OIDs, modifiers): Close(S), Parse(S, new text), Close(tmp),
//     then the client's message. Different: the statement is left as it was and the client's Bind gets PostgreSQL's answer
//     to a cached plan whose result type changed — a DO block raising 0A000 "cached plan must not change result
//     type" on the server, so that the transaction and the rest of the pipeline fail exactly as PostgreSQL's would
//     (pgjdbc, for one, prepares the statement again when it sees that error). A Describe is never refused.
//
// An error in the probe (the new text does not parse, the transaction is aborted) is forwarded as the answer to the
// client's Bind — where PostgreSQL reports a failed re-plan — and the statement stays as it was, to be decided again
// at its next use. An error before the probe (an earlier message of the pipeline failed) means the server skips the
// probe with the rest of the segment; nothing changed. A statement with a named portal open is left alone until the
// portal ends (Close, or the end of its transaction). The unnamed statement needs none of this: it is decided at
// every Parse.

// tmpStatement is the statement name the probe parses the new text under.
const tmpStatement = "__deferproxy_reprepare"

// preparedStmt is one named statement of the client's.
type preparedStmt struct {
	name  string
	orig  string // the client's text: what is decided again
	sent  string // the text the server holds under name
	types []byte // the Parse message's parameter part: count and type OIDs, as the client sent them
	deps  engine.Dependencies
	// desc is the ParameterDescription and RowDescription (or NoData) of the text the server holds, set by the
	// upstream side when the Describe of step 0 is answered.
	desc atomic.Pointer[[2][]byte]
	// mismatch: the text decided under deps would change the statement's row type; Binds get 0A000.
	mismatch bool
}

// portalRef is a named portal bound from a kept statement.
type portalRef struct {
	stmt string
	seg  uint64 // the segment of its Bind: the portal ends with the first idle ReadyForQuery of a later or equal one
}

// preparedSet is the client side's view of the session's named statements and portals.
type preparedSet struct {
	checker StatementChecker
	stmts   map[string]*preparedStmt
	portals map[string]portalRef
	// last is the statement the previous Bind or Describe used: a client that runs one statement over and over
	// (pgbench -M prepared, a BI tool's refresh) finds it with a comparison of the names instead of a map lookup.
	last *preparedStmt
}

// lookup finds a kept statement by the name a Bind or Describe uses.
func (ps *preparedSet) lookup(name []byte) *preparedStmt {
	if ps.last != nil && ps.last.name == string(name) {
		return ps.last
	}
	st := ps.stmts[string(name)]
	if st != nil {
		ps.last = st
	}
	return st
}

// forget drops a statement the client closed, prepared again or had refused.
func (ps *preparedSet) forget(name []byte) {
	if ps.last != nil && ps.last.name == string(name) {
		ps.last = nil
	}
	delete(ps.stmts, string(name))
}

// probe is what the upstream side expects from the proxy's own messages within one segment.
type probe struct {
	seg    uint64
	marker int    // the probe's answers begin at the marker-th CloseComplete of the segment
	left   int    // answers still to swallow after the marker
	errMsg []byte // replaces the server's ErrorResponse (the 0A000 raise)
	descs  [][]byte
	done   chan probeResult // the waiting client side (the probe of step 1); nil otherwise
	keep   *preparedStmt    // step 0: the statement whose description this is
	begun  bool
}

type probeResult struct {
	ok    bool     // every answer came
	descs [][]byte // the ParameterDescription and RowDescription/NoData messages, in order
}

func (pr *probe) finish(ok bool) {
	if ok && pr.keep != nil && len(pr.descs) == 2 {
		pr.keep.desc.Store(&[2][]byte{pr.descs[0], pr.descs[1]})
	}
	if pr.done != nil {
		pr.done <- probeResult{ok: ok, descs: pr.descs}
		pr.done = nil
	}
}

// errSessionEnded stops a client side that waits for a probe when the session ends.
var errSessionEnded = errors.New("session ended while re-preparing a statement")

// trackParse keeps a named statement the client prepared (the Parse message's name, the client's text, the text
// sent, the parameter part), and asks for its description after the client's Parse (step 0).
func (c *clientSide) trackParse(p *pump, name []byte, sql, sent string, types []byte, deps engine.Dependencies) {
	ps := &c.prep
	if ps.checker == nil || len(name) == 0 {
		return
	}
	if ps.stmts == nil {
		ps.stmts = map[string]*preparedStmt{}
	}
	st := &preparedStmt{name: string(name), orig: sql, sent: sent, types: bytes.Clone(types), deps: deps}
	ps.forget(name)
	ps.stmts[st.name] = st
	if p == nil {
		return
	}
	if c.queueStep(&probe{seg: c.syncs + 1, marker: c.closes + 1, left: 2, keep: st}, 1, 0) {
		p.emit(describeMessage(closeMessage(nil, 'S', tmpStatement), 'S', st.name))
	}
}

// close forgets a statement or portal the client closed (the body of a Close message).
func (ps *preparedSet) close(body []byte) {
	if len(body) < 2 {
		return
	}
	name, _, ok := cstring(body[1:])
	if !ok {
		return
	}
	switch body[0] {
	case 'S':
		ps.forget(name)
	case 'P':
		delete(ps.portals, string(name))
	}
}

// cstring splits a NUL-terminated string off b.
func cstring(b []byte) (s, rest []byte, ok bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return nil, nil, false
	}
	return b[:i], b[i+1:], true
}

// useNames reads, from what has arrived of a Bind or Describe body, the portal and statement names it uses: for a
// Bind the portal and the statement; for a Describe of a statement only the statement ("" portal). complete is
// false when the names have not all arrived yet.
func useNames(typ byte, body []byte) (portal, stmt []byte, isStmt, complete bool) {
	if typ == 'B' {
		portal, rest, ok := cstring(body)
		if !ok {
			return nil, nil, false, false
		}
		stmt, _, ok = cstring(rest)
		return portal, stmt, true, ok
	}
	if len(body) < 1 {
		return nil, nil, false, false
	}
	if body[0] != 'S' {
		return nil, nil, false, true
	}
	stmt, _, ok := cstring(body[1:])
	return nil, stmt, true, ok
}

// usesLast reports whether what has arrived of a Bind or Describe body names the statement name with no named portal:
// the unnamed portal then name for a Bind, 'S' then name for a Describe. It is useNames' answer for the statement
// used last (pgbench -M prepared, a refresh that runs one statement), without searching for the terminators.
func usesLast(typ byte, body []byte, name string) bool {
	n := len(name)
	if len(body) < n+2 || body[n+1] != 0 || string(body[1:n+1]) != name {
		return false
	}
	if typ == 'B' {
		return body[0] == 0
	}
	return body[0] == 'S'
}

// beforeUse runs before the client's Bind or Describe of a statement is forwarded: it re-prepares the statement when
// its verdict is no longer current (see the top of this file).
func (c *clientSide) beforeUse(p *pump, typ byte, portal, stmt []byte) error {
	st := c.prep.lookup(stmt)
	if st == nil {
		return nil
	}
	return c.use(p, typ, portal, st)
}

// use is beforeUse once the statement is known.
func (c *clientSide) use(p *pump, typ byte, portal []byte, st *preparedStmt) error {
	ps := &c.prep
	if typ == 'B' && len(portal) > 0 {
		if ps.portals == nil {
			ps.portals = map[string]portalRef{}
		}
		ps.portals[string(portal)] = portalRef{stmt: st.name, seg: c.syncs + 1}
	}
	if ps.checker.Current(st.deps) {
		if st.mismatch && typ == 'B' {
			c.raiseMismatch(p)
		}
		return nil
	}
	return c.revalidate(p, typ, st, portal)
}

// revalidate decides a statement's text again and prepares it again when the text changed.
func (c *clientSide) revalidate(p *pump, typ byte, st *preparedStmt, binding []byte) error {
	ss := c.ss
	if c.portalOpen(st.name, binding) {
		return nil // left alone until the portal ends
	}
	res := ss.hook.Statement(ss.ctx, ExtendedParse, st.orig)
	if res.Refuse != nil {
		return nil // the statement was accepted at its Parse; it keeps that text
	}
	if res.SQL == st.sent {
		st.deps, st.mismatch = res.DependsOn, false
		return nil
	}
	// Step 1: the probe.
	pr := &probe{seg: c.syncs + 1, marker: c.closes + 1, left: 3, done: make(chan probeResult, 1)}
	if !c.queueStep(pr, 1, 1) {
		return nil // the segment failed: the server skips the client's message too; decided again at the next use
	}
	done := pr.done
	b := closeMessage(nil, 'S', tmpStatement)
	b = append(b, parseMessage([]byte(tmpStatement), res.SQL, st.types)...)
	b = describeMessage(b, 'S', tmpStatement)
	b = append(b, 'H', 0, 0, 0, 4) // Flush: the server answers now, not at the client's Sync
	p.emit(b)
	if err := p.flush(); err != nil {
		return err
	}
	var r probeResult
	select {
	case r = <-done:
	case <-ss.upDone:
		return errSessionEnded
	case <-ss.ctx.Done():
		return errSessionEnded
	}
	if !r.ok {
		return nil // its error is the answer to the client's message; decided again at the next use
	}
	ss.queueNotices(res.Notices)
	st.deps = res.DependsOn
	old := st.desc.Load()
	if len(r.descs) != 2 || old != nil && (!bytes.Equal(old[0], r.descs[0]) || !sameRowType(old[1], r.descs[1])) {
		st.mismatch = true
		if typ == 'B' {
			c.raiseMismatch(p)
		}
		return nil
	}
	// Step 2: the statement under its own name. (The segment cannot have failed: the probe just succeeded, and
	// nothing was sent after it.)
	c.queueStep(&probe{seg: c.syncs + 1, marker: c.closes + 1, left: 2}, 2, 1)
	b = closeMessage(nil, 'S', st.name)
	b = append(b, parseMessage([]byte(st.name), res.SQL, st.types)...)
	b = closeMessage(b, 'S', tmpStatement)
	p.emit(b)
	st.sent, st.mismatch = res.SQL, false
	st.desc.Store(&[2][]byte{r.descs[0], r.descs[1]})
	return nil
}

// queueStep hands the upstream side a probe whose answers are swallowed and counts the proxy's own Close and Parse
// messages it stands for, so that later markers and refusal injections of the segment stay in step. It reports
// false when the server has already answered an error of the probe's segment: the server skips the rest of the
// segment, so the probe's messages are not sent (and nothing waits for their answers).
func (c *clientSide) queueStep(pr *probe, closes, parses int) bool {
	if !c.ss.queueProbe(pr) {
		return false
	}
	c.closes += closes
	c.parses += parses
	return true
}

// mismatchError is PostgreSQL's error for a prepared statement whose result type changed since it was prepared,
// with its routine: pgjdbc recognises the error by it and prepares its statements again (willHealViaReparse).
var mismatchError = func() []byte {
	e := &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "0A000",
		Message: "cached plan must not change result type",
		Detail:  "deferproxy decided the prepared statement's text again (the dev catalog, manifests, mode or search_path changed), and the new text returns different columns.",
		Hint:    "Prepare the statement again (close it, or reconnect) to read the new columns.",
		File:    "plancache.c", Routine: "RevalidateCachedQuery"}
	return encodeHookError(e)
}()

// mismatchSQL raises the mismatch error on the server, so that the transaction and the pipeline fail there too.
var mismatchSQL = refusalSQL(&pgproto3.ErrorResponse{Message: "cached plan must not change result type"}, "0A000")

// raiseMismatch answers the client's Bind with 0A000: Close(tmp), then Parse, Bind and Execute of the raising DO
// block in the tmp statement and portal (the client's unnamed statement and portal are not touched). The server's
// error is replaced by mismatchError; the client's own Bind that follows is skipped by the server.
func (c *clientSide) raiseMismatch(p *pump) {
	if !c.queueStep(&probe{seg: c.syncs + 1, marker: c.closes + 1, left: 3, errMsg: mismatchError}, 1, 1) {
		return // the segment failed before the client's Bind: the server skips it
	}
	c.binds++
	b := closeMessage(nil, 'S', tmpStatement)
	b = append(b, parseMessage([]byte(tmpStatement), mismatchSQL, []byte{0, 0})...)
	b = bindMessage(b, tmpStatement, tmpStatement)
	b = executeMessage(b, tmpStatement)
	p.emit(b)
}

// portalOpen reports whether a named portal bound from stmt (other than the one being bound now) is still open.
func (c *clientSide) portalOpen(stmt string, binding []byte) bool {
	idle := c.ss.idleSeg.Load()
	open := false
	for name, ref := range c.prep.portals {
		if ref.seg <= idle {
			delete(c.prep.portals, name) // its transaction ended
			continue
		}
		if ref.stmt == stmt && name != string(binding) {
			open = true
		}
	}
	return open
}

// sameRowType compares two RowDescription (or NoData) messages as a client's cached description sees them: the
// number of columns and each column's name, type OID, type size and type modifier (not the table and column
// numbers, which differ between a dev relation and its production one).
func sameRowType(a, b []byte) bool {
	if len(a) < 5 || len(b) < 5 || a[0] != b[0] {
		return false
	}
	if a[0] != 'T' {
		return true // NoData, both
	}
	var ra, rb pgproto3.RowDescription
	if ra.Decode(a[5:]) != nil || rb.Decode(b[5:]) != nil || len(ra.Fields) != len(rb.Fields) {
		return false
	}
	for i := range ra.Fields {
		fa, fb := &ra.Fields[i], &rb.Fields[i]
		if !bytes.Equal(fa.Name, fb.Name) || fa.DataTypeOID != fb.DataTypeOID || fa.DataTypeSize != fb.DataTypeSize ||
			fa.TypeModifier != fb.TypeModifier {
			return false
		}
	}
	return true
}

// closeMessage appends a Close of a statement ('S') or portal ('P').
func closeMessage(b []byte, kind byte, name string) []byte {
	return appendNamed(b, 'C', kind, name)
}

// describeMessage appends a Describe of a statement ('S') or portal ('P').
func describeMessage(b []byte, kind byte, name string) []byte {
	return appendNamed(b, 'D', kind, name)
}

func appendNamed(b []byte, typ, kind byte, name string) []byte {
	b = append(b, typ)
	b = binary.BigEndian.AppendUint32(b, uint32(4+1+len(name)+1))
	b = append(b, kind)
	b = append(b, name...)
	return append(b, 0)
}

// bindMessage appends a Bind of statement to portal with no parameters and text results.
func bindMessage(b []byte, portal, stmt string) []byte {
	b = append(b, 'B')
	b = binary.BigEndian.AppendUint32(b, uint32(4+len(portal)+1+len(stmt)+1+6))
	b = append(b, portal...)
	b = append(b, 0)
	b = append(b, stmt...)
	return append(b, 0, 0, 0, 0, 0, 0, 0)
}

// executeMessage appends an Execute of portal with no row limit.
func executeMessage(b []byte, portal string) []byte {
	b = append(b, 'E')
	b = binary.BigEndian.AppendUint32(b, uint32(4+len(portal)+1+4))
	b = append(b, portal...)
	return append(b, 0, 0, 0, 0, 0)
}

// queueProbe hands a probe to the upstream side (before the messages it stands for are sent). It reports false, and
// ends the probe unanswered, when the server has already answered an error of the probe's segment. Together with
// segmentFailed (both under hooked.mu) this leaves no gap: a probe queued before the error was seen is taken by the
// upstream side when it sees the error, one queued after finds the segment failed.
func (ss *session) queueProbe(pr *probe) bool {
	h := &ss.hooked
	h.mu.Lock()
	if h.failedSeg >= pr.seg {
		h.mu.Unlock()
		pr.finish(false)
		return false
	}
	h.probes = append(h.probes, pr)
	h.pending.Store(true)
	h.mu.Unlock()
	return true
}

// segmentFailed records, at the header of an ErrorResponse, that the segment being answered failed, and takes the
// probes queued so far, so that probeMessage ends those of the segment.
func (u *serverSide) segmentFailed() {
	h := &u.ss.hooked
	h.mu.Lock()
	h.failedSeg = u.z + 1
	u.probes = append(u.probes, h.probes...)
	clear(h.probes)
	h.probes = h.probes[:0]
	h.mu.Unlock()
}

// currentProbe is the oldest probe of the segment being answered, if any.
func (u *serverSide) currentProbe() *probe {
	if len(u.probes) > 0 && u.probes[0].seg == u.z+1 {
		return u.probes[0]
	}
	return nil
}

// probeWants reports whether the upstream side must see a message whole for the current probe; header asks it only
// for the types a probe's answers have (ParseComplete, BindComplete, CloseComplete, the descriptions, ErrorResponse).
// Small enough to inline: on the hot path it is one length test.
func (u *serverSide) probeWants() bool {
	return len(u.probes) > 0 && u.probes[0].seg == u.z+1
}

// probeMessage handles a server message while a probe of its segment waits; handled is true when the message was
// the probe's (swallowed, or replaced by the probe's error).
func (u *serverSide) probeMessage(p *pump, typ byte, msg []byte, at int) (handled bool) {
	pr := u.currentProbe()
	if pr == nil {
		return false
	}
	if !pr.begun {
		switch {
		case typ == '3' && u.c3 == pr.marker:
			pr.begun = true
			return true
		case typ == 'E':
			u.dropProbes(u.z + 1) // an earlier message failed: the server skips the probes with the rest
		}
		return false
	}
	switch typ {
	case 'E':
		u.dropProbes(u.z + 1)
		if pr.errMsg != nil {
			p.emit(pr.errMsg)
			return true
		}
		return false // the new text's error: relayed (and explained) as the server's answer to the client's message
	case '1', '2', '3', 't', 'T', 'n':
		if typ == 't' || typ == 'T' || typ == 'n' {
			pr.descs = append(pr.descs, bytes.Clone(msg))
		}
		pr.left--
		if pr.left == 0 {
			pr.finish(true)
			u.probes = u.probes[1:]
		}
		return true
	}
	return false // NoticeResponse, ParameterStatus, NotificationResponse: the client's, in between
}

// dropProbes ends the probes of segments up to seg: they will not be answered.
func (u *serverSide) dropProbes(seg uint64) {
	for len(u.probes) > 0 && u.probes[0].seg <= seg {
		u.probes[0].finish(false)
		u.probes = u.probes[1:]
	}
	if len(u.probes) == 0 {
		u.probes = nil
	}
}

// useHeader looks, at the header of a Bind or Describe, for a kept statement it uses (header calls it only when
// statements are kept); the message is asked for whole only when its names have not all arrived.
func (c *clientSide) useHeader(p *pump, typ byte) (bool, error) {
	body := p.peekBody()
	if st := c.prep.last; st != nil && usesLast(typ, body, st.name) {
		return false, c.use(p, typ, nil, st)
	}
	portal, stmt, isStmt, complete := useNames(typ, body)
	if !complete {
		return true, nil
	}
	if !isStmt {
		return false, nil
	}
	return false, c.beforeUse(p, typ, portal, stmt)
}
