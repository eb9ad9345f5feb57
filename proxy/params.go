package proxy

import (
	"bytes"
	"fmt"

	"github.com/deferproxy/deferproxy/engine"
)

// parameterStatus decodes the body of a ParameterStatus message: name and value, each NUL-terminated.
func parameterStatus(body []byte) (name, value string, ok bool) {
	i := bytes.IndexByte(body, 0)
	if i < 0 {
		return "", "", false
	}
	j := bytes.IndexByte(body[i+1:], 0)
	if j < 0 {
		return "", "", false
	}
	return string(body[:i]), string(body[i+1 : i+1+j]), true
}

// searchPathQuery is what the proxy asks the server once per hooked session, after authentication and before the
// client's first message is forwarded: the search_path the session really starts with (role and database defaults,
// startup options and the server's configuration all applied), which PostgreSQL does not report by itself.
const searchPathQuery = "SHOW search_path"

// askSearchPath sends searchPathQuery upstream and reads its answer up to ReadyForQuery, none of which reaches the
// client. An error answer (a server without the setting) records engine.ParameterUnknown; a lost connection ends
// the startup.
func (ss *session) askSearchPath(ur *msgReader) error {
	if _, err := ss.up.Write(queryMessage(searchPathQuery)); err != nil {
		return fmt.Errorf("write to upstream: %w", err)
	}
	value, got := engine.ParameterUnknown, false
	for {
		msg, err := ur.message(ss.s.cfg.MaxMessageSize)
		if err != nil {
			_, _ = ss.client.Write(fatal(codeConnectionFailure, "lost connection to the upstream server during startup"))
			return fmt.Errorf("upstream during startup (asking for search_path): %w", err)
		}
		typ, body := msg[0], msg[5:]
		switch typ {
		case 'D':
			// DataRow: int16 column count, then int32 length and bytes per column.
			if !got && len(body) >= 6 && body[0] == 0 && body[1] == 1 {
				n := int(int32(uint32(body[2])<<24 | uint32(body[3])<<16 | uint32(body[4])<<8 | uint32(body[5])))
				if n >= 0 && 6+n <= len(body) {
					value, got = string(body[6:6+n]), true
				}
			}
		case 'S':
			if name, v, ok := parameterStatus(body); ok {
				ss.serverParams = append(ss.serverParams, [2]string{name, v})
			}
		case 'E':
			value, got = engine.ParameterUnknown, true
		case 'Z':
			ss.serverParams = append(ss.serverParams, [2]string{"search_path", value})
			return nil
		}
	}
}
