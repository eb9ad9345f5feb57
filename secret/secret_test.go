package secret

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestDSN: every connection-string form, redacted to the golden text; the secret never survives.
func TestDSN(t *testing.T) {
	tests := []struct{ name, in, want, secret string }{
		{"url userinfo", "postgres://fabio:s3cret!@db.example:5432/analytics?sslmode=require",
			"postgres://fabio:xxxxx@db.example:5432/analytics?sslmode=require", "s3cret!"},
		{"url userinfo escaped", "postgresql://fabio:p%40ss%2Fw0rd@db/x",
			"postgresql://fabio:xxxxx@db/x", "p%40ss%2Fw0rd"},
		{"url user only", "postgres://fabio@db/x", "postgres://fabio@db/x", ""},
		{"url password in query", "postgres://db.example/analytics?sslmode=require&password=hunter22&application_name=a",
			"postgres://db.example/analytics?sslmode=require&password=xxxxx&application_name=a", "hunter22"},
		{"url sslpassword and encoded key", "postgres://db/x?sslpassword=keypass1&pass%77ord=other22&sslkey=/k/client.key&passfile=/home/f/.pgpass",
			"postgres://db/x?sslpassword=xxxxx&pass%77ord=xxxxx&sslkey=/k/client.key&passfile=/home/f/.pgpass", "keypass1"},
		{"url with both", "postgres://u:first111@h/d?password=second22", "postgres://u:xxxxx@h/d?password=xxxxx", "first111"},
		{"unparsable url", "postgres://u:pa ss%zz@h/d", "postgres://u:xxxxx@h/d", "pa ss%zz"},
		{"unparsable url slash in password", "postgres://u:a/b?c@h:5432/d", "postgres://u:xxxxx@h:5432/d", "a/b?c"},
		{"unparsable port", "postgres://u:topsecret@h:port/d", "postgres://u:xxxxx@h:port/d", "topsecret"},
		{"presigned https", "https://bucket.s3.amazonaws.com/prod/manifest.json?X-Amz-Credential=AKIAEXAMPLE%2F20261201&X-Amz-Signature=abcdef0123",
			"https://bucket.s3.amazonaws.com/prod/manifest.json?X-Amz-Credential=xxxxx&X-Amz-Signature=xxxxx", "abcdef0123"},
		{"https token user", "https://ghp_tokenvalue@raw.example/manifest.json", "https://xxxxx@raw.example/manifest.json", "ghp_tokenvalue"},
		{"https fragment", "https://h/m.json#sig=abcdefgh", "https://h/m.json#xxxxx", "sig=abcdefgh"},
		{"dbt cloud", "dbt-cloud://123/456", "dbt-cloud://123/456", ""},
		{"key=value", "host=db port=5432 password=hunter22 dbname=x", "host=db port=5432 password=xxxxx dbname=x", "hunter22"},
		{"key=value quoted", `host=db password='x y\' z' user=fabio`, `host=db password=xxxxx user=fabio`, `x y' z`},
		{"key=value spaces", `host = db  password =  'a b c d'  sslmode=disable`, `host = db  password =  xxxxx  sslmode=disable`, "a b c d"},
		{"key=value escaped bare", `password=ab\ cd host=h`, `password=xxxxx host=h`, `ab\ cd`},
		{"key=value unterminated", `host='db password=hunter22`, `host=xxxxx`, "db password=hunter22"},
		{"key=value sslpassword", "sslpassword=keypass1 sslkey=/k/c.key", "sslpassword=xxxxx sslkey=/k/c.key", "keypass1"},
		{"snowflake", "fabio:sn0wpass@myorg-acct/ANALYTICS/PUBLIC?warehouse=WH&role=DEV",
			"fabio:xxxxx@myorg-acct/ANALYTICS/PUBLIC?warehouse=WH&role=DEV", "sn0wpass"},
		{"snowflake password with @ and :", "fabio:a@b:c1234@acct/db", "fabio:xxxxx@acct/db", "a@b:c1234"},
		{"snowflake token", "fabio@acct/db?authenticator=oauth&token=eyJtokenvalue&passcode=123456",
			"fabio@acct/db?authenticator=oauth&token=xxxxx&passcode=xxxxx", "eyJtokenvalue"},
		{"path", "/srv/prod/manifest.json", "/srv/prod/manifest.json", ""},
		{"empty", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DSN(tt.in)
			if got != tt.want {
				t.Errorf("DSN(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if tt.secret != "" && strings.Contains(got, tt.secret) {
				t.Errorf("DSN(%q) = %q still holds %q", tt.in, got, tt.secret)
			}
			if tt.secret != "" && !contains(Values(tt.in), tt.secret) {
				t.Errorf("Values(%q) = %q lacks %q", tt.in, Values(tt.in), tt.secret)
			}
		})
	}
}

