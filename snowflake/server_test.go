package snowflake

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deferproxy/deferproxy/engine"
)

// rig is a listener in front of a scripted peer, with a test engine and a captured log.
type rig struct {
	t    *testing.T
	peer *scriptedPeer
	eng  *testEngine
	srv  *Server
	url  string
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func newRig(t *testing.T, eng *testEngine) *rig {
	t.Helper()
	r := &rig{t: t, peer: newScriptedPeer(t), eng: eng, logs: &syncBuffer{}}
	cfg := Config{Upstream: r.peer.srv.URL, Logger: slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		CheckMode: func(m string) error {
			if m != "defer" && m != "favor_state" && m != "off" {
				return fmt.Errorf("mode %q is not defer, favor_state or off", m)
			}
			return nil
		}}
	if eng != nil {
		cfg.Engine = eng
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
		}
	})
	r.srv, r.url = srv, "http://"+ln.Addr().String()
	return r
}

// shape is how a connector sends: Python gzips every POST, Go sends plain JSON.
type shape struct {
	name string
	gzip bool
	app  string
}

var (
	pythonShape = shape{"python", true, "PythonConnector"}
	goShape     = shape{"go", false, "Go"}
)

// post sends a body as the connector of sh would, and returns the HTTP status and the response body.
func (r *rig) post(sh shape, path, query, token string, body []byte) (int, []byte) {
	r.t.Helper()
	payload := body
	if sh.gzip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		payload = buf.Bytes()
	}
	req, err := http.NewRequest(http.MethodPost, r.url+path+"?"+query, bytes.NewReader(payload))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/snowflake")
	req.Header.Set("User-Agent", sh.app+"/4.8.0 (Linux) CPython/3.11")
	req.Header.Set("CLIENT_APP_ID", sh.app)
	if sh.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if token != "" {
		req.Header.Set("Authorization", `Snowflake Token="`+token+`"`)
	}
	return r.do(req)
}

func (r *rig) do(req *http.Request) (int, []byte) {
	r.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return resp.StatusCode, b
}

const secretPassword = "hunter2-Sup3rSecret"

// login logs in as the connector of sh and returns the session token.
func (r *rig) login(sh shape, sessionParams string) string {
	r.t.Helper()
	body := fmt.Sprintf(`{"data":{"CLIENT_APP_ID":%q,"CLIENT_APP_VERSION":"4.8.0","SVN_REVISION":null,"ACCOUNT_NAME":"acme","LOGIN_NAME":"me","PASSWORD":%q,"SESSION_PARAMETERS":%s,"CLIENT_ENVIRONMENT":{"APPLICATION":"dbt","OS":"Linux"}}}`,
		sh.app, secretPassword, sessionParams)
	st, resp := r.post(sh, "/session/v1/login-request", "request_id=4d1d&databaseName=db&schemaName=dbt_me&warehouse=wh&roleName=dev&request_guid=g1", "", []byte(body))
	var out struct {
		Success bool
		Data    struct{ Token string }
	}
	if err := json.Unmarshal(resp, &out); st != 200 || err != nil || !out.Success {
		r.t.Fatalf("login: %d %s", st, resp)
	}
	return out.Data.Token
}

func queryBody(sql string, extra string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(sql)
	return []byte(`{"sqlText":` + strings.TrimSuffix(b.String(), "\n") + `,"asyncExec":false,"sequenceId":1,"querySubmissionTime":1764612000000,"isInternal":false` + extra + `,"queryContextDTO":{"entries":[{"id":0,"timestamp":123,"priority":0,"context":"CAE="}]}}`)
}

func devEngine() *testEngine {
	return &testEngine{rewrites: map[string]string{"db.dbt_me.orders": "db.analytics.orders"}, refuse: "db.analytics.raw"}
}

