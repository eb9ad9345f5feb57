package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cast"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/internal/levenshtein"
	"github.com/deferproxy/deferproxy/secret"
	"github.com/deferproxy/deferproxy/snowflake"
)

// envPrefix is prepended to every configuration key to form its environment variable (dev_schema → DEFERPROXY_DEV_SCHEMA).
const envPrefix = "DEFERPROXY_"

// Config is deferproxy's whole configuration, built once per command from the YAML file (--config), DEFERPROXY_*
// environment variables and flags, in that order of increasing precedence. Nothing else reads the environment.
type Config struct {
	// Proxy listener and upstream (SPEC §10, §12).
	Listen           string
	Upstream         string
	Admin            string
	LogFormat        string
	LogLevel         string
	TLSCert          string
	TLSKey           string
	MaxMessageSize   int
	MaxClientConns   int
	HandshakeTimeout time.Duration
	IdleTimeout      time.Duration
	ShutdownTimeout  time.Duration
	// MaxUnauthenticated bounds the connections still in startup or authentication (SPEC §10).
	MaxUnauthenticated int
	// AdminHosts are the names the admin listener answers to besides localhost and IP addresses; AdminToken, when
	// set, is required by it (never logged or shown).
	AdminHosts []string
	AdminToken string

	// Snowflake front end (SPEC §11): the connectors' HTTP API, run when SnowflakeUpstream is set.
	SnowflakeListen     string
	SnowflakeUpstream   string
	SnowflakeCatalogDSN string // a gosnowflake DSN with a password: never logged or shown

	// Defer engine (SPEC §3–§8).
	Manifest        string
	ManifestPoll    time.Duration
	ManifestHeaders http.Header // never logged or shown
	ManifestRunURL  string
	// ManifestForce accepts a replacement production manifest that has no refable nodes or is of another project.
	ManifestForce   bool
	DbtCloudURL     string
	S3Endpoint      string
	StateDir        string
	DevManifest     string
	DevSchema       string
	DevDatabase     string
	SchemaMap       map[string]string
	Mode            string
	AllowProdWrites bool
	CatalogDSN      string
	CatalogTimeout  time.Duration
	CatalogTTL      time.Duration
	OnCatalogError  string
	Notices         string
	StaleAfter      time.Duration
	SelectedWindow  time.Duration
	// CatalogViewApps are application names whose sessions start with the catalog view on (SPEC §5.6).
	CatalogViewApps []string

	// Credentials of the scheduler sources, from the environment variables their own tools use (never shown):
	// DBT_CLOUD_API_TOKEN; PARADIME_API_ENDPOINT, PARADIME_API_KEY, PARADIME_API_SECRET.
	DbtCloudToken    string
	ParadimeEndpoint string
	ParadimeKey      string
	ParadimeSecret   string

	// ProjectDir is the developer's dbt project; findDevManifest turns it into DevManifest.
	ProjectDir string

	// ConfigFile is the YAML file the values came from ("" when none), for messages.
	ConfigFile string
	// Sources says where each key's value came from ("flag --mode", "environment variable DEFERPROXY_MODE", "key
	// mode in deferproxy.yaml", "default"), so that validate's messages name it.
	Sources map[string]string
}

// setting is one configuration key: its YAML name, its flag, its default and what it means. The table drives the
// flags, the environment binding, unknown-key detection and the reference in README.md.
type setting struct {
	key   string // YAML key; the env var is DEFERPROXY_<KEY>; the flag is --<key with - for _>
	def   any    // default: string, int, bool, time.Duration or []string (schema_map)
	usage string
}

func (s setting) flag() string { return strings.ReplaceAll(s.key, "_", "-") }
func (s setting) env() string  { return envPrefix + strings.ToUpper(s.key) }

