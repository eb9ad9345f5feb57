package deferral_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"

	"github.com/deferproxy/deferproxy/deferral"
	"github.com/deferproxy/deferproxy/engine"
)

// The write guard's decision, fuzzed offline (FuzzGuardSpellings) and its saved inputs replayed against PostgreSQL
// (TestGuardFuzzCorpus). Each input chooses, byte by byte, a client encoding, standard_conforming_strings, how the
// search_path is set (SET in any case and form, set_config, a startup parameter), a write (verb, target, the
// target's spelling: case, quotes, U& escapes, comments) and a literal around it (the fuzzer's own text, quoted
// the way the server will read it); the generator knows by construction whether the write lands in production.
// The property: such a write is always refused.

// fuzzEncodings are the client encodings an input can choose ("": UTF8).
var fuzzEncodings = []struct {
	name string
	enc  encoding.Encoding
	char string // a non-ASCII character; in SJIS, BIG5 and GBK one whose trail byte is '\'
}{
	{"", nil, "é"}, {"LATIN1", charmap.ISO8859_1, "é"}, {"SJIS", japanese.ShiftJIS, "表"},
	{"BIG5", traditionalchinese.Big5, "許"}, {"GBK", simplifiedchinese.GBK, "乗"},
}

// genAttack is one generated attack.
type genAttack struct {
	params    map[string]string // startup parameters
	steps     []string          // statement texts, in the client encoding
	prodWrite bool              // some step writes a production relation
	scsOff    bool              // standard_conforming_strings is off when the steps run
	encoding  string            // client_encoding when the steps run ("" UTF8)
	path      string            // the search_path as the server has it after the startup
}

// chooser hands out choices from the fuzzer's bytes (zero when they run out).
type chooser struct {
	b []byte
	i int
}

func (c *chooser) pick(n int) int {
	if c.i >= len(c.b) {
		return 0
	}
	v := int(c.b[c.i]) % n
	c.i++
	return v
}

