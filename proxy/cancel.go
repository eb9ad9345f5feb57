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

// cancelKey is one session's cancel key: the client gets the upstream backend's real process ID (so that the PID a
// client sees agrees with pg_backend_pid(), pg_stat_activity and NotificationResponse) with a secret the proxy chose.
type cancelKey struct {
	secret    []byte // what the client got in BackendKeyData, with upPID
	upPID     uint32
	upSecret  []byte
	sessionID uint64
}

// cancelRegistry holds the keys of live sessions. Clients never see upstream secrets: a CancelRequest names a
// process ID and a proxy secret, and the proxy sends the matching upstream key on a new upstream connection.
type cancelRegistry struct {
	mu sync.Mutex
	// keys by process ID. Usually one key per PID; a PID the server reused while the session that had it is still
	// ending (its key not yet removed) briefly holds two, told apart by their secrets.
	keys map[uint32][]*cancelKey
}

func newCancelRegistry() *cancelRegistry { return &cancelRegistry{keys: make(map[uint32][]*cancelKey)} }

// issue registers an upstream key and returns the key whose secret replaces the upstream secret in the client's
// BackendKeyData. The secret has the upstream secret's length, so protocol 3.0 clients get 4 bytes and 3.2 clients
// what the server chose (up to 256).
func (r *cancelRegistry) issue(sessionID uint64, upPID uint32, upSecret []byte) (*cancelKey, error) {
	k := &cancelKey{secret: make([]byte, len(upSecret)), upPID: upPID, upSecret: append([]byte(nil), upSecret...), sessionID: sessionID}
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		if _, err := rand.Read(k.secret); err != nil {
			return nil, fmt.Errorf("cancel key: %w", err)
		}
		if r.find(upPID, k.secret) == nil { // two live sessions of one PID never share a secret
			break
		}
	}
	r.keys[upPID] = append(r.keys[upPID], k)
	return k, nil
}

// find returns the key of pid whose secret is secret, comparing secrets in constant time; r.mu is held.
func (r *cancelRegistry) find(pid uint32, secret []byte) *cancelKey {
	var found *cancelKey
	for _, k := range r.keys[pid] {
		if len(k.secret) == len(secret) && subtle.ConstantTimeCompare(k.secret, secret) == 1 {
			found = k
		}
	}
	return found
}

// lookup finds the upstream key for a CancelRequest; a wrong secret matches nothing.
func (r *cancelRegistry) lookup(pid uint32, secret []byte) (*cancelKey, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := r.find(pid, secret)
	return k, k != nil
}

// remove forgets k (at the end of its session).
func (r *cancelRegistry) remove(k *cancelKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ks := r.keys[k.upPID]
	for i, o := range ks {
		if o == k {
			ks = append(ks[:i], ks[i+1:]...)
			break
		}
	}
	if len(ks) == 0 {
		delete(r.keys, k.upPID)
	} else {
		r.keys[k.upPID] = ks
	}
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
