// Package age writes how long ago something happened the way people say it. The status command, the engine's
// messages and the admin page all speak of manifest and run ages, and must say them alike.
package age

import (
	"fmt"
	"time"
)

// Human writes d as 45s, 11m, 5h12m or 3d4h; "unknown" when d is not positive (no time known, or a clock skew).
func Human(d time.Duration) string {
	switch {
	case d <= 0:
		return "unknown"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}
