package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// stubAccount answers a login and query requests the way the recorded Snowflake traffic does (a token, a JSON
// rowset), and records the sqlText it received; the snowflake package's scripted peer covers the protocol itself.
type stubAccount struct {
	mu   sync.Mutex
	sqls []string
}

func (a *stubAccount) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	switch r.URL.Path {
	case "/session/v1/login-request":
		io.WriteString(w, `{"data":{"token":"tok-1","masterToken":"mt-1","sessionInfo":{"databaseName":"jaffle","schemaName":"dbt_demo"}},"success":true}`)
	case "/queries/v1/query-request":
		var q struct{ SQLText string }
		json.Unmarshal(b, &q)
		a.mu.Lock()
		a.sqls = append(a.sqls, q.SQLText)
		a.mu.Unlock()
		io.WriteString(w, `{"data":{"rowtype":[{"name":"1","type":"fixed"}],"rowset":[["1"]],"total":1,"returned":1,"statementTypeId":4096,"queryResultFormat":"json"},"success":true}`)
	default:
		http.NotFound(w, r)
	}
}

// TestSnowflakeListener: serve runs the Snowflake listener alone (no PostgreSQL upstream) on the engine, its
// sessions show in /status with their mode, /readyz dials the account, and shutdown stops it.
func TestSnowflakeListener(t *testing.T) {
	acct := &stubAccount{}
	up := httptest.NewServer(acct)
	defer up.Close()
	cmd := newServeCmd()
	cfg, err := loadConfig(cmd, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Admin, cfg.SnowflakeListen, cfg.SnowflakeUpstream = "127.0.0.1:0", "127.0.0.1:0", up.URL
	cfg.Manifest, cfg.DevSchema = writeDemoManifest(t), demoDevSchema
	cfg.StaleAfter = 100 * 365 * 24 * time.Hour
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	inst, err := start(ctx, cfg, newTestLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer inst.shutdown(time.Second)
	if inst.proxyAddr() != "" || inst.snowflakeAddr() == "" {
		t.Fatalf("listeners: postgres %q, snowflake %q", inst.proxyAddr(), inst.snowflakeAddr())
	}
	base := "http://" + inst.snowflakeAddr()
	resp, err := http.Post(base+"/session/v1/login-request", "application/json",
		strings.NewReader(`{"data":{"LOGIN_NAME":"me","PASSWORD":"pw-secret","SESSION_PARAMETERS":{"QUERY_TAG":"deferproxy.mode=favor_state"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/queries/v1/query-request?requestId=1", strings.NewReader(`{"sqlText":"select 1"}`))
	req.Header.Set("Authorization", `Snowflake Token="tok-1"`)
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(acct.sqls) != 1 || acct.sqls[0] != "select 1" {
		t.Errorf("the account received %q", acct.sqls)
	}

	admin := "http://" + inst.adminAddr()
	if code, body := httpGet(t, admin+"/readyz"); code != 200 {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	_, status := httpGet(t, admin+"/status")
	var st struct {
		Snowflake struct {
			Listen, Upstream  string
			Total, Statements uint64
			Sessions          []struct{ User, Mode string }
		}
		Engine struct{ Sessions []struct{ Mode string } }
	}
	if err := json.Unmarshal([]byte(status), &st); err != nil {
		t.Fatal(err)
	}
	sf := st.Snowflake
	if sf.Listen != inst.snowflakeAddr() || sf.Total != 1 || sf.Statements != 1 || len(sf.Sessions) != 1 || sf.Sessions[0].Mode != "favor_state" {
		t.Errorf("/status snowflake part: %s", status)
	}
	if len(st.Engine.Sessions) != 1 || st.Engine.Sessions[0].Mode != "favor_state" {
		t.Errorf("the engine does not have the Snowflake session in favor_state: %s", status)
	}
	if strings.Contains(status, "pw-secret") || strings.Contains(status, "tok-1") {
		t.Errorf("/status shows a secret: %s", status)
	}
	var out strings.Builder
	if err := showStatus(ctx, adminClient{addr: inst.adminAddr()}, &out); err != nil {
		t.Fatal(err)
	}
	if want := "snowflake   " + inst.snowflakeAddr() + " → " + up.URL + ": 1 sessions open, 1 since start; 1 statements"; !strings.Contains(out.String(), want) {
		t.Errorf("deferproxy status lacks %q:\n%s", want, out.String())
	}
	if err := inst.shutdown(time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(base + "/"); err == nil {
		t.Error("the Snowflake listener still answers after shutdown")
	}
}