// settings lists every key, in the order of deferproxy.example.yaml.
var settings = []setting{
	{"listen", "127.0.0.1:6432", "address the PostgreSQL proxy listens on (host:port)"},
	{"upstream", "", "the warehouse: postgres://host:port/database?sslmode=disable|prefer|require|verify-full[&sslrootcert=FILE] (required)"},
	{"admin", "127.0.0.1:6480", `admin HTTP listener (/healthz /readyz /status /metrics /); "" disables it`},
	{"admin_hosts", []string{}, "names (besides localhost, IP addresses and the admin address's host) the admin listener answers to; other Host headers are refused, against DNS rebinding (repeatable; env: comma-separated)"},
	{"admin_token", "", "token the admin listener requires for everything but /healthz and /readyz: Authorization: Bearer, or entered once in the page's form; never logged or shown"},
	{"log_format", "text", "log format: text or json"},
	{"log_level", "info", "log level: debug, info, warn or error"},
	{"tls_cert", "", "PEM certificate for TLS to clients (with tls_key); without it SSLRequest is answered 'N'"},
	{"tls_key", "", "PEM private key for tls_cert"},
	{"max_message_size", "1GiB", "largest protocol message accepted from a client or the upstream (bytes, or with a kB/MB/GB/KiB/MiB/GiB suffix)"},
	{"max_client_conns", 1000, "client sessions at once; past it new clients get FATAL 53300"},
	{"handshake_timeout", 30 * time.Second, "time a client has to finish startup and authentication"},
	{"max_unauthenticated", 100, "connections still in startup or authentication at once, apart from max_client_conns (they take no client slot before their startup packet); past it the oldest of them is closed"},
	{"idle_timeout", time.Duration(0), "close a session idle (between statements) for this long; 0 = never"},
	{"shutdown_timeout", 30 * time.Second, "on SIGINT/SIGTERM, how long open sessions may finish before they are closed with 57P01"},
	{"snowflake_listen", "127.0.0.1:6433", "address the Snowflake listener (the connectors' HTTP API, for dbt-snowflake, gosnowflake, JDBC) listens on (host:port); it runs when snowflake_upstream is set"},
	{"snowflake_upstream", "", "the Snowflake account the Snowflake listener forwards to: https://<account>.snowflakecomputing.com (http://host:port for a local emulator); with upstream unset, only the Snowflake listener runs"},
	{"snowflake_catalog_dsn", "", "gosnowflake DSN for the Snowflake dev-catalog lookups (user:password@<account>/<database>?warehouse=…&role=…), a role that can SHOW the dev schemas; never logged"},
	{"manifest", "", "production manifest source: a path or directory (watched), http(s)://…, s3://bucket/key, dbt-cloud://<account>/<job>, dbt-cloud://<account>/environments/<env> or paradime://<schedule>; without it the proxy is a pure pass-through"},
	{"manifest_poll", 60 * time.Second, "how often a remote manifest source (http, s3, dbt-cloud, paradime) is checked for a newer production run"},
	{"manifest_headers", "", "HTTP headers for an http(s) manifest source, one `Name: value` per line; never logged"},
	{"manifest_force", false, "accept a replacement production manifest with no refable nodes or of another project (refused by default: the last good one stays)"},
	{"manifest_run_url", "", "link to the production run for file, http and s3 sources, e.g. https://ci.example/runs/{invocation_id} (also {run_id}, {job}, {project}, {generated_at})"},
	{"dbt_cloud_url", "https://cloud.getdbt.com", "dbt Cloud's base URL for dbt-cloud:// sources (single-tenant and regional hosts differ); the token comes from DBT_CLOUD_API_TOKEN"},
	{"s3_endpoint", "", "S3 endpoint for s3:// sources (MinIO, R2, GCS interoperability); credentials come from the AWS SDK's standard chain"},
	{"state_dir", "", "where the last good remote production manifest is kept so that a restart works offline (default: the user cache directory's deferproxy/)"},
	{"dev_manifest", "", "the developer's target/manifest.json (watched): exact dev relation per node"},
	{"project_dir", "", "the dbt project whose target/manifest.json (DBT_TARGET_PATH and target-path honoured) is the dev manifest when dev_manifest is not set; default: the current directory when it holds dbt_project.yml"},
	{"dev_schema", "", "dev target schema, or a template over the login user such as dbt_{user}"},
	{"dev_database", "", "dev target database (default: the session's database)"},
	{"schema_map", []string{}, "dev schema to production schema, dev=prod (repeatable; env: comma-separated)"},
	{"mode", "defer", "default mode of new sessions: defer, favor_state or off"},
	{"catalog_view_apps", []string{}, "application names (globs such as DBeaver*) whose sessions start with the catalog view on: deferred models listed in the dev schema (repeatable; env: comma-separated)"},
	{"allow_prod_writes", false, "let dev sessions write into production relations (default: refused with 42501)"},
	{"catalog_dsn", "", "PostgreSQL URL for the dev-catalog queries (default: the upstream)"},
	{"catalog_timeout", 2 * time.Second, "how long a dev-catalog lookup may take before the statement fails open (or fails, see on_catalog_error)"},
	{"catalog_ttl", 10 * time.Second, "how long the dev catalog is cached for changes made outside the proxy"},
	{"on_catalog_error", "open", "when the dev catalog cannot be read: open (forward unchanged, warn once) or fail"},
	{"notices", "first", "NOTICE per statement with deferrals: first (the first one also names the production run), all or off (off suits BI tools that repeat queries and log every notice)"},
	{"stale_after", 24 * time.Hour, "warn when the production manifest is older than this"},
	{"selected_window", 30 * time.Minute, "favor_state: a node built through the proxy this recently counts as selected"},
}

