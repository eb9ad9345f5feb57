package proxy

import (
	"bytes"
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Which messages each direction looks at. Without a Hook, the client side only counts statements and notices
// Terminate, and the upstream side only counts ReadyForQuery: headers, never bodies.
var (
	watchClientPlain = watchTable(map[byte]uint8{'Q': watchHeader, 'S': watchHeader, 'F': watchHeader, 'X': watchHeader})
	watchClientHook  = watchTable(map[byte]uint8{'Q': watchWhole, 'P': watchWhole, 'S': watchHeader, 'F': watchHeader,
		'X': watchHeader, 'B': watchHeader, 'D': watchHeader, 'C': watchHeader})
	watchServerPlain = watchTable(map[byte]uint8{'Z': watchHeader})
	watchServerHook  = func() [256]uint8 {
		var t [256]uint8
		for i := range t {
			t[i] = watchHeader // every boundary: a place to send the Hook's notices
		}
		return t
	}()
)

func watchTable(m map[byte]uint8) [256]uint8 {
	var t [256]uint8
	for k, v := range m {
		t[k] = v
	}
	return t
}

// hookState is what the client side tells the upstream side about the Hook's verdicts.
type hookState struct {
	mu         sync.Mutex
	notices    []byte      // encoded NoticeResponses to send the client at the next message boundary
	injections []injection // refusals sent upstream as a raised exception, oldest first
	probes     []*probe    // re-prepares of named statements (prepared.go), oldest first
	// failedSeg is the last statement segment the server answered with an error: it skips the rest of that
	// segment, so a probe queued for it would never be answered (prepared.go).
	failedSeg uint64
	pending   atomic.Bool // notices or injections waiting
}

// injection is a refused statement: the client side sent upstream a DO block that raises the refusal's SQLSTATE, and
// the upstream side turns the server's answer into what the client expects.
type injection struct {
	seg      uint64 // the statement segment (counted by ReadyForQuery) whose answer carries it
	simple   bool   // a Query: only the ErrorResponse is replaced
	parseIdx int    // the injected Parse is the parseIdx-th Parse of the segment (extended protocol)
	bindIdx  int    // the injected Bind is the bindIdx-th Bind of the segment
	code     string // SQLSTATE the DO block raises
	errMsg   []byte // the Hook's ErrorResponse, encoded: what the client gets instead of the server's
	parsed   bool   // the injected ParseComplete was swallowed
}

// clientSide is the client→upstream handler.
type clientSide struct {
	ss         *session
	terminated bool   // the client sent Terminate
	syncs      uint64 // Query/Sync/FunctionCall sent upstream
	parses     int    // Parse messages sent in the current segment
	binds      int    // Bind messages sent in the current segment
	closes     int    // Close messages sent in the current segment (the probes' markers, prepared.go)
	prep       preparedSet
}

func (c *clientSide) header(p *pump, typ byte) (bool, error) {
	switch typ {
	case 'Q', 'S', 'F':
		c.syncs++
		c.parses, c.binds, c.closes = 0, 0, 0
		c.ss.syncsSent.Store(c.syncs)
	case 'B':
		c.binds++
		if len(c.prep.stmts) == 0 {
			return false, nil // nothing kept: forwarded on its header, as without re-prepares
		}
		return c.useHeader(p, typ)
	case 'D':
		if len(c.prep.stmts) == 0 {
			return false, nil
		}
		return c.useHeader(p, typ)
	case 'C':
		c.closes++
		return len(c.prep.stmts) > 0 || len(c.prep.portals) > 0, nil
	case 'X':
		c.terminated = true
		c.ss.terminating.Store(true)
	}
	return false, nil
}

func (c *clientSide) message(p *pump, typ byte, msg []byte, at int) error {
	ss := c.ss
	switch typ {
	case 'B', 'D':
		if portal, stmt, isStmt, ok := useNames(typ, msg[5:]); ok && isStmt {
			if err := c.beforeUse(p, typ, portal, stmt); err != nil {
				return err
			}
		}
		p.forward(at, at+len(msg))
	case 'C':
		c.prep.close(msg[5:])
		p.forward(at, at+len(msg))
	case 'Q':
		c.syncs++
		c.parses, c.binds, c.closes = 0, 0, 0
		body := msg[5:]
		if len(body) == 0 || body[len(body)-1] != 0 || bytes.IndexByte(body, 0) != len(body)-1 {
			return &errFrame{msg: "invalid Query message: query string is not NUL-terminated"}
		}
		sql := string(body[:len(body)-1])
		res := ss.hook.Statement(ss.ctx, SimpleQuery, sql)
		ss.queueNotices(res.Notices)
		switch {
		case res.Refuse != nil:
			code := raiseCode(res.Refuse.Code)
			ss.queueInjection(injection{seg: c.syncs, simple: true, code: code, errMsg: encodeHookError(res.Refuse)})
			p.emit(queryMessage(refusalSQL(res.Refuse, code)))
		case res.SQL != sql:
			p.emit(queryMessage(res.SQL))
		default:
			p.forward(at, at+len(msg))
		}
		ss.syncsSent.Store(c.syncs)
	case 'P':
		body := msg[5:]
		i := bytes.IndexByte(body, 0)
		if i < 0 {
			return &errFrame{msg: "invalid Parse message: statement name is not NUL-terminated"}
		}
		j := bytes.IndexByte(body[i+1:], 0)
		if j < 0 {
			return &errFrame{msg: "invalid Parse message: query string is not NUL-terminated"}
		}
		name, query, rest := body[:i], body[i+1:i+1+j], body[i+2+j:]
		sql := string(query)
		res := ss.hook.Statement(ss.ctx, ExtendedParse, sql)
		ss.queueNotices(res.Notices)
		c.parses++
		switch {
		case res.Refuse != nil:
			code := raiseCode(res.Refuse.Code)
			c.binds++
			ss.queueInjection(injection{seg: c.syncs + 1, parseIdx: c.parses, bindIdx: c.binds, code: code,
				errMsg: encodeHookError(res.Refuse)})
			p.emit(refusalExtended(refusalSQL(res.Refuse, code)))
			c.prep.forget(name)
		case res.SQL != sql:
			p.emit(parseMessage(name, res.SQL, rest))
			c.trackParse(p, name, sql, res.SQL, rest, res.DependsOn)
		default:
			p.forward(at, at+len(msg))
			c.trackParse(p, name, sql, sql, rest, res.DependsOn)
		}
	}
	return nil
}

// serverSide is the upstream→client handler.
type serverSide struct {
	ss       *session
	hinter   ErrorHinter // the session's hook, when it explains server errors (ErrorResponses are then read whole)
	z        uint64      // ReadyForQuery seen
	p1, b2   int         // ParseComplete, BindComplete seen in the current segment
	c3       int         // CloseComplete seen in the current segment
	injected []injection
	probes   []*probe
}

func (u *serverSide) header(p *pump, typ byte) (bool, error) {
	ss := u.ss
	if ss.hook == nil { // only 'Z' is watched
		u.z++
		ss.zSeen.Store(u.z)
		return false, nil
	}
	if ss.hooked.pending.Load() {
		u.takePending(p)
	}
	switch typ {
	case 'Z':
		return true, nil
	case 'S':
		_, ok := ss.hook.(ParameterHook)
		return ok, nil
	case '1':
		u.p1++
		return u.current() != nil || u.probeWants(), nil
	case '2':
		u.b2++
		return u.current() != nil || u.probeWants(), nil
	case '3':
		u.c3++
		return u.probeWants(), nil
	case 'E':
		u.segmentFailed()
		return u.hinter != nil || u.current() != nil || u.probeWants(), nil
	case 't', 'T', 'n':
		return u.probeWants(), nil
	}
	return false, nil
}

// current is the injection of the segment being answered, if any.
func (u *serverSide) current() *injection {
	if len(u.injected) > 0 && u.injected[0].seg == u.z+1 {
		return &u.injected[0]
	}
	return nil
}

// takePending sends queued notices and collects queued injections.
func (u *serverSide) takePending(p *pump) {
	h := &u.ss.hooked
	h.mu.Lock()
	if len(h.notices) > 0 {
		p.emit(h.notices)
		h.notices = h.notices[:0]
	}
	u.injected = append(u.injected, h.injections...)
	h.injections = h.injections[:0]
	u.probes = append(u.probes, h.probes...)
	clear(h.probes)
	h.probes = h.probes[:0]
	h.pending.Store(false)
	h.mu.Unlock()
}

func (u *serverSide) message(p *pump, typ byte, msg []byte, at int) error {
	ss := u.ss
	if typ != 'Z' && u.probeMessage(p, typ, msg, at) {
		return nil
	}
	switch typ {
	case 'Z':
		u.z++
		u.p1, u.b2, u.c3 = 0, 0, 0
		if len(u.probes) > 0 {
			u.dropProbes(u.z)
		}
		if len(msg) >= 6 && msg[5] == 'I' {
			ss.idleSeg.Store(u.z)
		}
		for len(u.injected) > 0 && u.injected[0].seg <= u.z {
			u.injected = u.injected[1:]
		}
		if len(u.injected) == 0 {
			u.injected = nil
		}
		p.forward(at, at+len(msg))
		ss.zSeen.Store(u.z)
		if len(msg) >= 6 {
			ss.hook.ReadyForQuery(msg[5])
		}
		return nil
	case 'S':
		if name, value, ok := parameterStatus(msg[5:]); ok {
			if ph, ok := ss.hook.(ParameterHook); ok {
				ph.Parameter(name, value)
			}
		}
	case '1':
		if inj := u.current(); inj != nil && !inj.simple && u.p1 == inj.parseIdx {
			inj.parsed = true
			return nil // the client's Parse failed: no ParseComplete
		}
	case '2':
		if inj := u.current(); inj != nil && !inj.simple && inj.parsed && u.b2 == inj.bindIdx {
			return nil // the injected Bind
		}
	case 'E':
		if inj := u.current(); inj != nil {
			if (inj.simple || inj.parsed) && errorCode(msg[5:]) == inj.code {
				p.emit(inj.errMsg)
			} else {
				// An earlier error of the segment (or a failed transaction) stopped the injection before it ran:
				// PostgreSQL's own error is the right answer.
				p.forward(at, at+len(msg))
			}
			// Nothing else of this segment runs after an error.
			for len(u.injected) > 0 && u.injected[0].seg == u.z+1 {
				u.injected = u.injected[1:]
			}
			return nil
		}
		if u.hinter != nil {
			if hint := u.hinter.ErrorHint(ss.ctx, serverError(msg[5:])); hint != "" {
				if b := withHint(msg, hint); b != nil {
					p.emit(b)
					return nil
				}
			}
		}
	}
	p.forward(at, at+len(msg))
	return nil
}

// queueNotices hands the Hook's notices to the upstream side, which sends them before the statement's results.
func (ss *session) queueNotices(ns []*pgproto3.NoticeResponse) {
	if len(ns) == 0 {
		return
	}
	h := &ss.hooked
	h.mu.Lock()
	for _, n := range ns {
		if n == nil {
			continue
		}
		c := *n
		if c.Severity == "" {
			c.Severity, c.SeverityUnlocalized = "NOTICE", "NOTICE"
		}
		if c.Code == "" {
			c.Code = "00000"
		}
		if b, err := c.Encode(h.notices); err == nil {
			h.notices = b
		}
	}
	h.pending.Store(true)
	h.mu.Unlock()
}

func (ss *session) queueInjection(inj injection) {
	h := &ss.hooked
	h.mu.Lock()
	h.injections = append(h.injections, inj)
	h.pending.Store(true)
	h.mu.Unlock()
}

// queryMessage encodes a Query.
func queryMessage(sql string) []byte {
	b := make([]byte, 5, 6+len(sql))
	b[0] = 'Q'
	binary.BigEndian.PutUint32(b[1:], uint32(4+len(sql)+1))
	b = append(b, sql...)
	return append(b, 0)
}

// parseMessage encodes a Parse with a new query text and the original name and parameter types.
func parseMessage(name []byte, sql string, paramTypes []byte) []byte {
	n := 4 + len(name) + 1 + len(sql) + 1 + len(paramTypes)
	b := make([]byte, 5, 1+n)
	b[0] = 'P'
	binary.BigEndian.PutUint32(b[1:], uint32(n))
	b = append(b, name...)
	b = append(b, 0)
	b = append(b, sql...)
	b = append(b, 0)
	return append(b, paramTypes...)
}
