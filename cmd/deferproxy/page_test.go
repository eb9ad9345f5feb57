package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// chromiumPath finds Debian's headless-capable Chromium (`make test` installs the package when it is missing).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if pgtest.InCI() {
		t.Fatal("no chromium on PATH: make test installs Debian's chromium package")
	}
	t.Skip("no chromium on PATH: apt-get install chromium (make test does)")
	return ""
}

// TestAdminPageInBrowser loads the admin page in headless Chromium while the proxy runs on the bundled example: it
// shows the production run's link and a deferral made during the test, switches the mode of new sessions through the
// form (after the admin token was entered once in the page's own form), reads well on a narrow window, and writes the screenshot README.md shows (with -update, into docs/admin-page.png).
func TestAdminPageInBrowser(t *testing.T) {
	browser := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// With an admin token: the page asks for it once in its form, then keeps a cookie.
	const token = "page-test-admin-token"
	inst := startDemoInstance(t, ctx, func(c *Config) { c.AdminToken = token })

	// A deferral during the test, from a session that stays open (it is listed with its application).
	_, port, _ := net.SplitHostPort(inst.proxyAddr())
	conn, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:"+port+"/"+demoDatabase+"?sslmode=disable&application_name=page-test")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM dbt_demo.orders").Scan(&n); err != nil {
		t.Fatal(err)
	}

	actx, acancel := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()))...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	page := "http://" + inst.adminAddr() + "/"
	runLink := chromedp.ID("run-link")
	if err := chromedp.Do(bctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), token), chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(runLink)); err != nil {
		t.Fatalf("load the page through its token form: %v", err)
	}
	href, err := chromedp.Run(bctx, chromedp.AttributeValue(runLink, "href"))
	if err != nil || href.Value != "https://ci.example/runs/cf60827c-453f-4929-9179-15db56c9c697" {
		t.Errorf("run link %q, %v", href.Value, err)
	}
	body, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"dbt_demo.orders", "analytics.orders", "page-test", "Production run", "Sources", "Latest deferrals"} {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q:\n%s", w, body)
		}
	}
	// Every control the keyboard reaches has a label (a <label for> or its own text).
	labelled, err := chromedp.Run(bctx, chromedp.Evaluate[bool](
		`[...document.querySelectorAll('select, input:not([type=hidden]), button')].every(e => (e.labels && e.labels.length > 0) || e.textContent.trim() !== '')`))
	if err != nil || !labelled {
		t.Errorf("a form control has no label (%v)", err)
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)) // quality 100 gives a PNG
	if err != nil || len(png) == 0 {
		t.Fatalf("screenshot: %v", err)
	}
	shot := filepath.Join(t.TempDir(), "admin-page.png")
	if *update {
		shot = filepath.Join("..", "..", "docs", "admin-page.png")
	}
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}

	// The mode switch, through the UI: choose in the labelled select, press the button; the page's script POSTs
	// JSON (the only body POST /mode takes) with the cookie, and the page reloads.
	if err := chromedp.Do(bctx,
		chromedp.SetValue(chromedp.ID("default-mode"), "favor_state"),
		chromedp.Click(chromedp.ID("set-mode")),
		chromedp.WaitVisible(runLink),
	); err != nil {
		t.Fatalf("switch mode: %v", err)
	}
	var mode string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if mode, err = chromedp.Run(bctx, chromedp.Text(chromedp.ID("current-mode"))); err == nil && mode == "favor_state" {
			break
		}
	}
	if mode != "favor_state" || inst.engine.Status().DefaultMode != "favor_state" {
		t.Errorf("after the switch: page says %q, engine %q", mode, inst.engine.Status().DefaultMode)
	}

	// A narrow window (a phone): nothing wider than the window; wide tables scroll inside themselves.
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(360, 740), chromedp.Reload(), chromedp.WaitVisible(runLink)); err != nil {
		t.Fatalf("narrow window: %v", err)
	}
	fits, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
	if err != nil || !fits {
		t.Errorf("the page is wider than a 360 px window (%v)", err)
	}
}