// TestQueryRewrite: the sqlText of a query request is the engine's; every other byte of the body, every query
// parameter and header reach the account as the client sent them; gzip bodies are re-compressed with a correct
// Content-Length; describeOnly requests are decided too.
func TestQueryRewrite(t *testing.T) {
	for _, sh := range []shape{pythonShape, goShape} {
		for _, describe := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/describeOnly=%v", sh.name, describe), func(t *testing.T) {
				r := newRig(t, devEngine())
				tok := r.login(sh, `{"AUTOCOMMIT":true}`)
				extra := `,"bindings":{"1":{"type":"FIXED","value":"10"}},"parameters":{"QUERY_TAG":"x<&>"}`
				if describe {
					extra += `,"describeOnly":true`
				}
				sql := "select * from db.dbt_me.orders where note = '<&>'\n/* {\"app\": \"dbt\", \"node_id\": \"model.p.x\"} */;"
				query := "requestId=7f0c6c1e-0000-4000-8000-000000000001&request_guid=2b9e&retryCount=0&clientStartTime=1764612000"
				st, resp := r.post(sh, "/queries/v1/query-request", query, tok, queryBody(sql, extra))
				if st != 200 || !bytes.Contains(resp, []byte(`"success":true`)) {
					t.Fatalf("query: %d %s", st, resp)
				}
				got := r.peer.last("/queries/v1/query-request")
				want := queryBody(strings.ReplaceAll(sql, "db.dbt_me.orders", "db.analytics.orders"), extra)
				if !bytes.Equal(got.JSON, want) {
					t.Errorf("upstream body:\n got %s\nwant %s", got.JSON, want)
				}
				if got.RawQuery != query {
					t.Errorf("query parameters: got %q, want %q", got.RawQuery, query)
				}
				if got.ContentLength != int64(len(got.Raw)) || got.Header.Get("Content-Length") != strconv.Itoa(len(got.Raw)) {
					t.Errorf("Content-Length %d / %q for a body of %d bytes", got.ContentLength, got.Header.Get("Content-Length"), len(got.Raw))
				}
				if enc := got.Header.Get("Content-Encoding"); (enc == "gzip") != sh.gzip {
					t.Errorf("Content-Encoding %q", enc)
				}
				for _, h := range []string{"Authorization", "Accept", "User-Agent", "Client_app_id", "Content-Type"} {
					if got.Header.Get(h) == "" {
						t.Errorf("header %s not forwarded", h)
					}
				}
				if got.Host != strings.TrimPrefix(r.peer.srv.URL, "http://") {
					t.Errorf("Host %q, want the upstream's", got.Host)
				}
				if n := len(r.eng.calls); n != 1 || r.eng.calls[0] != sql {
					t.Errorf("engine saw %q", r.eng.calls)
				}
			})
		}
	}
}

// TestUnchangedBodyForwardedAsSent: a statement the engine leaves alone goes as the exact bytes sent (gzip included).
func TestUnchangedBodyForwardedAsSent(t *testing.T) {
	r := newRig(t, devEngine())
	tok := r.login(pythonShape, `{}`)
	body := queryBody("select 1", "")
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // not the level the proxy would use
	zw.Write(body)
	zw.Close()
	req, _ := http.NewRequest(http.MethodPost, r.url+"/queries/v1/query-request?requestId=a", bytes.NewReader(buf.Bytes()))
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Authorization", `Snowflake Token="`+tok+`"`)
	if st, resp := r.do(req); st != 200 {
		t.Fatalf("%d %s", st, resp)
	}
	if got := r.peer.last("/queries/v1/query-request"); !bytes.Equal(got.Raw, buf.Bytes()) {
		t.Errorf("the unchanged gzip body was re-encoded")
	}
}

