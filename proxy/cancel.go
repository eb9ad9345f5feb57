package proxy

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"time"
)

// cancelKey maps one proxy-issued (pid, secret) pair to the upstream backend's.
type cancelKey struct {
	secret     []byte // what the client got in BackendKeyData
	upPID      uint32
	upSecret   []byte
	sessionID  uint64
	registered bool
}

// cancelRegistry holds the keys of live sessions. Clients never see upstream keys: a CancelRequest names a proxy key,
// and the proxy sends the matching upstream key on a new upstream connection.
type cancelRegistry struct {
	mu   sync.Mutex
	keys map[uint32]*cancelKey
}

func newCancelRegistry() *cancelRegistry { return &cancelRegistry{keys: make(map[uint32]*cancelKey)} }

// issue registers an upstream key and returns the proxy key that replaces it in the client's BackendKeyData. The
// secret has the upstream secret's length, so protocol 3.0 clients get 4 bytes and 3.2 clients what the server chose.
func (r *cancelRegistry) issue(sessionID uint64, upPID uint32, upSecret []byte) (uint32, *cancelKey, error) {
	k := &cancelKey{secret: make([]byte, len(upSecret)), upPID: upPID, upSecret: append([]byte(nil), upSecret...), sessionID: sessionID}
	if _, err := rand.Read(k.secret); err != nil {
		return 0, nil, fmt.Errorf("cancel key: %w", err)
	}
	var b [4]byte
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return 0, nil, fmt.Errorf("cancel key: %w", err)
		}
		// Positive int32 pids, as PostgreSQL's: some clients print or store them signed.
		pid := binary.BigEndian.Uint32(b[:]) & 0x7fffffff
		if pid == 0 {
			continue
		}
		if _, taken := r.keys[pid]; taken {
			continue
		}
		r.keys[pid] = k
		k.registered = true
		return pid, k, nil
	}
}

// lookup finds the upstream key for a CancelRequest; a wrong secret matches nothing.
func (r *cancelRegistry) lookup(pid uint32, secret []byte) (*cancelKey, bool) {
	r.mu.Lock()
	k, ok := r.keys[pid]
	r.mu.Unlock()
	if !ok || len(k.secret) != len(secret) || subtle.ConstantTimeCompare(k.secret, secret) != 1 {
		return nil, false
	}
	return k, true
}

func (r *cancelRegistry) remove(pid uint32) {
	r.mu.Lock()
	delete(r.keys, pid)
	r.mu.Unlock()
}

// cancelTimeout bounds one upstream cancel (connect, TLS, send, wait for the server to close).
const cancelTimeout = 10 * time.Second

// sendCancel opens a new upstream connection (TLS per sslmode, as PostgreSQL accepts cancels over TLS) and sends the
// upstream backend's key. Like libpq, it waits for the server to close the connection, so the cancel has been
// delivered when it returns.
func (s *Server) sendCancel(ctx context.Context, k *cancelKey) error {
	ctx, cancel := context.WithTimeout(ctx, cancelTimeout)
	defer cancel()
	c, err := s.dialUpstream(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(cancelTimeout))
	pkt := make([]byte, 12, 12+len(k.upSecret))
	binary.BigEndian.PutUint32(pkt[0:], uint32(12+len(k.upSecret)))
	binary.BigEndian.PutUint32(pkt[4:], codeCancelRequest)
	binary.BigEndian.PutUint32(pkt[8:], k.upPID)
	pkt = append(pkt, k.upSecret...)
	if _, err := c.Write(pkt); err != nil {
		return fmt.Errorf("send cancel request upstream: %w", err)
	}
	_, _ = io.Copy(io.Discard, c)
	s.stats.cancels.Add(1)
	return nil
}
