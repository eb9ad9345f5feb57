package e2e

import (
	"strings"
	"testing"
)

// TestFidelity runs each case of each project natively (`--defer --state prod`, direct to PostgreSQL) and through the
// proxy (no --defer), in both modes, and requires the same outcome: dbt's per-node results, the dev relations row for
// row, and the set of relations the statements named (PostgreSQL's statement log). Each case also asserts the
// relations dbt's defer rule requires, so that two equally wrong runs cannot pass.
func TestFidelity(t *testing.T) {
	for _, p := range fidelityProjects {
		t.Run(p.name, func(t *testing.T) {
			r := rigFor(t, p)
			for _, c := range p.cases {
				for _, mode := range []string{modeDefer, modeFavorState} {
					t.Run(c.name+"/"+mode, func(t *testing.T) {
						native := r.runDev(t, "native", mode, c.args)
						checkReads(t, native, c.reads[mode])
						if native.run.ExitCode != 0 && !c.mayFail {
							t.Fatalf("native dbt %s failed (exit %d): the case itself is broken\n%s",
								strings.Join(native.run.Args, " "), native.run.ExitCode, tail(native.run.Output, 4000))
						}
						proxied := r.runDev(t, "proxy", mode, c.args)
						compareRuns(t, native, proxied)
						checkReads(t, proxied, c.reads[mode])
					})
				}
			}
		})
	}
}

// checkReads requires every relation in want to be named by the run's statements.
func checkReads(t *testing.T, d devRun, want []string) {
	t.Helper()
	var missing []string
	for _, w := range want {
		if !d.named[w] {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%s run named no %v; it named %v", d.how, missing, sortedKeys(d.named))
	}
}

// compareRuns requires the proxy run to equal the native one.
func compareRuns(t *testing.T, native, proxied devRun) {
	t.Helper()
	if native.run.ExitCode != proxied.run.ExitCode {
		t.Errorf("exit code: native %d, proxy %d\nproxy output:\n%s", native.run.ExitCode, proxied.run.ExitCode,
			tail(proxied.run.Output, 4000))
	}
	if d := diffMaps("native", native.run.Results, "proxy", proxied.run.Results); d != "" {
		t.Errorf("dbt results differ:\n%s\nproxy output:\n%s", d, tail(proxied.run.Output, 4000))
	}
	if d := diffMaps("native", native.snap, "proxy", proxied.snap); d != "" {
		t.Errorf("dev relations differ:\n%s", d)
	}
	nr, pr := setMap(native.named), setMap(proxied.named)
	if d := diffMaps("native", nr, "proxy", pr); d != "" {
		t.Errorf("relations named by the statements differ:\n%s", d)
	}
	if t.Failed() {
		t.Logf("proxy engine status: %s", proxied.note)
	}
}

func setMap(s map[string]bool) map[string]string {
	m := make(map[string]string, len(s))
	for k := range s {
		m[k] = "named"
	}
	return m
}