// TestRefusal: the engine's refusal is a Snowflake error body with HTTP 200, code 003001 and sqlState 42501; the
// statement never reaches the account.
func TestRefusal(t *testing.T) {
	r := newRig(t, devEngine())
	tok := r.login(goShape, `{}`)
	st, resp := r.post(goShape, "/queries/v1/query-request", "requestId=r1", tok, queryBody("insert into db.analytics.raw values (1)", ""))
	if st != 200 {
		t.Fatalf("status %d", st)
	}
	var out struct {
		Success bool
		Code    string
		Message string
		Data    struct{ SQLState, ErrorCode string }
	}
	if err := json.Unmarshal(resp, &out); err != nil {
		t.Fatal(err)
	}
	if out.Success || out.Code != "003001" || out.Data.SQLState != "42501" || out.Data.ErrorCode != "003001" ||
		!strings.Contains(out.Message, "may not write production") || !strings.Contains(out.Message, "HINT: write to your dev schema") {
		t.Errorf("refusal body %s", resp)
	}
	if n := r.peer.count("/queries/v1/query-request"); n != 0 {
		t.Errorf("the refused statement reached the account (%d requests)", n)
	}
	if st := r.srv.Stats(); st.Refusals != 1 || len(st.Sessions) != 1 || st.Sessions[0].Refusals != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestRetrySameRequestID: a request retried with the same requestId (after HTTP 500) carries the same rewrite, and
// the engine decides it once, even when it would decide differently the second time.
func TestRetrySameRequestID(t *testing.T) {
	for _, sh := range []shape{pythonShape, goShape} {
		t.Run(sh.name, func(t *testing.T) {
			eng := devEngine()
			eng.flaky = true
			r := newRig(t, eng)
			tok := r.login(sh, `{}`)
			rid := "7f0c6c1e-0000-4000-8000-0000000000aa"
			r.peer.mu.Lock()
			r.peer.fail500[rid] = 2
			r.peer.mu.Unlock()
			body := queryBody("select * from db.dbt_me.orders", "")
			var sent []string
			for try := 0; try < 3; try++ {
				q := "requestId=" + rid + "&request_guid=g" + strconv.Itoa(try)
				if try > 0 {
					q += "&retryCount=" + strconv.Itoa(try) + "&retryReason=500"
				}
				st, _ := r.post(sh, "/queries/v1/query-request", q, tok, body)
				sent = append(sent, r.peer.last("/queries/v1/query-request").sqlText())
				if want := 500; try < 2 && st != want {
					t.Fatalf("try %d: status %d, want %d", try, st, want)
				}
				if try == 2 && st != 200 {
					t.Fatalf("try 2: status %d", st)
				}
			}
			if sent[0] != sent[1] || sent[1] != sent[2] || !strings.Contains(sent[0], "db.analytics.orders_1") {
				t.Errorf("retries sent %q", sent)
			}
			if len(eng.calls) != 1 {
				t.Errorf("engine decided %d times", len(eng.calls))
			}
			// Another requestId is decided anew.
			r.post(sh, "/queries/v1/query-request", "requestId=other", tok, body)
			if got := r.peer.last("/queries/v1/query-request").sqlText(); !strings.Contains(got, "orders_2") {
				t.Errorf("a new requestId got %q", got)
			}
		})
	}
}

// TestAsyncResultPingPong: 333334 with a relative getResultUrl, then /queries/{id}/result answering 333333 and then
// the result; every response reaches the client byte for byte, result chunk URLs included.
func TestAsyncResultPingPong(t *testing.T) {
	r := newRig(t, devEngine())
	tok := r.login(goShape, `{}`)
	st, resp := r.post(goShape, "/queries/v1/query-request", "requestId=a1", tok, queryBody("call long_running() -- db.dbt_me.orders", `,"asyncExec":true`))
	var out struct {
		Code string
		Data struct{ GetResultURL string }
	}
	if err := json.Unmarshal(resp, &out); st != 200 || err != nil || out.Code != "333334" || out.Data.GetResultURL == "" {
		t.Fatalf("async answer %d %s", st, resp)
	}
	var codes []string
	for i := 0; i < 2; i++ {
		req, _ := http.NewRequest(http.MethodGet, r.url+out.Data.GetResultURL+"?requestId=a1&request_guid=p"+strconv.Itoa(i), nil)
		req.Header.Set("Authorization", `Snowflake Token="`+tok+`"`)
		req.Header.Set("Accept", "application/snowflake")
		st, b := r.do(req)
		var o struct{ Code *string }
		json.Unmarshal(b, &o)
		if st != 200 {
			t.Fatalf("poll %d: %d %s", i, st, b)
		}
		codes = append(codes, fmt.Sprint(o.Code != nil && *o.Code == "333333"))
		if got := r.peer.last(strings.SplitN(out.Data.GetResultURL, "?", 2)[0]); got.RawQuery != "requestId=a1&request_guid=p"+strconv.Itoa(i) {
			t.Errorf("poll query %q", got.RawQuery)
		}
	}
	if codes[0] != "true" || codes[1] != "false" {
		t.Errorf("ping-pong codes %v, want 333333 then the result", codes)
	}

	_, resp = r.post(goShape, "/queries/v1/query-request", "requestId=c1", tok, queryBody("select big_result from db.dbt_me.orders", ""))
	if !bytes.Contains(resp, []byte(`"url":"`+chunkURL+`"`)) || !bytes.Contains(resp, []byte(`"qrmk":"secretqrmk=="`)) {
		t.Errorf("chunk URL or qrmk changed: %s", resp)
	}
}

// TestTokenRenewal: 390112 reaches the client, which renews with its master token at /session/token-request; the
// session follows the new token (its statements are still decided) and the old token is forgotten.
func TestTokenRenewal(t *testing.T) {
	for _, sh := range []shape{pythonShape, goShape} {
		t.Run(sh.name, func(t *testing.T) {
			r := newRig(t, devEngine())
			tok := r.login(sh, `{}`)
			r.peer.mu.Lock()
			r.peer.expire[tok] = true
			r.peer.mu.Unlock()
			_, resp := r.post(sh, "/queries/v1/query-request", "requestId=q1", tok, queryBody("select * from db.dbt_me.orders", ""))
			if !bytes.Contains(resp, []byte(`"code":"390112"`)) {
				t.Fatalf("want 390112, got %s", resp)
			}
			st, resp := r.post(sh, "/session/token-request", "requestId=rn&request_guid=g", "mt-1", []byte(`{"oldSessionToken":"`+tok+`","requestType":"RENEW"}`))
			var out struct {
				Success bool
				Data    struct{ SessionToken string }
			}
			if err := json.Unmarshal(resp, &out); st != 200 || err != nil || !out.Success {
				t.Fatalf("renew: %d %s", st, resp)
			}
			nt := out.Data.SessionToken
			_, resp = r.post(sh, "/queries/v1/query-request", "requestId=q2", nt, queryBody("select * from db.dbt_me.orders", ""))
			if !bytes.Contains(resp, []byte(`"success":true`)) || r.peer.last("/queries/v1/query-request").sqlText() != "select * from db.analytics.orders" {
				t.Errorf("after renewal: %s, sent %q", resp, r.peer.last("/queries/v1/query-request").sqlText())
			}
			if len(r.eng.infos) != 1 {
				t.Errorf("renewal opened %d engine sessions", len(r.eng.infos))
			}
			_, resp = r.post(sh, "/queries/v1/query-request", "requestId=q3", tok, queryBody("select 1", ""))
			if !bytes.Contains(resp, []byte(`"code":"390111"`)) {
				t.Errorf("old token: %s", resp)
			}
		})
	}
}

// TestPassThroughRoutes: heartbeat, telemetry, monitoring and unknown paths go to the account and back unchanged.
func TestPassThroughRoutes(t *testing.T) {
	r := newRig(t, devEngine())
	tok := r.login(pythonShape, `{}`)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/session/heartbeat", `{}`},
		{"POST", "/telemetry/send", `{"logs":[{"message":{"type":"client_sql_exception"}}]}`},
		{"GET", "/monitoring/queries/01b2-async-1", ``},
		{"GET", "/console/login", ``},
	} {
		req, _ := http.NewRequest(c.method, r.url+c.path+"?requestId=x&request_guid=y", strings.NewReader(c.body))
		req.Header.Set("Authorization", `Snowflake Token="`+tok+`"`)
		req.Header.Set("X-Snowflake-Service", "svc")
		st, _ := r.do(req)
		got := r.peer.last(c.path)
		if got.RawQuery != "requestId=x&request_guid=y" || got.Header.Get("X-Snowflake-Service") != "svc" || string(got.Raw) != c.body {
			t.Errorf("%s: forwarded %+v", c.path, got)
		}
		if c.path == "/console/login" && st != 404 {
			t.Errorf("unknown path: status %d, want the peer's 404", st)
		}
	}
}

