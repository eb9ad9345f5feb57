package proxy

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// memConn is an in-memory net.Conn for the framer's unit tests, benchmarks and fuzzing (no real socket is needed to
// test framing): reads come from chunks, writes are collected or discarded.
type memConn struct {
	chunks  [][]byte
	loop    int // repeat chunks this many times (benchmarks)
	i, off  int
	out     bytes.Buffer
	discard bool
}

func (c *memConn) Read(p []byte) (int, error) {
	for c.i >= len(c.chunks) {
		if c.loop <= 0 {
			return 0, io.EOF
		}
		c.loop--
		c.i, c.off = 0, 0
	}
	n := copy(p, c.chunks[c.i][c.off:])
	c.off += n
	if c.off == len(c.chunks[c.i]) {
		c.i, c.off = c.i+1, 0
	}
	return n, nil
}

func (c *memConn) Write(p []byte) (int, error) {
	if !c.discard {
		c.out.Write(p)
	}
	return len(p), nil
}
func (c *memConn) Close() error                     { return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

func encode(t testing.TB, msgs ...interface{ Encode([]byte) ([]byte, error) }) []byte {
	var b []byte
	for _, m := range msgs {
		var err error
		if b, err = m.Encode(b); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// pgbenchResponse is what PostgreSQL answers to one pgbench -S extended-protocol transaction.
func pgbenchResponse(t testing.TB) []byte {
	return encode(t, &pgproto3.ParseComplete{}, &pgproto3.BindComplete{},
		&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("abalance"), DataTypeOID: 23, DataTypeSize: 4, TypeModifier: -1}}},
		&pgproto3.DataRow{Values: [][]byte{[]byte("0")}}, &pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")},
		&pgproto3.ReadyForQuery{TxStatus: 'I'})
}

func pgbenchRequest(t testing.TB) []byte {
	return encode(t, &pgproto3.Parse{Query: "SELECT abalance FROM pgbench_accounts WHERE aid = $1;"},
		&pgproto3.Bind{Parameters: [][]byte{[]byte("12345")}}, &pgproto3.Describe{ObjectType: 'P'},
		&pgproto3.Execute{}, &pgproto3.Sync{})
}

