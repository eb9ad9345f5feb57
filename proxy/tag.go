package proxy

import (
	"encoding/binary"
	"strings"
)

// TagSetting is the startup setting `deferproxy exec` gives its commands' sessions (PGOPTIONS="-c deferproxy.tag=<id>")
// so that the engine can tell what they did. It is the proxy's: it is taken out of the options sent upstream, and
// the engine sees it in SessionInfo.Params["options"] as the client sent it.
const TagSetting = "deferproxy.tag"

// SessionTag is the tag a client session was given (`-c deferproxy.tag=<id>` in its options), "" when none.
func SessionTag(params map[string]string) string {
	words := splitWords(params["options"])
	for i := 0; i < len(words); i++ {
		kv := ""
		switch w := words[i]; {
		case w == "-c" && i+1 < len(words):
			i++
			kv = words[i]
		case strings.HasPrefix(w, "-c"):
			kv = w[2:]
		case strings.HasPrefix(w, "--"):
			kv = w[2:]
		}
		if settingName(kv) == TagSetting {
			_, v, _ := strings.Cut(kv, "=")
			return v
		}
	}
	return ""
}

// withoutTag returns the startup packet with every `-c deferproxy.tag=…` (or `-cdeferproxy.tag=…`,
// `--deferproxy.tag=…`) removed from its options parameter, an options parameter left empty dropped, and the other
// parameters unchanged and in order; pkt itself when there is nothing to remove. pkt is a valid protocol-3 startup
// packet (startupParams accepted it).
func withoutTag(pkt []byte, params map[string]string) []byte {
	opts, ok := params["options"]
	if !ok || !strings.Contains(strings.ToLower(opts), TagSetting) {
		return pkt
	}
	kept := stripTag(opts)
	out := make([]byte, 8, len(pkt))
	copy(out[4:8], pkt[4:8])
	body := pkt[8:]
	for len(body) > 1 {
		i := strings.IndexByte(string(body), 0)
		name := string(body[:i])
		body = body[i+1:]
		j := strings.IndexByte(string(body), 0)
		val := string(body[:j])
		body = body[j+1:]
		if name == "options" {
			if kept == "" {
				continue
			}
			val = kept
		}
		out = append(append(append(append(out, name...), 0), val...), 0)
	}
	out = append(out, 0)
	binary.BigEndian.PutUint32(out[0:4], uint32(len(out)))
	return out
}

// stripTag removes the tag setting from an options string, keeping every other word as written (escapes included).
func stripTag(opts string) string {
	words := splitWords(opts)
	kept := make([]string, 0, len(words))
	for i := 0; i < len(words); i++ {
		w := words[i]
		name := ""
		switch {
		case w == "-c" && i+1 < len(words):
			name = settingName(words[i+1])
			if name == TagSetting {
				i++
				continue
			}
		case strings.HasPrefix(w, "-c"):
			name = settingName(w[2:])
		case strings.HasPrefix(w, "--"):
			name = settingName(w[2:])
		}
		if name == TagSetting {
			continue
		}
		kept = append(kept, w)
	}
	return strings.Join(kept, " ")
}

func settingName(kv string) string {
	name, _, _ := strings.Cut(kv, "=")
	return strings.ToLower(strings.ReplaceAll(name, "-", "_"))
}

// splitWords splits options on unescaped spaces, keeping each word's text as written (libpq's rule: a backslash
// escapes the next character).
func splitWords(s string) []string {
	var words []string
	start, esc := -1, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			esc = false
		case c == '\\':
			esc = true
			if start < 0 {
				start = i
			}
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			if start >= 0 {
				words = append(words, s[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		words = append(words, s[start:])
	}
	return words
}
