package proxy

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/deferproxy/deferproxy/engine"
)

// staleHook decides every text anew ("select 1" → "select 2") and never finds a verdict current: every use of a kept
// statement goes to a re-prepare.
type staleHook struct{ rewriteHook }

func (staleHook) Current(engine.Dependencies) bool { return false }

// FuzzPrepared feeds arbitrary client streams to the client side with kept statements that are always stale (Parse,
// Bind, Describe and Close decoding, the portal table, the probe), and arbitrary server streams to the upstream side
// with probes of every kind waiting (marker counting, swallowed answers, errors, descriptions). Nothing may panic or
// hang; a probe's wait ends because the upstream side is gone.
func FuzzPrepared(f *testing.F) {
	f.Add(encode(f, &pgproto3.Parse{Name: "s1", Query: "select 1", ParameterOIDs: []uint32{23}}, &pgproto3.Sync{},
		&pgproto3.Bind{DestinationPortal: "p", PreparedStatement: "s1"}, &pgproto3.Describe{ObjectType: 'S', Name: "s1"},
		&pgproto3.Close{ObjectType: 'P', Name: "p"}, &pgproto3.Close{ObjectType: 'S', Name: "s1"}, &pgproto3.Sync{}), uint8(3))
	f.Add(encode(f, &pgproto3.CloseComplete{}, &pgproto3.ParameterDescription{ParameterOIDs: []uint32{23}},
		&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("v"), DataTypeOID: 25}}}, &pgproto3.ParseComplete{},
		&pgproto3.NoData{}, &pgproto3.ErrorResponse{Code: "42P01"}, &pgproto3.ReadyForQuery{TxStatus: 'I'}), uint8(9))
	f.Fuzz(func(t *testing.T, stream []byte, a uint8) {
		sizes := []int{int(a)%64 + 1}
		gone := make(chan struct{})
		close(gone)
		ss := &session{ctx: context.Background(), hook: staleHook{}, upDone: gone}
		cs := &clientSide{ss: ss}
		cs.prep.checker = staleHook{}
		cp := newPump(&memConn{chunks: split(append([]byte(nil), stream...), sizes...)}, &memConn{}, &watchClientHook, cs, 1<<20, 1<<20)
		_ = cp.run()

		us := &serverSide{ss: ss}
		st := &preparedStmt{name: "s1"}
		us.probes = []*probe{
			{seg: 1, marker: 1, left: 2, keep: st},
			{seg: 1, marker: 2, left: 3, done: make(chan probeResult, 1)},
			{seg: 1, marker: 3, left: 3, errMsg: mismatchError},
			{seg: 2, marker: 1, left: 2},
		}
		sp := newPump(&memConn{chunks: split(append([]byte(nil), stream...), sizes...)}, &memConn{}, &watchServerHook, us, 0, 1<<20)
		_ = sp.run()
		if d := st.desc.Load(); d != nil && (len(d[0]) < 5 || len(d[1]) < 5) {
			t.Fatalf("a kept description is not a message: %q", d)
		}
	})
}