// TestSessionDelete: POST /session?delete=true closes the engine's session; its token is then unknown.
func TestSessionDelete(t *testing.T) {
	r := newRig(t, devEngine())
	tok := r.login(goShape, `{}`)
	if st, resp := r.post(goShape, "/session", "delete=true&requestId=d&request_guid=g", tok, nil); st != 200 || !bytes.Contains(resp, []byte(`"success":true`)) {
		t.Fatalf("delete: %d %s", st, resp)
	}
	if r.eng.closed != 1 || len(r.srv.Stats().Sessions) != 0 {
		t.Errorf("closed %d, sessions %+v", r.eng.closed, r.srv.Stats().Sessions)
	}
	_, resp := r.post(goShape, "/queries/v1/query-request", "requestId=q", tok, queryBody("select 1", ""))
	if !bytes.Contains(resp, []byte(`"code":"390111"`)) || r.peer.count("/queries/v1/query-request") != 0 {
		t.Errorf("query after delete: %s", resp)
	}
}

// TestAbort: an abort request names its query by requestId and repeats its text; the text forwarded is the one the
// query was forwarded with.
func TestAbort(t *testing.T) {
	for _, sh := range []shape{pythonShape, goShape} {
		t.Run(sh.name, func(t *testing.T) {
			r := newRig(t, devEngine())
			tok := r.login(sh, `{}`)
			sql := "select * from db.dbt_me.orders"
			r.post(sh, "/queries/v1/query-request", "requestId=q-1", tok, queryBody(sql, ""))
			abort := `{"sqlText":"select * from db.dbt_me.orders","requestId":"q-1"}`
			st, resp := r.post(sh, "/queries/v1/abort-request", "requestId=ab-1", tok, []byte(abort))
			if st != 200 || !bytes.Contains(resp, []byte("000605")) {
				t.Fatalf("abort: %d %s", st, resp)
			}
			got := r.peer.last("/queries/v1/abort-request")
			if want := `{"sqlText":"select * from db.analytics.orders","requestId":"q-1"}`; string(got.JSON) != want {
				t.Errorf("abort forwarded %s, want %s", got.JSON, want)
			}
			// An abort of a query this session never decided goes as sent.
			other := `{"sqlText":"select 2","requestId":"q-unknown"}`
			r.post(sh, "/queries/v1/abort-request", "requestId=ab-2", tok, []byte(other))
			if got := r.peer.last("/queries/v1/abort-request"); string(got.JSON) != other {
				t.Errorf("unknown abort forwarded %s", got.JSON)
			}
			if len(r.eng.calls) != 1 {
				t.Errorf("an abort was decided by the engine: %q", r.eng.calls)
			}
		})
	}
}

