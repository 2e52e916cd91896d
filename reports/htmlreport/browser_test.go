//go:build browser

package htmlreport_test

// Browser tests of the HTML reports (make browser-test): each page is rendered from a recorded
// result (testdata/*.result.json.gz, see testdata/README.md), opened from a file in headless
// chromium, clicked through, and must do it all without a console error or warning, an uncaught
// exception or a request for anything outside the file (browser_helpers_test.go).

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/reports"
	"github.com/netconform/netconform/reports/htmlreport"
)

// The recorded results the tests need by name (testdata/README.md says what each is).
const (
	passResult   = "kubenet-pass"
	switchResult = "switch-flannel-calico"
)

// failResults are failing results with a failed pair check; the first one present is used.
var failResults = []string{"kubenet-fail", "kube-router-fail"}

// uiTimeout bounds the wait for the page to answer one interaction (it answers at once; the
// bound only turns a page that never answers into a failure with a message).
const uiTimeout = 5 * time.Second

// TestBrowserRunPageVerdict renders every recorded result (a switch's with its disruption record) and
// checks that the page's verdict is results.Judge's, and that the page loads clean.
func TestBrowserRunPageVerdict(t *testing.T) {
	names := resultNames(t)
	shots := map[string]string{passResult: "run-pass", failResult(t, names): "run-fail"}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			r := loadResult(t, name)
			ctx, ev := openPage(t, renderRun(t, r, runOptions(t, name)), name)
			want := string(r.Judge().Outcome)
			if got := text(t, ctx, "#verdict"); got != want {
				t.Errorf("#verdict = %q, want %q (results.Judge)", got, want)
			}
			if got := attr(t, ctx, "#verdict", "data-outcome"); got != want {
				t.Errorf("#verdict[data-outcome] = %q, want %q", got, want)
			}
			wantPage := "run"
			if r.SwitchFrom != "" {
				wantPage = "switch"
			}
			if got := attr(t, ctx, "body", "data-page"); got != wantPage {
				t.Errorf("body[data-page] = %q, want %q", got, wantPage)
			}
			ev.assertClean(t, ctx, "after reading the verdict")
			if shot, ok := shots[name]; ok {
				screenshot(t, ctx, shot)
			}
		})
	}
}

// TestBrowserFailingPairOpensObservation clicks a failing cell of a pair grid and expects the
// observation panel to show that pair's failing observation.
func TestBrowserFailingPairOpensObservation(t *testing.T) {
	name := failResult(t, resultNames(t))
	r := loadResult(t, name)
	ctx, ev := openPage(t, renderRun(t, r, htmlreport.RunOptions{}), name+"-obs")

	const cell = `document.querySelector("div.pairgrid td.pair[data-status=fail]")`
	var pair struct {
		Check, From, To, Protocol string
		Visible                   bool
	}
	eval(t, ctx, `(() => { const c = `+cell+`; if (!c) return null;
		return {Check: c.closest("div.pairgrid").dataset.check, From: c.dataset.from, To: c.dataset.to,
			Protocol: c.dataset.protocol, Visible: c.checkVisibility()} })()`, &pair)
	if pair.Check == "" {
		t.Fatalf("%s: no td.pair[data-status=fail] in a div.pairgrid[data-check]", name)
	}
	obs, ok := failingObservation(r, pair.Check, pair.From, pair.To, pair.Protocol)
	if !ok {
		t.Fatalf("%s: cell %+v: check %s has no failing observation from %s to %s over %s", name, pair, pair.Check, pair.From, pair.To, pair.Protocol)
	}
	if !pair.Visible { // the check's details are closed: open them, as a reader would
		click(t, ctx, chromedp.JSPath(cell+`.closest("details").querySelector("summary")`))
	}
	click(t, ctx, chromedp.JSPath(cell))
	waitVisible(t, ctx, "#obs-panel")
	panel := normalize(text(t, ctx, "#obs-panel"))
	for what, want := range map[string]string{"expected": obs.Expected, "observed": obs.Observed, "detail": obs.Detail} {
		if want != "" && !strings.Contains(panel, normalize(want)) {
			t.Errorf("#obs-panel does not show the observation's %s %q; it says:\n%s", what, want, panel)
		}
	}
	ev.assertClean(t, ctx, "after clicking a failing pair")
	viewportShot(t, ctx, "run-fail-obs-open")
}

