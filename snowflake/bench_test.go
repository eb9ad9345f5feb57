package snowflake

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkQueryRequest: one query-request round trip over loopback to an upstream answering a fixed result,
// directly and through the listener (plain and gzip bodies; a text the engine leaves alone, one it rewrites).
// The difference is the listener's cost per request: a second HTTP hop, reading the body, finding sqlText, the
// engine call, and for a rewrite re-encoding (and re-compressing) the body. The engine here is the test stand-in;
// the real engine's cost is rewrite's and deferral's benchmarks.
//
//	go test -run XXX -bench BenchmarkQueryRequest -benchtime 2000x -count 5 ./snowflake
func BenchmarkQueryRequest(b *testing.B) {
	const result = `{"data":{"rowtype":[{"name":"1","nullable":false,"type":"fixed","scale":0,"precision":1}],"rowset":[["1"]],"total":1,"returned":1,"queryId":"q","statementTypeId":4096,"queryResultFormat":"json"},"code":null,"message":null,"success":true}`
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/session/v1/login-request" {
			io.WriteString(w, `{"data":{"token":"tok"},"success":true}`)
			return
		}
		io.WriteString(w, result)
	}))
	defer up.Close()
	eng := &testEngine{rewrites: map[string]string{"db.dbt_me.orders": "db.analytics.orders"}}
	srv, err := New(Config{Upstream: up.URL, Engine: eng, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Shutdown(b.Context())
	front := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}
	resp, err := client.Post(front+"/session/v1/login-request", "application/json", strings.NewReader(`{"data":{"LOGIN_NAME":"me"}}`))
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()

	dbtComment := "\n/* {\"app\": \"dbt\", \"dbt_version\": \"1.11.6\", \"profile_name\": \"p\", \"target_name\": \"dev\", \"node_id\": \"model.p.customer_totals\"} */;"
	for _, c := range []struct {
		name, sql string
		gzip      bool
	}{
		{"unchanged/plain", "select 1" + dbtComment, false},
		{"rewritten/plain", "select * from db.dbt_me.orders" + dbtComment, false},
		{"unchanged/gzip", "select 1" + dbtComment, true},
		{"rewritten/gzip", "select * from db.dbt_me.orders" + dbtComment, true},
	} {
		body := queryBody(c.sql, "")
		if c.gzip {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(body)
			zw.Close()
			body = buf.Bytes()
		}
		for _, target := range []struct{ name, url string }{{"direct", up.URL}, {"listener", front}} {
			b.Run(c.name+"/"+target.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					req, _ := http.NewRequest(http.MethodPost, target.url+"/queries/v1/query-request", bytes.NewReader(body))
					req.Header.Set("Authorization", `Snowflake Token="tok"`)
					req.Header.Set("Content-Type", "application/json")
					if c.gzip {
						req.Header.Set("Content-Encoding", "gzip")
					}
					// A new requestId each time, as for new statements (a repeated one would be a retry, replayed).
					req.URL.RawQuery = "requestId=" + randID() + "&request_guid=g"
					resp, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
	}
}

var idCounter uint64

func randID() string {
	idCounter++
	return strconv.FormatUint(idCounter, 10)
}

// BenchmarkDecideBody: the listener's own work on one query-request body, without HTTP: gunzip, find sqlText,
// replace it, gzip again (the engine stand-in's replacement is a strings.ReplaceAll).
func BenchmarkDecideBody(b *testing.B) {
	sql := "select * from db.dbt_me.orders\n/* {\"app\": \"dbt\", \"node_id\": \"model.p.x\"} */;"
	js := queryBody(sql, `,"parameters":{"QUERY_TAG":"x"}`)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(js)
	zw.Close()
	for _, c := range []struct {
		name string
		raw  []byte
		enc  string
	}{{"plain", js, ""}, {"gzip", buf.Bytes(), "gzip"}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, "/", bytes.NewReader(c.raw))
				if c.enc != "" {
					req.Header.Set("Content-Encoding", c.enc)
				}
				bd, err := readBody(req, DefaultMaxBodySize)
				if err != nil {
					b.Fatal(err)
				}
				v, at, _, err := stringField(bd.json, "sqlText")
				if err != nil {
					b.Fatal(err)
				}
				setBody(req, bd.encode(withString(bd.json, at, strings.Replace(v, "dbt_me", "analytics", 1))))
			}
		})
	}
}