// TestLargeSQLText: a 4 MiB statement, gzip and plain, is decided and forwarded whole.
func TestLargeSQLText(t *testing.T) {
	for _, sh := range []shape{pythonShape, goShape} {
		t.Run(sh.name, func(t *testing.T) {
			r := newRig(t, devEngine())
			tok := r.login(sh, `{}`)
			var sb strings.Builder
			sb.WriteString("select * from db.dbt_me.orders where id in (")
			for sb.Len() < 4<<20 {
				sb.WriteString("123456789, 'quote\"d\\\\', ")
			}
			sb.WriteString("0)")
			sql := sb.String()
			st, resp := r.post(sh, "/queries/v1/query-request", "requestId=big", tok, queryBody(sql, ""))
			if st != 200 || !bytes.Contains(resp, []byte(`"success":true`)) {
				t.Fatalf("%d %.200s", st, resp)
			}
			if got := r.peer.last("/queries/v1/query-request").sqlText(); got != strings.Replace(sql, "db.dbt_me.orders", "db.analytics.orders", 1) {
				t.Errorf("large statement forwarded wrong (%d bytes, want %d)", len(got), len(sql)-2)
			}
		})
	}
}

// TestLoginParameters: deferproxy's own settings are read at login (session parameters, or words of QUERY_TAG) and
// never forwarded; the rest of the login reaches the account; the engine's session carries the login's database,
// schema, role, user, dialect, mode and tag.
func TestLoginParameters(t *testing.T) {
	r := newRig(t, devEngine())
	r.login(pythonShape, `{"AUTOCOMMIT":true,"QUERY_TAG":"team=growth deferproxy.mode=favor_state;deferproxy.tag=run42"}`)
	got := r.peer.last("/session/v1/login-request")
	var body struct {
		Data struct {
			PASSWORD           string
			SESSION_PARAMETERS map[string]any
		}
	}
	if err := json.Unmarshal(got.JSON, &body); err != nil {
		t.Fatal(err)
	}
	if qt := body.Data.SESSION_PARAMETERS["QUERY_TAG"]; qt != "team=growth" || body.Data.SESSION_PARAMETERS["AUTOCOMMIT"] != true || body.Data.PASSWORD != secretPassword {
		t.Errorf("login forwarded %s", got.JSON)
	}
	if got.ContentLength != int64(len(got.Raw)) {
		t.Errorf("Content-Length %d for %d bytes", got.ContentLength, len(got.Raw))
	}
	info := r.eng.infos[0]
	if info.User != "me" || info.Database != "db" || info.Params["schema"] != "dbt_me" || info.Params["role"] != "dev" ||
		info.Params["warehouse"] != "wh" ||
		info.Params[ModeParam] != "favor_state" || info.Params[TagParam] != "run42" || info.Dialect != engine.Snowflake || info.ID <= IDBase {
		t.Errorf("session info %+v", info)
	}

	r.login(goShape, `{"DEFERPROXY_MODE":"off","deferproxy_tag":"t2","QUERY_TAG":"deferproxy.mode=defer"}`)
	got = r.peer.last("/session/v1/login-request")
	if bytes.Contains(bytes.ToLower(got.JSON), []byte("deferproxy")) {
		t.Errorf("a deferproxy parameter was forwarded: %s", got.JSON)
	}
	if p := r.eng.infos[1].Params; p[TagParam] != "t2" || (p[ModeParam] != "off" && p[ModeParam] != "defer") {
		t.Errorf("second session params %v", p)
	}

	// Without deferproxy parameters the login goes byte for byte; names the client left out come from the account.
	r.post(goShape, "/session/v1/login-request", "requestId=1", "", []byte(`{"data":{"LOGIN_NAME":"me","SESSION_PARAMETERS":{"AUTOCOMMIT":true},"CLIENT_ENVIRONMENT":{}}}`))
	if p := r.eng.infos[len(r.eng.infos)-1]; p.Database != "DB" || p.Params["schema"] != "DBT_ME" || p.Params["role"] != "DEV" {
		t.Errorf("names from the account's sessionInfo: %+v", p)
	}
	if got := r.peer.last("/session/v1/login-request"); !bytes.Contains(got.JSON, []byte(`"SESSION_PARAMETERS":{"AUTOCOMMIT":true},"CLIENT_ENVIRONMENT"`)) {
		t.Errorf("login re-encoded: %s", got.JSON)
	}

	// A bad mode is a clear login error, and nothing reaches the account.
	n := r.peer.count("/session/v1/login-request")
	_, resp := r.post(goShape, "/session/v1/login-request", "", "", []byte(`{"data":{"LOGIN_NAME":"me","SESSION_PARAMETERS":{"DEFERPROXY_MODE":"sometimes"}}}`))
	if !bytes.Contains(resp, []byte(`"success":false`)) || !bytes.Contains(resp, []byte("sometimes")) || r.peer.count("/session/v1/login-request") != n {
		t.Errorf("bad mode: %s", resp)
	}
}

