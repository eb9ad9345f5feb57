package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// tcpPair returns both ends of a loopback TCP connection: raw I/O (runRaw, rawRead) only runs on real sockets, and
// their readiness edges are what the close-race test is about.
func tcpPair(t testing.TB, ln net.Listener) (near, far *net.TCPConn) {
	t.Helper()
	type res struct {
		c   net.Conn
		err error
	}
	acc := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		acc <- res{c, err}
	}()
	d, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-acc
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.c.(*net.TCPConn), d.(*net.TCPConn)
}

// syncSink is a pump destination that collects what it is given and signals each write.
type syncSink struct {
	memConn
	mu    sync.Mutex
	wrote chan struct{}
}

func (s *syncSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.out.Write(p)
	s.mu.Unlock()
	select {
	case s.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (s *syncSink) bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.out.Bytes()...)
}

// processCPU is this process's user+system CPU time in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// hangTimeout is how long a pump may take to notice its peer's close before the try counts as a hang. It is no
// timing assertion: a pump that saw the close returns at once, one that lost the edge never returns.
const hangTimeout = 20 * time.Second

// closeOrders are the ways the peer ends a connection relative to the last message it sends: every position of the
// FIN (or RST) relative to that message's bytes, with and without the pump having had time to wait for readiness.
var closeOrders = []struct {
	name string
	// end sends last, or part of it, on peer, closes peer and returns what it sent; forwarded(n) waits until the
	// pump has forwarded n bytes of it.
	end func(peer *net.TCPConn, last []byte, forwarded func(n int)) []byte
	// reset: the close is a RST, which may discard data the pump had not read yet
	reset bool
}{
	{"fin-before-last", func(p *net.TCPConn, _ []byte, _ func(int)) []byte { p.Close(); return nil }, false},
	{"fin-mid-last", func(p *net.TCPConn, last []byte, _ func(int)) []byte {
		p.Write(last[:len(last)/2])
		p.Close()
		return last[:len(last)/2]
	}, false},
	{"fin-with-last", func(p *net.TCPConn, last []byte, _ func(int)) []byte { p.Write(last); p.Close(); return last }, false},
	{"shutdown-with-last", func(p *net.TCPConn, last []byte, _ func(int)) []byte {
		p.Write(last)
		p.CloseWrite()
		return last
	}, false},
	{"fin-after-last", func(p *net.TCPConn, last []byte, fwd func(int)) []byte {
		p.Write(last)
		fwd(len(last))
		p.Close()
		return last
	}, false},
	{"rst-with-last", func(p *net.TCPConn, last []byte, _ func(int)) []byte {
		p.Write(last)
		p.SetLinger(0)
		p.Close()
		return last
	}, true},
}

// TestPumpSeesEveryClose: a pump waiting on its source sees the peer's close in every position relative to the last
// message, on both raw read paths (the edge-triggered loop of runRaw, and fill's per-read deadline path), 1,000 tries
// each — a FIN that arrives together with the last bytes raises no readiness edge of its own, so a loop that takes a
// short read as "drained" would wait forever (issue 8).
func TestPumpSeesEveryClose(t *testing.T) {
	tries := 1000
	if testing.Short() {
		tries = 100
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var first, last []byte
	first = encode(t, &pgproto3.DataRow{Values: [][]byte{[]byte("first")}})
	last = encode(t, &pgproto3.ErrorResponse{Severity: "FATAL", Code: "57P01",
		Message: "terminating connection due to administrator command"})
	for _, path := range []string{"runRaw", "fill"} {
		for _, order := range closeOrders {
			t.Run(path+"/"+order.name, func(t *testing.T) {
				hangs := 0
				for i := 0; i < tries; i++ {
					src, peer := tcpPair(t, ln)
					dst := &syncSink{wrote: make(chan struct{}, 1)}
					p := newPump(src, dst, &watchServerPlain, &serverSide{ss: &session{}}, 0, 1<<20)
					if p.raw == nil {
						t.Fatal("no raw socket: the test would not exercise raw I/O")
					}
					if path == "fill" {
						p.idle = time.Hour // fill's path: a read deadline per read
					}
					done := make(chan error, 1)
					go func() { done <- p.run() }()
					sent := 0
					forwarded := func(n int) {
						for len(dst.bytes()) < n {
							<-dst.wrote
						}
					}
					// A first message, forwarded before the end begins, so the pump waits for readiness.
					peer.Write(first)
					sent += len(first)
					forwarded(sent)
					want := append(append([]byte(nil), first...), order.end(peer, last, func(n int) { forwarded(sent + n) })...)
					select {
					case err := <-done:
						if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
							t.Fatalf("try %d: pump ended with %v", i, err)
						}
					case <-time.After(hangTimeout):
						hangs++
						src.Close() // wakes the pump
						<-done
					}
					got := dst.bytes()
					if order.reset && (!bytes.HasPrefix(want, got) || len(got) < len(first)) || !order.reset && !bytes.Equal(got, want) {
						t.Fatalf("try %d: forwarded %q, want %q", i, got, want)
					}
					p.free()
					src.Close()
					peer.Close()
				}
				if hangs > 0 {
					t.Errorf("%d of %d tries: the pump missed the close (%s)", hangs, tries, fmt.Sprint(hangTimeout))
				}
			})
		}
	}
}

// BenchmarkPumpRaw measures one round trip through runRaw on real loopback sockets: the peer writes a pgbench -S
// response, the pump reads and forwards it to a socket, the reader reads it back whole. The syscalls per round trip
// are what it shows (compare with and without an extra EAGAIN read). The process's CPU time per round trip
// (cpu-ns/op: peer, pump and reader, all in this process) is steadier than wall time on a shared machine.
func BenchmarkPumpRaw(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	src, peer := tcpPair(b, ln)
	dst, reader := tcpPair(b, ln)
	defer peer.Close()
	defer reader.Close()
	msg := pgbenchResponse(b)
	p := newPump(src, dst, &watchServerPlain, &serverSide{ss: &session{}}, 0, 1<<20)
	done := make(chan error, 1)
	go func() { done <- p.run() }()
	buf := make([]byte, len(msg))
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		if _, err := peer.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(reader, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
	peer.Close()
	if err := <-done; !errors.Is(err, io.EOF) {
		b.Fatal(err)
	}
	src.Close()
	dst.Close()
}