// split cuts b into pieces of the given sizes (cycled).
func split(b []byte, sizes ...int) [][]byte {
	var out [][]byte
	for i := 0; len(b) > 0; i++ {
		n := sizes[i%len(sizes)]
		if n > len(b) || n <= 0 {
			n = len(b)
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

func TestPumpForwardsUnchanged(t *testing.T) {
	var stream []byte
	for i := 0; i < 50; i++ {
		stream = append(stream, pgbenchResponse(t)...)
	}
	big := encode(t, &pgproto3.DataRow{Values: [][]byte{bytes.Repeat([]byte("z"), 100000)}})
	stream = append(stream, big...)
	for _, sizes := range [][]int{{1}, {2, 3}, {5}, {7, 4096}, {bufSize}, {1 << 20}} {
		ss := &session{}
		src := &memConn{chunks: split(append([]byte(nil), stream...), sizes...)}
		dst := &memConn{}
		p := newPump(src, dst, &watchServerPlain, &serverSide{ss: ss}, 0, 1<<20)
		if err := p.run(); !errors.Is(err, io.EOF) {
			t.Fatalf("sizes %v: %v", sizes, err)
		}
		if !bytes.Equal(dst.out.Bytes(), stream) {
			t.Fatalf("sizes %v: output differs (%d vs %d bytes)", sizes, dst.out.Len(), len(stream))
		}
		if ss.zSeen.Load() != 50 {
			t.Fatalf("sizes %v: counted %d ReadyForQuery", sizes, ss.zSeen.Load())
		}
	}
}

func TestPumpRejectsBadLength(t *testing.T) {
	for _, in := range [][]byte{{'Q', 0, 0, 0, 3}, {'Q', 0xff, 0xff, 0xff, 0xff}, {'Q', 0, 0x10, 0, 5}} {
		p := newPump(&memConn{chunks: [][]byte{in}}, &memConn{}, &watchClientPlain, &clientSide{ss: &session{}}, 1<<20, 1<<20)
		var fe *errFrame
		if err := p.run(); !errors.As(err, &fe) {
			t.Fatalf("%v: want a framing error, got %v", in, err)
		}
	}
}

// rewriteHook rewrites, adds notices and refuses, for the framer tests with a Hook.
type rewriteHook struct{}

func (rewriteHook) Statement(_ context.Context, _ StatementKind, sql string) StatementResult {
	switch sql {
	case "select 1":
		return StatementResult{SQL: "select 2", Notices: []*pgproto3.NoticeResponse{{Message: "n"}}}
	case "refuse":
		return StatementResult{SQL: sql, Refuse: &pgproto3.ErrorResponse{Code: "42501", Message: "no"}}
	}
	return StatementResult{SQL: sql}
}
func (rewriteHook) ReadyForQuery(byte) {}
func (rewriteHook) Close()             {}

func TestPumpHookRewrite(t *testing.T) {
	in := encode(t, &pgproto3.Query{String: "select 1"}, &pgproto3.Parse{Name: "s", Query: "select 1", ParameterOIDs: []uint32{23}},
		&pgproto3.Query{String: "select 3"}, &pgproto3.Sync{})
	want := encode(t, &pgproto3.Query{String: "select 2"}, &pgproto3.Parse{Name: "s", Query: "select 2", ParameterOIDs: []uint32{23}},
		&pgproto3.Query{String: "select 3"}, &pgproto3.Sync{})
	ss := &session{hook: rewriteHook{}, ctx: context.Background()}
	for _, sizes := range [][]int{{1}, {3, 7}, {len(in)}} {
		dst := &memConn{}
		p := newPump(&memConn{chunks: split(append([]byte(nil), in...), sizes...)}, dst, &watchClientHook, &clientSide{ss: ss}, 0, 1<<20)
		if err := p.run(); !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		if !bytes.Equal(dst.out.Bytes(), want) {
			t.Fatalf("sizes %v:\n got %q\nwant %q", sizes, dst.out.Bytes(), want)
		}
	}
}

// BenchmarkPumpForward measures the upstream→client forwarder on pgbench -S responses: framing, the ReadyForQuery
// count, and the write. It must not allocate.
func BenchmarkPumpForward(b *testing.B) {
	for _, bc := range []struct {
		name  string
		msgs  []byte
		watch *[256]uint8
		hook  SessionHook
	}{
		{"server-plain", pgbenchResponse(b), &watchServerPlain, nil},
		{"server-hook", pgbenchResponse(b), &watchServerHook, rewriteHook{}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ss := &session{hook: bc.hook, ctx: context.Background()}
			src := &memConn{chunks: [][]byte{bc.msgs}, loop: b.N}
			p := newPump(src, &memConn{discard: true}, bc.watch, &serverSide{ss: ss}, 0, 1<<20)
			b.SetBytes(int64(len(bc.msgs)))
			b.ReportAllocs()
			b.ResetTimer()
			if err := p.run(); !errors.Is(err, io.EOF) {
				b.Fatal(err)
			}
		})
	}
	b.Run("client-plain", func(b *testing.B) {
		msgs := pgbenchRequest(b)
		ss := &session{ctx: context.Background()}
		src := &memConn{chunks: [][]byte{msgs}, loop: b.N}
		p := newPump(src, &memConn{discard: true}, &watchClientPlain, &clientSide{ss: ss}, DefaultMaxMessageSize, DefaultMaxMessageSize)
		b.SetBytes(int64(len(msgs)))
		b.ReportAllocs()
		b.ResetTimer()
		if err := p.run(); !errors.Is(err, io.EOF) {
			b.Fatal(err)
		}
	})
	b.Run("copy-stream", func(b *testing.B) {
		// 64 kB reads of 100-byte CopyData rows.
		row := encode(b, &pgproto3.CopyData{Data: bytes.Repeat([]byte("c"), 95)})
		chunk := bytes.Repeat(row, 64<<10/len(row))
		src := &memConn{chunks: [][]byte{chunk}, loop: b.N}
		p := newPump(src, &memConn{discard: true}, &watchServerPlain, &serverSide{ss: &session{}}, 0, 1<<20)
		b.SetBytes(int64(len(chunk)))
		b.ReportAllocs()
		b.ResetTimer()
		if err := p.run(); !errors.Is(err, io.EOF) {
			b.Fatal(err)
		}
	})
}

var _ = binary.BigEndian
