package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/deferproxy/deferproxy/internal/age"
	"github.com/deferproxy/deferproxy/tally"
)

func newExecCmd() *cobra.Command {
	var favorState bool
	var mode string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "exec [--favor-state | --mode MODE] [--admin ADDR] -- COMMAND [ARG...]",
		Short: "Run a command (dbt run …) through the proxy, then say what it deferred and to which production run",
		Long: `exec runs COMMAND with its PostgreSQL sessions tagged (PGOPTIONS gets -c deferproxy.tag=<id>, which the proxy
consumes and never forwards), passes stdin, stdout, stderr and signals through, and when it ends prints what the
proxy did for it: the relations deferred (dbt_fabio.orders → analytics.orders), the statements refused, and the
production run used — its id, job or schedule, finished time and age, and its URL (a link, where the terminal
supports it). dbt prints no server notices, so this is how a dbt user sees the deferral. The exit status is the
command's. While the command runs, each manifest.json dbt writes in the project (--project-dir, default
$DBT_PROJECT_DIR or the current directory; target path as dbt resolves it) is sent to the proxy for the command's
sessions only, so their dev mapping is exact even on a shared proxy. COMMAND's profile must point at the proxy; the proxy is found by its admin listener (--admin, default
the configured admin).`,
		Example: `  deferproxy exec -- dbt run -s my_model
  deferproxy exec --favor-state -- dbt build -s state:modified+`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := statusAdminClient(cmd, os.LookupEnv)
			if err != nil {
				return usageError{err}
			}
			if favorState {
				if mode != "" && mode != "favor_state" {
					return usageError{errors.New("--favor-state and --mode " + mode + " contradict each other: give one")}
				}
				mode = "favor_state"
			}
			switch mode {
			case "", "defer", "favor_state", "off":
			default:
				return usageError{fmt.Errorf("--mode %q: use defer, favor_state or off", mode)}
			}
			projectDir, _ := cmd.Flags().GetString("project-dir")
			if projectDir == "" {
				projectDir = os.Getenv("DBT_PROJECT_DIR")
			}
			if projectDir == "" {
				projectDir = "."
			}
			return runTagged(cmd.Context(), cmd, client, mode, timeout, projectDir, args)
		},
	}
	// Everything after the command's name is the command's, flags included.
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().BoolVar(&favorState, "favor-state", false, "the command's sessions defer in favor_state mode (like dbt --favor-state)")
	cmd.Flags().StringVar(&mode, "mode", "", "the command's sessions' mode: defer, favor_state or off (default: the proxy's)")
	addAdminClientFlags(cmd.Flags())
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "how long to wait for the proxy's summary")
	cmd.Flags().String("project-dir", "", "the dbt project whose target/manifest.json is sent to the proxy (default $DBT_PROJECT_DIR or .)")
	return cmd
}

// runTagged runs args with a fresh tag, then prints the proxy's summary for it. The error is an exitStatus with the
// command's status when it ran.
func runTagged(ctx context.Context, cmd *cobra.Command, admin adminClient, mode string, timeout time.Duration, projectDir string, args []string) error {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	tag := hex.EncodeToString(b[:])
	pgoptions := strings.TrimSpace(os.Getenv("PGOPTIONS") + " -c deferproxy.tag=" + tag)
	if mode != "" {
		pgoptions += " -c deferproxy.mode=" + mode
	}
	c := exec.Command(args[0], args[1:]...)
	c.Stdin, c.Stdout, c.Stderr = cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()
	c.Env = append(os.Environ(), "PGOPTIONS="+pgoptions, "DEFERPROXY_TAG="+tag)

	// Signals: a terminal's Ctrl-C reaches the command by itself (same process group), so deferproxy only stays alive
	// to print the summary; SIGTERM and SIGHUP sent to deferproxy alone are passed on.
	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigc)
	if err := c.Start(); err != nil {
		return fmt.Errorf("run %s: %w", args[0], err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigc:
				if s != os.Interrupt {
					_ = c.Process.Signal(s)
				}
			case <-done:
				return
			}
		}
	}()
	var sent devManifestSender
	if path, _, err := dbtManifestPath(projectDir, os.LookupEnv); err == nil {
		sent = devManifestSender{admin: admin, tag: tag, path: path, w: cmd.ErrOrStderr(), finished: make(chan struct{})}
		go sent.watch(done)
	}
	runErr := c.Wait()
	close(done)
	sent.wait()

	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	printExecSummary(sctx, cmd.ErrOrStderr(), admin, tag)
	if sent.sent > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "deferproxy: the dev manifest %s went to the proxy for these sessions (%d version%s)\n",
			sent.path, sent.sent, map[bool]string{true: "", false: "s"}[sent.sent == 1])
	}

	if runErr != nil {
		var ee *exec.ExitError
		if errors.As(runErr, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return exitStatus(128 + int(ws.Signal()))
			}
			return exitStatus(ee.ExitCode())
		}
		return fmt.Errorf("run %s: %w", args[0], runErr)
	}
	return nil
}

