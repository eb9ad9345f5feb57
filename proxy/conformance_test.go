// Conformance suite: scripted protocol exchanges, run directly against PostgreSQL and through the proxy, that must
// give identical results (in the spirit of CockroachDB's pgtest).
//
// Each script is a file testdata/conformance/NAME.pgt made of blocks separated by blank lines. Lines starting with
// '#' are comments. A block is a command line, input lines, and for commands that produce output a "----" line
// followed by the expected backend messages, one JSON object per line:
//
//	connect user=md5_user password=md5_pass [database=NAME] [protocol=3.2] [ssl=require] [KEY=VALUE…]
//	----
//	{"Type":"AuthenticationMD5Password","Salt":"*"}
//	…
//	{"Type":"ReadyForQuery","TxStatus":"I"}
//
//	send
//	{"Type":"Parse","Name":"s1","Query":"select $1::int"}
//	{"Type":"Sync"}
//
//	until [ignore=NoticeResponse,…] [mask=Where,…]
//	ReadyForQuery
//	----
//	{"Type":"ParseComplete"}
//	{"Type":"ReadyForQuery","TxStatus":"I"}
//
// A script may hold several connections: "connect as=NAME …" opens (or replaces) the connection NAME, and
// "send on=NAME", "until on=NAME", "cancel on=NAME" use it; without as=/on= the default connection is meant.
//
// "connect raw=HEX" sends those bytes instead of a startup packet (malformed starts), closes its sending side and
// records what comes back until the server closes.
//
// connect opens a new connection (closing the previous one of that name): with ssl=require it first sends
// SSLRequest and does TLS (verify-full against the cluster's CA), then it sends the StartupMessage (KEY=VALUE pairs
// other than user/password/database/protocol/ssl become startup parameters; values are URL-unescaped), answers the
// server's authentication request (cleartext, md5 or SCRAM-SHA-256) and records every backend message up to
// ReadyForQuery, an ErrorResponse or EOF. A script that does not start with connect gets a silent
// "connect user=trust_user" first. The database defaults to a fresh database created for each run of the script.
//
// send writes its frontend messages (pgproto3's JSON, "Type" naming the message) in one write, so a block is a
// pipeline. Two additions: CopyData takes "Text" (a string) instead of hex "Data", and FunctionCall takes
// {"Function":OID,"Args":["text arg",…]} with text-format arguments and result. $repeat(C,N) in a send line expands
// to N copies of the character C (for large messages). {"Type":"Raw","Hex":"…"} sends bytes as they are (malformed
// messages).
//
// cancel sends a CancelRequest with the current connection's BackendKeyData on a new connection (through the proxy,
// the proxy's key must reach the right upstream backend).
//
// until reads backend messages until it has seen the listed message types in order, and records them all (except
// types named in ignore=); fields named in mask= are shown as "*" (for values that depend on timing). A closed
// connection is recorded as the line EOF; "until EOF" waits for it.
//
// What legitimately differs between servers, sessions and the proxy is masked before comparison: BackendKeyData
// values, the md5 salt and SCRAM exchange data, NotificationResponse PIDs, RowDescription table OIDs (every run uses a
// fresh database), the server_version ParameterStatus value and the order of consecutive ParameterStatus messages, and
// the File/Line/Routine fields of errors and notices (empty fields of those are dropped for readability).
//
// Every script runs directly against the shared cluster, and the direct result must match the golden file
// (go test ./proxy -run Conformance -update rewrites the goldens from the direct run). It then runs through the proxy,
// once with a plaintext upstream and once with a TLS (verify-full) upstream, and each result must equal the direct one.
package proxy_test

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/deferproxy/deferproxy/internal/pgtest"
	"github.com/deferproxy/deferproxy/proxy"
)

// The -update flag may also be defined by another test file of this binary; define it only once.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files from the direct PostgreSQL run")
	}
}