// TestUnknownSession: a query with a token that did not log in through the listener is not forwarded (the write
// guard cannot apply to an unknown session).
func TestUnknownSession(t *testing.T) {
	r := newRig(t, devEngine())
	_, resp := r.post(goShape, "/queries/v1/query-request", "requestId=q", "tok-forged", queryBody("insert into db.analytics.raw values (1)", ""))
	if !bytes.Contains(resp, []byte(`"code":"390111"`)) || !bytes.Contains(resp, []byte("Reconnect through deferproxy")) || r.peer.count("/queries/v1/query-request") != 0 {
		t.Errorf("unknown session: %s", resp)
	}
}

// TestBadBodies: bodies deferproxy cannot read get a clear error and are not forwarded.
func TestBadBodies(t *testing.T) {
	r := newRig(t, devEngine())
	tok := r.login(goShape, `{}`)
	for _, c := range []struct {
		name, enc, body, want string
	}{
		{"bad gzip", "gzip", "not gzip", "gunzip"},
		{"unknown encoding", "br", "{}", `Content-Encoding \"br\"`},
		{"not JSON", "", "sqlText=select", "not JSON"},
		{"sqlText twice", "", `{"sqlText":"select 1","sqlText":"drop table x"}`, "twice"},
		{"sqlText not a string", "", `{"sqlText":42}`, "not a string"},
	} {
		req, _ := http.NewRequest(http.MethodPost, r.url+"/queries/v1/query-request?requestId=b", strings.NewReader(c.body))
		req.Header.Set("Authorization", `Snowflake Token="`+tok+`"`)
		if c.enc != "" {
			req.Header.Set("Content-Encoding", c.enc)
		}
		st, resp := r.do(req)
		if st != 400 || !bytes.Contains(resp, []byte(c.want)) || !bytes.Contains(resp, []byte(`"success":false`)) {
			t.Errorf("%s: %d %s", c.name, st, resp)
		}
	}
	if n := r.peer.count("/queries/v1/query-request"); n != 0 {
		t.Errorf("%d unreadable requests forwarded", n)
	}
}

