package web_test

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fundbridge/fundbridge/internal/app"
)

// axe-core 4.14.1 from the npm registry (MPL-2.0, testdata/axe.LICENSE),
// run inside every page the journeys visit.
//
//go:embed testdata/axe.min.js
var axeSource string

const chromiumPath = "/usr/bin/chromium"

// product is Fundbridge started in-process, as `fundbridge dev` starts
// it, on free ports.
type product struct {
	base       string
	opEmail    string
	opPassword string
}

func startProduct(t *testing.T) *product {
	t.Helper()
	ctx := context.Background()
	a, err := app.Start(ctx, app.Options{DataDir: t.TempDir(), NATSAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "browser-test", BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	p := &product{base: "http://" + a.HTTPAddr.String(), opEmail: "ops@fundbridge.test", opPassword: "amber falcon orchard river"}
	if _, err := a.BootstrapOperator(ctx, p.opEmail, p.opPassword, io.Discard); err != nil {
		t.Fatal(err)
	}
	return p
}

// browser drives one headless Chromium with a fresh profile.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
	n     int
}

// newBrowser starts Chromium; outside CI a machine without it skips the
// test and says why, in CI (CI=true) that is a failure.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests skipped in -short mode (make race); make unit runs them")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser tests need %s in CI (.ci/run installs Debian's chromium): %v", chromiumPath, err)
		}
		t.Skipf("browser tests skipped: %s is not installed (apt-get install -y chromium)", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("lang", "en-US"), chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	shots := os.Getenv("FUNDBRIDGE_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(os.TempDir(), "fundbridge-screenshots")
	}
	shots = filepath.Join(shots, t.Name())
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)
	b := &browser{t: t, ctx: ctx, base: base, shots: shots}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/healthz")); err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	return b
}

// get runs one action that returns a value, failing the test after 30 s.
func get[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		b.shot("failure")
		b.t.Fatalf("browser at %s: %v", loc, err)
	}
	return v
}

// do performs actions in order.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	get(b, chromedp.Steps(steps...))
}

// visit opens a page and checks it.
func (b *browser) visit(path, ready string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS(ready)))
	b.check(path)
}

// submit clicks a form's button and waits for the next page.
func (b *browser) submit(button, ready string) {
	b.t.Helper()
	get(b, chromedp.Evaluate[bool]("window.__fbBefore = true"))
	b.do(chromedp.Click(chromedp.CSS(button), chromedp.NodeVisible))
	b.waitNewPage()
	b.do(chromedp.WaitVisible(chromedp.CSS(ready)))
	b.check("after " + button)
}

// waitNewPage waits until the page marked before a click has been
// replaced by a loaded one.
func (b *browser) waitNewPage() {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__fbBefore === undefined && document.readyState === "complete"`))
		cancel()
		if err == nil && loaded {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.shot("failure")
	b.t.Fatal("the page did not change after a click")
}

// fill types values into inputs and selects by their IDs.
func (b *browser) fill(fields map[string]string) {
	b.t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	for id, v := range fields {
		steps = append(steps, chromedp.SetValue(chromedp.CSS("#"+id), v))
	}
	b.do(steps...)
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(get(b, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible)))
}

func (b *browser) value(sel string) string {
	b.t.Helper()
	return get(b, chromedp.Value(chromedp.CSS(sel)))
}

func (b *browser) location() string {
	return strings.TrimPrefix(get(b, chromedp.Location()), b.base)
}

func (b *browser) exists(sel string) bool {
	return get(b, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel))) > 0
}

// check runs axe-core in the page (no serious or critical violation) and
// keeps a screenshot.
func (b *browser) check(what string) {
	b.t.Helper()
	if !get(b, chromedp.Evaluate[bool](`typeof window.axe === "object"`)) {
		get(b, chromedp.Evaluate[bool](axeSource+";true"))
	}
	run := `(async () => {
	  const r = await axe.run(document, {resultTypes: ["violations"]});
	  return r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
	    .map(v => v.impact + " " + v.id + ": " + v.help + " at " + v.nodes.map(n => n.target.join(" ")).join(", "));
	})()`
	for _, v := range get(b, chromedp.Evaluate[[]string](run, chromedp.EvalAwaitPromise)) {
		b.t.Errorf("accessibility (%s, %s): %s", what, b.location(), v)
	}
	b.shot(what)
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9_-]+`)

func (b *browser) shot(name string) {
	buf, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.n++
	file := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, strings.Trim(unsafeName.ReplaceAllString(name, "-"), "-")))
	if err := os.WriteFile(file, buf, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

func (b *browser) signIn(email, password, ready string) {
	b.t.Helper()
	b.visit("/signin", "#signin-submit")
	b.fill(map[string]string{"f-email": email, "f-password": password})
	b.submit("#signin-submit", ready)
}

func (b *browser) signOut() {
	b.t.Helper()
	b.submit("#signout", "#signin-submit")
}

// eventually reloads a page until sel appears (a view catching up with
// an event another service reacts to).
func (b *browser) eventually(path, sel string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b.do(chromedp.Navigate(b.base + path))
		if b.exists(sel) {
			return
		}
		if time.Now().After(deadline) {
			b.shot("timeout")
			b.t.Fatalf("%s never showed %s", path, sel)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
