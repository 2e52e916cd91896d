//go:build browser

package htmlreport_test

// The browser harness: Debian's chromium, headless, driven by chromedp. Every page is a file
// written to the test's temporary directory and opened by its file:// URL; everything the page
// says on the console, every uncaught exception, every error in the browser log and every
// request for anything but the page itself is recorded, and openPage fails the test on any of it.
// The TestHarness tests at the end prove that the harness catches each of those.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// pageTimeout bounds everything done with one page: starting the browser, loading, every
// interaction and every screenshot.
const pageTimeout = 60 * time.Second

// The browser window's size, fixed so that screenshots of one page are comparable.
const windowWidth, windowHeight = 1400, 1000

// chromium returns the browser to drive: Debian's /usr/bin/chromium, else chromium on PATH. A
// missing browser fails the test (never skips it): `make test` must not pass without one.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatal("no chromium (looked for /usr/bin/chromium and chromium on PATH); `make host-setup` installs it")
	return ""
}

// The kinds of problem a page can have; each fails a test.
const (
	problemConsole   = "console"   // console.error, console.warn, a failed console.assert
	problemException = "exception" // an exception nothing caught
	problemLog       = "log"       // an entry of level error in the browser log
	problemRequest   = "request"   // a request for anything but the page itself or a data: URL
)

// problem is one thing a page did that a report page must not do.
type problem struct {
	Kind string
	Text string
}

func (p problem) String() string { return p.Kind + ": " + p.Text }

// pageEvents records the problems of one page. The browser calls listen on the goroutine that
// reads its messages, so the slice is behind a lock.
type pageEvents struct {
	url string // the page's own file:// URL

	mu       sync.Mutex
	problems []problem
}

func (e *pageEvents) add(kind, text string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.problems = append(e.problems, problem{Kind: kind, Text: text})
}

// listen is the page's event listener (chromedp.WithListener): it must return fast and run no
// command.
func (e *pageEvents) listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		switch ev.Type {
		case runtime.ConsoleAPICalledTypeError, runtime.ConsoleAPICalledTypeWarning, runtime.ConsoleAPICalledTypeAssert:
			e.add(problemConsole, fmt.Sprintf("console.%s(%s)", ev.Type, remoteObjects(ev.Args)))
		}
	case *runtime.EventExceptionThrown:
		e.add(problemException, exceptionText(ev.ExceptionDetails))
	case *log.EventEntryAdded:
		if ev.Entry != nil && ev.Entry.Level == log.EntryLevelError {
			text := fmt.Sprintf("%s: %s", ev.Entry.Source, ev.Entry.Text)
			if ev.Entry.URL != "" {
				text += " (" + ev.Entry.URL + ")"
			}
			e.add(problemLog, text)
		}
	case *network.EventRequestWillBeSent:
		if ev.Request != nil && !e.allowed(ev.Request.URL) {
			e.add(problemRequest, fmt.Sprintf("%s %s (%s)", ev.Request.Method, ev.Request.URL, ev.Type))
		}
	}
}

// allowed says whether a page may request u: only itself (the request's URL carries no
// fragment) and data: URLs. A report is one self-contained file.
func (e *pageEvents) allowed(u string) bool {
	return u == e.url || strings.HasPrefix(u, "data:")
}

// Problems returns a copy of what was recorded so far.
func (e *pageEvents) Problems() []problem {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]problem(nil), e.problems...)
}

// settle lets the page finish what the last action started (two animation frames and a
// timer tick), then makes one more round trip; the listener sees every event the browser sent
// before the reply to that round trip, so Problems is complete up to here.
func settle(ctx context.Context) error {
	const js = `new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 0))))`
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](js, chromedp.EvalAwaitPromise)); err != nil {
		return fmt.Errorf("settle the page: %w", err)
	}
	return chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`0`))
}

// assertClean fails the test if the page had any problem up to now; when says at which point
// ("after load", "after clicking a pair").
func (e *pageEvents) assertClean(t *testing.T, ctx context.Context, when string) {
	t.Helper()
	if err := settle(ctx); err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	if ps := e.Problems(); len(ps) > 0 {
		for _, p := range ps {
			t.Errorf("%s: page %s: %s", when, e.url, p)
		}
		t.FailNow()
	}
}

