package snowflake

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/deferproxy/deferproxy/engine"
)

// scriptedPeer is a scripted Snowflake account for the protocol paths fakesnow does not emulate. It REPLAYS THE
// SHAPES RECORDED from gosnowflake's and snowflake-connector-python's traffic and gosnowflake's WireMock fixtures
// (../shared/research/snowflake-protocol.md §1, snowflake-feasibility.md "Traffic recorded"): login with token and
// masterToken, query-request answered with a JSON rowset, 333334 + getResultUrl then 333333 then the result on
// /queries/{id}/result, 390112 then /session/token-request, heartbeat, session delete, abort, telemetry,
// monitoring, and results carrying absolute chunk URLs. It is not Snowflake: it records what reached it.
type scriptedPeer struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	requests []peerRequest
	tokens   map[string]bool // valid session tokens
	expire   map[string]bool // tokens whose next query gets 390112
	fail500  map[string]int  // requestId → HTTP 500s still to answer
	polls    map[string]int  // queryId → polls answered
	n        int
}

// peerRequest is one request as the peer received it.
type peerRequest struct {
	Method, Path, RawQuery, Host string
	Header                       http.Header
	Raw                          []byte // body as sent
	JSON                         []byte // decompressed
	ContentLength                int64
}

func (r peerRequest) sqlText() string {
	var b struct {
		SQLText string `json:"sqlText"`
	}
	_ = json.Unmarshal(r.JSON, &b)
	return b.SQLText
}

// chunkURL is an absolute pre-signed URL of the kind real results carry; the client fetches it itself.
const chunkURL = "https://sfc-eu-ds1.s3.eu-west-1.amazonaws.com/results/01b2/main/data_0_0_0?x-amz-server-side-encryption-customer-algorithm=AES256&response-content-encoding=gzip&X-Amz-Signature=abc%2Bdef"

func newScriptedPeer(t *testing.T) *scriptedPeer {
	p := &scriptedPeer{t: t, tokens: map[string]bool{}, expire: map[string]bool{}, fail500: map[string]int{}, polls: map[string]int{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *scriptedPeer) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	js := raw
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			http.Error(w, "bad gzip", 400)
			return
		}
		js, _ = io.ReadAll(zr)
	}
	req := peerRequest{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Host: r.Host, Header: r.Header.Clone(),
		Raw: raw, JSON: js, ContentLength: r.ContentLength}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests = append(p.requests, req)
	tok := requestToken(r)
	reply := func(s string) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, s)
	}
	switch {
	case r.URL.Path == "/session/v1/login-request":
		p.n++
		tok := fmt.Sprintf("tok-%d", p.n)
		p.tokens[tok] = true
		var body struct {
			Data struct{ LOGIN_NAME string } `json:"data"`
		}
		_ = json.Unmarshal(js, &body)
		reply(fmt.Sprintf(`{"data":{"masterToken":"mt-%d","token":%q,"validityInSeconds":3600,"masterValidityInSeconds":14400,"displayUserName":%q,"serverVersion":"8.40.1","firstLogin":false,"remMeToken":null,"remMeValidityInSeconds":0,"healthCheckInterval":45,"newClientForUpgrade":null,"sessionId":%d,"parameters":[{"name":"AUTOCOMMIT","value":true},{"name":"CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY","value":3600}],"sessionInfo":{"databaseName":"DB","schemaName":"DBT_ME","warehouseName":"WH","roleName":"DEV"},"idToken":null,"idTokenValidityInSeconds":0,"responseData":null,"mfaToken":null,"mfaTokenValidityInSeconds":0},"code":null,"message":null,"success":true}`,
			p.n, tok, body.Data.LOGIN_NAME, 1000+p.n))
	case r.URL.Path == "/session/token-request":
		var body struct{ OldSessionToken, RequestType string }
		_ = json.Unmarshal(js, &body)
		if !strings.HasPrefix(tok, "mt-") || !p.tokens[body.OldSessionToken] || body.RequestType != "RENEW" {
			reply(`{"data":null,"code":"390104","message":"bad renewal","success":false}`)
			return
		}
		delete(p.tokens, body.OldSessionToken)
		p.n++
		nt := fmt.Sprintf("tok-%d", p.n)
		p.tokens[nt] = true
		reply(fmt.Sprintf(`{"data":{"sessionToken":%q,"validityInSecondsST":3600,"masterToken":%q,"validityInSecondsMT":14400,"sessionId":1001},"code":null,"message":null,"success":true}`, nt, tok))
	case !p.tokens[tok]:
		reply(`{"data":null,"code":"390104","message":"Authentication token is invalid.","success":false}`)
	case r.URL.Path == "/queries/v1/query-request":
		if p.expire[tok] {
			delete(p.expire, tok)
			reply(`{"data":{"errorCode":"390112"},"code":"390112","message":"Your session has expired. Please login again.","success":false}`)
			return
		}
		rid := r.URL.Query().Get("requestId")
		if p.fail500[rid] > 0 {
			p.fail500[rid]--
			http.Error(w, "internal", http.StatusInternalServerError)
			return
		}
		sql := req.sqlText()
		switch {
		case strings.Contains(sql, "long_running"):
			qid := fmt.Sprintf("01b2-async-%d", len(p.requests))
			reply(fmt.Sprintf(`{"code":"333334","data":{"getResultUrl":"/queries/%s/result","queryId":%q},"message":"Asynchronous execution in progress. Use provided query id to perform query monitoring and management.","success":true}`, qid, qid))
		case strings.Contains(sql, "big_result"):
			reply(`{"data":{"rowtype":[{"name":"N","nullable":false,"type":"fixed","scale":0,"precision":38}],"rowset":[["1"]],"total":200000,"returned":1,"queryId":"01b2-chunks","statementTypeId":4096,"queryResultFormat":"json","qrmk":"secretqrmk==","chunkHeaders":{"x-amz-server-side-encryption-customer-key":"k","x-amz-server-side-encryption-customer-key-md5":"m"},"chunks":[{"url":"` + chunkURL + `","rowCount":100000,"uncompressedSize":1200000,"compressedSize":300000}]},"code":null,"message":null,"success":true}`)
		default:
			reply(`{"data":{"rowtype":[{"name":"1","nullable":false,"type":"fixed","scale":0,"precision":1}],"rowset":[["1"]],"total":1,"returned":1,"queryId":"01b2-sync","statementTypeId":4096,"queryResultFormat":"json","finalDatabaseName":"DB","finalSchemaName":"DBT_ME"},"code":null,"message":null,"success":true}`)
		}
	case strings.HasPrefix(r.URL.Path, "/queries/") && strings.HasSuffix(r.URL.Path, "/result"):
		qid := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/queries/"), "/result")
		p.polls[qid]++
		if p.polls[qid] == 1 {
			reply(fmt.Sprintf(`{"code":"333333","data":{"getResultUrl":"/queries/%s/result","queryId":%q},"message":"Query execution in progress.","success":true}`, qid, qid))
			return
		}
		reply(fmt.Sprintf(`{"data":{"rowtype":[{"name":"X","nullable":true,"type":"text","length":16777216}],"rowset":[["done"]],"total":1,"returned":1,"queryId":%q,"statementTypeId":4096,"queryResultFormat":"json"},"code":null,"message":null,"success":true}`, qid))
	case r.URL.Path == "/queries/v1/abort-request":
		reply(`{"data":null,"code":"000605","message":"Identified SQL statement is not currently executing.","success":true}`)
	case r.URL.Path == "/session" && r.URL.Query().Get("delete") == "true":
		delete(p.tokens, tok)
		reply(`{"data":null,"code":null,"message":null,"success":true}`)
	case r.URL.Path == "/session/heartbeat", r.URL.Path == "/telemetry/send":
		reply(`{"data":null,"code":null,"message":null,"success":true}`)
	case strings.HasPrefix(r.URL.Path, "/monitoring/queries/"):
		reply(`{"data":{"queries":[{"id":"01b2-async-1","status":"SUCCESS","state":"SUCCEEDED"}]},"code":null,"message":null,"success":true}`)
	default:
		http.NotFound(w, r)
	}
}