// TestBrowserRunFilters selects failed checks only and expects exactly the failed checks' rows to stay.
func TestBrowserRunFilters(t *testing.T) {
	name := failResult(t, resultNames(t))
	r := loadResult(t, name)
	ctx, ev := openPage(t, renderRun(t, r, htmlreport.RunOptions{}), name+"-filters")
	_, failed, _ := r.Counts()
	if failed == 0 {
		t.Fatalf("%s has no failed check", name)
	}
	if all := rowsOf(t, ctx, "tr.check"); len(all) != len(r.Checks) {
		t.Fatalf("%d tr.check rows, want one per check (%d)", len(all), len(r.Checks))
	}

	choose(t, ctx, "#f-status", "failed")
	var shown int
	for _, row := range rowsOf(t, ctx, "tr.check") {
		switch {
		case row.Status == string(results.Failed) && !row.Visible:
			t.Errorf("failed check %s hidden by the failed filter", row.ID)
		case row.Status != string(results.Failed) && (row.Visible || !row.Hidden):
			t.Errorf("check %s (%s) not hidden by the failed filter (visible %v, hidden attribute %v)", row.ID, row.Status, row.Visible, row.Hidden)
		}
		if row.Visible {
			shown++
		}
	}
	if shown != failed {
		t.Errorf("failed filter shows %d rows, the result has %d failed checks", shown, failed)
	}

	choose(t, ctx, "#f-status", "")
	if hidden := countHidden(rowsOf(t, ctx, "tr.check")); hidden != 0 {
		t.Errorf("status filter back to all: %d rows still hidden", hidden)
	}

	// Suite: the last check's suite, so that the earlier ones' rows must go.
	suite := r.Checks[len(r.Checks)-1].Suite
	choose(t, ctx, "#f-suite", suite)
	want := 0
	for _, c := range r.Checks {
		if c.Suite == suite {
			want++
		}
	}
	shown = 0
	for _, row := range rowsOf(t, ctx, "tr.check") {
		if row.Visible {
			shown++
			if row.Suite != suite {
				t.Errorf("suite filter %q shows check %s of suite %q", suite, row.ID, row.Suite)
			}
		}
	}
	if shown != want {
		t.Errorf("suite filter %q shows %d rows, the result has %d checks in it", suite, shown, want)
	}
	choose(t, ctx, "#f-suite", "")

	// Label: a label some checks have, typed; every check with it stays, and only checks with a
	// label that starts with it.
	label := commonLabel(r)
	if label == "" {
		t.Fatalf("%s: no label that some checks have and others not", name)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#f-label"), label)); err != nil {
		t.Fatalf("type %q into #f-label: %v", label, err)
	}
	for _, row := range rowsOf(t, ctx, "tr.check") {
		labels := strings.Fields(row.Labels)
		has := slices.Contains(labels, label)
		starts := slices.ContainsFunc(labels, func(l string) bool { return strings.HasPrefix(l, label) })
		switch {
		case has && !row.Visible:
			t.Errorf("label filter %q hides check %s, labelled %q", label, row.ID, row.Labels)
		case row.Visible && !starts:
			t.Errorf("label filter %q shows check %s, labelled %q", label, row.ID, row.Labels)
		}
	}
	ev.assertClean(t, ctx, "after filtering")
}

// TestBrowserSwitchPage renders a switch's result with its disruption record: one timeline per probed
// path and the outages table.
func TestBrowserSwitchPage(t *testing.T) {
	r := loadResult(t, switchResult)
	opt := runOptions(t, switchResult)
	sw := opt.Switch
	if sw == nil {
		t.Fatalf("testdata has no %s.disruption.json.gz", switchResult)
	}
	ctx, ev := openPage(t, renderRun(t, r, opt), "switch")
	if got := attr(t, ctx, "body", "data-page"); got != "switch" {
		t.Errorf("body[data-page] = %q, want switch", got)
	}
	var n struct{ Section, Timelines, Outages int }
	eval(t, ctx, `({Section: document.querySelectorAll("section#switch").length,
		Timelines: document.querySelectorAll("section#switch svg.timeline").length,
		Outages: document.querySelectorAll("table#outages tbody tr").length})`, &n)
	if n.Section != 1 {
		t.Fatalf("%d section#switch, want 1", n.Section)
	}
	if n.Timelines != len(sw.Report.Paths) {
		t.Errorf("%d svg.timeline, want one per path (%d)", n.Timelines, len(sw.Report.Paths))
	}
	if len(sw.Report.Outages) > 0 && n.Outages == 0 {
		t.Errorf("table#outages has no row; the record has %d outages", len(sw.Report.Outages))
	}
	if n.Outages > len(sw.Report.Outages) {
		t.Errorf("table#outages has %d rows, the record %d outages", n.Outages, len(sw.Report.Outages))
	}
	ev.assertClean(t, ctx, "after reading the switch")
	screenshot(t, ctx, "switch")
}

