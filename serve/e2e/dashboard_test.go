package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// shots is where screenshots go: build/screenshots of the repository.
func shots(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CHURN_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "build", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func apiGet(t *testing.T, base, key, path string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// browser starts a headless Chromium with a fresh profile and no background
// traffic: the page must need nothing but the server under test.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 768),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancel := chromedp.NewContext(actx)
	// The first call starts the browser, which lives as long as its context:
	// no timeout on that one; the steps get one below.
	if err := chromedp.Do(bctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

// do runs steps and fails the test with the page's HTML when one fails.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("#main")))
		t.Fatalf("%s: %v\npage: %.3000s", what, err, html)
	}
}

// get runs one action that returns a value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func attr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	return get(t, ctx, sel+" "+name, chromedp.AttributeValue(chromedp.CSS(sel), name)).Value
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	return get(t, ctx, expr, chromedp.Evaluate[T](expr))
}

func visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

// ready waits until a view has rendered all its data.
func ready(view string) chromedp.Action[chromedp.Void] {
	return visible(fmt.Sprintf(`#view[data-view=%q][data-ready="true"]`, view))
}

func screenshot(t *testing.T, ctx context.Context, name string, w, h int64) {
	t.Helper()
	do(t, ctx, "resize for "+name, chromedp.EmulateViewport(w, h), chromedp.Sleep(200*time.Millisecond)) // charts redraw on resize
	png := get(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(shots(t), name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "back to laptop size", chromedp.EmulateViewport(1366, 768))
}

func signIn(t *testing.T, ctx context.Context, base, key string) {
	t.Helper()
	do(t, ctx, "sign in",
		chromedp.Navigate(base+"/#/overview"),
		visible("#api-key"),
		chromedp.SendKeys(chromedp.ID("api-key"), key),
		chromedp.Click(chromedp.ID("sign-in")),
		ready("overview"))
}

func signOut(t *testing.T, ctx context.Context) {
	t.Helper()
	do(t, ctx, "sign out", chromedp.Click(chromedp.ID("logout")), visible("#api-key"))
}

type summary struct {
	Customers    int     `json:"customers"`
	ExpectedLoss float64 `json:"expected_loss"`
	Segments     []struct {
		Tier, Band   string
		Customers    int     `json:"customers"`
		ExpectedLoss float64 `json:"expected_loss"`
	} `json:"segments"`
}

func TestDashboardViewsWorkOnARealServer(t *testing.T) {
	start := time.Now()
	base := server(t)
	ctx := browser(t)
	t.Logf("server with data and browser ready in %v", time.Since(start).Round(time.Millisecond))

	// A wrong key is refused and the page says so.
	do(t, ctx, "wrong key", chromedp.Navigate(base+"/"), visible("#api-key"),
		chromedp.SendKeys(chromedp.ID("api-key"), "not-a-key-of-this-server"), chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.Search(`//p[@id="login-error"][contains(., "not valid")]`)))

	t.Run("overview matches the summary", func(t *testing.T) { overview(t, ctx, base) })
	t.Run("viewer sees no agent or admin controls", func(t *testing.T) { viewerControls(t, ctx, base) })
	signOut(t, ctx)
	signIn(t, ctx, base, agentKey)
	t.Run("risk list filters", func(t *testing.T) { riskList(t, ctx, base) })
	t.Run("customer page", func(t *testing.T) { customer(t, ctx, base) })
	t.Run("claim and complete an action", func(t *testing.T) { actions(t, ctx, base) })
	t.Logf("whole test %v", time.Since(start).Round(time.Millisecond))
}

func overview(t *testing.T, ctx context.Context, base string) {
	signIn(t, ctx, base, viewerKey)
	var want summary
	apiGet(t, base, viewerKey, "/v1/summary", &want)
	customers, loss := attr(t, ctx, "#kpi-customers .kpi-value", "data-value"), attr(t, ctx, "#kpi-loss .kpi-value", "data-value")
	if customers != strconv.Itoa(want.Customers) || !near(loss, want.ExpectedLoss) {
		t.Errorf("overview shows %s customers and %s at risk; the summary has %d and %.2f", customers, loss, want.Customers, want.ExpectedLoss)
	}
	role := get(t, ctx, "role badge", chromedp.Text(chromedp.ID("role-badge")))
	if runs := attr(t, ctx, "#trend-runs", "data-runs"); !strings.Contains(role, "viewer") || runs != "2" {
		t.Errorf("role badge %q, trend of %s runs; want viewer and 2", role, runs)
	}
	for _, g := range want.Segments {
		sel := fmt.Sprintf("#heat-%s-%s", g.Tier, g.Band)
		if n, l := attr(t, ctx, sel, "data-customers"), attr(t, ctx, sel, "data-loss"); n != strconv.Itoa(g.Customers) || !near(l, g.ExpectedLoss) {
			t.Errorf("heat cell %s: %s customers, %s at risk; summary %d, %.2f", sel, n, l, g.Customers, g.ExpectedLoss)
		}
	}
	screenshot(t, ctx, "overview-laptop", 1366, 768)
	screenshot(t, ctx, "overview-wall", 1920, 1080)
}

func near(got string, want float64) bool {
	f, err := strconv.ParseFloat(got, 64)
	return err == nil && math.Abs(f-want) < 0.011
}

