package proxy

import (
	"encoding/binary"
	"reflect"
	"testing"
)

func startupPacket(pairs ...string) []byte {
	pkt := make([]byte, 8)
	binary.BigEndian.PutUint32(pkt[4:8], 3<<16)
	for _, p := range pairs {
		pkt = append(append(pkt, p...), 0)
	}
	pkt = append(pkt, 0)
	binary.BigEndian.PutUint32(pkt[0:4], uint32(len(pkt)))
	return pkt
}

// The tag `deferproxy exec` sets is consumed by the proxy: never forwarded, everything else kept as written.
func TestWithoutTag(t *testing.T) {
	for _, c := range []struct {
		options string
		want    []string // parameters forwarded; nil: options dropped
	}{
		{"-c deferproxy.tag=ab12", nil},
		{"-c deferproxy.mode=favor_state -c deferproxy.tag=ab12", []string{"options", "-c deferproxy.mode=favor_state"}},
		{"-cdeferproxy.tag=ab12 --search_path=a\\ b", []string{"options", "--search_path=a\\ b"}},
		{"--deferproxy.tag=ab12 -c work_mem=64MB", []string{"options", "-c work_mem=64MB"}},
		{"-c DeferProxy.Tag=x  -c  statement_timeout=5s", []string{"options", "-c statement_timeout=5s"}},
	} {
		pkt := startupPacket("user", "fabio", "options", c.options, "database", "dev")
		params, err := startupParams(pkt)
		if err != nil {
			t.Fatal(err)
		}
		if tag := SessionTag(params); tag != "ab12" && tag != "x" {
			t.Errorf("%q: SessionTag %q", c.options, tag)
		}
		got, err := startupParams(withoutTag(pkt, params))
		if err != nil {
			t.Fatalf("%q: rebuilt packet invalid: %v", c.options, err)
		}
		want := map[string]string{"user": "fabio", "database": "dev"}
		if c.want != nil {
			want[c.want[0]] = c.want[1]
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: forwarded %v, want %v", c.options, got, want)
		}
	}
	pkt := startupPacket("user", "fabio", "options", "-c work_mem=64MB")
	params, _ := startupParams(pkt)
	if got := withoutTag(pkt, params); &got[0] != &pkt[0] {
		t.Error("a packet without the tag must be forwarded as it is")
	}
}