func updateGoldens() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// scriptBlock is one command of a conformance script.
type scriptBlock struct {
	comments []string // comment and blank lines before the block, kept for -update
	cmd      string   // command line
	input    []string
	hasOut   bool
	output   []string // expected output (or, after a run, the actual output)
	line     int      // line number of cmd, for messages
}

type script struct {
	blocks   []*scriptBlock
	trailing []string
}

func parseScript(path string) (*script, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := &script{}
	var pending []string
	var cur *scriptBlock
	inOut := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if cur == nil {
			if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
				pending = append(pending, line)
				continue
			}
			cur = &scriptBlock{comments: pending, cmd: line, line: n}
			pending = nil
			inOut = false
			continue
		}
		switch {
		case strings.TrimSpace(line) == "":
			s.blocks = append(s.blocks, cur)
			cur = nil
		case strings.HasPrefix(line, "#") && !inOut:
			// comments inside a block's input are ignored
		case line == "----" && !inOut:
			cur.hasOut, inOut = true, true
		case inOut:
			cur.output = append(cur.output, line)
		default:
			cur.input = append(cur.input, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cur != nil {
		s.blocks = append(s.blocks, cur)
	}
	s.trailing = pending
	for _, b := range s.blocks {
		switch strings.Fields(b.cmd)[0] {
		case "connect", "until":
		case "send", "cancel":
			if b.hasOut {
				return nil, fmt.Errorf("%s:%d: %s has no output section", path, b.line, b.cmd)
			}
		default:
			return nil, fmt.Errorf("%s:%d: unknown command %q (want connect, send, cancel or until)", path, b.line, b.cmd)
		}
	}
	return s, nil
}

func (s *script) format() string {
	var b strings.Builder
	for i, bl := range s.blocks {
		// Exactly one blank line separates blocks; blank lines inside a comment run are kept.
		for _, c := range trimBlank(bl.comments) {
			b.WriteString(c + "\n")
		}
		if i == 0 && len(trimBlank(bl.comments)) > 0 && strings.TrimSpace(bl.comments[len(bl.comments)-1]) == "" {
			b.WriteString("\n") // the file's header comment stays apart from the first block
		}
		b.WriteString(bl.cmd + "\n")
		for _, l := range bl.input {
			b.WriteString(l + "\n")
		}
		if bl.hasOut {
			b.WriteString("----\n")
			for _, l := range bl.output {
				b.WriteString(l + "\n")
			}
		}
		if i < len(s.blocks)-1 {
			b.WriteString("\n")
		}
	}
	if t := trimBlank(s.trailing); len(t) > 0 {
		b.WriteString("\n")
		for _, c := range t {
			b.WriteString(c + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

func trimBlank(lines []string) []string {
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// scriptTarget is where a script run connects: the server itself or a proxy in front of it.
type scriptTarget struct {
	name     string
	addr     string
	database string
	caFile   string
	// clientTLS says the scriptTarget accepts SSLRequest with a certificate for 127.0.0.1/localhost signed by caFile.
	clientTLS bool
}

// runResult is the output of every block that produces output, in order.
type runResult [][]string

// scriptConn is one frontend connection of a script run.
type scriptConn struct {
	conn   net.Conn
	fe     *pgproto3.Frontend
	pid    uint32 // from BackendKeyData, for cancel
	secret []byte
}

func (c *scriptConn) close() {
	if c != nil && c.conn != nil {
		c.conn.Close()
	}
}

// blockTimeout bounds one block's I/O. It only detects a hang: on a loaded 2-core machine running several test
// suites a block can take seconds, and none takes minutes.
const blockTimeout = 2 * time.Minute

func runScript(t *testing.T, s *script, tg scriptTarget) (runResult, error) {
	t.Helper()
	var res runResult
	conns := map[string]*scriptConn{} // by the name given with as= ("" is the default connection)
	defer func() {
		for _, c := range conns {
			c.close()
		}
	}()
	for i, b := range s.blocks {
		fields := strings.Fields(b.cmd)
		// on=NAME (send, until, cancel) and as=NAME (connect) pick a connection; they are not startup parameters.
		name := ""
		var args []string
		for _, f := range fields[1:] {
			if v, ok := strings.CutPrefix(f, "on="); ok && fields[0] != "connect" {
				name = v
			} else if v, ok := strings.CutPrefix(f, "as="); ok && fields[0] == "connect" {
				name = v
			} else {
				args = append(args, f)
			}
		}
		cur := conns[name]
		switch fields[0] {
		case "connect":
			cur.close()
			c, out, err := scriptConnect(tg, args)
			if err != nil {
				return res, fmt.Errorf("line %d: %w", b.line, err)
			}
			conns[name] = c
			res = append(res, out)
		case "send":
			if cur == nil && name == "" {
				c, _, err := scriptConnect(tg, []string{"user=" + pgtest.TrustUser})
				if err != nil {
					return res, fmt.Errorf("line %d: implicit connect: %w", b.line, err)
				}
				cur = c
				conns[name] = c
			}
			if cur == nil || cur.fe == nil {
				return res, fmt.Errorf("line %d: send on a connection that is not open", b.line)
			}
			for _, l := range b.input {
				msg, err := decodeFrontend(l)
				if err != nil {
					return res, fmt.Errorf("line %d: %w", b.line, err)
				}
				cur.fe.Send(msg)
			}
			_ = cur.conn.SetWriteDeadline(time.Now().Add(blockTimeout))
			if err := cur.fe.Flush(); err != nil {
				return res, fmt.Errorf("line %d: send: %w", b.line, err)
			}
		case "cancel":
			if cur == nil || cur.secret == nil {
				return res, fmt.Errorf("line %d: cancel without a connection that got BackendKeyData", b.line)
			}
			if err := sendCancel(tg, cur); err != nil {
				return res, fmt.Errorf("line %d: %w", b.line, err)
			}
		case "until":
			if cur == nil || cur.fe == nil {
				return res, fmt.Errorf("line %d: until without an open connection", b.line)
			}
			ignore, mask := map[string]bool{}, map[string]bool{}
			for _, f := range args {
				k, v, _ := strings.Cut(f, "=")
				set := map[string]map[string]bool{"ignore": ignore, "mask": mask}[k]
				if set == nil {
					return res, fmt.Errorf("line %d: unknown until option %q (want ignore= or mask=)", b.line, f)
				}
				for _, name := range strings.Split(v, ",") {
					set[name] = true
				}
			}
			out, err := receiveUntil(cur, b.input, ignore, mask)
			res = append(res, out)
			if err != nil {
				return res, fmt.Errorf("line %d (block %d): %w; got so far:\n%s", b.line, i, err, strings.Join(out, "\n"))
			}
		}
	}
	return res, nil
}

func receiveUntil(c *scriptConn, want []string, ignore, mask map[string]bool) ([]string, error) {
	var out []string
	_ = c.conn.SetReadDeadline(time.Now().Add(blockTimeout))
	var pending []string // consecutive ParameterStatus lines, sorted when the run ends
	flushPending := func() {
		sort.Strings(pending)
		out = append(out, pending...)
		pending = nil
	}
	for len(want) > 0 {
		msg, err := c.fe.Receive()
		if err != nil {
			flushPending()
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
				out = append(out, "EOF")
				return out, nil
			}
			return out, fmt.Errorf("receive (waiting for %v): %w", want, err)
		}
		typ := msgType(msg)
		if typ == want[0] {
			want = want[1:]
		}
		if ignore[typ] {
			continue
		}
		line, err := renderBackend(msg, mask)
		if err != nil {
			return out, err
		}
		if typ == "ParameterStatus" {
			pending = append(pending, line)
			continue
		}
		flushPending()
		out = append(out, line)
	}
	flushPending()
	return out, nil
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && strings.Contains(op.Err.Error(), "connection reset")
}

func msgType(msg any) string {
	return reflect.TypeOf(msg).Elem().Name()
}

// scriptConnect dials tg, runs the startup and authentication as PostgreSQL's clients do, and records the
// backend's messages up to ReadyForQuery, an ErrorResponse or EOF.
func scriptConnect(tg scriptTarget, args []string) (*scriptConn, []string, error) {
	params := map[string]string{"database": tg.database}
	password := ""
	protocol := uint32(pgproto3.ProtocolVersion30)
	sslMode := ""
	var raw []byte
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, nil, fmt.Errorf("connect argument %q is not KEY=VALUE", a)
		}
		switch k {
		case "password":
			password = v
		case "protocol":
			switch v {
			case "3.0":
			case "3.2":
				protocol = pgproto3.ProtocolVersion32
			default:
				return nil, nil, fmt.Errorf("connect: protocol %q (want 3.0 or 3.2)", v)
			}
		case "ssl":
			sslMode = v
		case "raw":
			b, err := hex.DecodeString(v)
			if err != nil {
				return nil, nil, fmt.Errorf("connect raw=%q: %w", v, err)
			}
			raw = b
		default:
			// Values are URL-unescaped so they can hold spaces: options=-c%20search_path%3Dx
			uv, err := url.QueryUnescape(v)
			if err != nil {
				return nil, nil, fmt.Errorf("connect argument %q: %w", a, err)
			}
			params[k] = uv
		}
	}
	conn, err := net.DialTimeout("tcp", tg.addr, blockTimeout)
	if err != nil {
		return nil, nil, fmt.Errorf("dial %s: %w", tg.addr, err)
	}
	_ = conn.SetDeadline(time.Now().Add(blockTimeout))
	if raw != nil {
		out, err := rawStart(conn, raw)
		conn.Close()
		return &scriptConn{}, out, err
	}
	var out []string
	if sslMode != "" {
		req, _ := (&pgproto3.SSLRequest{}).Encode(nil)
		b, err := oneByteAnswer(conn, req)
		if err != nil {
			conn.Close()
			return nil, nil, fmt.Errorf("SSLRequest: %w", err)
		}
		out = append(out, fmt.Sprintf(`{"Type":"SSLResponse","Response":%q}`, string(b)))
		if b == 'S' {
			pem, err := os.ReadFile(tg.caFile)
			if err != nil {
				conn.Close()
				return nil, nil, err
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(pem)
			tc := tls.Client(conn, &tls.Config{RootCAs: pool, ServerName: "localhost"})
			if err := tc.Handshake(); err != nil {
				conn.Close()
				return nil, nil, fmt.Errorf("TLS handshake: %w", err)
			}
			conn = tc
		} else if sslMode == "require" {
			out = append(out, "EOF")
			conn.Close()
			return &scriptConn{}, out, nil
		}
	}
	sc := &scriptConn{conn: conn, fe: pgproto3.NewFrontend(conn, conn)}
	sc.fe.Send(&pgproto3.StartupMessage{ProtocolVersion: protocol, Parameters: params})
	if err := sc.fe.Flush(); err != nil {
		sc.close()
		return nil, nil, fmt.Errorf("send startup: %w", err)
	}
	user := params["user"]
	var scram *scramClient
	var pending []string
	for {
		msg, err := sc.fe.Receive()
		if err != nil {
			sort.Strings(pending)
			out = append(out, pending...)
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err) {
				return sc, append(out, "EOF"), nil
			}
			sc.close()
			return nil, out, fmt.Errorf("startup: %w", err)
		}
		line, err := renderBackend(msg, nil)
		if err != nil {
			sc.close()
			return nil, out, err
		}
		if _, ok := msg.(*pgproto3.ParameterStatus); ok {
			pending = append(pending, line)
			continue
		}
		sort.Strings(pending)
		out = append(out, pending...)
		pending = nil
		out = append(out, line)
		switch m := msg.(type) {
		case *pgproto3.AuthenticationCleartextPassword:
			sc.fe.Send(&pgproto3.PasswordMessage{Password: password})
		case *pgproto3.AuthenticationMD5Password:
			inner := md5.Sum([]byte(password + user))
			outer := md5.Sum(append([]byte(hex.EncodeToString(inner[:])), m.Salt[:]...))
			sc.fe.Send(&pgproto3.PasswordMessage{Password: "md5" + hex.EncodeToString(outer[:])})
		case *pgproto3.AuthenticationSASL:
			scram = newSCRAMClient(password)
			sc.fe.Send(&pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-256", Data: scram.first()})
		case *pgproto3.AuthenticationSASLContinue:
			final, err := scram.final(m.Data)
			if err != nil {
				sc.close()
				return nil, out, err
			}
			sc.fe.Send(&pgproto3.SASLResponse{Data: final})
		case *pgproto3.BackendKeyData:
			sc.pid, sc.secret = m.ProcessID, append([]byte(nil), m.SecretKey...)
			continue
		case *pgproto3.ReadyForQuery, *pgproto3.ErrorResponse:
			_ = conn.SetDeadline(time.Time{})
			return sc, out, nil
		default:
			continue
		}
		if err := sc.fe.Flush(); err != nil {
			sc.close()
			return nil, out, fmt.Errorf("send auth response: %w", err)
		}
	}
}

// rawStart sends raw in place of a startup packet, ends its side of the connection (as a client that hangs up does)
// and records what the server answers until it closes.
func rawStart(conn net.Conn, raw []byte) ([]string, error) {
	if _, err := conn.Write(raw); err != nil {
		return nil, fmt.Errorf("send raw start: %w", err)
	}
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	fe := pgproto3.NewFrontend(conn, conn)
	var out []string
	for {
		msg, err := fe.Receive()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err) {
				return append(out, "EOF"), nil
			}
			return out, fmt.Errorf("after raw start: %w", err)
		}
		line, err := renderBackend(msg, nil)
		if err != nil {
			return out, err
		}
		out = append(out, line)
	}
}

// sendCancel sends a CancelRequest for c's backend on a new connection, as libpq's PQcancel does, and waits for the
// server to close that connection (by then the cancel has been delivered).
func sendCancel(tg scriptTarget, c *scriptConn) error {
	conn, err := net.DialTimeout("tcp", tg.addr, blockTimeout)
	if err != nil {
		return fmt.Errorf("dial for cancel: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(blockTimeout))
	req, err := (&pgproto3.CancelRequest{ProcessID: c.pid, SecretKey: c.secret}).Encode(nil)
	if err != nil {
		return err
	}
	if _, err := conn.Write(req); err != nil {
		return fmt.Errorf("send CancelRequest: %w", err)
	}
	if _, err := io.Copy(io.Discard, conn); err != nil {
		return fmt.Errorf("wait for the cancel connection to close: %w", err)
	}
	return nil
}

func oneByteAnswer(conn net.Conn, req []byte) (byte, error) {
	if _, err := conn.Write(req); err != nil {
		return 0, err
	}
	var b [1]byte
	if _, err := io.ReadFull(conn, b[:]); err != nil {
		return 0, err
	}
	return b[0], nil
}

// scramClient is the client side of SCRAM-SHA-256 without channel binding (RFC 5802/7677), as libpq does it.
type scramClient struct {
	password, nonce, firstBare string
}

func newSCRAMClient(password string) *scramClient {
	raw := make([]byte, 18)
	_, _ = rand.Read(raw)
	nonce := base64.StdEncoding.EncodeToString(raw)
	return &scramClient{password: password, nonce: nonce, firstBare: "n=,r=" + nonce}
}

func (s *scramClient) first() []byte { return []byte("n,," + s.firstBare) }

func (s *scramClient) final(serverFirst []byte) ([]byte, error) {
	var rnonce, salt string
	iter := 0
	for _, kv := range strings.Split(string(serverFirst), ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "r":
			rnonce = v
		case "s":
			salt = v
		case "i":
			iter, _ = strconv.Atoi(v)
		}
	}
	if !strings.HasPrefix(rnonce, s.nonce) || iter == 0 {
		return nil, fmt.Errorf("bad SCRAM server-first-message %q", serverFirst)
	}
	saltBytes, err := base64.StdEncoding.DecodeString(salt)
	if err != nil {
		return nil, fmt.Errorf("SCRAM salt: %w", err)
	}
	salted, err := pbkdf2.Key(sha256.New, s.password, saltBytes, iter, 32)
	if err != nil {
		return nil, err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	withoutProof := "c=biws,r=" + rnonce
	sig := mac(stored[:], s.firstBare+","+string(serverFirst)+","+withoutProof)
	proof := make([]byte, len(clientKey))
	for i := range clientKey {
		proof[i] = clientKey[i] ^ sig[i]
	}
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

// rawMessage is bytes sent as they are, for malformed messages: {"Type":"Raw","Hex":"7a00000004"}.
type rawMessage []byte

func (rawMessage) Frontend()                           {}
func (rawMessage) Decode([]byte) error                 { return errors.New("rawMessage is send-only") }
func (m rawMessage) Encode(dst []byte) ([]byte, error) { return append(dst, m...), nil }

// repeatMacro is $repeat(C,N): N copies of the character C, for large messages in send lines.
var repeatMacro = regexp.MustCompile(`\$repeat\((\w),(\d+)\)`)

// decodeFrontend turns one send line into a frontend message.
func decodeFrontend(line string) (pgproto3.FrontendMessage, error) {
	line = repeatMacro.ReplaceAllStringFunc(line, func(m string) string {
		sub := repeatMacro.FindStringSubmatch(m)
		n, _ := strconv.Atoi(sub[2])
		return strings.Repeat(sub[1], n)
	})
	var head struct {
		Type     string
		Text     *string
		Function uint32
		Args     []*string
	}
	if err := json.Unmarshal([]byte(line), &head); err != nil {
		return nil, fmt.Errorf("bad message JSON %q: %w", line, err)
	}
	var msg pgproto3.FrontendMessage
	switch head.Type {
	case "Query":
		msg = &pgproto3.Query{}
	case "Parse":
		msg = &pgproto3.Parse{}
	case "Bind":
		msg = &pgproto3.Bind{}
	case "Describe":
		msg = &pgproto3.Describe{}
	case "Execute":
		msg = &pgproto3.Execute{}
	case "Close":
		msg = &pgproto3.Close{}
	case "Sync":
		return &pgproto3.Sync{}, nil
	case "Flush":
		return &pgproto3.Flush{}, nil
	case "Terminate":
		return &pgproto3.Terminate{}, nil
	case "CopyDone":
		return &pgproto3.CopyDone{}, nil
	case "CopyFail":
		msg = &pgproto3.CopyFail{}
	case "CopyData":
		if head.Text != nil {
			return &pgproto3.CopyData{Data: []byte(*head.Text)}, nil
		}
		msg = &pgproto3.CopyData{}
	case "Raw":
		var raw struct{ Hex string }
		if err := json.Unmarshal([]byte(line), &raw); err != nil {
			return nil, fmt.Errorf("decode %s: %w", line, err)
		}
		b, err := hex.DecodeString(raw.Hex)
		if err != nil {
			return nil, fmt.Errorf("Raw message %s: %w", line, err)
		}
		return rawMessage(b), nil
	case "FunctionCall":
		fc := &pgproto3.FunctionCall{Function: head.Function, ArgFormatCodes: []uint16{0}}
		for _, a := range head.Args {
			if a == nil {
				fc.Arguments = append(fc.Arguments, nil)
			} else {
				fc.Arguments = append(fc.Arguments, []byte(*a))
			}
		}
		return fc, nil
	default:
		return nil, fmt.Errorf("unsupported frontend message type %q in %s", head.Type, line)
	}
	if err := json.Unmarshal([]byte(line), msg); err != nil {
		return nil, fmt.Errorf("decode %s: %w", line, err)
	}
	return msg, nil
}

// renderBackend renders a backend message as one JSON line, "Type" first, with what legitimately differs masked.
// Fields named in mask are replaced by "*" where present.
func renderBackend(msg pgproto3.BackendMessage, mask map[string]bool) (string, error) {
	typ := msgType(msg)
	var raw []byte
	var err error
	switch m := msg.(type) {
	case *pgproto3.NoticeResponse:
		raw, err = json.Marshal((*pgproto3.ErrorResponse)(m))
	case *pgproto3.CopyData:
		if isPrintable(m.Data) {
			return `{"Type":"CopyData","Text":` + jsonString(string(m.Data)) + `}`, nil
		}
		raw, err = json.Marshal(m)
	default:
		raw, err = json.Marshal(msg)
	}
	if err != nil {
		return "", fmt.Errorf("render %s: %w", typ, err)
	}
	fields := map[string]any{}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&fields); err != nil {
		return "", fmt.Errorf("render %s: %w", typ, err)
	}
	fields["Type"] = typ
	switch typ {
	case "BackendKeyData":
		fields["ProcessID"], fields["SecretKey"] = "*", "*"
	case "AuthenticationMD5Password":
		fields["Salt"] = "*"
	case "AuthenticationSASLContinue", "AuthenticationSASLFinal":
		fields["Data"] = "*"
	case "NotificationResponse":
		fields["PID"] = "*"
	case "ParameterStatus":
		if fields["Name"] == "server_version" {
			fields["Value"] = "*"
		}
	case "RowDescription":
		if fs, ok := fields["Fields"].([]any); ok {
			for _, f := range fs {
				if fm, ok := f.(map[string]any); ok && fm["TableOID"] != json.Number("0") {
					fm["TableOID"] = "*"
				}
			}
		}
	case "ErrorResponse", "NoticeResponse":
		delete(fields, "File")
		delete(fields, "Line")
		delete(fields, "Routine")
		for k, v := range fields {
			if v == nil || v == "" || v == json.Number("0") {
				delete(fields, k)
			}
			if m, ok := v.(map[string]any); ok && len(m) == 0 {
				delete(fields, k)
			}
		}
	}
	for k := range mask {
		if _, ok := fields[k]; ok {
			fields[k] = "*"
		}
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if k != "Type" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(`{"Type":` + jsonString(typ))
	for _, k := range keys {
		v, err := json.Marshal(fields[k])
		if err != nil {
			return "", err
		}
		b.WriteString("," + jsonString(k) + ":" + string(v))
	}
	b.WriteString("}")
	return b.String(), nil
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func isPrintable(b []byte) bool {
	for _, c := range b {
		if c < 32 && c != '\n' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// fillOutput copies a run's results into the script's output sections (for -update and for messages).
func (s *script) fillOutput(res runResult) *script {
	out := &script{trailing: s.trailing}
	i := 0
	for _, b := range s.blocks {
		nb := *b
		if nb.hasOut || strings.HasPrefix(nb.cmd, "connect") || strings.HasPrefix(nb.cmd, "until") {
			nb.hasOut = true
			nb.output = nil
			if i < len(res) {
				nb.output = res[i]
			}
			i++
		}
		out.blocks = append(out.blocks, &nb)
	}
	return out
}

func (s *script) expected() runResult {
	var r runResult
	for _, b := range s.blocks {
		f := strings.Fields(b.cmd)[0]
		if f == "connect" || f == "until" {
			r = append(r, b.output)
		}
	}
	return r
}

// diffResults describes the first difference between two runs, block by block.
func diffResults(s *script, want, got runResult) string {
	var outBlocks []*scriptBlock
	for _, b := range s.blocks {
		f := strings.Fields(b.cmd)[0]
		if f == "connect" || f == "until" {
			outBlocks = append(outBlocks, b)
		}
	}
	for i := 0; i < len(want) || i < len(got); i++ {
		var w, g []string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if strings.Join(w, "\n") == strings.Join(g, "\n") {
			continue
		}
		where := fmt.Sprintf("output block %d", i)
		if i < len(outBlocks) {
			where = fmt.Sprintf("line %d %q", outBlocks[i].line, outBlocks[i].cmd)
		}
		return fmt.Sprintf("%s:\n--- want\n%s\n--- got\n%s", where, strings.Join(w, "\n"), strings.Join(g, "\n"))
	}
	return ""
}

// conformanceTargets returns the proxies to run every script through, each in front of c. Proxies are stopped in
// t.Cleanup.
func conformanceTargets(t *testing.T, c *pgtest.Cluster) []scriptTarget {
	return proxyTargets(t, c)
}

func TestConformance(t *testing.T) {
	c := pgtest.Shared(t)
	paths, err := filepath.Glob(filepath.Join("testdata", "conformance", "*.pgt"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no conformance scripts under testdata/conformance: %v", err)
	}
	proxies := conformanceTargets(t, c)
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".pgt")
		t.Run(name, func(t *testing.T) {
			s, err := parseScript(path)
			if err != nil {
				t.Fatal(err)
			}
			directDB := c.NewDatabase(t)
			direct, err := runScript(t, s, scriptTarget{name: "direct", addr: c.Addr(), database: directDB, caFile: c.CAFile})
			if err != nil {
				t.Fatalf("direct run: %v", err)
			}
			if updateGoldens() {
				if err := os.WriteFile(path, []byte(s.fillOutput(direct).format()), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if d := diffResults(s, s.expected(), direct); d != "" {
				t.Fatalf("direct run differs from golden %s (PostgreSQL %d; rerun with -update if the server changed):\n%s", path, c.Major, d)
			}
			for _, p := range proxies {
				p.database = c.NewDatabase(t)
				got, err := runScript(t, s, p)
				if err != nil {
					t.Errorf("through %s: %v%s", p.name, err, dumpGoroutinesOnTimeout(t, err))
					continue
				}
				if d := diffResults(s, direct, got); d != "" {
					t.Errorf("through %s differs from direct PostgreSQL:\n%s", p.name, d)
				}
			}
		})
	}
}

// proxyTargets starts the proxies that conformance scripts and client tests also run through, in front of c: one
// with a plaintext upstream, and one with a verify-full TLS upstream. Both offer TLS to clients with the cluster's
// certificate (valid for 127.0.0.1), so scripts with ssl=require see the same handshake as against PostgreSQL.
func proxyTargets(t *testing.T, c *pgtest.Cluster) []scriptTarget {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		t.Fatalf("load the cluster's server certificate for the proxy: %v", err)
	}
	upstreams := []struct{ name, url string }{
		{"proxy", fmt.Sprintf("postgres://%s/postgres?sslmode=disable", c.Addr())},
		{"proxy-tls-upstream", fmt.Sprintf("postgres://%s/postgres?sslmode=verify-full&sslrootcert=%s", c.Addr(), c.CAFile)},
	}
	var out []scriptTarget
	for _, u := range upstreams {
		tp := startProxy(t, c, proxy.Config{Upstream: u.url, TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
		out = append(out, scriptTarget{name: u.name, addr: tp.addr, caFile: c.CAFile, clientTLS: true})
	}
	return out
}

// dumpGoroutinesOnTimeout returns, when err is a timeout, every goroutine's stack (the proxy's included: it runs in
// this process), identical stacks counted once, for the failure message: a hung proxy session is then diagnosable
// from the test output alone, and nothing is left behind in the temporary directory.
func dumpGoroutinesOnTimeout(t *testing.T, err error) string {
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "signal: killed") {
			return ""
		}
	}
	var b strings.Builder
	_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
	return "\ngoroutine stacks of the test process, proxy included (" + t.Name() + "):\n" + b.String()
}