// addConfigFlags registers --config and one flag per setting on fs.
func addConfigFlags(fs *pflag.FlagSet) {
	fs.String("config", "", "YAML configuration file (see deferproxy.example.yaml); env DEFERPROXY_CONFIG")
	for _, s := range settings {
		usage := s.usage + " (env " + s.env() + ")"
		switch d := s.def.(type) {
		case string:
			fs.String(s.flag(), d, usage)
		case int:
			fs.Int(s.flag(), d, usage)
		case bool:
			fs.Bool(s.flag(), d, usage)
		case time.Duration:
			// Kept as text and read by parseDuration like the environment and YAML: one parser for every source.
			v := durationText(formatDuration(d))
			fs.Var(&v, s.flag(), usage)
		case []string:
			fs.StringArray(s.flag(), d, usage)
		default:
			panic(fmt.Sprintf("setting %s: unsupported default type %T", s.key, s.def))
		}
	}
}

// loadConfig builds the Config of cmd from its --config file, the environment (getenv) and its flags.
// Precedence, lowest first: flag defaults < YAML file < DEFERPROXY_* env < flags given on the command line.
func loadConfig(cmd *cobra.Command, getenv func(string) (string, bool)) (Config, error) {
	fs := cmd.Flags()
	v := viper.New()
	v.SetConfigType("yaml")

	cfgFile, _ := fs.GetString("config")
	if !fs.Changed("config") {
		if e, ok := getenv(envPrefix + "CONFIG"); ok {
			cfgFile = e
		}
	}
	if cfgFile != "" {
		f, err := os.Open(cfgFile)
		if err != nil {
			return Config{}, fmt.Errorf("read config %s: %w (pass --config with an existing YAML file; deferproxy.example.yaml is a commented template)", cfgFile, err)
		}
		err = v.ReadConfig(f)
		f.Close()
		if err != nil {
			return Config{}, fmt.Errorf("parse config %s: %w (it must be YAML with the keys of deferproxy.example.yaml)", cfgFile, err)
		}
		if err := checkKeys(v.AllSettings(), cfgFile); err != nil {
			return Config{}, err
		}
	}

	// Environment and flags are layered by hand rather than with viper.AutomaticEnv/BindPFlag: viper's
	// getenv is os.Getenv (tests and the demo need another), and a flag's "changed" state is what decides.
	src := func(s setting) (val any, from string, ok bool) {
		if f := fs.Lookup(s.flag()); f != nil && f.Changed {
			switch s.def.(type) {
			case []string:
				a, _ := fs.GetStringArray(s.flag())
				return a, "flag --" + s.flag(), true
			}
			return f.Value.String(), "flag --" + s.flag(), true
		}
		if e, ok := getenv(s.env()); ok {
			return e, "environment variable " + s.env(), true
		}
		if v.IsSet(s.key) {
			return v.Get(s.key), "key " + s.key + " in " + cfgFile, true
		}
		if f := fs.Lookup(s.flag()); f != nil {
			if _, isSlice := s.def.([]string); isSlice {
				return []string{}, "default", true
			}
			return f.DefValue, "default", true
		}
		return s.def, "default", true
	}

	cfg := Config{ConfigFile: cfgFile, Sources: make(map[string]string, len(settings))}
	var errs []error
	for _, s := range settings {
		val, from, _ := src(s)
		cfg.Sources[s.key] = from
		if err := cfg.set(s, val); err != nil {
			errs = append(errs, fmt.Errorf("%s (from %s): %w", s.key, from, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	cfg.DbtCloudToken, _ = getenv("DBT_CLOUD_API_TOKEN")
	cfg.ParadimeEndpoint, _ = getenv("PARADIME_API_ENDPOINT")
	cfg.ParadimeKey, _ = getenv("PARADIME_API_KEY")
	cfg.ParadimeSecret, _ = getenv("PARADIME_API_SECRET")
	return cfg, nil
}

// parseHeaders reads manifest_headers: `Name: value` lines (environment, flag, YAML string) or a YAML mapping.
func parseHeaders(raw any) (http.Header, error) {
	if m, ok := raw.(map[string]any); ok {
		h := http.Header{}
		for k, v := range m {
			h.Add(k, fmt.Sprint(v))
		}
		return h, nil
	}
	text, err := cast.ToStringE(raw)
	if err != nil {
		return nil, errors.New("write it as `Name: value` lines or a mapping")
	}
	return catalog.ParseHeaders(text)
}

// manifestOptions are the production manifest source's options (docs/SPEC.md §9).
func (c Config) manifestOptions() catalog.StoreOptions {
	stateDir := c.StateDir
	if stateDir == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			stateDir = filepath.Join(dir, "deferproxy")
		}
	}
	poll := c.ManifestPoll
	if catalog.SourceKind(c.Manifest) == catalog.KindFile {
		poll = 0 // a file is watched, with its own stat poll (manifest_poll is for remote sources)
	}
	return catalog.StoreOptions{
		PollInterval:   poll,
		StateDir:       stateDir,
		RunURLTemplate: c.ManifestRunURL,
		Force:          c.ManifestForce,
		Source: catalog.SourceOptions{
			Headers:          c.ManifestHeaders,
			DbtCloudURL:      c.DbtCloudURL,
			DbtCloudToken:    c.DbtCloudToken,
			ParadimeEndpoint: c.ParadimeEndpoint,
			ParadimeKey:      c.ParadimeKey,
			ParadimeSecret:   c.ParadimeSecret,
			S3Endpoint:       c.S3Endpoint,
		},
	}
}

// set stores one raw value (string from env/flags, typed from YAML) into its Config field.
func (c *Config) set(s setting, raw any) error {
	str := func() (string, error) { return cast.ToStringE(raw) }
	dur := func() (time.Duration, error) { return parseDuration(raw) }
	var err error
	switch s.key {
	case "listen":
		c.Listen, err = str()
	case "upstream":
		c.Upstream, err = str()
	case "admin":
		c.Admin, err = str()
	case "admin_hosts":
		c.AdminHosts, err = parseList(raw)
	case "catalog_view_apps":
		c.CatalogViewApps, err = parseList(raw)
	case "admin_token":
		c.AdminToken, err = str()
	case "log_format":
		c.LogFormat, err = str()
	case "log_level":
		c.LogLevel, err = str()
	case "tls_cert":
		c.TLSCert, err = str()
	case "tls_key":
		c.TLSKey, err = str()
	case "max_message_size":
		c.MaxMessageSize, err = parseSize(fmt.Sprint(raw))
	case "max_client_conns":
		c.MaxClientConns, err = cast.ToIntE(raw)
		if err != nil {
			err = fmt.Errorf("%q is not a whole number", fmt.Sprint(raw))
		}
	case "handshake_timeout":
		c.HandshakeTimeout, err = dur()
	case "max_unauthenticated":
		c.MaxUnauthenticated, err = cast.ToIntE(raw)
		if err != nil {
			err = fmt.Errorf("%q is not a whole number", fmt.Sprint(raw))
		}
	case "idle_timeout":
		c.IdleTimeout, err = dur()
	case "shutdown_timeout":
		c.ShutdownTimeout, err = dur()
	case "snowflake_listen":
		c.SnowflakeListen, err = str()
	case "snowflake_upstream":
		c.SnowflakeUpstream, err = str()
	case "snowflake_catalog_dsn":
		c.SnowflakeCatalogDSN, err = str()
	case "manifest":
		c.Manifest, err = str()
	case "manifest_poll":
		c.ManifestPoll, err = dur()
	case "manifest_headers":
		c.ManifestHeaders, err = parseHeaders(raw)
	case "manifest_force":
		c.ManifestForce, err = cast.ToBoolE(raw)
		if err != nil {
			err = fmt.Errorf("%q is not true or false", fmt.Sprint(raw))
		}
	case "manifest_run_url":
		c.ManifestRunURL, err = str()
	case "dbt_cloud_url":
		c.DbtCloudURL, err = str()
	case "s3_endpoint":
		c.S3Endpoint, err = str()
	case "state_dir":
		c.StateDir, err = str()
	case "dev_manifest":
		c.DevManifest, err = str()
	case "project_dir":
		c.ProjectDir, err = str()
	case "dev_schema":
		c.DevSchema, err = str()
	case "dev_database":
		c.DevDatabase, err = str()
	case "schema_map":
		c.SchemaMap, err = parseSchemaMap(raw)
	case "mode":
		c.Mode, err = str()
	case "allow_prod_writes":
		c.AllowProdWrites, err = cast.ToBoolE(raw)
		if err != nil {
			err = fmt.Errorf("%q is not true or false", fmt.Sprint(raw))
		}
	case "catalog_dsn":
		c.CatalogDSN, err = str()
	case "catalog_timeout":
		c.CatalogTimeout, err = dur()
	case "catalog_ttl":
		c.CatalogTTL, err = dur()
	case "on_catalog_error":
		c.OnCatalogError, err = str()
	case "notices":
		c.Notices, err = str()
	case "stale_after":
		c.StaleAfter, err = dur()
	case "selected_window":
		c.SelectedWindow, err = dur()
	default:
		return fmt.Errorf("no Config field for setting %q", s.key) // a programming error, caught by the tests
	}
	return err
}

// unknownEnv lists DEFERPROXY_* variables of environ that configure nothing: a misspelt variable would otherwise be
// silently ignored. DEFERPROXY_CONFIG is the config file; DEFERPROXY_VENV is the test venv of the Makefile.
func unknownEnv(environ []string) []string {
	known := map[string]bool{envPrefix + "CONFIG": true, envPrefix + "VENV": true}
	for _, s := range settings {
		known[s.env()] = true
	}
	var unknown []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, envPrefix) && !known[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	return unknown
}

// checkKeys refuses unknown top-level YAML keys: a misspelt key silently ignored is a misconfiguration found late.
func checkKeys(all map[string]any, file string) error {
	known := make(map[string]bool, len(settings))
	names := make([]string, 0, len(settings))
	for _, s := range settings {
		known[s.key] = true
		names = append(names, s.key)
	}
	var unknown []string
	for k := range all {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	hint := ""
	for _, u := range unknown {
		if n := closest(u, names); n != "" {
			hint += fmt.Sprintf(" (did you mean %q instead of %q?)", n, u)
		}
	}
	return fmt.Errorf("config %s: unknown key(s) %s%s; the keys are: %s", file, strings.Join(unknown, ", "), hint, strings.Join(names, ", "))
}

// closest returns the known name within edit distance 2 of s, if any.
func closest(s string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := levenshtein.Distance(s, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// parseSchemaMap accepts a YAML mapping {dev: prod}, a list of "dev=prod" (flags), or "dev=prod,dev2=prod2" (env).
func parseSchemaMap(raw any) (map[string]string, error) {
	m := map[string]string{}
	add := func(pair string) error {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			return nil
		}
		dev, prod, ok := strings.Cut(pair, "=")
		dev, prod = strings.TrimSpace(dev), strings.TrimSpace(prod)
		if !ok || dev == "" || prod == "" {
			return fmt.Errorf("%q is not dev_schema=prod_schema (e.g. --schema-map dbt_fabio=analytics)", pair)
		}
		m[dev] = prod
		return nil
	}
	switch r := raw.(type) {
	case nil:
	case string:
		for _, p := range strings.Split(r, ",") {
			if err := add(p); err != nil {
				return nil, err
			}
		}
	case []string:
		for _, p := range r {
			if err := add(p); err != nil {
				return nil, err
			}
		}
	case map[string]any:
		for dev, prod := range r {
			p, ok := prod.(string)
			if !ok || dev == "" || p == "" {
				return nil, fmt.Errorf("entry %q: %v must be a production schema name", dev, prod)
			}
			m[dev] = p
		}
	default:
		return nil, fmt.Errorf("must be a mapping of dev schema to production schema, e.g. {dbt_fabio: analytics}, not %T", raw)
	}
	return m, nil
}

// parseList reads a list: a YAML sequence, repeated flags, or "a,b" (environment).
func parseList(raw any) ([]string, error) {
	var items []string
	switch r := raw.(type) {
	case nil:
	case string:
		items = strings.Split(r, ",")
	case []string:
		for _, v := range r {
			items = append(items, strings.Split(v, ",")...)
		}
	case []any:
		for _, v := range r {
			items = append(items, fmt.Sprint(v))
		}
	default:
		return nil, fmt.Errorf("must be a list of names, not %T", raw)
	}
	var out []string
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out, nil
}

// parseSize reads a byte count with an optional unit: 1048576, 512kB, 64MiB, 1GiB.
func parseSize(s string) (int, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive size (write it like 1048576, 64MiB or 1GiB)", s)
	}
	// PostgreSQL's own limit: a message length is an int32.
	if n*mult > 1<<30 || n > 1<<30 {
		return 0, fmt.Errorf("%d bytes is over 1GiB, PostgreSQL's own limit for one message", n*mult)
	}
	return int(n * mult), nil
}

// parseDuration reads a duration from any source — a flag or environment string, or a YAML string or number — the
// same way: a number with a unit (30s, 5m, 1h30m, 24h), or 0. A bare number is refused rather than guessed at:
// cast and time.ParseDuration disagree about it (30 nanoseconds, or an error).
func parseDuration(raw any) (time.Duration, error) {
	var str string
	switch r := raw.(type) {
	case time.Duration:
		return r, nil
	case string:
		str = strings.TrimSpace(r)
	case int, int64, float64, uint64:
		str = fmt.Sprint(r)
	default:
		return 0, fmt.Errorf("%v is not a duration (write it like 30s, 5m or 24h)", raw)
	}
	if str == "0" {
		return 0, nil
	}
	if _, err := strconv.ParseFloat(str, 64); err == nil {
		return 0, fmt.Errorf("%s has no unit (write it like %ss, %sm or %sh)", str, str, str, str)
	}
	d, err := time.ParseDuration(str)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (write it like 30s, 5m or 24h)", str)
	}
	if d < 0 {
		return 0, fmt.Errorf("%v is negative", d)
	}
	return d, nil
}

// durationText is a duration flag's value as typed: loadConfig parses it with parseDuration, so that a flag, the
// environment and YAML accept the same spellings and report errors the same way.
type durationText string

func (d *durationText) String() string     { return string(*d) }
func (d *durationText) Set(s string) error { *d = durationText(s); return nil }
func (d *durationText) Type() string       { return "duration" }

// formatDuration writes a default the way a user would (24h, 30m, 2s, 0) rather than time.Duration's 24h0m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	for _, z := range []string{"0s", "0m"} {
		if strings.HasSuffix(s, "m"+z) || strings.HasSuffix(s, "h"+z) {
			s = strings.TrimSuffix(s, z)
		}
	}
	return s
}