// TestBrowserMatrixPage renders the matrix of every recorded result and filters it by text and by
// status.
func TestBrowserMatrixPage(t *testing.T) {
	var srcs []reports.Source
	var links []string
	for _, name := range resultNames(t) {
		srcs = append(srcs, reports.Source{Path: name + ".result.json", Result: loadResult(t, name)})
		links = append(links, name+".html")
	}
	m := reports.BuildMatrix(srcs, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	var buf bytes.Buffer
	if err := htmlreport.Matrix(&buf, m, links); err != nil {
		t.Fatal(err)
	}
	ctx, ev := openPage(t, buf.Bytes(), "matrix")
	if got := attr(t, ctx, "body", "data-page"); got != "matrix" {
		t.Errorf("body[data-page] = %q, want matrix", got)
	}
	var hrefs []string
	eval(t, ctx, `[...document.querySelectorAll("table#matrix th.run a[href]")].map(a => a.getAttribute("href"))`, &hrefs)
	if !slices.Equal(hrefs, links) {
		t.Errorf("th.run links = %q, want %q", hrefs, links)
	}
	rows := rowsOf(t, ctx, "tr.mrow")
	if len(rows) != len(m.Checks) {
		t.Fatalf("%d tr.mrow, want one per check (%d)", len(rows), len(m.Checks))
	}
	screenshot(t, ctx, "matrix")

	// Text: a word of the check IDs that some rows have and others not.
	word := filterWord(m)
	if word == "" {
		t.Fatal("no word that tells the matrix's checks apart")
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#m-filter"), word)); err != nil {
		t.Fatalf("type %q into #m-filter: %v", word, err)
	}
	visible := visibleIDs(t, ctx, m, "tr.mrow")
	var want []string
	for _, row := range m.Checks {
		if strings.Contains(strings.ToLower(row.ID+" "+row.Name), word) {
			want = append(want, row.ID)
		}
	}
	if !slices.Equal(visible, want) {
		t.Errorf("#m-filter %q shows %q, want the checks whose id or name has it: %q", word, visible, want)
	}
	screenshot(t, ctx, "matrix-filtered")

	// Status: only the checks that failed somewhere.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#m-filter"), strings.Repeat(kb.Backspace, len(word)))); err != nil {
		t.Fatalf("erase #m-filter: %v", err)
	}
	if all := visibleIDs(t, ctx, m, "tr.mrow"); len(all) != len(m.Checks) {
		t.Errorf("#m-filter erased: %d of %d rows shown", len(all), len(m.Checks))
	}
	choose(t, ctx, "#m-status", "failed")
	want = nil
	for _, row := range m.Checks {
		if slices.ContainsFunc(row.Cells, func(c reports.Cell) bool { return c.Status == results.Failed }) {
			want = append(want, row.ID)
		}
	}
	if len(want) == 0 {
		t.Fatal("no check failed in any recorded result")
	}
	if visible := visibleIDs(t, ctx, m, "tr.mrow"); !slices.Equal(visible, want) {
		t.Errorf("#m-status failed shows %q, want the checks with a failed cell: %q", visible, want)
	}
	ev.assertClean(t, ctx, "after filtering the matrix")
}