// openPage writes html to name.html in a temporary directory, opens it in a fresh headless
// chromium and fails the test if loading it caused any problem. The context it returns is the
// page's, bounded by pageTimeout; use it for every chromedp call on the page. A last check for
// problems runs when the test ends.
func openPage(t *testing.T, html []byte, name string) (context.Context, *pageEvents) {
	t.Helper()
	ctx, ev := loadPage(t, html, name)
	ev.assertClean(t, ctx, "after load")
	t.Cleanup(func() {
		if ctx.Err() == nil && !t.Failed() {
			ev.assertClean(t, ctx, "at the end of the test")
		}
	})
	return ctx, ev
}

// loadPage is openPage without the checks: the harness's own tests use it to see what it caught.
func loadPage(t *testing.T, html []byte, name string) (context.Context, *pageEvents) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".html")
	if err := os.WriteFile(path, html, 0o644); err != nil {
		t.Fatal(err)
	}
	ev := &pageEvents{url: (&url.URL{Scheme: "file", Path: path}).String()}

	var output lockedBuffer
	t.Cleanup(func() {
		if t.Failed() && output.Len() > 0 {
			t.Logf("chromium's output:\n%s", output.Tail(4000))
		}
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root, where chromium's sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.WindowSize(windowWidth, windowHeight),
		chromedp.CombinedOutput(&output),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(ev.listen))
	t.Cleanup(cancelTab)
	ctx, cancel := context.WithTimeout(tabCtx, pageTimeout)
	t.Cleanup(cancel)

	// chromedp enables both domains when it attaches; asking again keeps the listener's events
	// from depending on that.
	enable := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, log.Enable, cdp.Empty{}); err != nil {
			return fmt.Errorf("enable the log domain: %w", err)
		}
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return fmt.Errorf("enable the network domain: %w", err)
		}
		return nil
	})
	if err := chromedp.Do(ctx, enable, chromedp.Navigate(ev.url)); err != nil {
		t.Fatalf("open %s in chromium: %v", ev.url, err)
	}
	if err := settle(ctx); err != nil {
		t.Fatalf("open %s in chromium: %v", ev.url, err)
	}
	return ctx, ev
}

// artifactsDir is where screenshots go: $NETCONFORM_ARTIFACTS/browser, else _artifacts/browser
// at the module's root.
func artifactsDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("NETCONFORM_ARTIFACTS")
	if root == "" {
		mod, err := moduleRoot()
		if err != nil {
			t.Fatal(err)
		}
		root = filepath.Join(mod, "_artifacts")
	}
	dir := filepath.Join(root, "browser")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// moduleRoot walks up from the working directory (the package's, under go test) to go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// screenshot writes a full-page PNG of the page to the artifacts directory as name.png.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	writeShot(t, ctx, name, chromedp.FullScreenshot(100)) // quality 100 is PNG
}

// viewportShot is screenshot of what the reader sees (the window, where it is scrolled to): the
// observation panel is fixed to the window, so a full-page picture would put it elsewhere.
func viewportShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	writeShot(t, ctx, name, chromedp.CaptureScreenshot())
}