// origin names where key's value came from, for a message about that value: " (from flag --mode)", or "" when it
// is the default or unknown.
func (c *Config) origin(key string) string {
	if from := c.Sources[key]; from != "" && from != "default" {
		return " (from " + from + ")"
	}
	return ""
}

// validate checks what a running proxy needs. Every message says what to do.
func (c *Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen %q%s is not host:port (e.g. --listen 127.0.0.1:6432)", c.Listen, c.origin("listen"))
	}
	if c.Admin != "" {
		if _, _, err := net.SplitHostPort(c.Admin); err != nil {
			bad("admin %q%s is not host:port (e.g. --admin 127.0.0.1:6480, or --admin \"\" to disable it)", c.Admin, c.origin("admin"))
		}
	}
	// serve runs the PostgreSQL listener when upstream is set, the Snowflake listener when snowflake_upstream is,
	// or both; one of them is needed.
	if c.Upstream != "" || c.SnowflakeUpstream == "" {
		if err := validateUpstream(c.Upstream); err != nil {
			errs = append(errs, fmt.Errorf("%w%s", err, c.origin("upstream")))
		}
	}
	if c.SnowflakeUpstream != "" {
		if _, err := snowflake.ParseUpstream(c.SnowflakeUpstream); err != nil {
			bad("snowflake_upstream%s: %v", c.origin("snowflake_upstream"), err)
		}
		if _, _, err := net.SplitHostPort(c.SnowflakeListen); err != nil {
			bad("snowflake_listen %q%s is not host:port (e.g. --snowflake-listen 127.0.0.1:6433)", c.SnowflakeListen, c.origin("snowflake_listen"))
		}
	}
	if c.SnowflakeCatalogDSN != "" {
		if c.SnowflakeUpstream == "" {
			bad("snowflake_catalog_dsn%s needs the Snowflake listener: set snowflake_upstream too", c.origin("snowflake_catalog_dsn"))
		}
		if err := validateSnowflakeDSN(c.SnowflakeCatalogDSN); err != nil {
			bad("snowflake_catalog_dsn%s: %v", c.origin("snowflake_catalog_dsn"), err)
		}
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("log_format %q%s: use text or json", c.LogFormat, c.origin("log_format"))
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, fmt.Errorf("%w%s", err, c.origin("log_level")))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("tls_cert and tls_key go together: pass both --tls-cert and --tls-key, or neither")
	}
	if c.MaxClientConns <= 0 {
		bad("max_client_conns %d%s: must be at least 1", c.MaxClientConns, c.origin("max_client_conns"))
	}
	if c.MaxUnauthenticated <= 0 {
		bad("max_unauthenticated %d%s: must be at least 1", c.MaxUnauthenticated, c.origin("max_unauthenticated"))
	}
	if c.HandshakeTimeout <= 0 {
		bad("handshake_timeout%s must be positive (e.g. 30s)", c.origin("handshake_timeout"))
	}
	if _, err := catalog.ParseMode(c.Mode); err != nil { // the one validation of a mode (catalog.ParseMode)
		bad("mode %q%s: use defer, favor_state or off", c.Mode, c.origin("mode"))
	}
	switch c.Notices {
	case "first", "all", "off":
	default:
		bad("notices %q%s: use first, all or off", c.Notices, c.origin("notices"))
	}
	switch c.OnCatalogError {
	case "open", "fail":
	default:
		bad("on_catalog_error %q%s: use open or fail", c.OnCatalogError, c.origin("on_catalog_error"))
	}
	if c.Manifest != "" && c.DevSchema == "" && c.DevManifest == "" && len(c.SchemaMap) == 0 {
		bad("with a manifest, deferproxy must know the dev target: pass --dev-schema (a schema or a template like dbt_{user}), --dev-manifest target/manifest.json, --project-dir (or start it in the dbt project), or --schema-map dev=prod")
	}
	if c.Manifest == "" && (c.DevSchema != "" || c.DevManifest != "" || len(c.SchemaMap) > 0) {
		bad("dev_schema, dev_manifest and schema_map need a production manifest: pass --manifest path/to/prod/manifest.json")
	}
	if c.CatalogDSN != "" {
		if err := validatePostgresURL(c.CatalogDSN); err != nil {
			bad("catalog_dsn%s: %v", c.origin("catalog_dsn"), err)
		}
	}
	return errors.Join(errs...)
}