// spellCase writes a keyword or unquoted name in a case the choices give.
func spellCase(c *chooser, w string) string {
	switch c.pick(3) {
	case 0:
		return w
	case 1:
		return strings.ToUpper(w)
	}
	b := []byte(w)
	for i := range b {
		if c.pick(2) == 1 && b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

// spellName writes a schema or relation name (lower case as stored) unquoted, quoted or as U&"…".
func spellName(c *chooser, n string) string {
	switch c.pick(4) {
	case 1:
		return `"` + n + `"`
	case 2:
		var b strings.Builder
		b.WriteString(`U&"`)
		for _, r := range n {
			if c.pick(2) == 1 {
				fmt.Fprintf(&b, `\%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
		b.WriteString(`"`)
		return b.String()
	case 3:
		return `U&"` + strings.ReplaceAll(fmt.Sprintf(`!%04x`, n[0]), "!", "!") + n[1:] + `" UESCAPE '!'`
	}
	return spellCase(c, n)
}

// quoteLit quotes a literal the way the server will read it: backslashes and quotes escaped with a backslash when
// strings take escapes, doubled quotes otherwise; sometimes as E'…'.
func quoteLit(c *chooser, s string, scsOff bool) string {
	if c.pick(3) == 0 || scsOff {
		prefix := "E"
		if scsOff && c.pick(2) == 0 {
			prefix = ""
		}
		return prefix + "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// generate builds the attack for one input. lit is the fuzzer's free text, put inside a literal.
func generate(data []byte, lit string) genAttack {
	c := &chooser{b: data}
	g := genAttack{params: map[string]string{}}
	enc := fuzzEncodings[c.pick(len(fuzzEncodings))]
	// Only characters every encoding can carry, plus the encoding's own special one.
	var lb strings.Builder
	for _, r := range lit {
		if r >= 0x20 && r < 0x7f {
			lb.WriteRune(r)
		}
	}
	lit = lb.String() + enc.char
	if enc.name != "" {
		if c.pick(2) == 0 {
			g.params["client_encoding"] = enc.name
		} else {
			g.steps = append(g.steps, spellCase(c, "set")+" client_encoding = '"+enc.name+"'")
		}
		g.encoding = enc.name
	}
	switch c.pick(3) {
	case 1:
		g.params["options"] = "-c standard_conforming_strings=off"
		g.scsOff = true
	case 2:
		g.steps = append(g.steps, spellCase(c, "set")+" "+spellCase(c, "standard_conforming_strings")+" = off")
		g.scsOff = true
	}
	paths := []string{"", "analytics", "dbt_fabio", "dbt_fabio, analytics", `"$user", analytics`}
	path := paths[c.pick(len(paths))]
	g.path = "\"$user\", public"
	if path != "" {
		spelled := make([]string, 0, 2)
		for _, p := range strings.Split(path, ", ") {
			if p == `"$user"` {
				spelled = append(spelled, p)
			} else {
				spelled = append(spelled, spellName(c, p))
			}
		}
		list := strings.Join(spelled, ", ")
		switch c.pick(5) {
		case 0:
			g.params["search_path"] = strings.ReplaceAll(path, `"$user"`, "$user")
			g.path = path
		case 1:
			g.params["options"] = strings.TrimSpace(g.params["options"] + " -c search_path=" + strings.ReplaceAll(path, " ", ""))
			g.path = path
		case 2:
			g.steps = append(g.steps, spellCase(c, "set")+" "+spellCase(c, "session")+" "+spellCase(c, "search_path")+" "+spellCase(c, "to")+" "+list)
		case 3:
			g.steps = append(g.steps, "select "+spellCase(c, "set_config")+"('search_path', "+quoteLit(c, path, g.scsOff)+", false)")
		default:
			g.steps = append(g.steps, spellCase(c, "set")+" /* */ "+spellCase(c, "search_path")+" = "+list)
		}
	}
	onProdPath := strings.Contains(path, "analytics")
	// The write.
	var target string
	switch c.pick(3) {
	case 0: // qualified production
		rel := []string{"orders", "audit_log"}[c.pick(2)]
		sep := []string{".", " . ", "/* . */./**/"}[c.pick(3)]
		target, g.prodWrite = spellName(c, "analytics")+sep+spellName(c, rel), true
	case 1: // qualified dev
		target = spellName(c, "dbt_fabio") + "." + spellName(c, "stg_customers")
	default: // unqualified
		rel := []string{"orders", "audit_log", "stg_customers"}[c.pick(3)]
		target = spellName(c, rel)
		g.prodWrite = onProdPath && rel != "stg_customers" || onProdPath && !strings.HasPrefix(path, "dbt_fabio")
	}
	var write string
	l := quoteLit(c, lit, g.scsOff)
	switch c.pick(4) {
	case 0:
		write = spellCase(c, "delete") + " " + spellCase(c, "from") + " " + target + " WHERE src = " + l
	case 1:
		write = spellCase(c, "update") + " " + target + " SET src = " + l + " WHERE false"
	case 2:
		write = spellCase(c, "insert") + " " + spellCase(c, "into") + " " + target + " SELECT 1, " + l + " WHERE false"
	default:
		write = spellCase(c, "truncate") + " " + target
	}
	switch c.pick(3) {
	case 1: // a read of a literal first, in the same message
		write = "SELECT " + quoteLit(c, lit, g.scsOff) + " AS x; " + write
	case 2: // comments and a trailing literal
		write = "/* " + strings.ReplaceAll(lit, "*/", "") + " */ " + write + " -- " + strings.ReplaceAll(lit, "\n", "")
	}
	g.steps = append(g.steps, write)
	if enc.enc != nil {
		for i, s := range g.steps {
			if b, err := enc.enc.NewEncoder().String(s); err == nil {
				g.steps[i] = b
			}
		}
	}
	return g
}

// fuzzEngine is an engine over the test manifest with no dev catalog: the guard needs none.
func fuzzEngine(t testing.TB) *deferral.Engine {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	eng, err := deferral.New(ctx, deferral.Config{
		Manifest: writeManifest(t, "fuzzdb", time.Now()), DevSchema: "dbt_fabio",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

// FuzzGuardSpellings: a generated write into production is always refused, offline, with the server's reports
// (ParameterStatus, the connect-time search_path) played as the proxy would pass them.
func FuzzGuardSpellings(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 4, 0, 0}, "x")
	f.Add([]byte{2, 0, 1, 1, 2, 1, 2, 0, 0, 2}, `a\'`)
	f.Add([]byte{1, 1, 2, 3, 2, 2, 1, 0, 0, 1}, `' ; DELETE FROM analytics.orders; -- `)
	f.Add([]byte{3, 0, 1, 0, 0, 2, 1, 1, 3}, `\`)
	eng := fuzzEngine(f)
	var id uint64
	f.Fuzz(func(t *testing.T, data []byte, lit string) {
		g := generate(data, lit)
		if !g.prodWrite {
			return
		}
		id++
		s := eng.OpenSession(context.Background(), engine.SessionInfo{ID: id, User: "fuzz", Database: "fuzzdb", Params: g.params})
		defer s.Close()
		scs, enc := "on", "UTF8"
		if strings.Contains(g.params["options"], "standard_conforming_strings=off") {
			scs = "off"
		}
		if e := g.params["client_encoding"]; e != "" {
			enc = e
		}
		s.Parameter("standard_conforming_strings", scs)
		s.Parameter("client_encoding", enc)
		s.Parameter("search_path", g.path)
		ctx := context.Background()
		for i, step := range g.steps {
			v := s.Statement(ctx, step)
			if i == len(g.steps)-1 && v.Refusal == nil {
				t.Fatalf("a write into production was allowed:\nparams %q\nsteps %q", g.params, g.steps)
			}
			// What the server would report after the step.
			s.Transaction(engine.TxIdle)
			s.Parameter("standard_conforming_strings", map[bool]string{true: "off", false: "on"}[g.scsOff])
			if g.encoding != "" {
				s.Parameter("client_encoding", g.encoding)
			}
		}
	})
}

// TestGuardFuzzCorpus replays FuzzGuardSpellings' saved inputs (testdata/fuzz/FuzzGuardSpellings) against
// PostgreSQL through the proxy: a generated write into production is refused with 42501 and production is unchanged.
func TestGuardFuzzCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzGuardSpellings", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no saved inputs: %v", err)
	}
	e := newEnv(t, envOptions{})
	e.c.Exec(t, e.db, attackSetupSQL)
	before := prodFingerprint(t, e)
	ctx := context.Background()
	prodWrites := 0
	for _, file := range files {
		data, lit := readFuzzInput(t, file)
		g := generate(data, lit)
		if g.prodWrite {
			prodWrites++
		}
		c := e.connect(t, g.params)
		for i, step := range g.steps {
			_, err := c.PgConn().Exec(ctx, step).ReadAll()
			if i < len(g.steps)-1 {
				if err != nil {
					t.Fatalf("%s: step %q: %v", file, step, err)
				}
				continue
			}
			var pe *pgconn.PgError
			if g.prodWrite && (!errors.As(err, &pe) || pe.Code != "42501") {
				t.Errorf("%s: %q: want 42501, got %v", file, step, err)
			}
		}
		c.Close(ctx)
	}
	if prodWrites == 0 {
		t.Fatal("no saved input writes production: the corpus proves nothing")
	}
	t.Logf("%d saved inputs, %d of them write production", len(files), prodWrites)
	if after := prodFingerprint(t, e); after != before {
		t.Errorf("production changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// readFuzzInput reads a saved input of FuzzGuardSpellings ("go test fuzz v1", then []byte(…) and string(…)).
func readFuzzInput(t *testing.T, file string) ([]byte, string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 || lines[0] != "go test fuzz v1" {
		t.Fatalf("%s: not a saved fuzz input of two values", file)
	}
	arg := func(line, typ string) string {
		if !strings.HasPrefix(line, typ+"(") || !strings.HasSuffix(line, ")") {
			t.Fatalf("%s: %q is not %s(…)", file, line, typ)
		}
		s, err := strconv.Unquote(line[len(typ)+1 : len(line)-1])
		if err != nil {
			t.Fatalf("%s: %q: %v", file, line, err)
		}
		return s
	}
	return []byte(arg(lines[1], "[]byte")), arg(lines[2], "string")
}
