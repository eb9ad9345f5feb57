package proxy

import (
	"io"
	"syscall"
	"unsafe"
)

// rawIO: on Linux the pumps drive plain TCP and unix sockets with raw read(2)/write(2) through syscall.RawConn.
const rawIO = true

// runRaw is the pump loop for a plain socket source. The whole loop runs inside one syscall.RawConn.Read callback:
// read, frame, write out, and read again until read(2) says EAGAIN; only then does it return false, so that the
// runtime waits for the next readiness edge. It is only correct inside one RawConn.Read call: each call resets the
// poller's readiness before calling back, and a wake-up arriving between two calls would be lost (a hang under load,
// seen in the first version of this code).
//
// A short read does not mean the socket is drained: the runtime's poller is edge-triggered, and a FIN (or RST) that
// arrives together with the last bytes raises no edge of its own, so a loop that stopped at a short read would wait
// forever for an EOF that was already there (issue 8: 26–53 % of tries in TestPumpSeesEveryClose; a server's FATAL
// and close never reached the client). So the loop reads until EAGAIN; the bytes read are forwarded before that
// extra read, so it costs a syscall per wake-up but no latency.
func (p *pump) runRaw() error {
	// Bytes read ahead during startup come first.
	if err := p.process(); err != nil {
		return err
	}
	if err := p.flush(); err != nil {
		return err
	}
	var loopErr error
	err := p.raw.Read(func(fd uintptr) bool {
		for {
			p.compact()
			p.acquire()
			b := p.buf[p.w:]
			// A raw syscall: the socket is non-blocking, so read(2) returns at once, and skipping the runtime's
			// entersyscall/exitsyscall (and the sysmon wake-up it can cost) is measurably cheaper per round trip.
			r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
			switch {
			case e == syscall.EINTR:
				continue
			case e == syscall.EAGAIN:
				p.release() // idle: the buffer goes back to the pool while the runtime waits
				return false
			case e != 0:
				loopErr = e
				return true
			case r == 0:
				loopErr = io.EOF
				return true
			}
			p.w += int(r)
			p.nread += uint64(r)
			if err := p.process(); err != nil {
				loopErr = err
				return true
			}
			if err := p.flush(); err != nil {
				loopErr = err
				return true
			}
		}
	})
	if err != nil {
		return err
	}
	return loopErr
}

// rawRead is the syscall.RawConn read callback of fill (used when an idle timeout re-arms the deadline per read):
// a plain read(2); when the socket has nothing (EAGAIN) and no partial message is buffered, the buffer goes back to
// the pool while the runtime waits for readiness, so idle sessions hold no buffers.
func (p *pump) rawRead(fd uintptr) bool {
	p.acquire()
	b := p.buf[p.w:]
	for {
		r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		switch {
		case e == syscall.EINTR:
			continue
		case e == syscall.EAGAIN:
			p.release()
			return false
		case e != 0:
			p.rawN, p.rawErr = 0, e
		case r == 0:
			p.rawN, p.rawErr = 0, io.EOF
		default:
			p.rawN, p.rawErr = int(r), nil
		}
		return true
	}
}

// rawWrite is the syscall.RawConn write callback: write(2) until p.wbuf is out, waiting for writability on EAGAIN.
func (p *pump) rawWrite(fd uintptr) bool {
	for len(p.wbuf) > 0 {
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p.wbuf[0])), uintptr(len(p.wbuf)))
		switch {
		case e == syscall.EINTR:
			continue
		case e == syscall.EAGAIN:
			return false
		case e != 0:
			p.wErr = e
			return true
		}
		p.wbuf = p.wbuf[r:]
	}
	return true
}