func validateUpstream(u string) error {
	if u == "" {
		return errors.New("upstream is required: pass --upstream postgres://host:5432/database?sslmode=prefer (or --snowflake-upstream https://<account>.snowflakecomputing.com for Snowflake), set DEFERPROXY_UPSTREAM, or write `upstream:` in the config file")
	}
	if err := validatePostgresURL(u); err != nil {
		return fmt.Errorf("upstream: %w", err)
	}
	return nil
}

func validatePostgresURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		// url.Error prints the whole URL, password included: only its reason is kept.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%q is not a URL: %v (write it like postgres://host:5432/database?sslmode=prefer)", secret.DSN(s), err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("%q must start with postgres:// (e.g. postgres://host:5432/database?sslmode=prefer)", secret.DSN(s))
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%q has no host (e.g. postgres://host:5432/database)", secret.DSN(s))
	}
	switch m := u.Query().Get("sslmode"); m {
	case "", "disable", "allow", "prefer", "require", "verify-ca", "verify-full":
	default:
		return fmt.Errorf("sslmode %q: use disable, prefer, require or verify-full", m)
	}
	return nil
}

// validateSnowflakeDSN checks the shape of a gosnowflake DSN, [user[:password]@]host[:port][/database[/schema]][?k=v…]
// (the driver reads the rest); its errors never include the password.
func validateSnowflakeDSN(dsn string) error {
	if strings.Contains(dsn, "://") {
		return fmt.Errorf("%q is a URL; write a gosnowflake DSN, user:password@<account>/<database>?warehouse=WH&role=ROLE", secret.DSN(dsn))
	}
	at := strings.LastIndex(dsn, "@")
	rest := dsn[at+1:]
	if at <= 0 || rest == "" || strings.HasPrefix(rest, "/") || strings.HasPrefix(rest, "?") {
		return fmt.Errorf("%q names no user and account; write user:password@<account>/<database>?warehouse=WH&role=ROLE", secret.DSN(dsn))
	}
	if _, q, ok := strings.Cut(rest, "?"); ok {
		if _, err := url.ParseQuery(q); err != nil {
			return fmt.Errorf("%q: its parameters are not k=v&…: %v", secret.DSN(dsn), err)
		}
	}
	return nil
}

// secrets is every secret of the configuration (passwords in its connection strings and URLs, the schedulers'
// tokens, manifest header values, the admin token), which the log, every error and the admin listener's documents
// are scrubbed of.
func (c Config) secrets() *secret.Set {
	s := secret.NewSet(c.Upstream, c.CatalogDSN, c.Manifest, c.ManifestRunURL, c.DbtCloudURL, c.S3Endpoint, c.ParadimeEndpoint,
		c.SnowflakeUpstream, c.SnowflakeCatalogDSN)
	s.AddValue(c.DbtCloudToken, c.ParadimeKey, c.ParadimeSecret, c.AdminToken)
	for _, vals := range c.ManifestHeaders {
		for _, v := range vals {
			// "Bearer abc…": the credential is the last word; the whole value too.
			s.AddValue(v)
			if f := strings.Fields(v); len(f) > 1 {
				s.AddValue(f[len(f)-1])
			}
		}
	}
	return s
}