// TestSecretsNeverShown: the password, session and master tokens appear in no log line, status or error.
func TestSecretsNeverShown(t *testing.T) {
	r := newRig(t, devEngine())
	tok := r.login(pythonShape, `{"QUERY_TAG":"deferproxy.mode=defer"}`)
	r.post(pythonShape, "/queries/v1/query-request", "requestId=1", tok, queryBody("select * from db.dbt_me.orders", ""))
	r.post(pythonShape, "/queries/v1/query-request", "requestId=2", tok, queryBody("insert into db.analytics.raw values (1)", ""))
	_, e1 := r.post(pythonShape, "/queries/v1/query-request", "requestId=3", "tok-unknown-"+secretPassword, queryBody("select 1", ""))
	_, e2 := r.post(pythonShape, "/session/token-request", "", "mt-1", []byte(`{"oldSessionToken":"`+tok+`","requestType":"RENEW"}`))
	_ = e2
	st, _ := json.Marshal(r.srv.Stats())
	shown := r.logs.String() + string(st) + string(e1)
	for _, secret := range []string{secretPassword, tok, "mt-1", "tok-2"} {
		if strings.Contains(shown, secret) {
			t.Errorf("secret %q shown:\n%s", secret, shown)
		}
	}
	if !strings.Contains(r.logs.String(), "snowflake session") {
		t.Errorf("the log is empty, so the test shows nothing:\n%s", r.logs.String())
	}
}