func writeShot(t *testing.T, ctx context.Context, name string, shot chromedp.Action[[]byte]) {
	t.Helper()
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(artifactsDir(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// remoteObjects renders console arguments roughly as the DevTools console does.
func remoteObjects(args []*runtime.RemoteObject) string {
	var parts []string
	for _, a := range args {
		switch {
		case a == nil:
		case a.Type == runtime.RemoteObjectTypeString:
			var str string
			if json.Unmarshal(a.Value, &str) == nil {
				parts = append(parts, str)
			} else {
				parts = append(parts, string(a.Value))
			}
		case a.Description != "":
			parts = append(parts, a.Description)
		case len(a.Value) > 0:
			parts = append(parts, string(a.Value))
		case a.UnserializableValue != "":
			parts = append(parts, string(a.UnserializableValue))
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, ", ")
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "(no details)"
	}
	text := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		text += " " + d.Exception.Description
	}
	return fmt.Sprintf("%s (%s:%d:%d)", text, d.URL, d.LineNumber+1, d.ColumnNumber+1)
}

// lockedBuffer collects chromium's output, which the allocator writes from its own goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

// Tail is the last n bytes written, without the lines about D-Bus: chromium looks for a system
// bus, which a test host has no need of, and says so many times a second.
func (b *lockedBuffer) Tail(n int) string {
	b.mu.Lock()
	lines := strings.SplitAfter(b.buf.String(), "\n")
	b.mu.Unlock()
	var kept strings.Builder
	for _, l := range lines {
		if !strings.Contains(l, ":ERROR:dbus/") {
			kept.WriteString(l)
		}
	}
	s := kept.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// harnessPage is a minimal page with body, for the harness's own tests.
func harnessPage(body string) []byte {
	return []byte("<!doctype html><html><head><meta charset=utf-8><title>harness</title></head><body>" + body + "</body></html>")
}

// caught loads body and returns the problems the harness recorded.
func caught(t *testing.T, name, body string) []problem {
	t.Helper()
	_, ev := loadPage(t, harnessPage(body), name)
	return ev.Problems()
}

// wantCaught fails unless one of ps is of kind and contains text.
func wantCaught(t *testing.T, ps []problem, kind, text string) {
	t.Helper()
	for _, p := range ps {
		if p.Kind == kind && strings.Contains(p.Text, text) {
			t.Logf("caught %s", p)
			return
		}
	}
	t.Errorf("want a %s problem containing %q, caught %v", kind, text, ps)
}

// A page that logs, runs a script and shows a data: image has nothing to report.
func TestHarnessCleanPagePasses(t *testing.T) {
	ctx, ev := openPage(t, harnessPage(`<p id=x>clean</p><img alt="" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">`+
		`<script>console.log("log is fine"); document.getElementById("x").textContent = "ran"</script>`), "clean")
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#x")))
	if err != nil {
		t.Fatal(err)
	}
	if text != "ran" {
		t.Errorf("#x = %q, want %q: the page's script did not run", text, "ran")
	}
	if ps := ev.Problems(); len(ps) != 0 {
		t.Fatalf("clean page: %v", ps)
	}
}

func TestHarnessCatchesConsoleError(t *testing.T) {
	wantCaught(t, caught(t, "console-error", `<script>console.error("x")</script>`), problemConsole, `console.error(x)`)
}

func TestHarnessCatchesConsoleWarning(t *testing.T) {
	wantCaught(t, caught(t, "console-warn", `<script>console.warn("careful")</script>`), problemConsole, `console.warning(careful)`)
}

func TestHarnessCatchesRequest(t *testing.T) {
	wantCaught(t, caught(t, "request", `<img alt="" src="http://example.invalid/x.png">`), problemRequest, "http://example.invalid/x.png")
}

// A Content-Security-Policy <meta> outside <head> is ignored, and chromium says so in its log
// (source security): an error that is neither a console call nor a request.
func TestHarnessCatchesLogError(t *testing.T) {
	wantCaught(t, caught(t, "log-error", `<meta http-equiv="Content-Security-Policy" content="default-src 'none'">`), problemLog, "Content Security Policy")
}

// A request made by a click, after the page loaded, is caught too.
func TestHarnessCatchesRequestAfterClick(t *testing.T) {
	ctx, ev := loadPage(t, harnessPage(`<button id=b onclick="new Image().src='https://example.invalid/late.png'">load</button>`), "request-after-click")
	if ps := ev.Problems(); len(ps) != 0 {
		t.Fatalf("before the click: %v", ps)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#b"))); err != nil {
		t.Fatal(err)
	}
	if err := settle(ctx); err != nil {
		t.Fatal(err)
	}
	wantCaught(t, ev.Problems(), problemRequest, "https://example.invalid/late.png")
}

func TestHarnessCatchesException(t *testing.T) {
	wantCaught(t, caught(t, "exception", `<script>throw new Error("boom")</script>`), problemException, "boom")
}
