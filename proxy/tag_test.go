package proxy

import (
	"encoding/binary"
	"reflect"
	"strings"
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

// FuzzWithoutTag: whatever options a client sends, the packet forwarded upstream is a valid startup packet without
// the tag, with every other parameter unchanged, and the tag's removal keeps the other words as written.
func FuzzWithoutTag(f *testing.F) {
	for _, s := range []string{"-c deferproxy.tag=ab12", "-c deferproxy.mode=off -c deferproxy.tag=x", "--deferproxy.tag=a\\ b -c work_mem=1MB",
		"-cdeferproxy.tag=", "-c", "\\", "-c deferproxy.tag", "  -c\tdeferproxy.tag=1  "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, options string) {
		if strings.IndexByte(options, 0) >= 0 {
			return // not representable in a startup packet
		}
		pkt := startupPacket("user", "u", "options", options, "database", "d")
		params, err := startupParams(pkt)
		if err != nil {
			t.Fatal(err)
		}
		got, err := startupParams(withoutTag(pkt, params))
		if err != nil {
			t.Fatalf("rebuilt packet invalid: %v", err)
		}
		if got["user"] != "u" || got["database"] != "d" {
			t.Fatalf("other parameters changed: %v", got)
		}
		if SessionTag(got) != "" {
			t.Fatalf("the tag was forwarded: %q", got["options"])
		}
		if SessionTag(params) == "" && got["options"] != options && strings.TrimSpace(options) != "" &&
			!strings.Contains(strings.ToLower(options), TagSetting) {
			t.Fatalf("options without the tag changed: %q → %q", options, got["options"])
		}
	})
}
