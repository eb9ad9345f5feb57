package proxy

import (
	"bytes"
	"testing"
)

// TestCancelRegistry: keys are found by the backend's real PID and the proxy's secret only; a PID the server reused
// while the previous session's key is still registered holds both keys, each reaching its own session.
func TestCancelRegistry(t *testing.T) {
	r := newCancelRegistry()
	up := []byte{1, 2, 3, 4}
	a, err := r.issue(1, 4242, up)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.secret) != len(up) {
		t.Fatalf("secret of %d bytes for an upstream secret of %d", len(a.secret), len(up))
	}
	long := bytes.Repeat([]byte{7}, 256) // protocol 3.2: up to 256 bytes, the length is kept
	b, err := r.issue(2, 4242, long)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.secret) != 256 || bytes.Equal(b.secret, long) {
		t.Fatalf("3.2 secret: %d bytes, equal to the upstream's: %v", len(b.secret), bytes.Equal(b.secret, long))
	}
	for _, tc := range []struct {
		name   string
		pid    uint32
		secret []byte
		want   *cancelKey
	}{
		{"first session", 4242, a.secret, a},
		{"second session, same PID", 4242, b.secret, b},
		{"upstream secret", 4242, up, nil},
		{"other PID", 4243, a.secret, nil},
		{"truncated secret", 4242, b.secret[:4], nil},
		{"no secret", 4242, nil, nil},
	} {
		k, ok := r.lookup(tc.pid, tc.secret)
		if k != tc.want || ok != (tc.want != nil) {
			t.Errorf("%s: got %v %v", tc.name, k, ok)
		}
	}
	r.remove(a)
	if _, ok := r.lookup(4242, a.secret); ok {
		t.Fatal("removed key still found")
	}
	if k, _ := r.lookup(4242, b.secret); k != b {
		t.Fatal("removing one key of a PID removed the other")
	}
	r.remove(b)
	if len(r.keys) != 0 {
		t.Fatalf("registry not empty: %v", r.keys)
	}
}
