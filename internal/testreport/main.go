// Command testreport reads `go test -json` on standard input and prints what a person needs from it: each package's
// result line, the whole output of every test that failed, and at the end one summary line with the counts of
// packages, tests passed, failed and skipped. In CI (-fail-on-skip) a skipped test is a failure: every test there
// must run, so a missing PostgreSQL, venv or corpus cannot turn the build green by skipping.
//
//	go test -json ./... | go run ./internal/testreport -fail-on-skip -summary .tmp/test-summary.txt
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	failOnSkip := flag.Bool("fail-on-skip", false, "exit 1 when any test was skipped (CI)")
	summary := flag.String("summary", "", "also write the summary line to this file")
	flag.Parse()
	start := time.Now()
	r, err := readEvents(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(1)
	}
	line := r.line(time.Since(start), *failOnSkip)
	fmt.Println(line)
	if *summary != "" {
		if err := os.WriteFile(*summary, []byte(line+"\n"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			os.Exit(1)
		}
	}
	if !r.ok(*failOnSkip) {
		os.Exit(1)
	}
}
