package main

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// configFrom parses args as `deferproxy serve` flags and loads the configuration with env as the environment.
func configFrom(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	cmd := newServeCmd()
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatalf("parse flags %v: %v", args, err)
	}
	return loadConfig(cmd, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
}

func writeYAML(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "deferproxy.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPrecedence checks flag defaults < YAML < env < flags, for a key of every type.
func TestPrecedence(t *testing.T) {
	yaml := writeYAML(t, `
upstream: postgres://yaml:5432/db
catalog_timeout: 7s
max_client_conns: 70
allow_prod_writes: true
schema_map:
  dbt_yaml: analytics_yaml
max_message_size: 64MiB
`)
	type want struct {
		upstream  string
		timeout   time.Duration
		conns     int
		allow     bool
		schemaMap map[string]string
		msgSize   int
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want want
	}{
		{"defaults only", nil, nil,
			want{"", 2 * time.Second, 1000, false, map[string]string{}, 1 << 30}},
		{"yaml over defaults", []string{"--config", yaml}, nil,
			want{"postgres://yaml:5432/db", 7 * time.Second, 70, true, map[string]string{"dbt_yaml": "analytics_yaml"}, 64 << 20}},
		{"config file from env", nil, map[string]string{"DEFERPROXY_CONFIG": yaml},
			want{"postgres://yaml:5432/db", 7 * time.Second, 70, true, map[string]string{"dbt_yaml": "analytics_yaml"}, 64 << 20}},
		{"env over yaml", []string{"--config", yaml}, map[string]string{
			"DEFERPROXY_UPSTREAM": "postgres://env:5432/db", "DEFERPROXY_CATALOG_TIMEOUT": "8s",
			"DEFERPROXY_MAX_CLIENT_CONNS": "80", "DEFERPROXY_ALLOW_PROD_WRITES": "false",
			"DEFERPROXY_SCHEMA_MAP": "dbt_env=analytics_env, dbt_env2=analytics_env2", "DEFERPROXY_MAX_MESSAGE_SIZE": "1000000"},
			want{"postgres://env:5432/db", 8 * time.Second, 80, false,
				map[string]string{"dbt_env": "analytics_env", "dbt_env2": "analytics_env2"}, 1000000}},
		{"flags over env over yaml", []string{"--config", yaml, "--upstream", "postgres://flag:5432/db", "--catalog-timeout", "9s",
			"--max-client-conns", "90", "--allow-prod-writes=false", "--schema-map", "dbt_f=prod_f", "--schema-map", "dbt_g=prod_g",
			"--max-message-size", "1kB"},
			map[string]string{"DEFERPROXY_UPSTREAM": "postgres://env:5432/db", "DEFERPROXY_CATALOG_TIMEOUT": "8s",
				"DEFERPROXY_MAX_CLIENT_CONNS": "80", "DEFERPROXY_ALLOW_PROD_WRITES": "true", "DEFERPROXY_SCHEMA_MAP": "dbt_env=x"},
			want{"postgres://flag:5432/db", 9 * time.Second, 90, false, map[string]string{"dbt_f": "prod_f", "dbt_g": "prod_g"}, 1000}},
		{"flag alone over yaml, env absent", []string{"--config", yaml, "--max-client-conns", "5"}, nil,
			want{"postgres://yaml:5432/db", 7 * time.Second, 5, true, map[string]string{"dbt_yaml": "analytics_yaml"}, 64 << 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := configFrom(t, tt.args, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			got := want{cfg.Upstream, cfg.CatalogTimeout, cfg.MaxClientConns, cfg.AllowProdWrites, cfg.SchemaMap, cfg.MaxMessageSize}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestEveryKeyEverySource sets each key through each source and checks it reaches Config: a key whose flag, env var
// or YAML key is not wired fails here.
func TestEveryKeyEverySource(t *testing.T) {
	values := map[string]struct {
		raw   string
		check func(Config) bool
	}{
		"listen":            {"127.0.0.1:7000", func(c Config) bool { return c.Listen == "127.0.0.1:7000" }},
		"upstream":          {"postgres://h:1/d", func(c Config) bool { return c.Upstream == "postgres://h:1/d" }},
		"admin":             {"127.0.0.1:7001", func(c Config) bool { return c.Admin == "127.0.0.1:7001" }},
		"admin_hosts":       {"a.example,b.example", func(c Config) bool { return reflect.DeepEqual(c.AdminHosts, []string{"a.example", "b.example"}) }},
		"admin_token":       {"tok", func(c Config) bool { return c.AdminToken == "tok" }},
		"log_format":        {"json", func(c Config) bool { return c.LogFormat == "json" }},
		"log_level":         {"debug", func(c Config) bool { return c.LogLevel == "debug" }},
		"tls_cert":          {"/c.pem", func(c Config) bool { return c.TLSCert == "/c.pem" }},
		"tls_key":           {"/k.pem", func(c Config) bool { return c.TLSKey == "/k.pem" }},
		"max_message_size":  {"2MiB", func(c Config) bool { return c.MaxMessageSize == 2<<20 }},
		"max_client_conns":  {"12", func(c Config) bool { return c.MaxClientConns == 12 }},
		"handshake_timeout": {"3s", func(c Config) bool { return c.HandshakeTimeout == 3*time.Second }},
		"idle_timeout":      {"4m", func(c Config) bool { return c.IdleTimeout == 4*time.Minute }},
		"shutdown_timeout":  {"5s", func(c Config) bool { return c.ShutdownTimeout == 5*time.Second }},
		"snowflake_listen":  {"127.0.0.1:7002", func(c Config) bool { return c.SnowflakeListen == "127.0.0.1:7002" }},
		"snowflake_upstream": {"https://acme.snowflakecomputing.com", func(c Config) bool {
			return c.SnowflakeUpstream == "https://acme.snowflakecomputing.com"
		}},
		"snowflake_catalog_dsn": {"u:p@acme/DB?warehouse=WH", func(c Config) bool { return c.SnowflakeCatalogDSN == "u:p@acme/DB?warehouse=WH" }},
		"manifest":              {"/m.json", func(c Config) bool { return c.Manifest == "/m.json" }},
		"manifest_poll":         {"90s", func(c Config) bool { return c.ManifestPoll == 90*time.Second }},
		"manifest_headers":      {"X-A: 1", func(c Config) bool { return c.ManifestHeaders.Get("X-A") == "1" }},
		"max_unauthenticated":   {"9", func(c Config) bool { return c.MaxUnauthenticated == 9 }},
		"manifest_force":        {"true", func(c Config) bool { return c.ManifestForce && c.manifestOptions().Force }},
		"manifest_run_url":      {"https://ci/{run_id}", func(c Config) bool { return c.ManifestRunURL == "https://ci/{run_id}" }},
		"dbt_cloud_url":         {"https://emea.dbt.com", func(c Config) bool { return c.DbtCloudURL == "https://emea.dbt.com" }},
		"s3_endpoint":           {"http://minio:9000", func(c Config) bool { return c.S3Endpoint == "http://minio:9000" }},
		"state_dir":             {"/var/lib/dp", func(c Config) bool { return c.StateDir == "/var/lib/dp" }},
		"dev_manifest":          {"/d.json", func(c Config) bool { return c.DevManifest == "/d.json" }},
		"project_dir":           {"/work/jaffle", func(c Config) bool { return c.ProjectDir == "/work/jaffle" }},
		"dev_schema":            {"dbt_{user}", func(c Config) bool { return c.DevSchema == "dbt_{user}" }},
		"dev_database":          {"devdb", func(c Config) bool { return c.DevDatabase == "devdb" }},
		"schema_map":            {"a=b", func(c Config) bool { return reflect.DeepEqual(c.SchemaMap, map[string]string{"a": "b"}) }},
		"mode":                  {"favor_state", func(c Config) bool { return c.Mode == "favor_state" }},
		"allow_prod_writes":     {"true", func(c Config) bool { return c.AllowProdWrites }},
		"catalog_dsn":           {"postgres://c:2/d", func(c Config) bool { return c.CatalogDSN == "postgres://c:2/d" }},
		"catalog_timeout":       {"6s", func(c Config) bool { return c.CatalogTimeout == 6*time.Second }},
		"catalog_ttl":           {"7s", func(c Config) bool { return c.CatalogTTL == 7*time.Second }},
		"on_catalog_error":      {"fail", func(c Config) bool { return c.OnCatalogError == "fail" }},
		"notices":               {"all", func(c Config) bool { return c.Notices == "all" }},
		"stale_after":           {"48h", func(c Config) bool { return c.StaleAfter == 48*time.Hour }},
		"selected_window":       {"1h", func(c Config) bool { return c.SelectedWindow == time.Hour }},
		"catalog_view_apps": {"DBeaver*,psql", func(c Config) bool {
			return reflect.DeepEqual(c.CatalogViewApps, []string{"DBeaver*", "psql"})
		}},
	}
	if len(values) != len(settings) {
		t.Fatalf("test covers %d keys, settings has %d", len(values), len(settings))
	}
	for _, s := range settings {
		v, ok := values[s.key]
		if !ok {
			t.Fatalf("no test value for %s", s.key)
		}
		yamlVal := v.raw
		if s.key == "schema_map" {
			yamlVal = "{a: b}"
		}
		for _, src := range []struct {
			name string
			args []string
			env  map[string]string
		}{
			{"yaml", []string{"--config", writeYAML(t, s.key+": "+quoteYAML(yamlVal)+"\n")}, nil},
			{"env", nil, map[string]string{s.env(): v.raw}},
			{"flag", []string{"--" + s.flag() + "=" + v.raw}, nil},
		} {
			cfg, err := configFrom(t, src.args, src.env)
			if err != nil {
				t.Errorf("%s via %s: %v", s.key, src.name, err)
				continue
			}
			if !v.check(cfg) {
				t.Errorf("%s via %s = %q did not reach Config: %+v", s.key, src.name, v.raw, cfg)
			}
		}
	}
}

func quoteYAML(s string) string {
	if strings.HasPrefix(s, "{") {
		return s
	}
	return `"` + s + `"`
}

// TestLoadErrors checks that bad input is refused with a message that names the key, its source and the fix.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		yaml string
		want []string
	}{
		{name: "missing config file", args: []string{"--config", "/nonexistent/deferproxy.yaml"},
			want: []string{"/nonexistent/deferproxy.yaml", "deferproxy.example.yaml"}},
		{name: "unknown yaml key with suggestion", yaml: "dev_shema: dbt_x\n",
			want: []string{"unknown key(s) dev_shema", `did you mean "dev_schema"`}},
		{name: "yaml not a mapping", yaml: "- a\n- b\n", want: []string{"parse config"}},
		{name: "bad duration from env", env: map[string]string{"DEFERPROXY_CATALOG_TIMEOUT": "soon"},
			want: []string{"catalog_timeout (from environment variable DEFERPROXY_CATALOG_TIMEOUT)", "30s, 5m or 24h"}},
		{name: "duration without unit in yaml", yaml: "idle_timeout: 30\n",
			want: []string{"idle_timeout (from key idle_timeout in", "has no unit"}},
		{name: "duration without unit in env", env: map[string]string{"DEFERPROXY_IDLE_TIMEOUT": "30"},
			want: []string{"idle_timeout (from environment variable DEFERPROXY_IDLE_TIMEOUT)", "30 has no unit (write it like 30s"}},
		{name: "duration without unit as a flag", args: []string{"--idle-timeout", "30"},
			want: []string{"idle_timeout (from flag --idle-timeout)", "30 has no unit"}},
		{name: "fractional duration without unit in yaml", yaml: "stale_after: 1.5\n",
			want: []string{"stale_after (from key stale_after in", "1.5 has no unit"}},
		{name: "negative duration", args: []string{"--catalog-ttl", "-5s"}, want: []string{"catalog_ttl (from flag --catalog-ttl)", "negative"}},
		{name: "bad int from yaml", yaml: "max_client_conns: many\n", want: []string{"max_client_conns", "not a whole number"}},
		{name: "bad bool from env", env: map[string]string{"DEFERPROXY_ALLOW_PROD_WRITES": "perhaps"},
			want: []string{"allow_prod_writes", "true or false"}},
		{name: "bad schema map flag", args: []string{"--schema-map", "dbt_x"},
			want: []string{"schema_map (from flag --schema-map)", "dev_schema=prod_schema"}},
		{name: "message size too big", args: []string{"--max-message-size", "2GiB"}, want: []string{"over 1GiB"}},
		{name: "message size not a size", env: map[string]string{"DEFERPROXY_MAX_MESSAGE_SIZE": "big"}, want: []string{"64MiB or 1GiB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.yaml != "" {
				args = append(args, "--config", writeYAML(t, tt.yaml))
			}
			_, err := configFrom(t, args, tt.env)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestValidate checks the checks `serve` makes before starting anything.
func TestValidate(t *testing.T) {
	ok := []string{"--upstream", "postgres://127.0.0.1:5432/jaffle?sslmode=disable"}
	tests := []struct {
		name string
		args []string
		want string // "" = valid
	}{
		{"minimal pass-through", ok, ""},
		{"full defer setup", append(ok, "--manifest", "m.json", "--dev-schema", "dbt_{user}", "--mode", "favor_state"), ""},
		{"dev manifest is a dev target", append(ok, "--manifest", "m.json", "--dev-manifest", "target/manifest.json"), ""},
		{"admin disabled", append(ok, "--admin", ""), ""},
		{"no upstream", nil, "upstream is required: pass --upstream"},
		{"upstream not postgres", []string{"--upstream", "mysql://h/d"}, "must start with postgres://"},
		{"upstream without host", []string{"--upstream", "postgres:///d"}, "has no host"},
		{"bad sslmode", []string{"--upstream", "postgres://h/d?sslmode=always"}, `sslmode "always"`},
		{"password is redacted in errors", []string{"--upstream", "mysql://u:secret@h/d"}, "xxxxx"},
		{"bad listen", append(ok, "--listen", "6432"), "listen \"6432\" (from flag --listen) is not host:port"},
		{"bad admin", append(ok, "--admin", "localhost"), "--admin \"\" to disable"},
		{"bad log format", append(ok, "--log-format", "xml"), "use text or json"},
		{"bad log level", append(ok, "--log-level", "loud"), "use debug, info, warn or error"},
		{"cert without key", append(ok, "--tls-cert", "c.pem"), "pass both --tls-cert and --tls-key"},
		{"zero conns", append(ok, "--max-client-conns", "0"), "at least 1"},
		{"bad mode", append(ok, "--mode", "yolo"), `mode "yolo" (from flag --mode): use defer, favor_state or off`},
		{"bad notices", append(ok, "--notices", "some"), "use first, all or off"},
		{"bad on_catalog_error", append(ok, "--on-catalog-error", "ignore"), "use open or fail"},
		{"manifest without dev target", append(ok, "--manifest", "m.json"), "pass --dev-schema"},
		{"dev target without manifest", append(ok, "--dev-schema", "dbt_x"), "pass --manifest"},
		{"bad catalog dsn", append(ok, "--catalog-dsn", "host=x"), "catalog_dsn"},
		{"snowflake only", []string{"--snowflake-upstream", "https://acme.snowflakecomputing.com"}, ""},
		{"both front ends", append(ok, "--snowflake-upstream", "http://127.0.0.1:8765", "--snowflake-catalog-dsn", "u:secret@acme/DB?warehouse=WH&role=R"), ""},
		{"snowflake upstream not a URL", []string{"--snowflake-upstream", "acme.snowflakecomputing.com"}, "snowflake_upstream (from flag --snowflake-upstream): snowflake upstream"},
		{"snowflake upstream with a password", []string{"--snowflake-upstream", "https://u:secret@acme.snowflakecomputing.com"}, "only a scheme and a host"},
		{"bad snowflake listen", []string{"--snowflake-upstream", "https://a.snowflakecomputing.com", "--snowflake-listen", "6433"}, `snowflake_listen "6433" (from flag --snowflake-listen) is not host:port`},
		{"snowflake dsn without listener", append(ok, "--snowflake-catalog-dsn", "u:secret@acme/DB"), "set snowflake_upstream too"},
		{"snowflake dsn is a URL", []string{"--snowflake-upstream", "https://a.snowflakecomputing.com", "--snowflake-catalog-dsn", "snowflake://u:secret@acme/DB"}, "write a gosnowflake DSN"},
		{"snowflake dsn without account", []string{"--snowflake-upstream", "https://a.snowflakecomputing.com", "--snowflake-catalog-dsn", "u:secret@/DB?password=secret"}, "names no user and account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := configFrom(t, tt.args, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("valid config refused: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("invalid config accepted, want error with %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error %q lacks %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
}

// TestExampleConfig loads deferproxy.example.yaml (every key must be in it, and it must validate) and checks that
// README.md documents every key, env var and flag.
func TestExampleConfig(t *testing.T) {
	example := filepath.Join("..", "..", "deferproxy.example.yaml")
	b, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := configFrom(t, []string{"--config", example}, nil)
	if err != nil {
		t.Fatalf("load %s: %v", example, err)
	}
	if err := cfg.validate(); err != nil {
		t.Fatalf("%s does not validate: %v", example, err)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		if !regexp.MustCompile(`(?m)^#?\s*` + s.key + `:`).Match(b) {
			t.Errorf("%s lacks key %s", example, s.key)
		}
		for _, w := range []string{"`" + s.key + "`", "`" + s.env() + "`", "`--" + s.flag() + "`"} {
			if !strings.Contains(string(readme), w) {
				t.Errorf("README.md lacks %s", w)
			}
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"1048576", 1 << 20, true}, {"1GiB", 1 << 30, true}, {"64 MiB", 64 << 20, true}, {"512kB", 512000, true},
		{"10MB", 10_000_000, true}, {"100B", 100, true},
		{"0", 0, false}, {"-1", 0, false}, {"1.5GiB", 0, false}, {"1TiB", 0, false}, {"2GiB", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestUnknownEnv(t *testing.T) {
	got := unknownEnv([]string{"DEFERPROXY_DEV_SHEMA=x", "DEFERPROXY_DEV_SCHEMA=y", "DEFERPROXY_CONFIG=c", "DEFERPROXY_VENV=v",
		"PATH=/bin", "DEFERPROXY_LISTEN=:1", "DEFERPROXY_UPSTREM=postgres://h/d"})
	if want := []string{"DEFERPROXY_DEV_SHEMA", "DEFERPROXY_UPSTREM"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("unknownEnv = %v, want %v", got, want)
	}
}

// TestValidateNamesSource checks that a value refused by validate names where it came from, for every source.
func TestValidateNamesSource(t *testing.T) {
	up := "postgres://127.0.0.1:5432/jaffle?sslmode=disable"
	tests := []struct {
		name string
		args []string
		env  map[string]string
		yaml string
		want string
	}{
		{name: "env", env: map[string]string{"DEFERPROXY_MODE": "foo", "DEFERPROXY_UPSTREAM": up},
			want: `mode "foo" (from environment variable DEFERPROXY_MODE): use defer, favor_state or off`},
		{name: "yaml", yaml: "upstream: " + up + "\nnotices: loud\n", want: `notices "loud" (from key notices in `},
		{name: "flag", args: []string{"--upstream", up, "--log-format", "xml"}, want: `log_format "xml" (from flag --log-format)`},
		{name: "snowflake from env", env: map[string]string{"DEFERPROXY_SNOWFLAKE_UPSTREAM": "ftp://acme"},
			want: "snowflake_upstream (from environment variable DEFERPROXY_SNOWFLAKE_UPSTREAM)"},
		{name: "snowflake dsn from yaml", yaml: "snowflake_upstream: https://a.snowflakecomputing.com\nsnowflake_catalog_dsn: 'u:secret@?token=secret'\n",
			want: "snowflake_catalog_dsn (from key snowflake_catalog_dsn in "},
		{name: "upstream from env", env: map[string]string{"DEFERPROXY_UPSTREAM": "mysql://u:secret@h/d"},
			want: "(from environment variable DEFERPROXY_UPSTREAM)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.yaml != "" {
				args = append(args, "--config", writeYAML(t, tt.yaml))
			}
			cfg, err := configFrom(t, args, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v lacks %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
}

// TestParseDuration checks the one duration parser that flags, environment and YAML share.
func TestParseDuration(t *testing.T) {
	for _, tt := range []struct {
		raw  any
		want time.Duration
		err  string
	}{
		{"30s", 30 * time.Second, ""}, {"1h30m", 90 * time.Minute, ""}, {" 5m ", 5 * time.Minute, ""},
		{"0", 0, ""}, {0, 0, ""}, {"0s", 0, ""},
		{"30", 0, "30 has no unit"}, {30, 0, "30 has no unit"}, {1.5, 0, "1.5 has no unit"},
		{"soon", 0, "is not a duration"}, {"-1s", 0, "negative"}, {true, 0, "is not a duration"},
	} {
		got, err := parseDuration(tt.raw)
		if tt.err == "" && (err != nil || got != tt.want) {
			t.Errorf("parseDuration(%#v) = %v, %v; want %v", tt.raw, got, err, tt.want)
		}
		if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("parseDuration(%#v) error %v; want %q", tt.raw, err, tt.err)
		}
	}
	for d, want := range map[time.Duration]string{24 * time.Hour: "24h", 30 * time.Minute: "30m", 2 * time.Second: "2s", 0: "0s", 90 * time.Minute: "1h30m"} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestFindDevManifest: without dev_manifest, the dbt project (project_dir, or the current directory when it holds
// dbt_project.yml) gives the dev manifest, at DBT_TARGET_PATH, dbt_project.yml's target-path or target/.
func TestFindDevManifest(t *testing.T) {
	project := func(t *testing.T, yml string) string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "dbt_project.yml"), []byte(yml), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	plain := project(t, "name: shop\nprofile: shop\n")
	custom := project(t, "name: shop\ntarget-path: build\n")
	elsewhere := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		cwd      string
		want     string // DevManifest; "" = none
		wantFrom string
		err      string
	}{
		{name: "current directory", args: []string{"--manifest", "/p.json"}, cwd: plain,
			want: filepath.Join(plain, "target", "manifest.json"), wantFrom: "the current directory"},
		{name: "target-path", args: []string{"--manifest", "/p.json", "--project-dir", custom}, cwd: elsewhere,
			want: filepath.Join(custom, "build", "manifest.json"), wantFrom: "target-path in dbt_project.yml"},
		{name: "DBT_TARGET_PATH", args: []string{"--manifest", "/p.json"}, env: map[string]string{"DBT_TARGET_PATH": "out"},
			cwd: custom, want: filepath.Join(custom, "out", "manifest.json"), wantFrom: "DBT_TARGET_PATH"},
		{name: "project_dir from env", args: []string{"--manifest", "/p.json"}, env: map[string]string{"DEFERPROXY_PROJECT_DIR": plain},
			cwd: elsewhere, want: filepath.Join(plain, "target", "manifest.json"), wantFrom: "environment variable DEFERPROXY_PROJECT_DIR"},
		{name: "explicit dev_manifest wins", args: []string{"--manifest", "/p.json", "--dev-manifest", "/d.json"}, cwd: plain, want: "/d.json"},
		{name: "no project here", args: []string{"--manifest", "/p.json", "--dev-schema", "d"}, cwd: elsewhere},
		{name: "pass-through ignores the project", cwd: plain},
		{name: "project_dir without dbt_project.yml", args: []string{"--manifest", "/p.json", "--project-dir", elsewhere}, cwd: plain,
			err: "(from flag --project-dir)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := configFrom(t, tt.args, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.findDevManifest(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }, tt.cwd)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "dbt_project.yml") {
					t.Fatalf("error %v, want one naming %q and dbt_project.yml", err, tt.err)
				}
				return
			}
			if err != nil || cfg.DevManifest != tt.want {
				t.Fatalf("DevManifest %q, %v; want %q", cfg.DevManifest, err, tt.want)
			}
			if !strings.Contains(cfg.Sources["dev_manifest"], tt.wantFrom) {
				t.Errorf("dev_manifest from %q, want %q", cfg.Sources["dev_manifest"], tt.wantFrom)
			}
		})
	}
}