// resultNames are the recorded results in testdata, without the .result.json.gz suffix.
func resultNames(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.result.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no testdata/*.result.json.gz")
	}
	var names []string
	for _, p := range paths {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".result.json.gz"))
	}
	return names
}

// failResult is the first of failResults that testdata has.
func failResult(t *testing.T, names []string) string {
	t.Helper()
	for _, f := range failResults {
		if slices.Contains(names, f) {
			return f
		}
	}
	t.Fatalf("testdata has none of %v", failResults)
	return ""
}

// gunzip writes testdata's gzipped file to the test's temporary directory, unzipped, and returns
// its path.
func gunzip(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(path), ".gz"))
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// loadResult reads testdata/<name>.result.json.gz with results.Load.
func loadResult(t *testing.T, name string) *results.Result {
	t.Helper()
	r, err := results.Load(gunzip(t, filepath.Join("testdata", name+".result.json.gz")))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// runOptions are the options `netconform` would render testdata's name with: its switch record
// (testdata/<name>.disruption.json.gz, read with htmlreport.ReadSwitch) where there is one.
func runOptions(t *testing.T, name string) htmlreport.RunOptions {
	t.Helper()
	path := filepath.Join("testdata", name+".disruption.json.gz")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return htmlreport.RunOptions{}
	}
	sw, err := htmlreport.ReadSwitch(gunzip(t, path))
	if err != nil {
		t.Fatal(err)
	}
	return htmlreport.RunOptions{Switch: sw}
}

func renderRun(t *testing.T, r *results.Result, opt htmlreport.RunOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := htmlreport.Run(&buf, r, opt); err != nil {
		t.Fatalf("htmlreport.Run: %v", err)
	}
	return buf.Bytes()
}

// failingObservation is the first failing observation of check id between from and the node to
// (the grid's cell names the node; the observation's target may be "<node> host" or
// "<node> NodePort").
func failingObservation(r *results.Result, id, from, to, protocol string) (results.Observation, bool) {
	for _, c := range r.Checks {
		if c.ID != id {
			continue
		}
		for _, o := range c.Observations {
			if !o.OK && o.From == from && o.Protocol == protocol && (o.To == to || strings.HasPrefix(o.To, to+" ")) {
				return o, true
			}
		}
	}
	return results.Observation{}, false
}

// commonLabel is the label the most checks of r have, short of all of them; "" if none.
func commonLabel(r *results.Result) string {
	count := map[string]int{}
	for _, c := range r.Checks {
		for _, l := range c.Labels {
			count[l]++
		}
	}
	best, bestN := "", 0
	for l, n := range count {
		if n < len(r.Checks) && (n > bestN || n == bestN && l < best) {
			best, bestN = l, n
		}
	}
	return best
}

// filterWord is a word of the matrix's check IDs that is in some rows' id or name and not in
// others', the commonest such; "" if there is none.
func filterWord(m *reports.Matrix) string {
	count := map[string]int{}
	for _, row := range m.Checks {
		seen := map[string]bool{}
		for _, w := range strings.FieldsFunc(strings.ToLower(row.ID), func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
		}) {
			if len(w) >= 3 && !seen[w] {
				seen[w] = true
				count[w]++
			}
		}
	}
	best, bestN := "", 0
	for w := range count {
		n := 0
		for _, row := range m.Checks {
			if strings.Contains(strings.ToLower(row.ID+" "+row.Name), w) {
				n++
			}
		}
		if n < len(m.Checks) && (n > bestN || n == bestN && w < best) {
			best, bestN = w, n
		}
	}
	return best
}

// row is what the tests read of a table row.
type row struct {
	ID       string `json:"id"`       // the row's id attribute, else data-id
	Status   string `json:"status"`   // data-status
	Suite    string `json:"suite"`    // data-suite
	Labels   string `json:"labels"`   // data-labels
	Statuses string `json:"statuses"` // data-statuses (matrix)
	Text     string `json:"text"`
	Hidden   bool   `json:"hidden"`  // the hidden attribute
	Visible  bool   `json:"visible"` // what the reader sees: Element.checkVisibility
}

func rowsOf(t *testing.T, ctx context.Context, selector string) []row {
	t.Helper()
	var rows []row
	eval(t, ctx, fmt.Sprintf(`[...document.querySelectorAll(%s)].map(e => ({
		id: e.id || e.dataset.id || "", status: e.dataset.status || "", suite: e.dataset.suite || "",
		labels: e.dataset.labels || "", statuses: e.dataset.statuses || "",
		text: e.innerText, hidden: e.hidden, visible: e.checkVisibility()}))`, jsString(selector)), &rows)
	return rows
}

func countHidden(rows []row) int {
	n := 0
	for _, r := range rows {
		if r.Hidden || !r.Visible {
			n++
		}
	}
	return n
}

// visibleIDs are the check IDs of the visible matrix rows, in page order: each row is matched
// to its check by the check's ID in the row's id, data-id or text.
func visibleIDs(t *testing.T, ctx context.Context, m *reports.Matrix, selector string) []string {
	t.Helper()
	rows := rowsOf(t, ctx, selector)
	if len(rows) != len(m.Checks) {
		t.Fatalf("%d %s rows, want %d", len(rows), selector, len(m.Checks))
	}
	var ids []string
	for i, r := range rows {
		if r.Visible {
			ids = append(ids, m.Checks[i].ID)
		}
		if r.Visible == r.Hidden {
			t.Errorf("%s row %d (%s): visible %v but hidden attribute %v", selector, i, m.Checks[i].ID, r.Visible, r.Hidden)
		}
		if !strings.Contains(r.ID+" "+r.Text, m.Checks[i].ID) && !strings.Contains(r.Text, m.Checks[i].Name) {
			t.Fatalf("%s row %d is not check %s (%s): %q", selector, i, m.Checks[i].ID, m.Checks[i].Name, r.Text)
		}
	}
	return ids
}

// eval evaluates js in the page and decodes its JSON value into out.
func eval(t *testing.T, ctx context.Context, js string, out any) {
	t.Helper()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js)) // []byte: the value's JSON
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	if len(raw) == 0 { // undefined
		raw = []byte("null")
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("evaluate %s: decode %s: %v", js, raw, err)
	}
}

func text(t *testing.T, ctx context.Context, selector string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(selector), chromedp.NodeReady))
	if err != nil {
		t.Fatalf("text of %s: %v", selector, err)
	}
	return strings.TrimSpace(s)
}

func attr(t *testing.T, ctx context.Context, selector, name string) string {
	t.Helper()
	a, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(selector), name, chromedp.NodeReady))
	if err != nil {
		t.Fatalf("%s[%s]: %v", selector, name, err)
	}
	if !a.Exists {
		t.Errorf("%s has no %s attribute", selector, name)
	}
	return a.Value
}

// click clicks what sel selects once it is visible, as a reader would.
func click[S chromedp.Selectable](t *testing.T, ctx context.Context, sel S) {
	t.Helper()
	uctx, cancel := context.WithTimeout(ctx, uiTimeout)
	defer cancel()
	if err := chromedp.Do(uctx, chromedp.Click(sel)); err != nil {
		t.Fatalf("click %v: %v", sel, err)
	}
}

func waitVisible(t *testing.T, ctx context.Context, selector string) {
	t.Helper()
	uctx, cancel := context.WithTimeout(ctx, uiTimeout)
	defer cancel()
	if err := chromedp.Do(uctx, chromedp.WaitVisible(chromedp.CSS(selector))); err != nil {
		t.Fatalf("%s not visible within %s: %v", selector, uiTimeout, err)
	}
}

// choose selects value in the select element as a reader does: the value changes, then input
// and change fire.
func choose(t *testing.T, ctx context.Context, selector, value string) {
	t.Helper()
	js := fmt.Sprintf(`(() => { const s = document.querySelector(%s);
		if (!s) return "no element";
		if (![...s.options].some(o => o.value === %s)) return "no option";
		s.value = %[2]s; return "" })()`, jsString(selector), jsString(value))
	var msg string
	eval(t, ctx, js, &msg)
	if msg != "" {
		t.Fatalf("select %q in %s: %s", value, selector, msg)
	}
	dispatch(t, ctx, selector, "input")
	dispatch(t, ctx, selector, "change")
}

func dispatch(t *testing.T, ctx context.Context, selector, event string) {
	t.Helper()
	var ok bool
	eval(t, ctx, fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return false;
		e.dispatchEvent(new Event(%s, {bubbles: true})); return true })()`, jsString(selector), jsString(event)), &ok)
	if !ok {
		t.Fatalf("no %s to send %s to", selector, event)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// normalize collapses white space, as the page's text does.
func normalize(s string) string { return strings.Join(strings.Fields(s), " ") }