// printExecSummary prints what the proxy did for tag's sessions and the production run used.
func printExecSummary(ctx context.Context, w io.Writer, admin adminClient, tag string) {
	addr := admin.addr
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	var rep tally.Report
	code, err := getJSON(ctx, admin, "/exec/"+tag, &rep)
	switch {
	case err != nil:
		p("deferproxy: no summary: %v\n", err)
		return
	case code == http.StatusNotFound:
		p("deferproxy: no session of this command went through the proxy at %s (does its profile point at the proxy?)\n", addr)
		return
	}
	n := 0
	for _, d := range rep.Deferrals {
		n += d.Count
	}
	switch {
	case len(rep.Deferrals) == 0:
		p("deferproxy: nothing deferred to production (%d statements in %d sessions)\n", rep.Statements, rep.Sessions)
	default:
		p("deferproxy: %d relation%s deferred to production (%d distinct, %d statements in %d sessions):\n",
			n, map[bool]string{true: "", false: "s"}[n == 1], len(rep.Deferrals), rep.Statements, rep.Sessions)
		for _, d := range rep.Deferrals {
			p("  %s → %s\n", d.From, d.To)
		}
	}
	if len(rep.Refusals) > 0 {
		p("deferproxy: %d statement%s refused:\n", len(rep.Refusals), map[bool]string{true: "", false: "s"}[len(rep.Refusals) == 1])
		for _, r := range rep.Refusals {
			p("  %s %s\n", r.Code, r.Message)
		}
	}
	if len(rep.Warnings) > 0 {
		p("deferproxy: %d warning%s (dbt does not print the proxy's warnings):\n", len(rep.Warnings),
			map[bool]string{true: "", false: "s"}[len(rep.Warnings) == 1])
		for _, w := range rep.Warnings {
			p("  WARNING %s\n", w)
		}
	}
	var doc statusDoc
	if _, err := getJSON(ctx, admin, "/status", &doc); err != nil || doc.Engine == nil || doc.Engine.Production == nil {
		p("deferproxy: production run unknown (no production manifest loaded)\n")
		return
	}
	r := doc.Engine.Production
	line := "deferproxy: production run " + r.Label
	if !r.FinishedAt.IsZero() {
		line += ", finished " + r.FinishedAt.UTC().Format("2006-01-02 15:04 UTC") + " (" + age.Human(time.Since(r.FinishedAt)) + " ago)"
	}
	if r.Stale {
		line += ", STALE"
	}
	p("%s\n", line)
	if r.URL != "" {
		p("  %s\n", link(w, r.URL, r.URL))
	}
}

// getJSON GETs path from the admin listener and decodes a 200 answer into v; other statuses are returned with no
// error.
func getJSON(ctx context.Context, admin adminClient, path string, v any) (int, error) {
	resp, err := admin.get(ctx, path)
	if err != nil {
		return 0, fmt.Errorf("the proxy's admin listener does not answer: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(v)
}

// link writes text as an OSC 8 hyperlink to url when w is a terminal that is not dumb, else text alone.
func link(w io.Writer, url, text string) string {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return text
	}
	if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err != nil {
		return text
	}
	return "\x1b]8;;" + url + "\x1b\\" + text + "\x1b]8;;\x1b\\"
}

// devManifestSender sends the proxy each manifest.json dbt writes while the command runs (dbt writes it after
// parsing, before it runs models), scoped to the command's tag: a body, never a path for the proxy to open.
type devManifestSender struct {
	admin     adminClient
	tag, path string
	w         io.Writer
	finished  chan struct{}
	sent      int
}

// watch checks the file every 200 ms until done, sending a version once it is stable (same size and time over one
// check); the version there before the command started is not sent.
func (d *devManifestSender) watch(done <-chan struct{}) {
	defer close(d.finished)
	last, _ := os.Stat(d.path)
	var pending os.FileInfo
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		fi, err := os.Stat(d.path)
		if err != nil || (last != nil && fi.ModTime().Equal(last.ModTime()) && fi.Size() == last.Size()) {
			pending = nil
			continue
		}
		if pending == nil || !fi.ModTime().Equal(pending.ModTime()) || fi.Size() != pending.Size() {
			pending = fi // changed: wait one check for dbt to finish writing
			continue
		}
		last, pending = fi, nil
		if err := d.send(); err != nil {
			fmt.Fprintf(d.w, "deferproxy: could not send %s to the proxy: %v\n", d.path, err)
		}
	}
}

func (d *devManifestSender) send() error {
	f, err := os.Open(d.path)
	if err != nil {
		return err
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := d.admin.do(ctx, http.MethodPut, "/exec/"+d.tag+"/manifest", f)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	d.sent++
	return nil
}

// wait returns once watch has stopped (at once when it never ran).
func (d *devManifestSender) wait() {
	if d.finished != nil {
		<-d.finished
	}
}
