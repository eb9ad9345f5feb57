// Command kwgen writes rewrite/keywords_pg.go, pgQuoteKeyword, from the kwlist.h of the libpg_query that pg_query_go
// embeds: the keywords quote_ident() quotes are every keyword that is not UNRESERVED_KEYWORD. Run it through
// `go generate ./rewrite` after upgrading pg_query_go.
//
//	go run ./internal/kwgen -o keywords_pg.go      (from rewrite/)
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

const module = "github.com/pganalyze/pg_query_go/v5"

// PG_KEYWORD("abort", ABORT_P, UNRESERVED_KEYWORD, BARE_LABEL)
var keywordLine = regexp.MustCompile(`^PG_KEYWORD\("([a-z_]+)", \w+, (\w+), \w+\)`)

func main() {
	out := flag.String("o", "keywords_pg.go", "file to write")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "kwgen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
	if err != nil {
		return fmt.Errorf("find %s in the module cache (go mod download): %w", module, err)
	}
	kwlist := filepath.Join(strings.TrimSpace(string(dir)), "parser", "include", "postgres", "parser", "kwlist.h")
	f, err := os.Open(kwlist)
	if err != nil {
		return err
	}
	defer f.Close()
	var quoted []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := keywordLine.FindStringSubmatch(sc.Text())
		if m != nil && m[2] != "UNRESERVED_KEYWORD" {
			quoted = append(quoted, m[1])
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(quoted) == 0 {
		return fmt.Errorf("no keywords found in %s", kwlist)
	}
	var b bytes.Buffer
	b.WriteString(`// Code generated from libpg_query 16 (pg_query_go v5) src/include/parser/kwlist.h; DO NOT EDIT.

package rewrite

// pgQuoteKeyword reports whether word (lower case) is a PostgreSQL keyword that quote_ident quotes: every
// keyword except the unreserved ones (reserved, column-name and type/function-name keywords).
func pgQuoteKeyword(word string) bool {
	switch word {
`)
	for _, k := range quoted {
		fmt.Fprintf(&b, "\tcase %q:\n\t\treturn true\n", k)
	}
	b.WriteString("\t}\n\treturn false\n}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		return err
	}
	return os.WriteFile(out, src, 0o644)
}
