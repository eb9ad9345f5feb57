package proxy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// Framing: a pump moves the messages of one direction of a session (client→upstream or upstream→client). It reads
// into a pooled buffer, walks the 5-byte headers, and forwards every message it is not asked to inspect as raw bytes,
// without copying them: contiguous forwarded bytes stay in the read buffer and are written from there in one write
// per read. Only messages a handler wants whole (Query/Parse for the Hook, ReadyForQuery …) are buffered completely;
// everything else — a 1 GB DataRow or COPY stream included — streams through in buffer-sized pieces.

const (
	// bufSize is the read buffer of each direction: PostgreSQL itself sends in 8 kB pieces, and 16 kB lets one read
	// take a whole pgbench round trip or two COPY chunks.
	bufSize = 16 << 10
	// maxKeptBuf is the largest buffer kept after a large inspected message; bigger ones are dropped.
	maxKeptBuf = 256 << 10
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// Watch levels of a message type.
const (
	watchNone   = 0 // forward raw, never look inside
	watchHeader = 1 // call handler.header before forwarding; it may ask for the whole message
	watchWhole  = 2 // always hand the whole message to handler.message
)

// handler is a direction's policy for the messages it watches.
type handler interface {
	// header is called once per watched message, at its first byte, before anything of it is forwarded. It reports
	// whether the message must be handed whole to message instead of being forwarded raw.
	header(p *pump, typ byte) (whole bool, err error)
	// message gets a complete message (header included) that lies at p.buf[at:]; it forwards it (p.forward), replaces
	// it (p.emit) or drops it. msg is valid only during the call.
	message(p *pump, typ byte, msg []byte, at int) error
}

// errFrame is a framing violation: the session ends with 08P01 (or code, when set).
type errFrame struct {
	msg  string
	code string
}

func (e *errFrame) Error() string { return e.msg }

// sqlstate is the SQLSTATE the client gets for the violation.
func (e *errFrame) sqlstate() string {
	if e.code != "" {
		return e.code
	}
	return codeProtocolViolation
}

// pump is one direction of a session.
type pump struct {
	src net.Conn
	raw syscall.RawConn // src as a raw socket when it is plain TCP/unix: enables rawRead
	dst net.Conn

	buf   []byte  // read buffer; nil while the pump waits on an idle raw socket (it is back in bufPool)
	bufp  *[]byte // buf's pool handle when buf came from bufPool (kept so returning it allocates nothing)
	r, w  int     // unprocessed bytes are buf[r:w]
	rem   int     // body bytes of the message being streamed through that have not arrived yet
	want  int     // size of the whole message at buf[r:] being waited for (0 = none)
	max   int     // largest message body accepted; 0 = no limit
	maxW  int     // largest body of a message the handler wants whole (it is buffered); 0 = no limit
	watch *[256]uint8
	h     handler
	last  byte // type of the last message seen

	pa, pb int    // pending forward span buf[pa:pb]
	out    []byte // assembled output when what is written is not one span of buf

	// raw read state (see rawRead)
	rawN   int
	rawErr error
	rawFn  func(fd uintptr) bool

	// raw write state (see rawWrite): dst as a raw socket when it is plain TCP/unix
	rawDst syscall.RawConn
	wbuf   []byte
	wErr   error
	rawWFn func(fd uintptr) bool

	nread uint64        // bytes read (for Stats)
	idle  time.Duration // read deadline per read (the client side's IdleTimeout); 0 = none
}

func newPump(src, dst net.Conn, watch *[256]uint8, h handler, max, maxWhole int) *pump {
	p := &pump{src: src, dst: dst, watch: watch, h: h, max: max, maxW: maxWhole}
	if sc, ok := src.(syscall.Conn); ok && rawIO {
		if rc, err := sc.SyscallConn(); err == nil {
			p.raw = rc
			p.rawFn = p.rawRead
		}
	}
	if sc, ok := dst.(syscall.Conn); ok && rawIO {
		if rc, err := sc.SyscallConn(); err == nil {
			p.rawDst = rc
			p.rawWFn = p.rawWrite
		}
	}
	return p
}

// preload puts bytes that were read before the pump started (during startup) at the front of the buffer.
func (p *pump) preload(b []byte) {
	if len(b) == 0 {
		return
	}
	p.acquire()
	if len(b) > len(p.buf) {
		p.putBuf()
		p.buf = make([]byte, len(b))
	}
	p.w = copy(p.buf, b)
}

func (p *pump) acquire() {
	if p.buf == nil {
		p.bufp = bufPool.Get().(*[]byte)
		p.buf = *p.bufp
	}
}

// putBuf hands a pooled buffer back.
func (p *pump) putBuf() {
	if p.bufp != nil {
		bufPool.Put(p.bufp)
		p.bufp = nil
	}
	p.buf = nil
}

// release returns the buffer to the pool; only when it holds no unprocessed bytes.
func (p *pump) release() {
	if p.buf != nil && p.r == p.w {
		p.putBuf()
		p.r, p.w = 0, 0
	}
}

// run pumps until the source or destination fails. It returns the error that stopped it (io.EOF for a clean close
// of the source).
func (p *pump) run() error {
	if p.raw != nil && p.idle == 0 {
		return p.runRaw()
	}
	for {
		if err := p.process(); err != nil {
			return err
		}
		if err := p.flush(); err != nil {
			return err
		}
		if err := p.fill(); err != nil {
			return err
		}
	}
}

// process walks the complete headers in buf[r:w].
func (p *pump) process() error {
	for p.r < p.w {
		if p.rem > 0 {
			k := p.w - p.r
			if k > p.rem {
				k = p.rem
			}
			p.forward(p.r, p.r+k)
			p.r += k
			p.rem -= k
			continue
		}
		if p.w-p.r < 5 {
			return nil
		}
		typ := p.buf[p.r]
		n := int(binary.BigEndian.Uint32(p.buf[p.r+1 : p.r+5]))
		if n < 4 {
			return &errFrame{msg: fmt.Sprintf("invalid message length %d for message type %q", n, typ)}
		}
		if p.max > 0 && n-4 > p.max {
			return &errFrame{msg: fmt.Sprintf("message of type %q is %d bytes, more than the limit of %d", typ, n-4, p.max)}
		}
		whole := p.want > 0 // header already seen, waiting for the rest
		if !whole {
			p.last = typ
			switch p.watch[typ] {
			case watchNone:
			case watchWhole:
				whole = true
			default:
				var err error
				if whole, err = p.h.header(p, typ); err != nil {
					return err
				}
			}
		}
		if !whole {
			p.forward(p.r, p.r+5)
			p.r += 5
			p.rem = n - 4
			continue
		}
		if p.maxW > 0 && n-4 > p.maxW {
			return &errFrame{msg: fmt.Sprintf("message of type %q is %d bytes, more than the limit of %d", typ, n-4, p.maxW)}
		}
		total := 1 + n
		if p.w-p.r < total {
			p.want = total
			return nil
		}
		p.want = 0
		at := p.r
		p.r += total
		if err := p.h.message(p, typ, p.buf[at:at+total], at); err != nil {
			return err
		}
	}
	return nil
}

// forward queues buf[a:b] for writing.
func (p *pump) forward(a, b int) {
	if p.pb == a && p.pb > p.pa {
		p.pb = b
		return
	}
	if p.pb > p.pa {
		p.out = append(p.out, p.buf[p.pa:p.pb]...)
	}
	p.pa, p.pb = a, b
}

// emit queues bytes that are not in the read buffer (a rewritten message, a notice) after what is queued so far.
func (p *pump) emit(b []byte) {
	if p.pb > p.pa {
		p.out = append(p.out, p.buf[p.pa:p.pb]...)
	}
	p.pa, p.pb = 0, 0
	p.out = append(p.out, b...)
}

// flush writes what is queued in one write.
func (p *pump) flush() error {
	var b []byte
	if len(p.out) == 0 {
		b = p.buf[p.pa:p.pb]
	} else {
		if p.pb > p.pa {
			p.out = append(p.out, p.buf[p.pa:p.pb]...)
		}
		b = p.out
	}
	p.pa, p.pb = 0, 0
	if len(b) == 0 {
		return nil
	}
	var err error
	if p.rawDst != nil {
		p.wbuf, p.wErr = b, nil
		if err = p.rawDst.Write(p.rawWFn); err == nil {
			err = p.wErr
		}
		p.wbuf = nil
	} else {
		_, err = p.dst.Write(b)
	}
	if cap(p.out) > maxKeptBuf {
		p.out = nil
	} else {
		p.out = p.out[:0]
	}
	if err != nil {
		return &errWrite{err}
	}
	return nil
}

// errWrite marks a failure to write to the destination (as opposed to reading the source).
type errWrite struct{ err error }

func (e *errWrite) Error() string { return "write: " + e.err.Error() }
func (e *errWrite) Unwrap() error { return e.err }

// peekBody returns what has arrived of the body of the message whose header handler.header is looking at.
func (p *pump) peekBody() []byte {
	end := p.r + 1 + int(binary.BigEndian.Uint32(p.buf[p.r+1:p.r+5]))
	if end > p.w {
		end = p.w
	}
	return p.buf[p.r+5 : end]
}

// atBoundary reports whether nothing of a message has been forwarded partially, so a whole message may be written.
func (p *pump) atBoundary() bool { return p.rem == 0 }

// fill compacts the buffer and reads more.
func (p *pump) fill() error {
	p.compact()
	var n int
	var err error
	if p.idle > 0 {
		_ = p.src.SetReadDeadline(time.Now().Add(p.idle))
	}
	if p.raw != nil {
		p.rawN, p.rawErr = 0, nil
		if err = p.raw.Read(p.rawFn); err == nil {
			n, err = p.rawN, p.rawErr
		}
	} else {
		p.acquire()
		n, err = p.src.Read(p.buf[p.w:])
	}
	if n > 0 {
		p.w += n
		p.nread += uint64(n)
		return nil
	}
	if err == nil {
		err = io.EOF
	}
	return err
}

// compact moves unprocessed bytes to the front of the buffer and makes room for the whole message being waited for.
func (p *pump) compact() {
	if p.r == p.w {
		p.r, p.w = 0, 0
		if p.bufp == nil && len(p.buf) > maxKeptBuf {
			p.buf = nil // drop a buffer grown for one huge inspected message
		}
	} else if p.r > 0 {
		p.w = copy(p.buf, p.buf[p.r:p.w])
		p.r = 0
	}
	if p.want > len(p.buf) {
		nb := make([]byte, p.want+bufSize)
		p.w = copy(nb, p.buf[:p.w])
		p.putBuf()
		p.buf = nb
	}
}

// free returns the buffer at session end.
func (p *pump) free() {
	p.r, p.w = 0, 0
	p.release()
	p.out = nil
}

// isTimeout reports a deadline error.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