// TestValuesDecoded: a Set masks the secret the way a library echoes it, decoded as well as written.
func TestValuesDecoded(t *testing.T) {
	for _, tt := range []struct{ in, decoded string }{
		{"postgres://u:p%40ss%2Fw0rd@db/x", "p@ss/w0rd"},
		{"postgres://db/x?password=a+b%26c", "a b&c"},
		{`host=db password='x y\' z'`, "x y' z"},
	} {
		if v := Values(tt.in); !contains(v, tt.decoded) {
			t.Errorf("Values(%q) = %q lacks the decoded %q", tt.in, v, tt.decoded)
		}
	}
}

func TestSetScrubAndError(t *testing.T) {
	s := NewSet("postgres://u:hunter22@db/x", "host=h password='a secret value'")
	s.AddValue("dbtc_token_1234", "abc") // "abc" is too short to mask in free text
	msg := `cannot parse "host=h password='a secret value'": hunter22 and dbtc_token_1234 and abc`
	got := s.Scrub(msg)
	for _, v := range []string{"hunter22", "a secret value", "dbtc_token_1234"} {
		if strings.Contains(got, v) {
			t.Errorf("Scrub left %q in %q", v, got)
		}
	}
	if !strings.Contains(got, "abc") {
		t.Errorf("Scrub masked a value shorter than MinLength: %q", got)
	}
	base := errors.New("connect: password hunter22 rejected")
	err := s.Error(fmt.Errorf("catalog: %w", base))
	if strings.Contains(err.Error(), "hunter22") || !errors.Is(err, base) {
		t.Errorf("Error: %q (errors.Is %v)", err, errors.Is(err, base))
	}
	var nilSet *Set
	if nilSet.Scrub("hunter22") != "hunter22" || s.Error(nil) != nil {
		t.Error("a nil Set scrubs nothing; a nil error stays nil")
	}
}

// TestURLError: net/http's error prints the request URL; its presigned query and token user are hidden.
func TestURLError(t *testing.T) {
	raw := "http://tok3nvalue@127.0.0.1:1/manifest.json?X-Amz-Signature=deadbeef99"
	_, err := http.Get(raw)
	if err == nil {
		t.Fatal("expected a connection error")
	}
	red := URLError(fmt.Errorf("manifest: %w", err))
	for _, v := range []string{"tok3nvalue", "deadbeef99"} {
		if strings.Contains(red.Error(), v) {
			t.Errorf("URLError left %q: %v", v, red)
		}
	}
	var ue *url.Error
	if !errors.As(red, &ue) {
		t.Error("the *url.Error is no longer in the chain")
	}
}

// TestHandler: a log record's message, string, error and group attributes and the logger's own attributes are
// scrubbed.
func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	s := NewSet("postgres://u:hunter22@db/x")
	log := slog.New(s.Handler(slog.NewJSONHandler(&buf, nil))).With("dsn", "postgres://u:hunter22@db/x")
	log.Info("connect hunter22", "err", errors.New("bad hunter22"), slog.Group("g", "v", "hunter22"),
		"list", []string{"hunter22"})
	if strings.Contains(buf.String(), "hunter22") {
		t.Errorf("log holds the secret: %s", buf.String())
	}
	if !strings.Contains(buf.String(), "connect xxxxx") {
		t.Errorf("log lost its message: %s", buf.String())
	}
}

// FuzzDSN: whatever the password (any bytes), written correctly in each form, the redacted string does not hold it.
func FuzzDSN(f *testing.F) {
	for _, s := range []string{"hunter22", "x y' z", `a\b`, "p@ss/w0rd?#", "a=b&c=d", "'quoted'", "ü∂ß"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pass string) {
		if len(pass) < 3 {
			return
		}
		quote := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace
		kv := quote(pass)
		forms := map[string]func(p string) string{
			"url userinfo": func(p string) string {
				return (&url.URL{Scheme: "postgres", User: url.UserPassword("fabio", p), Host: "db.example:5432", Path: "/analytics"}).String()
			},
			"url query": func(p string) string {
				return "postgres://db.example:5432/analytics?sslmode=require&password=" + url.QueryEscape(p)
			},
			"key=value": func(p string) string { return "host=db.example port=5432 password='" + quote(p) + "' dbname=analytics" },
			"snowflake": func(p string) string {
				return "fabio:" + url.QueryEscape(p) + "@myorg-acct/ANALYTICS?warehouse=WH&token=" + url.QueryEscape(p)
			},
			"presigned": func(p string) string {
				return "https://bucket.example/prod/manifest.json?X-Amz-Signature=" + url.QueryEscape(p)
			},
		}
		for name, form := range forms {
			dsn := form(pass)
			// A password that the rest of the string holds anyway ("buc" in "bucket.example", once redacted) is
			// nothing to tell: the template, with another password and redacted, must not hold it already.
			if other := DSN(form("PASS")); strings.Contains(other, pass) || strings.Contains(other, url.QueryEscape(pass)) ||
				strings.Contains(other, url.PathEscape(pass)) || strings.Contains(other, kv) {
				continue
			}
			got := DSN(dsn)
			for _, shown := range []string{pass, url.QueryEscape(pass), url.PathEscape(pass), kv} {
				if len(shown) >= 3 && strings.Contains(got, shown) {
					t.Errorf("%s: DSN(%q) = %q holds %q", name, dsn, got, shown)
				}
			}
		}
	})
}