// TestTransactionState: the engine hears the account's current schema after each statement, and Idle after each autocommitted statement and InBlock inside BEGIN … COMMIT.
func TestTransactionState(t *testing.T) {
	r := newRig(t, devEngine())
	tok := r.login(goShape, `{}`)
	for i, sql := range []string{"select 1", "BEGIN", "insert into db.dbt_me.t values (1)", "commit\n/* {\"app\": \"dbt\"} */;"} {
		r.post(goShape, "/queries/v1/query-request", "requestId=t"+strconv.Itoa(i), tok, queryBody(sql, ""))
	}
	want := []engine.TxState{engine.TxIdle, engine.TxInBlock, engine.TxInBlock, engine.TxIdle}
	if fmt.Sprint(r.eng.txs) != fmt.Sprint(want) {
		t.Errorf("transaction states %v, want %v", r.eng.txs, want)
	}
	// Each response's finalDatabaseName and finalSchemaName reach the engine (engine.SchemaTracker).
	if got := fmt.Sprint(r.eng.schemas); got != "[DB.DBT_ME DB.DBT_ME DB.DBT_ME DB.DBT_ME]" {
		t.Errorf("current schemas %s", got)
	}
}

// TestPassThroughWithoutEngine: with no engine, every request goes unchanged, login and queries included.
func TestPassThroughWithoutEngine(t *testing.T) {
	r := newRig(t, nil)
	tok := r.login(pythonShape, `{"QUERY_TAG":"deferproxy.mode=off"}`)
	body := queryBody("select * from db.dbt_me.orders", "")
	r.post(pythonShape, "/queries/v1/query-request", "requestId=1", tok, body)
	if got := r.peer.last("/queries/v1/query-request"); !bytes.Equal(got.JSON, body) {
		t.Errorf("pass-through changed the body: %s", got.JSON)
	}
	if st := r.srv.Stats(); st.Total != 0 {
		t.Errorf("pass-through tracked sessions: %+v", st)
	}
}

// TestShutdownClosesSessions: Shutdown ends every engine session.
func TestShutdownClosesSessions(t *testing.T) {
	eng := devEngine()
	r := newRig(t, eng)
	r.login(goShape, `{}`)
	r.login(pythonShape, `{}`)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if eng.closed != 2 {
		t.Errorf("%d of 2 sessions closed", eng.closed)
	}
}

// TestUpstreamDown: an unreachable account is a Snowflake-shaped 502 the connectors retry.
func TestUpstreamDown(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	srv, err := New(Config{Upstream: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	front, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(front)
	defer srv.Shutdown(context.Background())
	resp, err := http.Post("http://"+front.Addr().String()+"/session/v1/login-request", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 502 || !bytes.Contains(b, []byte(`"success":false`)) || !bytes.Contains(b, []byte(addr)) {
		t.Errorf("%d %s", resp.StatusCode, b)
	}
}

func TestParseUpstream(t *testing.T) {
	for _, c := range []struct{ in, err string }{
		{"https://acme.snowflakecomputing.com", ""},
		{"http://127.0.0.1:8765", ""},
		{"https://acme.snowflakecomputing.com/", ""},
		{"", "empty"},
		{"acme.snowflakecomputing.com", "scheme"},
		{"postgres://x", "scheme"},
		{"https://u:pw@acme.snowflakecomputing.com", "only a scheme and a host"},
		{"https://acme.snowflakecomputing.com/x?y=1", "only a scheme and a host"},
	} {
		_, err := ParseUpstream(c.in)
		if (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%q: %v, want %q", c.in, err, c.err)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("%q: the password is in %v", c.in, err)
		}
	}
}

func TestFinalNames(t *testing.T) {
	body := []byte(`{"data":{"rowtype":[],"rowset":[],"finalDatabaseName":"Db","finalSchemaName":"S 1"},"success":true}`)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(body)
	zw.Close()
	for _, c := range []struct {
		in []byte
		gz bool
	}{{body, false}, {buf.Bytes(), true}} {
		if db, s := finalNames(c.in, c.gz); db != "Db" || s != "S 1" {
			t.Errorf("gzip %v: %q %q", c.gz, db, s)
		}
	}
	if db, s := finalNames([]byte(`{"data":null}`), false); db != "" || s != "" {
		t.Errorf("no names: %q %q", db, s)
	}
}
