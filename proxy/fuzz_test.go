package proxy

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// FuzzFrameReader feeds arbitrary byte streams, cut into arbitrary read sizes, through the framer. Without a Hook the
// output must be exactly the input, less at most a trailing partial header; with the Hook's tables (rewrites,
// notices, refusals on the client side, injected-answer handling on the server side) it must not panic or hang.
func FuzzFrameReader(f *testing.F) {
	f.Add(pgbenchResponse(f), uint8(7), uint8(3))
	f.Add(pgbenchRequest(f), uint8(1), uint8(200))
	f.Add(encode(f, &pgproto3.Query{String: "select 1"}, &pgproto3.Query{String: "refuse"}, &pgproto3.Sync{}), uint8(5), uint8(5))
	f.Add(encode(f, &pgproto3.ParseComplete{}, &pgproto3.BindComplete{}, &pgproto3.ErrorResponse{Code: "42501", Message: "x"},
		&pgproto3.ReadyForQuery{TxStatus: 'E'}), uint8(2), uint8(9))
	f.Add([]byte{'Q', 0, 0, 0, 3}, uint8(1), uint8(1))
	f.Add([]byte{'d', 0x7f, 0xff, 0xff, 0xff, 1, 2, 3}, uint8(4), uint8(4))
	f.Fuzz(func(t *testing.T, stream []byte, a, b uint8) {
		sizes := []int{int(a)%64 + 1, int(b)%4096 + 1}

		// Pass-through: output = input up to the first framing error or a trailing partial header.
		for _, dir := range []struct {
			watch *[256]uint8
			h     func(ss *session) handler
		}{
			{&watchClientPlain, func(ss *session) handler { return &clientSide{ss: ss} }},
			{&watchServerPlain, func(ss *session) handler { return &serverSide{ss: ss} }},
		} {
			dst := &memConn{}
			ss := &session{ctx: context.Background()}
			p := newPump(&memConn{chunks: split(append([]byte(nil), stream...), sizes...)}, dst, dir.watch, dir.h(ss), 1<<20, 1<<20)
			err := p.run()
			out := dst.out.Bytes()
			if !bytes.HasPrefix(stream, out) {
				t.Fatalf("output is not a prefix of the input")
			}
			var fe *errFrame
			switch {
			case errors.Is(err, io.EOF):
				if len(stream)-len(out) >= 5 {
					t.Fatalf("clean EOF but %d bytes not forwarded", len(stream)-len(out))
				}
			case errors.As(err, &fe):
			default:
				t.Fatalf("unexpected error %v", err)
			}
		}

		// With a Hook: both directions, rewrites and refusals; nothing may panic.
		ss := &session{ctx: context.Background(), hook: rewriteHook{}}
		cp := newPump(&memConn{chunks: split(append([]byte(nil), stream...), sizes...)}, &memConn{}, &watchClientHook, &clientSide{ss: ss}, 1<<20, 1<<20)
		_ = cp.run()
		sp := newPump(&memConn{chunks: split(append([]byte(nil), stream...), sizes...)}, &memConn{}, &watchServerHook, &serverSide{ss: ss}, 0, 1<<20)
		_ = sp.run()
	})
}

// FuzzStartup feeds arbitrary bytes to the startup-phase parsers: packet framing, classification, StartupMessage
// parameters, CancelRequest, and the relayed AuthenticationSASL rewrite. Parameters the proxy accepts must be exactly
// what pgproto3 decodes from the same packet.
func FuzzStartup(f *testing.F) {
	sm, _ := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30,
		Parameters: map[string]string{"user": "u", "database": "d", "options": "-c x=y", "_pq_.a": "b"}}).Encode(nil)
	f.Add(sm)
	sm32, _ := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion32,
		Parameters: map[string]string{"user": "u", "replication": "database"}}).Encode(nil)
	f.Add(sm32)
	f.Add([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f})
	f.Add([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30, 'x'})
	f.Add([]byte{0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 1, 1, 2, 3, 4})
	f.Add([]byte{0, 0, 0, 9, 0, 2, 0, 0, 0})
	f.Add([]byte("R\x00\x00\x00\x2a\x00\x00\x00\x0aSCRAM-SHA-256-PLUS\x00SCRAM-SHA-256\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = stripChannelBinding(data)
		_ = errorCode(data)
		_ = errorSeverity(data)
		r := newMsgReader(&memConn{chunks: split(append([]byte(nil), data...), 3)})
		pkt, err := r.packet()
		if err != nil {
			return
		}
		kind, _ := classifyStartup(pkt)
		switch kind {
		case kindCancel:
			_, _, _ = parseCancel(pkt)
		case kindStartup:
			params, err := startupParams(pkt)
			if err != nil {
				return
			}
			// Any 3.x is accepted and forwarded (the server answers an unknown minor with NegotiateProtocolVersion, as
			// PostgreSQL does); pgproto3 decodes only 3.0 and 3.2, so compare the parameters as 3.0.
			body := append([]byte(nil), pkt[4:]...)
			binary.BigEndian.PutUint32(body, pgproto3.ProtocolVersion30)
			var sm pgproto3.StartupMessage
			if err := sm.Decode(body); err != nil {
				t.Fatalf("proxy accepted a startup packet pgproto3 rejects: %v", err)
			}
			if len(sm.Parameters) != len(params) {
				t.Fatalf("parameters differ: %v vs %v", params, sm.Parameters)
			}
			for k, v := range params {
				if sm.Parameters[k] != v {
					t.Fatalf("parameter %q: %q vs %q", k, v, sm.Parameters[k])
				}
			}
			_ = isReplication(params)
		}
	})
}
