package proxy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// Startup packet codes (the int32 after the length of a packet without a type byte).
const (
	codeSSLRequest    = 80877103
	codeGSSENCRequest = 80877104
	codeCancelRequest = 80877102
	// maxStartupPacket is PostgreSQL's MAX_STARTUP_PACKET_LENGTH.
	maxStartupPacket = 10000
	// maxAuthMessage bounds a password/SASL message during authentication (PostgreSQL: PG_MAX_AUTH_TOKEN_LENGTH).
	maxAuthMessage = 65535
)

// msgReader reads whole packets and messages from a connection during startup and authentication. It reads greedily,
// so it can tell when a client sent bytes it should not have (plaintext pipelined after an SSLRequest), and hands what
// it read ahead to the session's pump afterwards.
type msgReader struct {
	c    net.Conn
	buf  []byte
	r, w int
}

func newMsgReader(c net.Conn) *msgReader { return &msgReader{c: c, buf: make([]byte, 1024)} }

// buffered is the number of bytes read ahead.
func (m *msgReader) buffered() int { return m.w - m.r }

// leftover returns the bytes read ahead (valid until the next read).
func (m *msgReader) leftover() []byte { return m.buf[m.r:m.w] }

// ensure makes at least n bytes available.
func (m *msgReader) ensure(n int) error {
	for m.w-m.r < n {
		if m.r > 0 {
			m.w = copy(m.buf, m.buf[m.r:m.w])
			m.r = 0
		}
		if n > len(m.buf) {
			nb := make([]byte, n+512)
			m.w = copy(nb, m.buf[:m.w])
			m.buf = nb
		}
		k, err := m.c.Read(m.buf[m.w:])
		m.w += k
		if err != nil {
			if m.w-m.r >= n {
				return nil
			}
			if errors.Is(err, io.EOF) && m.w-m.r > 0 {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// peekByte returns the first unread byte without consuming it.
func (m *msgReader) peekByte() (byte, error) {
	if err := m.ensure(1); err != nil {
		return 0, err
	}
	return m.buf[m.r], nil
}

// packet reads a startup-phase packet (int32 length including itself, then the body) and returns the whole packet.
func (m *msgReader) packet() ([]byte, error) {
	if err := m.ensure(4); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(m.buf[m.r:]))
	if n < 8 || n > maxStartupPacket {
		return nil, &errFrame{msg: fmt.Sprintf("invalid length of startup packet: %d", n)}
	}
	if err := m.ensure(n); err != nil {
		return nil, err
	}
	p := m.buf[m.r : m.r+n]
	m.r += n
	return p, nil
}

// message reads one typed message (type byte, int32 length, body) no larger than max and returns the whole message.
func (m *msgReader) message(max int) ([]byte, error) {
	if err := m.ensure(5); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(m.buf[m.r+1:]))
	if n < 4 || n-4 > max {
		return nil, &errFrame{msg: fmt.Sprintf("invalid message length %d for message type %q", n, m.buf[m.r])}
	}
	if err := m.ensure(1 + n); err != nil {
		return nil, err
	}
	p := m.buf[m.r : m.r+1+n]
	m.r += 1 + n
	return p, nil
}

// startupParams parses the body of a protocol-3 StartupMessage packet (the whole packet, length included) into its
// parameters. It is strict the way PostgreSQL's ProcessStartupPacket is: name/value pairs of NUL-terminated strings,
// then one final NUL, nothing after it, and a non-empty user.
func startupParams(pkt []byte) (map[string]string, error) {
	if len(pkt) < 8 {
		return nil, &errFrame{msg: "startup packet too short"}
	}
	body := pkt[8:]
	params := make(map[string]string, 8)
	for {
		if len(body) == 0 {
			return nil, &errFrame{msg: "invalid startup packet layout: expected terminator as last byte"}
		}
		if body[0] == 0 {
			if len(body) != 1 {
				return nil, &errFrame{msg: "invalid startup packet layout: expected terminator as last byte"}
			}
			break
		}
		i := bytes.IndexByte(body, 0)
		if i < 0 {
			return nil, &errFrame{msg: "invalid startup packet layout: unterminated parameter name"}
		}
		name := string(body[:i])
		body = body[i+1:]
		j := bytes.IndexByte(body, 0)
		if j < 0 {
			return nil, &errFrame{msg: "invalid startup packet layout: unterminated value of parameter " + name}
		}
		params[name] = string(body[:j])
		body = body[j+1:]
	}
	if params["user"] == "" {
		return nil, &errFrame{msg: "no PostgreSQL user name specified in startup packet", code: codeInvalidAuthSpec}
	}
	return params, nil
}

// startupKind classifies a startup-phase packet.
type startupKind int

const (
	kindStartup startupKind = iota
	kindSSL
	kindGSSENC
	kindCancel
	kindBadVersion
)

// classifyStartup looks at the code of a startup-phase packet.
func classifyStartup(pkt []byte) (startupKind, uint32) {
	code := binary.BigEndian.Uint32(pkt[4:8])
	switch {
	case code == codeSSLRequest:
		return kindSSL, code
	case code == codeGSSENCRequest:
		return kindGSSENC, code
	case code == codeCancelRequest:
		return kindCancel, code
	case code>>16 == 3:
		return kindStartup, code
	default:
		return kindBadVersion, code
	}
}

// parseCancel decodes a CancelRequest packet: pid and a secret of 4 (protocol 3.0) to 256 (3.2) bytes.
func parseCancel(pkt []byte) (pid uint32, secret []byte, err error) {
	if len(pkt) < 16 || len(pkt) > 8+256+4 {
		return 0, nil, &errFrame{msg: "invalid length of cancel request"}
	}
	return binary.BigEndian.Uint32(pkt[8:12]), pkt[12:], nil
}

// isReplication reports whether the startup parameters ask for a replication connection; those pass through with no
// Hook, untouched.
func isReplication(params map[string]string) bool {
	v, ok := params["replication"]
	if !ok {
		return false
	}
	switch v {
	case "false", "off", "no", "0":
		return false
	}
	return true
}