// last returns the last request the peer received on path.
func (p *scriptedPeer) last(path string) peerRequest {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.requests) - 1; i >= 0; i-- {
		if p.requests[i].Path == path {
			return p.requests[i]
		}
	}
	p.t.Fatalf("the peer received no request on %s", path)
	return peerRequest{}
}

func (p *scriptedPeer) count(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.requests {
		if r.Path == path {
			n++
		}
	}
	return n
}

// testEngine stands in for the defer engine in the transport tests (the real engine runs in the fakesnow tests):
// it replaces the names in rewrites (as written) and refuses texts containing refuse, and records what it saw.
type testEngine struct {
	rewrites map[string]string
	refuse   string
	flaky    bool // answer differently on each call, to show that a retry replays the first decision

	mu      sync.Mutex
	infos   []engine.SessionInfo
	calls   []string
	txs     []engine.TxState
	closed  int
	perCall int
	schemas []string // CurrentSchema calls, "database.schema"
}

func (e *testEngine) OpenSession(_ context.Context, info engine.SessionInfo) engine.Session {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.infos = append(e.infos, info)
	return &testSession{e: e}
}

type testSession struct{ e *testEngine }

func (s *testSession) Statement(_ context.Context, sql string) engine.Verdict {
	e := s.e
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, sql)
	e.perCall++
	if e.refuse != "" && strings.Contains(sql, e.refuse) {
		return engine.Verdict{SQL: sql, Refusal: &engine.Refusal{Code: "42501", Message: "deferproxy: dev session may not write production relation " + e.refuse,
			Hint: "write to your dev schema"}}
	}
	v := engine.Verdict{SQL: sql}
	for from, to := range e.rewrites {
		if strings.Contains(v.SQL, from) {
			if e.flaky {
				to += fmt.Sprintf("_%d", e.perCall)
			}
			v.SQL = strings.ReplaceAll(v.SQL, from, to)
			v.Deferrals = append(v.Deferrals, engine.Deferral{From: from, To: to})
		}
	}
	return v
}

func (s *testSession) Transaction(st engine.TxState) {
	s.e.mu.Lock()
	s.e.txs = append(s.e.txs, st)
	s.e.mu.Unlock()
}

func (s *testSession) CurrentSchema(database, schema string) {
	s.e.mu.Lock()
	s.e.schemas = append(s.e.schemas, database+"."+schema)
	s.e.mu.Unlock()
}

func (s *testSession) Close() {
	s.e.mu.Lock()
	s.e.closed++
	s.e.mu.Unlock()
}

func (s *testSession) Parameter(string, string) {}
