package pgcluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

func TestRemoveStale(t *testing.T) {
	base := t.TempDir()
	// A process that has exited: its pid is free (reuse within this test is practically impossible).
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid
	mk := func(name string, owner int) string {
		d := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Join(d, "data"), 0o700); err != nil {
			t.Fatal(err)
		}
		if owner != 0 {
			if err := os.WriteFile(filepath.Join(d, ownerFile), []byte(strconv.Itoa(owner)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	stale := mk("pgtest-dead", dead)
	live := mk("pgtest-live", os.Getpid())
	creating := mk("pgtest-creating", 0)
	other := mk("not-pgtest", dead)
	// Owner dead but its postmaster (here: this process) alive: kept.
	running := mk("pgtest-running", dead)
	if err := os.WriteFile(filepath.Join(running, "data", "postmaster.pid"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	removeStale(base)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale dir of dead pid %d kept: %v", dead, err)
	}
	for _, d := range []string{live, creating, other, running} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s removed: %v", d, err)
		}
	}
}
