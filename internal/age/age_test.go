package age

import (
	"testing"
	"time"
)

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		12 * time.Second: "12s", 11*time.Minute + 5*time.Second: "11m", 5*time.Hour + 12*time.Minute: "5h12m",
		47*time.Hour + 59*time.Minute: "47h59m", 75 * time.Hour: "3d3h", 0: "unknown", -time.Second: "unknown",
	} {
		if got := Human(d); got != want {
			t.Errorf("Human(%v) = %q, want %q", d, got, want)
		}
	}
}
