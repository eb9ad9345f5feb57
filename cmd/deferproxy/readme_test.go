package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite generated files (the README configuration table)")

// TestREADMEConfigTable keeps README.md's configuration reference generated from the settings table, so the
// documentation cannot drift from the flags. Refresh with -update.
func TestREADMEConfigTable(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	const begin, end = "<!-- config-table:", "<!-- /config-table -->"
	i := strings.Index(readme, begin)
	j := strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q … %q markers", begin, end)
	}
	i += strings.Index(readme[i:], "\n") + 1
	want := configTable()
	if readme[i:j] == want {
		return
	}
	if !*update {
		t.Fatalf("README.md's configuration table is out of date: run go test ./cmd/deferproxy -run TestREADMEConfigTable -update")
	}
	if err := os.WriteFile(path, []byte(readme[:i]+want+readme[j:]), 0o644); err != nil {
		t.Fatal(err)
	}
}

func configTable() string {
	var sb strings.Builder
	sb.WriteString("| key | environment | flag | default | meaning |\n|---|---|---|---|---|\n")
	sb.WriteString("| | `DEFERPROXY_CONFIG` | `--config` | | the YAML configuration file |\n")
	for _, s := range settings {
		def := ""
		switch d := s.def.(type) {
		case string:
			if d != "" {
				def = "`" + d + "`"
			}
		case time.Duration:
			def = "`" + fmtDuration(d) + "`"
		case []string:
			def = ""
		default:
			def = fmt.Sprintf("`%v`", d)
		}
		usage := strings.ReplaceAll(s.usage, "|", `\|`)
		fmt.Fprintf(&sb, "| `%s` | `%s` | `--%s` | %s | %s |\n", s.key, s.env(), s.flag(), def, usage)
	}
	return sb.String()
}

// fmtDuration writes 30s, 10m, 24h rather than Go's 30s, 10m0s, 24h0m0s.
func fmtDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}
