package proxy

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/deferproxy/deferproxy/engine"
)

// currentHook is a StatementChecker whose verdicts are always current: the cost of the check alone.
type currentHook struct{ rewriteHook }

func (currentHook) Current(engine.Dependencies) bool { return true }

// BenchmarkPreparedUse measures the client→upstream side on pgbench -M prepared requests (Bind of a named statement,
// Execute, Sync): "untracked" is the proxy without re-prepares (the Bind is forwarded on its header), "current" a
// kept statement whose verdict is still current (its names are read and the hook asked). The difference is what
// keeping prepared statements right costs on the hot path.
func BenchmarkPreparedUse(b *testing.B) {
	msgs := encode(b, &pgproto3.Bind{PreparedStatement: "P0_1", Parameters: [][]byte{[]byte("12345")}},
		&pgproto3.Execute{}, &pgproto3.Sync{})
	for _, tracked := range []bool{false, true} {
		name := "untracked"
		if tracked {
			name = "current"
		}
		b.Run(name, func(b *testing.B) {
			ss := &session{hook: currentHook{}, ctx: context.Background()}
			cs := &clientSide{ss: ss}
			if tracked {
				cs.prep.checker = currentHook{}
				cs.trackParse(nil, []byte("P0_1"), "SELECT abalance FROM pgbench_accounts WHERE aid = $1;",
					"SELECT abalance FROM pgbench_accounts WHERE aid = $1;", []byte{0, 0}, engine.Dependencies{Manifests: 1})
			}
			src := &memConn{chunks: [][]byte{msgs}, loop: b.N}
			p := newPump(src, &memConn{discard: true}, &watchClientHook, cs, DefaultMaxMessageSize, DefaultMaxMessageSize)
			b.SetBytes(int64(len(msgs)))
			b.ReportAllocs()
			b.ResetTimer()
			if err := p.run(); !errors.Is(err, io.EOF) {
				b.Fatal(err)
			}
		})
	}
}