type page struct {
	Items []struct {
		CustomerID string `json:"customer_id"`
	} `json:"items"`
}

func viewerControls(t *testing.T, ctx context.Context, base string) {
	var top page
	apiGet(t, base, viewerKey, "/v1/scores?limit=1", &top)
	do(t, ctx, "viewer on the action queue", chromedp.Navigate(base+"/#/actions"), ready("actions"))
	claim := eval[int](t, ctx, `document.querySelectorAll('#claim-form, button.complete').length`)
	do(t, ctx, "viewer on a customer", chromedp.Navigate(base+"/#/customer/"+top.Items[0].CustomerID), ready("customer"))
	manual := eval[int](t, ctx, `document.querySelectorAll('#manual-action').length`)
	if claim+manual != 0 {
		t.Errorf("a viewer sees %d claim or complete controls and %d manual action forms; want none", claim, manual)
	}
}

func riskList(t *testing.T, ctx context.Context, base string) {
	var want page
	apiGet(t, base, agentKey, "/v1/scores?tier=B&band=medium&limit=50", &want)
	do(t, ctx, "filter the risk list",
		chromedp.Navigate(base+"/#/risk"), ready("risk"),
		chromedp.SetValue(chromedp.ID("f-tier"), "B"),
		chromedp.SetValue(chromedp.ID("f-band"), "medium"),
		chromedp.Click(chromedp.ID("apply-filters")),
		visible(`#view[data-view="risk"][data-ready="true"] #risk-table`))
	got := eval[[]string](t, ctx, `[...document.querySelectorAll('#risk-table tbody tr')].map(r => r.dataset.customer)`)
	tiers := eval[[]string](t, ctx, `[...new Set([...document.querySelectorAll('#risk-table tbody tr')].map(r => r.dataset.tier))]`)
	bands := eval[[]string](t, ctx, `[...new Set([...document.querySelectorAll('#risk-table tbody tr')].map(r => r.dataset.band))]`)
	if len(want.Items) == 0 || len(got) != len(want.Items) || got[0] != want.Items[0].CustomerID || got[len(got)-1] != want.Items[len(want.Items)-1].CustomerID {
		t.Errorf("risk list shows %d rows (%v...), the API %d", len(got), got[:min(3, len(got))], len(want.Items))
	}
	if strings.Join(tiers, ",") != "B" || strings.Join(bands, ",") != "medium" {
		t.Errorf("filtered rows have tiers %v and bands %v", tiers, bands)
	}
	if hash := eval[string](t, ctx, `location.hash`); !strings.Contains(hash, "tier=B") || !strings.Contains(hash, "band=medium") {
		t.Errorf("hash %q does not keep the filters", hash)
	}
	screenshot(t, ctx, "risk-list-laptop", 1366, 768)
	screenshot(t, ctx, "risk-list-wall", 1920, 1080)
}

func customer(t *testing.T, ctx context.Context, base string) {
	id := attr(t, ctx, "#risk-table tbody tr", "data-customer")
	do(t, ctx, "open a customer from the list", chromedp.Click(chromedp.CSS("#risk-table tbody tr a")), ready("customer"))
	prob := attr(t, ctx, "#customer-probability", "data-value")
	reasons := eval[int](t, ctx, `document.querySelectorAll('#customer-reasons li').length`)
	usageRows := eval[int](t, ctx, `document.querySelectorAll('#usage-table tbody tr').length`)
	var want struct {
		Probability float64 `json:"probability"`
		Reasons     []any   `json:"reasons"`
	}
	apiGet(t, base, agentKey, "/v1/customers/"+id+"/score", &want)
	if p, _ := strconv.ParseFloat(prob, 64); math.Abs(p-want.Probability) > 1e-6 || reasons != len(want.Reasons) {
		t.Errorf("customer %s shows probability %s and %d reasons; the API %v and %d", id, prob, reasons, want.Probability, len(want.Reasons))
	}
	if usageRows != 8 {
		t.Errorf("usage table has %d rows, want 8 measures", usageRows)
	}
	screenshot(t, ctx, "customer-laptop", 1366, 768)
	screenshot(t, ctx, "customer-wall", 1920, 1080)
}

func actions(t *testing.T, ctx context.Context, base string) {
	do(t, ctx, "claim the next action",
		chromedp.Navigate(base+"/#/actions"), ready("actions"),
		visible("#agent-self"), // an agent's key names them: no name to type
		chromedp.Click(chromedp.ID("claim-next")),
		visible(`#my-actions tbody tr[data-status="claimed"]`))
	claimed := attr(t, ctx, "#my-actions tbody tr", "data-action")
	screenshot(t, ctx, "actions-laptop", 1366, 768)
	screenshot(t, ctx, "actions-wall", 1920, 1080)
	do(t, ctx, "complete it",
		chromedp.SetValue(chromedp.CSS("#my-actions tbody tr select.outcome"), "accepted"),
		chromedp.Click(chromedp.CSS("#my-actions tbody tr button.complete")),
		visible("#mine-empty"))
	var a struct {
		Status, Outcome, Agent string
	}
	apiGet(t, base, agentKey, "/v1/actions/"+claimed, &a)
	if a.Status != "done" || a.Outcome != "accepted" || a.Agent != "Dana" {
		t.Errorf("action %s after completing: %+v", claimed, a)
	}
}
