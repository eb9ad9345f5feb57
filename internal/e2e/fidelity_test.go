package e2e

import (
	"strings"
	"testing"
)

// TestFidelity runs each case of each project natively (`--defer --state prod`, direct to PostgreSQL) and through the
// proxy (no --defer), in both modes, and requires the same outcome: dbt's per-node results, the dev relations row for
// row, and the set of relations the statements named (PostgreSQL's statement log). Each case also asserts the
// relations dbt's defer rule requires, so that two equally wrong runs cannot pass. Projects run in parallel (as many
// as -parallel, GOMAXPROCS by default), each on its own cluster; a project's cases run one after another.
func TestFidelity(t *testing.T) {
	for _, p := range fidelityProjects {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
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
						if kd, ok := c.differs[mode]; ok {
							checkKnownDifference(t, native, proxied, kd)
							return
						}
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

// checkKnownDifference asserts a documented difference: the proxy named exactly the native run's relations plus
// kd.proxyReads. Data differences that follow from it are logged, not failed.
func checkKnownDifference(t *testing.T, native, proxied devRun, kd knownDifference) {
	t.Helper()
	want := map[string]bool{}
	for k := range native.named {
		want[k] = true
	}
	for _, k := range kd.proxyReads {
		if native.named[k] {
			t.Errorf("documented difference %q no longer holds: the native run names %s too", kd.why, k)
		}
		want[k] = true
	}
	if d := diffMaps("native+documented", setMap(want), "proxy", setMap(proxied.named)); d != "" {
		t.Errorf("documented difference %q: relations named differ beyond it:\n%s\n%s", kd.why, d, proxied.note)
	}
	if kd.relations != nil {
		allowed := map[string]bool{}
		for _, r := range kd.relations {
			allowed[r] = true
		}
		ns, ps := relSnapshot{}, relSnapshot{}
		for k, v := range native.snap {
			if !allowed[k] {
				ns[k] = v
			}
		}
		for k, v := range proxied.snap {
			if !allowed[k] {
				ps[k] = v
			}
		}
		if d := diffMaps("native", ns, "proxy", ps); d != "" {
			t.Errorf("documented difference %q: relations beyond %v differ:\n%s", kd.why, kd.relations, d)
		}
	}
	switch d := diffMaps("native", native.snap, "proxy", proxied.snap); {
	case d != "":
		t.Logf("documented difference %q: dev data differs as expected:\n%s", kd.why, d)
	case kd.dataDiffers:
		t.Errorf("documented difference %q no longer holds: native and proxy built the same data (update README)", kd.why)
	default:
		t.Logf("documented difference %q: dev data happens to be equal", kd.why)
	}
}

func setMap(s map[string]bool) map[string]string {
	m := make(map[string]string, len(s))
	for k := range s {
		m[k] = "named"
	}
	return m
}
